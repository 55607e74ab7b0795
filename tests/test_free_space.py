"""Issue 17, deliver 4: the free space is checked before every big write, through one helper
(`core.atomic.check_free_space`): training checkpoints and every other safetensors file, text and
speech spaces (`save_vectors`), audio files (`atomic_path(expected_bytes=)`: recordings, corpus
WAVs) and Save As. A disk without room is one line naming the bytes needed and free (exit 2 on the
command line); nothing is overwritten and no temporary file is left. The disk is faked small by
replacing `shutil.disk_usage`."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

from core.atomic import save_safetensors
from core.cli import main
from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.project import Project
from core.project.recordings import write_wav
from core.speech.toy_corpus import make_toy_corpus
from core.vectors import load_vectors, save_vectors
from test_speech_cli import FAST, write_store

USAGE = namedtuple("usage", "total used free")


@pytest.fixture
def free_bytes(monkeypatch):
    """Set the free space every disk reports: `free_bytes(n)`."""
    def set_free(n: int) -> None:
        monkeypatch.setattr("shutil.disk_usage", lambda path: USAGE(10**12, 10**12 - n, n))
    return set_free


def _emb(n: int = 50, dim: int = 20) -> Embeddings:
    rng = np.random.default_rng(0)
    return Embeddings([f"w{i}" for i in range(n)], rng.standard_normal((n, dim)).astype(np.float32),
                      np.arange(1, n + 1))


def _only(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_training_checkpoint_on_a_full_disk_is_one_line_exit_2(tmp_path, free_bytes, capsys):
    write_store(tmp_path / "toy", make_toy_corpus(n_types=6, n_utterances=20, words_per_utterance=5, mean_frames=12))
    free_bytes(2000)  # the store is read; the first checkpoint (the model's weights) does not fit
    assert main(["train-speech", str(tmp_path / "toy"), "--out", str(tmp_path / "run"), "--learner", "speech2vec",
                 "--config", "A", "--epochs", "1", "--checkpoint-every", "1", *FAST]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert "checkpoints/speech2vec: not enough free disk space for ckpt-000000001.safetensors: it needs" in errors[0]
    assert errors[0].endswith("2,000 bytes (0.00 GiB) are free; free some space or write elsewhere")
    assert not list((tmp_path / ".run.partial").rglob("*.tmp*"))  # no temporary file left


def test_a_safetensors_file_that_does_not_fit_leaves_the_old_one(tmp_path, free_bytes):
    path = tmp_path / "arrays.safetensors"
    save_safetensors(path, {"a": np.zeros(10, np.float32)})
    before = path.read_bytes()
    free_bytes(4000)
    with pytest.raises(WordbridgeError, match=r"arrays.safetensors: it needs 4,\d{3} bytes"):
        save_safetensors(path, {"a": np.zeros(1000, np.float32)})  # 4,000 bytes of data and a header
    assert path.read_bytes() == before and _only(tmp_path) == ["arrays.safetensors"]


@pytest.mark.parametrize("binary", [False, True])
def test_a_space_that_does_not_fit_leaves_the_old_files(tmp_path, free_bytes, binary):
    path = tmp_path / "text.vec"
    save_vectors(_emb(5), path, binary=binary)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    free_bytes(2000)  # 50 × 20 values: at least 4,000 bytes
    with pytest.raises(WordbridgeError, match="not enough free disk space for text.vec"):
        save_vectors(_emb(), path, binary=binary)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    free_bytes(10**9)
    save_vectors(_emb(), path, binary=binary)
    assert len(load_vectors(path)) == 50


def test_an_audio_file_that_does_not_fit_is_not_begun(tmp_path, free_bytes):
    free_bytes(16_000)
    with pytest.raises(WordbridgeError, match=r"take.wav: it needs 32,044 bytes .* 16,000 bytes"):
        write_wav(tmp_path / "take.wav", np.zeros(16_000, np.float32), 16_000)  # one second, 16-bit
    assert _only(tmp_path) == []


def test_save_as_checks_the_space_for_the_whole_copy(tmp_path, free_bytes):
    project = Project.create(tmp_path / "proj", "Copy")
    project.add_space("t", _emb(2000, 50))  # 400 kB of vectors
    free_bytes(100_000)
    with pytest.raises(WordbridgeError, match="not enough free disk space for the project copy") as caught:
        project.save_as(tmp_path / "copy")
    assert "save the copy elsewhere" in str(caught.value) and "\n" not in str(caught.value)
    assert _only(tmp_path) == ["proj"]  # no copy, no temporary folder
    free_bytes(10**9)
    assert Project.open(project.save_as(tmp_path / "copy").root).manifest.spaces[0].id == "t"


# --- the single-file copies and the store's shards (issue 17, "not promised yet" closed) ---------

def _fixture_project(path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import make_fixture_project as fixture

    return fixture, fixture.build_fixture_project(path, n_words=12, n_distractors=2)


def test_a_label_export_wav_that_does_not_fit_is_not_begun(tmp_path, free_bytes):
    pytest.importorskip("pympi")
    from core.audio import save_wav
    from core.classify import ClipClassifier, clip_embedder
    from core.label_export import export_recording_labels

    fixture, project = _fixture_project(tmp_path / "proj")
    project.import_recording(save_wav(tmp_path / "take.wav", fixture.tone_clip(3), 16000))
    classifier = ClipClassifier.load(project, embed=clip_embedder(project))
    free_bytes(1000)  # the recording's WAV (about 32 kB) is the export's first file
    with pytest.raises(WordbridgeError, match=r"labels: not enough free disk space for take.wav: it needs "
                                              r"\d{2},\d{3} bytes .* 1,000 bytes \(0.00 GiB\) are free"):
        export_recording_labels(project, classifier, "csls", tmp_path / "labels")
    assert _only(tmp_path / "labels") == []  # nothing begun, no temporary file


def test_keeping_the_previous_map_checks_the_space_for_its_copy(tmp_path, free_bytes):
    from core.mapping_history import has_previous, replacing_map

    _fixture, project = _fixture_project(tmp_path / "proj")
    mapping = "speech-en__text-en"
    before = project.mapping(mapping).W.copy()
    replaced = []
    free_bytes(100)
    with pytest.raises(WordbridgeError, match=r"not enough free disk space for previous-.*\.pending: it needs "
                                              r"[\d,]+ bytes .* 100 bytes"):
        replacing_map(project, mapping, lambda: replaced.append(1))
    assert replaced == [] and not has_previous(project, mapping)  # refused before the new map was made
    assert np.array_equal(project.mapping(mapping).W, before)
    assert not [p for p in (project.root / "arrays").iterdir() if p.name.endswith((".tmp", ".pending"))]


def test_a_store_shard_that_does_not_fit_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    from test_feature_store import make_corpus

    corpus = make_corpus(tmp_path / "corpus", n_files=2)
    monkeypatch.setattr("shutil.disk_usage", lambda path: USAGE(10**12, 10**12 - 1000, 1000))
    args = ["corpus", "build", str(corpus), "--reader", "textgrid", "--out", str(tmp_path / "s"), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "s/.build: not enough free disk space for shard_00000.npy: it needs " in err and "1,000 bytes" in err
    assert not (tmp_path / "s" / ".build" / "shard_00000.npy").exists()
    assert not [p for p in (tmp_path / "s").rglob("*") if p.name.endswith(".tmp")]
