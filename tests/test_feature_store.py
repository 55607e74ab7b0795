"""Feature store: build, memory-mapped reads, resume after an interruption, reruns, the CLI."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from core.cli import main as cli_main
from core.corpus.build import build_feature_store
from core.corpus.feature_store import FeatureStore, InMemoryFeatureStore
from core.errors import InputFileError, WordbridgeError
from core.features import FeatureConfig, span_features

torch.set_num_threads(1)
SR = 16000


class Crash(Exception):
    pass


def make_corpus(root, n_files=5):
    """n_files recordings with 3-word TextGrids, plus one silent recording (skipped at build)."""
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_files + 1):
        t = np.arange(int(1.5 * SR)) / SR
        wave = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t) + 0.02 * rng.standard_normal(len(t))
        if i == n_files:
            wave = np.zeros_like(wave)
        spk = f"spk{i % 2}"
        (root / spk).mkdir(exist_ok=True)
        sf.write(root / spk / f"utt{i}.wav", wave.astype(np.float32), SR)
        tg = textgrid.Textgrid()
        tg.addTier(IntervalTier("words", [(0.1, 0.4, "one"), (0.5, 0.8, "two"), (0.9, 1.41, f"w{i}")], 0, 1.5))
        tg.save(str(root / spk / f"utt{i}.TextGrid"), format="short_textgrid", includeBlankSpaces=True)
    (root / "corpus.json").write_text(json.dumps({"synthetic": True, "held_out_speakers": ["spk1"]}))
    return root


def test_build_and_read_memory_mapped(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    result = build_feature_store(corpus, tmp_path / "store", "textgrid", shard_files=2)
    assert result.n_segments == 15 and result.shards_total == 3
    assert result.build_report.skipped == {"silent audio": 3}  # the build counts segments
    store = FeatureStore.open(tmp_path / "store")
    assert isinstance(store.frames, np.memmap) and store.frames.dtype == np.float16
    assert store.n_segments == 15 and store.dim == 13
    assert list(store.lengths[:3]) == [30, 30, 51]  # 100 frames per second
    assert list(store.utterance_ids) == [i // 3 for i in range(15)]
    assert list(store.positions) == [0, 1, 2] * 5
    assert store.labels[:3] == ["one", "two", "w0"] and store.speakers == ["spk0"] * 9 + ["spk1"] * 6
    assert store.metadata["synthetic"] is True and store.metadata["held_out_speakers"] == ["spk1"]
    seg = store.segment(4)
    assert (seg.label, seg.utterance, seg.position) == ("two", "spk0/utt2", 1)
    wave, _ = sf.read(seg.audio, dtype="float32")
    expected = span_features(wave, [(seg.start, seg.end)])[0]
    got = store.features(4)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=2e-2, rtol=1e-2)  # stored as float16
    assert not (tmp_path / "store" / ".build").exists()


def test_resume_after_interruption_matches_uninterrupted_build(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    config = FeatureConfig(deltas=True)

    def crash_after_first(k):
        if k == 0:
            raise Crash()

    with pytest.raises(Crash):
        build_feature_store(corpus, tmp_path / "a", "textgrid", config=config, shard_files=2,
                            on_shard_done=crash_after_first)
    assert (tmp_path / "a" / ".build" / "shard_00000.json").is_file()
    with pytest.raises(InputFileError, match="unfinished build: run `corpus build` again to resume"):
        FeatureStore.open(tmp_path / "a")
    computed = []
    resumed = build_feature_store(corpus, tmp_path / "a", "textgrid", config=config, shard_files=2,
                                  on_shard_done=computed.append)
    assert computed == [1, 2] and resumed.shards_resumed == 1
    build_feature_store(corpus, tmp_path / "b", "textgrid", config=config, shard_files=2)
    a, b = FeatureStore.open(tmp_path / "a"), FeatureStore.open(tmp_path / "b")
    assert a.n_segments == b.n_segments == 15 and a.dim == 39
    np.testing.assert_array_equal(np.asarray(a.frames), np.asarray(b.frames))
    np.testing.assert_array_equal(a.offsets, b.offsets)
    assert list(a.table) == list(b.table)
    assert a.header["build_report"] == b.header["build_report"]


def test_rerun_is_a_no_op_and_other_settings_need_overwrite(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", n_files=2)
    build_feature_store(corpus, tmp_path / "s", "chunks", options={"chunk_seconds": 0.5})
    again = build_feature_store(corpus, tmp_path / "s", "chunks", options={"chunk_seconds": 0.5})
    assert again.up_to_date and again.n_segments == 6
    with pytest.raises(WordbridgeError, match="built with other settings is already there"):
        build_feature_store(corpus, tmp_path / "s", "chunks", options={"chunk_seconds": 0.25})
    redone = build_feature_store(corpus, tmp_path / "s", "chunks", options={"chunk_seconds": 0.25},
                                 overwrite=True)
    assert redone.n_segments == 12 and FeatureStore.open(tmp_path / "s").n_segments == 12


def test_empty_corpus_is_a_clear_error(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x.wav").write_bytes(b"junk")
    with pytest.raises(WordbridgeError, match=r"no segments found with the chunks reader \(1 × unreadable audio\)"):
        build_feature_store(tmp_path / "c", tmp_path / "s", "chunks")


def test_worker_processes_give_the_same_store(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", n_files=2)
    build_feature_store(corpus, tmp_path / "one", "textgrid", workers=0)
    build_feature_store(corpus, tmp_path / "two", "textgrid", workers=1)
    a, b = FeatureStore.open(tmp_path / "one"), FeatureStore.open(tmp_path / "two")
    np.testing.assert_allclose(np.asarray(a.frames, np.float32), np.asarray(b.frames, np.float32), atol=1e-2)
    assert a.labels == b.labels


def test_batches_computed_in_the_main_process_give_the_same_store(tmp_path, monkeypatch):
    import core.corpus.build as build

    corpus = make_corpus(tmp_path / "corpus", n_files=3)
    build_feature_store(corpus, tmp_path / "one", "textgrid")
    monkeypatch.setattr(build, "GPU_BATCH_SAMPLES", 2 * SR)  # several batches per shard
    build_feature_store(corpus, tmp_path / "two", "textgrid", batch_in_main=True)
    a, b = FeatureStore.open(tmp_path / "one"), FeatureStore.open(tmp_path / "two")
    assert a.n_segments == b.n_segments == 9
    np.testing.assert_allclose(np.asarray(a.frames, np.float32), np.asarray(b.frames, np.float32), atol=1e-2)


def test_in_memory_store_has_the_same_interface():
    feats = [np.ones((3, 13)), np.zeros((5, 13))]
    store = InMemoryFeatureStore(feats, [0, 0], [0, 1], ["a", None], ["s", "s"], {"synthetic": False})
    assert store.n_segments == 2 and store.dim == 13
    assert list(store.lengths) == [3, 5] and list(store.offsets) == [0, 3]
    assert store.features(1).dtype == np.float32 and store.features(1).shape == (5, 13)
    assert store.frames.shape == (8, 13)
    assert store.segment(0).label == "a" and store.segment(1).position == 1
    assert store.metadata == {"synthetic": False}
    with pytest.raises(WordbridgeError, match="one entry per segment"):
        InMemoryFeatureStore(feats, [0], [0, 1])


def test_cli_build_info_and_errors(tmp_path, capsys):
    corpus = make_corpus(tmp_path / "corpus", n_files=2)
    code = cli_main(["corpus", "build", str(corpus), "--reader", "textgrid", "--out", str(tmp_path / "s"),
                     "--workers", "0", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "textgrid: 9 segments from 3 of 3 files; nothing skipped" in out
    assert "features: 6 segments from 2 of 3 files; skipped 3" in out
    assert "skipped 3 × silent audio: e.g. " in out and "all samples below -80 dBFS" in out
    assert code == 0 and cli_main(["corpus", "info", str(tmp_path / "s")]) == 0
    assert "6 segments, 2 utterances" in capsys.readouterr().out
    code = cli_main(["corpus", "build", str(tmp_path / "missing"), "--out", str(tmp_path / "t"), "--quiet"])
    assert code == 2
    assert "error: " in capsys.readouterr().err
