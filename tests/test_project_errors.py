"""Damaged or foreign project files give one-line errors that name the file."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError
from core.project import Project, ProjectionGroup


@pytest.fixture
def project(tmp_path) -> Project:
    p = Project.create(tmp_path / "proj", "errors")
    rng = np.random.default_rng(0)
    p.add_space("fr", Embeddings([f"w{i}" for i in range(20)], rng.standard_normal((20, 4)), language="fr"))
    p.add_space("sp", Embeddings([f"s{i}" for i in range(10)], rng.standard_normal((10, 4)), modality="speech"))
    p.add_mapping("m", "sp", "fr", np.eye(4), "procrustes")
    p.add_projection("pr", rng.standard_normal((10, 2)), [ProjectionGroup("sp", [f"s{i}" for i in range(10)])], "umap")
    return p


def edit_manifest(project: Project, change) -> None:
    path = project.root / "wordbridge.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_newer_manifest_schema_asks_for_an_update(project):
    edit_manifest(project, lambda d: d.update(schema_version=3))
    with pytest.raises(WordbridgeError, match=r"wordbridge.json was written by a newer Wordbridge "
                                              r"\(schema 3 > 1\); update Wordbridge to open it") as info:
        Project.open(project.root)
    one_line(info)


def test_bad_json_names_file_and_line(project):
    (project.root / "wordbridge.json").write_text('{\n  "name": "x",\n  oops\n}', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"wordbridge.json:3: invalid manifest: bad JSON") as info:
        Project.open(project.root)
    one_line(info)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("name"), "missing key 'name'"),
    (lambda d: d.pop("schema_version"), "'schema_version' must be a positive integer, not None"),
    (lambda d: d["spaces"][0].pop("dim"), "missing key 'spaces\\[0\\].dim'"),
    (lambda d: d["spaces"][1].update(n_words="ten"), "'spaces\\[1\\].n_words' must be an integer, not a string"),
    (lambda d: d["spaces"][0].update(kind="video"), "spaces\\[0\\].kind must be one of speech, text, not 'video'"),
    (lambda d: d.update(synthetic_speech="yes"), "'synthetic_speech' must be true or false"),
    (lambda d: d["mappings"][0].update(files=["a"]), "'mappings\\[0\\].files' must be an object, not a list"),
    (lambda d: d["projections"][0].update(alignment="after"), "must name its mapping"),
    (lambda d: d.update(spaces=d["spaces"] + d["spaces"][:1]), "duplicate id\\(s\\): fr"),
    (lambda d: d.update(format="something-else"), "'format' is 'something-else'"),
    (lambda d: d["spaces"][0].update(dim=True), "'spaces\\[0\\].dim' must be an integer, not true/false"),
])
def test_invalid_manifest_is_one_line_naming_the_file(project, change, message):
    edit_manifest(project, change)
    with pytest.raises(InputFileError, match=f"wordbridge.json: invalid manifest: .*{message}") as info:
        Project.open(project.root)
    one_line(info)


def test_not_a_project(tmp_path):
    with pytest.raises(InputFileError, match="no such project folder"):
        Project.open(tmp_path / "missing")
    with pytest.raises(InputFileError, match="not a Wordbridge project"):
        Project.open(tmp_path)
    (tmp_path / "wordbridge.json").write_text("[1, 2]")
    with pytest.raises(InputFileError, match="must be a JSON object"):
        Project.open(tmp_path)


def test_database_that_is_not_sqlite(project):
    (project.root / "project.sqlite").write_bytes(b"this is not a database at all" * 100)
    for suffix in ("-wal", "-shm"):
        (project.root / f"project.sqlite{suffix}").unlink(missing_ok=True)
    with pytest.raises(InputFileError, match="project.sqlite: not a SQLite database") as info:
        Project.open(project.root)
    one_line(info)


def test_database_from_newer_schema(project):
    with sqlite3.connect(project.root / "project.sqlite") as conn:
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(WordbridgeError, match=r"project.sqlite was written by a newer Wordbridge "
                                              r"\(database schema 7 > 2\); update Wordbridge"):
        Project.open(project.root)


def test_foreign_sqlite_database(project):
    path = project.root / "project.sqlite"
    for p in project.root.glob("project.sqlite*"):
        p.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE other (x)")
    with pytest.raises(InputFileError, match="a SQLite database but not a Wordbridge one"):
        Project.open(project.root)


def test_missing_database_is_an_error_not_recreated_empty(project):
    """Issue 17: a deleted project.sqlite used to be recreated empty (recordings and runs silently gone)."""
    for p in project.root.glob("project.sqlite*"):
        p.unlink()
    with pytest.raises(InputFileError, match=r"project.sqlite: the project's database is missing"):
        Project.open(project.root)
    assert not (project.root / "project.sqlite").exists()


def test_truncated_safetensors(project):
    path = project.root / "spaces" / "fr.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match=r"spaces/fr.safetensors: damaged or truncated safetensors file") as info:
        Project.open(project.root).space("fr")
    one_line(info)
    path.write_bytes(data[:5])
    with pytest.raises(InputFileError, match="damaged or truncated safetensors file"):
        Project.open(project.root).space("fr")


def test_vocabulary_with_a_missing_line(project):
    path = project.root / "spaces" / "fr.vocab.txt"
    path.write_text("".join(f"w{i}\n" for i in range(19)), encoding="utf-8")
    with pytest.raises(InputFileError, match="fr.safetensors: 20 vectors but 19 words in fr.vocab.txt"):
        Project.open(project.root).space("fr")


def test_vocabulary_from_another_save(project):
    path = project.root / "spaces" / "fr.vocab.txt"
    path.write_text("".join(f"x{i}\n" for i in range(20)), encoding="utf-8")
    with pytest.raises(InputFileError, match="fr.vocab.txt: vocabulary does not belong to fr.safetensors"):
        Project.open(project.root).space("fr")


def test_vocabulary_damage_named_by_line(project):
    path = project.root / "spaces" / "fr.vocab.txt"
    words = [f"w{i}" for i in range(20)]
    words[4] = ""
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="fr.vocab.txt:5: empty line"):
        Project.open(project.root).space("fr")
    path.write_bytes(b"w0\nw1\n\xff\xfe\n")
    with pytest.raises(InputFileError, match="fr.vocab.txt:3: not UTF-8"):
        Project.open(project.root).space("fr")


def test_manifest_disagreeing_with_files(project):
    edit_manifest(project, lambda d: d["spaces"][0].update(n_words=21))
    with pytest.raises(InputFileError, match="holds 20 × 4 vectors but the manifest says 21 × 4"):
        Project.open(project.root).space("fr")


def test_missing_files(project):
    (project.root / "spaces" / "sp.safetensors").unlink()
    (project.root / "mappings" / "m.safetensors").unlink()
    opened = Project.open(project.root)  # opening reads no arrays, so it still works
    assert opened.missing_files() == ["spaces/sp.safetensors", "mappings/m.safetensors"]
    with pytest.raises(InputFileError, match="spaces/sp.safetensors: file is missing"):
        opened.space("sp")
    with pytest.raises(InputFileError, match="mappings/m.safetensors: file is missing"):
        opened.mapping("m")


def test_mapping_file_with_wrong_contents(project):
    from safetensors.numpy import save_file

    save_file({"V": np.eye(4, dtype=np.float32)}, str(project.root / "mappings" / "m.safetensors"))
    with pytest.raises(InputFileError, match=r"m.safetensors: missing array\(s\) W \(has: V\)"):
        project.mapping("m")
    save_file({"W": np.eye(6, dtype=np.float32)}, str(project.root / "mappings" / "m.safetensors"))
    with pytest.raises(InputFileError, match=r"'W' has shape \(6, 6\)|W has shape \(6, 6\)"):
        project.mapping("m")


def test_damaged_projection_index(project):
    index = project.root / "projections" / "pr.index.json"
    index.write_text('{"groups": [{"space": "sp"}]}', encoding="utf-8")
    with pytest.raises(InputFileError, match="pr.index.json: damaged projection index"):
        project.projection("pr")
    index.write_text(json.dumps({"groups": [{"space": "sp", "start": 0, "words": ["a", "b"]}]}), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"pr.safetensors: 'coords' has shape \(10, 2\) but the index lists 2"):
        project.projection("pr")
