"""The project folder: create/open round trips, items, replacement, save_as and crash safety."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.project import SCHEMA_VERSION, Project, ProjectionGroup
from core.project import manifest as manifest_module


def make_space(n: int, dim: int = 8, prefix: str = "w", seed: int = 0, modality: str = "text") -> Embeddings:
    rng = np.random.default_rng(seed)
    return Embeddings([f"{prefix}{i}" for i in range(n)], rng.standard_normal((n, dim)),
                      np.arange(n, 0, -1) * 10, language="fr", modality=modality)


@pytest.fixture
def project(tmp_path) -> Project:
    p = Project.create(tmp_path / "proj", "Test project", description="for tests", languages=["fr"])
    p.add_space("fr", make_space(30))
    p.add_space("speech", make_space(12, prefix="s", seed=1, modality="speech"))
    return p


def test_create_writes_manifest_and_database(tmp_path):
    p = Project.create(tmp_path / "new", "Démo", languages=["fr", "en"])
    data = json.loads((tmp_path / "new" / "wordbridge.json").read_text(encoding="utf-8"))
    assert data["format"] == "wordbridge-project"
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["name"] == "Démo" and data["languages"] == ["fr", "en"]
    assert data["spaces"] == [] and data["synthetic_speech"] is False
    assert (tmp_path / "new" / "project.sqlite").is_file()
    assert p.db.counts() == {"recordings": 0, "segments": 0, "confirmed_pairs": 0, "runs": 0}
    assert [x.name for x in tmp_path.iterdir()] == ["new"]  # no temporary folder left behind


def test_create_refuses_non_empty_folder(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file.txt").write_text("x")
    with pytest.raises(WordbridgeError, match="already exists and is not an empty folder"):
        Project.create(tmp_path / "busy", "x")
    Project.create(tmp_path / "empty_ok", "x")  # an empty folder is fine
    (tmp_path / "empty").mkdir()
    assert Project.create(tmp_path / "empty", "y").name == "y"


def test_space_round_trip_keeps_words_vectors_counts(project):
    original = make_space(30)
    again = Project.open(project.root)
    entry = again.space_entry("fr")
    assert (entry.kind, entry.language, entry.dim, entry.n_words) == ("text", "fr", 8, 30)
    loaded = again.space("fr")
    assert loaded.words == original.words
    np.testing.assert_array_equal(loaded.vectors, original.vectors)
    np.testing.assert_array_equal(loaded.counts, original.counts)
    assert loaded.modality == "text" and loaded.language == "fr"
    assert again.space("speech").modality == "speech"
    assert again.space("fr") is loaded  # cached
    vocab = (project.root / "spaces" / "fr.vocab.txt").read_text(encoding="utf-8").splitlines()
    assert vocab == original.words


def test_space_ids_and_vocabularies_are_checked(project):
    with pytest.raises(WordbridgeError, match="already has a space 'fr'"):
        project.add_space("fr", make_space(5))
    with pytest.raises(WordbridgeError, match="id '../evil' is not allowed"):
        project.add_space("../evil", make_space(5))
    duplicated = Embeddings(["a", "b", "a"], np.zeros((3, 4)))
    with pytest.raises(WordbridgeError, match="'a' appears twice"):
        project.add_space("dup", duplicated)
    with pytest.raises(WordbridgeError, match="line break"):
        project.add_space("nl", Embeddings(["a", "b\nc"], np.zeros((2, 4))))
    with pytest.raises(WordbridgeError, match="no space 'nope' in this project \\(has: fr, speech\\)"):
        project.space("nope")


def test_replacing_a_space_uses_fresh_files_and_deletes_the_old(project):
    project.add_space("fr", make_space(20, dim=6, seed=5), replace=True)
    entry = project.space_entry("fr")
    assert entry.files["vectors"] == "spaces/fr~1.safetensors"
    assert not (project.root / "spaces" / "fr.safetensors").exists()
    assert not (project.root / "spaces" / "fr.vocab.txt").exists()
    loaded = Project.open(project.root).space("fr")
    assert loaded.vectors.shape == (20, 6)
    assert project.space("fr").vectors.shape == (20, 6)  # the cache was dropped
    project.add_space("fr", make_space(10), replace=True)
    assert project.space_entry("fr").files["vectors"] == "spaces/fr.safetensors"


def test_synthetic_speech_is_labelled(project):
    with pytest.raises(WordbridgeError, match="say how the synthetic speech was made"):
        project.add_space("tts", make_space(5, modality="speech"), synthetic=True)
    with pytest.raises(WordbridgeError, match="only a speech space can be synthetic"):
        project.add_space("tts", make_space(5), synthetic=True, synthetic_note="espeak")
    project.add_space("tts", make_space(5, modality="speech"), synthetic=True, synthetic_note="espeak-ng, 3 voices")
    m = Project.open(project.root).manifest
    assert m.synthetic_speech and m.synthetic_speech_note == "espeak-ng, 3 voices"
    assert [s.synthetic for s in m.spaces] == [False, False, True]


def test_mapping_round_trip_with_extra_arrays(project):
    rng = np.random.default_rng(2)
    W = rng.standard_normal((8, 8)).astype(np.float32)
    project.add_mapping("m1", "speech", "fr", W, "procrustes", metrics={"p_at_1": np.float32(0.25), "n": 3},
                        extra_arrays={"src_mean": np.ones(8, np.float32)}, metadata={"seed": 7})
    again = Project.open(project.root)
    m = again.mapping("m1")
    np.testing.assert_array_equal(m.W, W)
    np.testing.assert_array_equal(m.arrays["src_mean"], np.ones(8))
    assert m.metadata["seed"] == 7 and m.metadata["source"] == "speech"
    assert m.entry.metrics == {"p_at_1": 0.25, "n": 3}
    assert again.mappings[0].method == "procrustes"


def test_mapping_shape_and_spaces_are_checked(project):
    with pytest.raises(WordbridgeError, match=r"W has shape \(8, 9\)"):
        project.add_mapping("bad", "speech", "fr", np.zeros((8, 9)), "procrustes")
    with pytest.raises(WordbridgeError, match="no space 'xx'"):
        project.add_mapping("bad", "xx", "fr", np.zeros((8, 8)), "procrustes")
    with pytest.raises(WordbridgeError, match="NaN"):
        project.add_mapping("bad", "speech", "fr", np.full((8, 8), np.nan), "procrustes")
    project.add_mapping("reduced", "speech", "fr", np.eye(5), "procrustes")  # after a dimension reduction
    assert project.mapping("reduced").W.shape == (5, 5)


def test_projection_round_trip(project):
    rng = np.random.default_rng(3)
    groups = [ProjectionGroup("speech", [f"s{i}" for i in range(12)]), ProjectionGroup("fr", ["w0", "w1", "w2"])]
    coords = rng.standard_normal((15, 2))
    project.add_mapping("m", "speech", "fr", np.eye(8), "procrustes")
    project.add_projection("joint", coords, groups, "pca", explained_variance=[0.4, 0.2], alignment="after",
                           mapping="m", params={"seed": 0}, extra_arrays={"components": np.eye(2, 8)})
    p = Project.open(project.root).projection("joint")
    np.testing.assert_allclose(p.coords, coords.astype(np.float32))
    assert p.coords.dtype == np.float32
    assert p.group("fr").words == ["w0", "w1", "w2"] and p.group("fr").rows == slice(12, 15)
    assert p.entry.spaces == ["speech", "fr"] and p.entry.n_points == 15
    assert p.entry.explained_variance == [0.4, 0.2] and p.entry.alignment == "after"
    np.testing.assert_array_equal(p.arrays["components"], np.eye(2, 8))
    with pytest.raises(WordbridgeError, match="coords of shape \\(14, 2\\) but the groups hold 15"):
        project.add_projection("bad", coords[:14], groups, "umap")
    with pytest.raises(WordbridgeError, match="method must be one of umap, pca"):
        project.add_projection("bad", coords, groups, "tsne")
    with pytest.raises(WordbridgeError, match="no mapping 'nope'"):
        project.add_projection("bad", coords, groups, "umap", alignment="after", mapping="nope")


def test_encoder_round_trip_from_numpy_and_torch(project):
    torch = pytest.importorskip("torch")
    state = {"conv.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3), "conv.bias": torch.zeros(2),
             "steps": np.array([3], dtype=np.int64), "half": torch.ones(2, dtype=torch.bfloat16)}
    config = {"hidden": 2, "layers": [1, 2]}
    project.set_encoder("speech2vec", state, config, provenance={"run": "runs/1"})
    weights, loaded_config = Project.open(project.root).encoder("speech2vec")
    assert loaded_config == config
    np.testing.assert_array_equal(weights["conv.weight"], np.arange(6).reshape(2, 3))
    assert weights["steps"].dtype == np.int64 and weights["half"].dtype == np.float32
    restored = {k: torch.from_numpy(v) for k, v in weights.items()}
    assert torch.equal(restored["conv.bias"], torch.zeros(2))


def test_small_arrays_settings_and_remove(project):
    project.save_arrays("centroids", {"c": np.arange(4.0)}, {"note": "k-means"})
    arrays, meta = Project.open(project.root).load_arrays("centroids")
    np.testing.assert_array_equal(arrays["c"], np.arange(4.0))
    assert meta == {"note": "k-means"}
    project.update_settings(k=10, metric="csls")
    project.update_settings(metric=None)
    assert Project.open(project.root).settings == {"k": 10}
    project.add_mapping("m", "speech", "fr", np.eye(8), "procrustes")
    with pytest.raises(WordbridgeError, match="used by mapping m"):
        project.remove("space", "fr")
    project.remove("mapping", "m")
    project.remove("space", "fr")
    assert [s.id for s in Project.open(project.root).spaces] == ["speech"]
    assert not (project.root / "spaces" / "fr.safetensors").exists()


def test_save_as_copies_everything(project, tmp_path):
    project.add_mapping("m", "speech", "fr", np.eye(8), "procrustes")
    rid = project.add_recording(np.zeros(1600, np.float32), 16000, label="oui")
    project.confirm_pair("s1", "w1", "fr")
    copy = project.save_as(tmp_path / "copy")
    assert copy.root == tmp_path / "copy"
    np.testing.assert_array_equal(copy.space("fr").vectors, project.space("fr").vectors)
    assert copy.recordings()[0].label == "oui" and copy.recording_audio(rid)[1] == 16000
    assert [p.text_word for p in copy.confirmed_pairs()] == ["w1"]
    assert copy.missing_files() == []
    copy.confirm_pair("s2", "w2", "fr")  # the copy is independent
    assert len(project.confirmed_pairs()) == 1
    with pytest.raises(WordbridgeError, match="already exists"):
        project.save_as(tmp_path / "copy")
    with pytest.raises(WordbridgeError, match="inside itself"):
        project.save_as(project.root / "sub")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["copy", "proj"]


def test_open_accepts_manifest_path_and_migrates_old_schema(project, monkeypatch):
    assert Project.open(project.root / "wordbridge.json").name == "Test project"
    # Pretend the current schema is 2 and schema 1 → 2 renames "description" to "summary".
    def upgrade(data):
        data["summary"] = data.pop("description")
        data["description"] = "migrated: " + data["summary"]
        return data

    monkeypatch.setattr(manifest_module, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(manifest_module.MIGRATIONS, 1, upgrade)
    migrated = Project.open(project.root)
    assert migrated.manifest.schema_version == 2
    assert migrated.manifest.description == "migrated: for tests"
    assert json.loads((project.root / "wordbridge.json").read_text())["schema_version"] == 1  # opening writes nothing


def test_missing_migration_is_a_clear_error(project, monkeypatch):
    monkeypatch.setattr(manifest_module, "SCHEMA_VERSION", 3)
    with pytest.raises(WordbridgeError, match="no migration from schema 1 to 2"):
        Project.open(project.root)


def _fail_replace_of(monkeypatch, suffix: str):
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith(suffix):
            raise OSError(5, "simulated crash")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_crash_while_writing_space_files_keeps_old_space(project, monkeypatch):
    before = (project.root / "wordbridge.json").read_bytes()
    _fail_replace_of(monkeypatch, ".safetensors")
    with pytest.raises(OSError, match="simulated crash"):
        project.add_space("fr", make_space(50, seed=9), replace=True)
    monkeypatch.undo()
    assert (project.root / "wordbridge.json").read_bytes() == before
    again = Project.open(project.root)
    np.testing.assert_array_equal(again.space("fr").vectors, make_space(30).vectors)
    assert not [p for p in project.root.rglob("*") if p.name.endswith(".tmp")]
    assert sorted(p.name for p in (project.root / "spaces").iterdir()) == [
        "fr.safetensors", "fr.vocab.txt", "speech.safetensors", "speech.vocab.txt"]


def test_crash_while_writing_manifest_keeps_old_project(project, monkeypatch):
    project.add_mapping("m", "speech", "fr", np.eye(8), "procrustes", metrics={"p_at_1": 0.1})
    before = (project.root / "wordbridge.json").read_bytes()
    _fail_replace_of(monkeypatch, "wordbridge.json")
    with pytest.raises(OSError, match="simulated crash"):
        project.add_space("fr", make_space(50, seed=9), replace=True)
    with pytest.raises(OSError, match="simulated crash"):
        project.add_mapping("m", "speech", "fr", 2 * np.eye(8), "adversarial", replace=True)
    monkeypatch.undo()
    assert (project.root / "wordbridge.json").read_bytes() == before
    assert project.space_entry("fr").n_words == 30  # the in-memory manifest did not change either
    again = Project.open(project.root)
    assert again.space("fr").vectors.shape == (30, 8)
    np.testing.assert_array_equal(again.mapping("m").W, np.eye(8))
    assert not (project.root / "spaces" / "fr~1.safetensors").exists()  # new files were cleaned up


def test_open_does_not_load_arrays_and_is_fast(tmp_path):
    p = Project.create(tmp_path / "big", "big")
    p.add_space("text", make_space(20_000, dim=50))
    start = time.perf_counter()
    opened = Project.open(tmp_path / "big")
    elapsed = time.perf_counter() - start
    assert opened._spaces == {}
    assert opened.space_entry("text").n_words == 20_000
    assert elapsed < 2.0, f"opening took {elapsed:.2f} s"


def test_two_handles_do_not_lose_each_others_changes(project):
    other = Project.open(project.root)
    other.add_space("en", make_space(4, seed=4))
    assert [s.id for s in project.spaces] == ["fr", "speech"]  # not seen until re-read
    project.update_settings(k=5)  # re-reads the manifest before writing, so "en" survives
    assert [s.id for s in Project.open(project.root).spaces] == ["fr", "speech", "en"]
    other.add_space("de", make_space(3, seed=5))
    project.reload()
    assert [s.id for s in project.spaces] == ["fr", "speech", "en", "de"]
    assert project.settings == {"k": 5}


def test_cached_vectors_are_read_only(project):
    vectors = project.space("fr").vectors
    with pytest.raises(ValueError, match="read-only"):
        vectors *= 2
    np.testing.assert_array_equal(project.space("fr").vectors, make_space(30).vectors)


def test_failed_write_cleans_only_its_own_files(project, monkeypatch):
    project.add_space("en.v2", make_space(6, seed=6))
    _fail_replace_of(monkeypatch, "en.safetensors")
    with pytest.raises(OSError, match="simulated crash"):
        project.add_space("en", make_space(5, seed=7))
    monkeypatch.undo()
    assert not (project.root / "spaces" / "en.vocab.txt").exists()  # renamed before the crash, then removed
    assert Project.open(project.root).space("en.v2").vectors.shape == (6, 8)
