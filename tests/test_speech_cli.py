"""`train-speech` and `export-vec` through main.main on a tiny feature store written to disk."""

import json

import numpy as np
import pytest
import torch

import main
from core.corpus.feature_store import FORMAT, VERSION
from core.features import FeatureConfig
from core.segments import Segment, SegmentTable
from core.speech.toy_corpus import make_toy_corpus
from core.speech.type_space import load_type_space
from core.vectors import load_vectors, save_vectors
from core.embeddings import Embeddings

torch.set_num_threads(1)

FAST = ["--device", "cpu", "--batch-size", "32", "--quiet"]


def write_store(folder, store):
    """The on-disk layout of core.corpus.feature_store (header.json last)."""
    folder.mkdir()
    np.save(folder / "features.npy", store.frames.astype(np.float16))
    for name, arr in {"offsets": store.offsets, "lengths": store.lengths, "utterance_ids": store.utterance_ids,
                      "positions": store.positions}.items():
        np.save(folder / f"{name}.npy", arr.astype(np.int64))
    SegmentTable.from_segments(
        Segment("toy.wav", 0.0, 0.1, store.labels[i], store.speakers[i], str(int(store.utterance_ids[i])),
                int(store.positions[i])) for i in range(store.n_segments)).save(folder / "segments.jsonl")
    (folder / "header.json").write_text(json.dumps({
        "format": FORMAT, "version": VERSION, "feature_config": FeatureConfig().to_dict(),
        "n_segments": store.n_segments, "dim": store.dim, "synthetic": True,
        "metadata": {"held_out_speakers": store.metadata["held_out_speakers"]}}))


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("store") / "toy"
    write_store(folder, make_toy_corpus(n_types=6, n_utterances=40, words_per_utterance=6, mean_frames=15))
    return folder


def test_train_speech2vec_config_a_then_export(store_dir, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train-speech", str(store_dir), "--out", str(run), "--learner", "speech2vec", "--config", "A",
            "--epochs", "2", "--checkpoint-every", "3", *FAST]
    assert main.main(args) == 0
    for name in ("config.json", "metrics.json", "log.txt", "types.vec", "encoder.safetensors",
                 "segments.safetensors", "checkpoints/speech2vec/checkpoint.json"):
        assert (run / name).is_file(), name
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["speech"]["learner"] == "speech2vec" and cfg["synthetic"] is True
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["types"] == 6 and metrics["held_out_segments"] > 0
    assert metrics["same_different"]["segments_from"] == "held_out"
    types = load_vectors(run / "types.vec", modality="speech")
    assert sorted(types.words) == [f"w{i}" for i in range(6)] and types.dim == 50
    assert (np.diff(types.counts) <= 0).all()
    # rerunning the finished command trains nothing more and leaves the same type space
    assert main.main(args) == 0
    np.testing.assert_array_equal(load_vectors(run / "types.vec").vectors, types.vectors)
    assert main.main(["export-vec", str(run), "--out", str(tmp_path / "speech.vec")]) == 0
    assert load_vectors(tmp_path / "speech.vec").words == types.words
    space = load_type_space(run)
    words, scores = space.assign([np.zeros((20, 13), np.float32), np.ones((5, 13), np.float32)])
    assert len(words) == 2 and all(w in types.words for w in words) and scores.shape == (2,)


def test_unit_skipgram_with_kmeans_and_text_isomorphism(store_dir, tmp_path):
    text = tmp_path / "text.vec"
    rng = np.random.default_rng(0)
    save_vectors(Embeddings([f"w{i}" for i in range(6)], rng.normal(size=(6, 50))), text)
    cfg_file = tmp_path / "cfg.toml"
    cfg_file.write_text("ac_hidden = 16\nac_dim = 16\nsg_batch_size = 256\nepochs = 7\n")
    run = tmp_path / "run"
    assert main.main(["train-speech", str(store_dir), "--out", str(run), "--learner", "unit-skipgram",
                      "--config", "B", "--clusters", "8", "--epochs", "2", "--sg-epochs", "2",
                      "--config-file", str(cfg_file), "--text-vec", str(text), *FAST]) == 0
    cfg = json.loads((run / "config.json").read_text())["speech"]
    assert (cfg["ac_hidden"], cfg["ac_epochs"], cfg["epochs"], cfg["clusters"]) == (16, 2, 7, 8)
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 < metrics["purity_train"] <= 1 and metrics["types"] <= 8
    assert metrics["isomorphism"]["shared_words"] >= 1
    types = load_vectors(run / "types.vec")
    assert all(w.startswith("#") for w in types.words)
    # B: after the view-only epochs, rounds of DTW-verified cross-speaker pairs (ac_positives auto)
    log = (run / "log.txt").read_text()
    assert "pair round 1:" in log and "pair round 2:" in log
    assert (run / "checkpoints" / "acoustic-pairs-2").is_dir()
    steps = [step for step, _, _ in metrics["loss_history"]]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # one curve across the rounds


def test_kill_and_rerun_continues_from_checkpoint(store_dir, tmp_path):
    from core.corpus.feature_store import FeatureStore
    from core.speech.config import preset
    from core.speech.runner import train_speech_space

    store = FeatureStore.open(store_dir)
    cfg = preset("paper", epochs=2, batch_size=32, device="cpu", checkpoint_every=2, s2v_hidden=8)
    first = train_speech_space(store, cfg, tmp_path / "run", stop_after_steps=3)  # "killed" at step 3
    assert first == {"stopped_at_step": 3}
    assert not (tmp_path / "run" / "types.vec").exists()
    done = train_speech_space(store, cfg, tmp_path / "run")
    straight = train_speech_space(store, cfg, tmp_path / "straight")
    assert done["encoder_steps"] == straight["encoder_steps"]
    assert done["loss_history"] == straight["loss_history"]
    np.testing.assert_array_equal(load_vectors(tmp_path / "run" / "types.vec").vectors,
                                  load_vectors(tmp_path / "straight" / "types.vec").vectors)


def test_user_errors_are_one_line(store_dir, tmp_path, capsys):
    run = tmp_path / "run"
    assert main.main(["train-speech", str(tmp_path / "nope"), "--out", str(run), *FAST]) == 2
    assert "feature store folder not found" in capsys.readouterr().err
    assert main.main(["train-speech", str(store_dir), "--out", str(run), "--resume", *FAST]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert main.main(["train-speech", str(store_dir), "--out", str(run), "--config", "B", "--clusters", "5000",
                      "--epochs", "1", "--sg-epochs", "1", *FAST]) == 0  # K is capped at the segment count
    assert "k-means: K 5000 lowered to" in (run / "log.txt").read_text()
    assert main.main(["train-speech", str(store_dir), "--out", str(run), "--epochs", "1", "--config", "A",
                      *FAST]) == 2
    assert "holds a run with other settings (clusters, grouping, sg_epochs)" in capsys.readouterr().err
    assert main.main(["export-vec", str(tmp_path), "--out", str(tmp_path / "x.vec")]) == 2
    assert "no types.vec" in capsys.readouterr().err


def test_torchrun_two_gloo_processes_train_one_space(store_dir, tmp_path):
    """`torchrun --nproc_per_node=2 main.py train-speech ...` on the CPU (gloo): both ranks train, rank 0 writes."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        torchrun = shutil.which("torchrun")
    run = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node=2", str(root / "main.py"), "train-speech", str(store_dir),
         "--out", str(run), "--learner", "speech2vec", "--config", "A", "--epochs", "1", *FAST],
        cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["types"] == 6
    assert "2 process(es)" in (run / "log.txt").read_text()
    # the centers are split between the ranks: half as many steps as one process takes
    single = tmp_path / "single"
    assert main.main(["train-speech", str(store_dir), "--out", str(single), "--learner", "speech2vec",
                      "--config", "A", "--epochs", "1", *FAST]) == 0
    one = json.loads((single / "metrics.json").read_text())["encoder_steps"]
    assert metrics["encoder_steps"] < one
