"""A self-supervised ("ssl:PATH") front end in a project (issue 17): the checkpoint is copied into the
project (`frontends/<name>-<sha256[:12]>.safetensors`) and a store's header and an encoder's config
name it relative to the project with its sha256, so the project loads from another folder; a bare
store names it by its file name; a missing checkpoint is one line; `project info --check` flags a
record holding an absolute path, leading outside the project, or a checkpoint with another sha256."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import main as entry
from core.corpus.build import build_feature_store
from core.corpus.feature_store import FeatureStore
from core.errors import WordbridgeError
from core.frontends import ssl_checkpoint
from core.frontends.ssl_checkpoint import SslFrontEnd
from core.project import Project
from core.project.paths import absolute_strings
from tests.test_frontends import _corpus, _tiny, _word_in_silence, vowels

torch.set_num_threads(1)
SR = 16000


def _forget_checkpoints() -> None:
    """As a new process: no checkpoint read before, no model cached."""
    ssl_checkpoint._KNOWN.clear()
    ssl_checkpoint._MODELS.clear()


def _encoder(project: Project, front: SslFrontEnd) -> None:
    from core.embeddings import Embeddings
    from core.speech.acoustic import ContrastiveAWE
    from core.speech.encode import pack_type_space
    from core.speech.type_space import SpeechTypeSpace

    torch.manual_seed(0)
    model = ContrastiveAWE(front.dim, "conv", hidden=16, dim=12).eval()
    emb = Embeddings(["one", "two"], np.eye(2, 8, dtype=np.float32), np.array([2, 1]), modality="speech")
    space = SpeechTypeSpace(emb, model, np.eye(2, 12, dtype=np.float32),
                            {"learner": "unit-skipgram", "grouping": "A", "max_frames": 400, "feat_dim": front.dim})
    weights, config = pack_type_space(space, front)
    assert Path(config["frontend"]["path"]).is_absolute()  # the live config: this machine's file
    project.set_encoder("speech-encoder", weights, config)


@pytest.fixture
def built(tmp_path):
    """A project with a store built with a tiny ssl checkpoint outside it, and an encoder using it."""
    models = tmp_path / "models"
    models.mkdir()
    path, _, _ = _tiny(models)
    front = SslFrontEnd(path)
    project = Project.create(tmp_path / "proj", "ssl", languages=["en"])
    build_feature_store(_corpus(tmp_path), project.root / "corpora" / "words", "textgrid", frontend=front,
                        device="cpu")
    _encoder(project, front)
    yield project, path, front
    _forget_checkpoints()


def _check(root: Path, capsys) -> tuple[int, str]:
    code = entry.main(["project", "info", str(root), "--check"])
    captured = capsys.readouterr()
    return code, captured.err


def test_the_checkpoint_is_copied_into_the_project_and_recorded_relative_to_it(built, tmp_path, capsys):
    project, path, front = built
    relative = f"frontends/tiny-{front.sha256[:12]}.safetensors"
    assert (project.root / relative).read_bytes() == path.read_bytes()
    assert sorted(p.name for p in (project.root / "frontends").iterdir()) == [Path(relative).name]  # one copy
    header = json.loads((project.root / "corpora" / "words" / "header.json").read_text())
    want = {"name": "ssl", "path": relative, "layer": 2, "segment_margin_s": 0.0, "sha256": front.sha256}
    assert header["frontend"] == want and header["build_settings"]["frontend"] == want
    assert absolute_strings(header) == []
    entry_config = project.encoders[0].config
    assert entry_config["frontend"] == want
    assert str(tmp_path) not in (project.root / "wordbridge.json").read_text()
    # the same build again is up to date (the record compares equal), and the project checks clean
    again = build_feature_store(tmp_path / "corpus", project.root / "corpora" / "words", "textgrid",
                                frontend=front, device="cpu")
    assert again.up_to_date
    assert _check(project.root, capsys)[0] == 0


def test_a_moved_project_loads_its_checkpoint_from_its_own_folder(built, tmp_path, capsys):
    from core.classify import clip_embedder

    project, path, front = built
    clip = vowels(0.3, seed=3)
    want = front.frames(clip)
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(str(project.root), str(moved))  # a folder moved (or copied to another machine)
    shutil.rmtree(path.parent)  # the original checkpoint is gone: only the project's copy remains
    _forget_checkpoints()
    store = FeatureStore.open(moved / "corpora" / "words")
    loaded = store.frontend
    assert loaded.path == (moved / store.header["frontend"]["path"]).resolve()
    np.testing.assert_allclose(loaded.frames(clip), want, atol=1e-5)
    embed = clip_embedder(Project.open(moved))
    assert embed(_word_in_silence(), SR).shape == (8,)
    assert _check(moved, capsys)[0] == 0


def test_check_flags_an_absolute_record_a_path_out_of_the_project_and_another_sha256(built, tmp_path, capsys):
    project, path, front = built
    header_file = project.root / "corpora" / "words" / "header.json"
    good = header_file.read_text()
    header = json.loads(good)
    header["frontend"]["path"] = str(path)  # as stores written before issue 17 did
    header_file.write_text(json.dumps(header))
    code, err = _check(project.root, capsys)
    assert code == 2 and "header.json frontend: the self-supervised checkpoint is recorded by an absolute " \
                          "local path (tiny.safetensors)" in err
    assert len(err.strip().splitlines()) == 1 and str(path) not in err
    header["frontend"]["path"] = "../models/tiny.safetensors"
    header_file.write_text(json.dumps(header))
    code, err = _check(project.root, capsys)
    assert code == 2 and "'../models/tiny.safetensors' goes up out of the project folder" in err
    header_file.write_text(good)
    manifest_file = project.root / "wordbridge.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["encoders"][0]["config"]["frontend"]["path"] = str(path)
    manifest_file.write_text(json.dumps(manifest))
    code, err = _check(project.root, capsys)
    assert code == 2 and "encoder 'speech-encoder' config.frontend: the self-supervised checkpoint is " \
                          "recorded by an absolute local path" in err
    manifest["encoders"][0]["config"]["frontend"] = header["build_settings"]["frontend"]
    manifest_file.write_text(json.dumps(manifest))
    assert _check(project.root, capsys)[0] == 0
    # the copy in the project replaced by another checkpoint under the same name
    copy = project.root / header["build_settings"]["frontend"]["path"]
    other, _, _ = _tiny(tmp_path, "other.safetensors", encoder_ff_interm_features=48)
    copy.write_bytes(other.read_bytes())
    code, err = _check(project.root, capsys)
    assert code == 2 and "does not match its record (sha256 " in err and f"recorded {front.sha256[:12]})" in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_checkpoint_is_one_line(built, tmp_path):
    project, path, front = built
    copy = project.root / "frontends" / f"tiny-{front.sha256[:12]}.safetensors"
    copy.unlink()
    shutil.rmtree(path.parent)
    _forget_checkpoints()
    with pytest.raises(WordbridgeError) as info:
        FeatureStore.open(project.root / "corpora" / "words").frontend
    message = str(info.value)
    assert message.startswith(f"the self-supervised checkpoint {copy.name} (sha256 {front.sha256[:12]}) is not in "
                              "the project; copy it to ")
    assert "\n" not in message
    from core.classify import clip_embedder

    with pytest.raises(WordbridgeError, match=r"the self-supervised checkpoint .* is not in the project"):
        clip_embedder(project)


def test_a_bare_store_names_its_checkpoint_by_file_name_and_sha256(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    path, _, _ = _tiny(models)
    front = SslFrontEnd(path)
    store_dir = tmp_path / "stores" / "words"
    build_feature_store(_corpus(tmp_path), store_dir, "textgrid", frontend=front, device="cpu")
    header = json.loads((store_dir / "header.json").read_text())
    assert header["frontend"]["path"] == "tiny.safetensors" and header["frontend"]["sha256"] == front.sha256
    assert str(tmp_path) not in json.dumps(header["frontend"])
    assert FeatureStore.open(store_dir).frontend == front  # found: this process read that file
    moved = tmp_path / "kept" / "tiny.safetensors"
    moved.parent.mkdir()
    shutil.move(str(path), str(moved))
    _forget_checkpoints()
    with pytest.raises(WordbridgeError) as info:
        FeatureStore.open(store_dir).frontend
    message = str(info.value)
    assert message.startswith(f"the self-supervised checkpoint tiny.safetensors (sha256 {front.sha256[:12]}) is not "
                              "in the project or beside the store") and "WORDBRIDGE_SSL_CHECKPOINTS" in message
    assert "\n" not in message
    shutil.copy(moved, store_dir.parent / "tiny.safetensors")  # beside the store: found again
    assert FeatureStore.open(store_dir).frontend.sha256 == front.sha256
    _forget_checkpoints()
    (store_dir.parent / "tiny.safetensors").write_bytes(b"not it")
    with pytest.raises(WordbridgeError, match=r"tiny.safetensors there has other contents"):
        FeatureStore.open(store_dir).frontend
    _forget_checkpoints()
