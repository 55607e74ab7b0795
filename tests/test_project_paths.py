"""A received project must not reach outside its folder (issue 17, S1/S2/M7): malicious projects
built in tmp_path, with a file outside the project that must never be read, deleted or copied."""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

import main as entry
from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.project import Project
from core.project.paths import UnsafePathError, inside, portable, without_local_paths
from core.vectors import save_vectors


def emb(n: int = 5, dim: int = 4, seed: int = 0) -> Embeddings:
    rng = np.random.default_rng(seed)
    return Embeddings([f"w{i}" for i in range(n)], rng.standard_normal((n, dim)).astype(np.float32),
                      np.arange(n, 0, -1), "en", "text")


@pytest.fixture
def outside(tmp_path):
    """A folder outside the project with a file that must stay untouched."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("do not touch")
    (tmp_path / "outside.txt").write_text("do not touch either")
    return folder


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "proj", "Paths")
    p.add_space("t", emb())
    return p


def edit_manifest(project, change) -> None:
    path = project.root / "wordbridge.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("bad", ["../outside.txt", "ABSOLUTE", "spaces/../../outside.txt"])
def test_a_manifest_path_out_of_the_project_is_refused_and_nothing_outside_is_deleted(
        project, outside, tmp_path, capsys, bad):
    bad = str(tmp_path / "outside.txt") if bad == "ABSOLUTE" else bad
    edit_manifest(project, lambda d: d["spaces"][0]["files"].__setitem__("vocab", bad))
    with pytest.raises(WordbridgeError, match="paths stay inside the project"):
        Project.open(project.root)
    assert entry.main(["project", "info", str(project.root), "--check"]) == 2
    assert "inside the project" in one_line_error(capsys)
    vec = tmp_path / "t.vec"
    save_vectors(emb(seed=1), vec)
    # `add-space --replace` deleted the old item's files, wherever they were: now refused first
    assert entry.main(["project", "add-space", str(project.root), str(vec), "--id", "t", "--replace",
                       "--language", "en"]) == 2
    one_line_error(capsys)
    assert (tmp_path / "outside.txt").read_text() == "do not touch either"


def test_a_link_out_of_the_project_is_neither_read_nor_written_nor_deleted(project, outside, capsys):
    # the space's folder replaced by a link to a folder outside holding the same files
    spaces = project.root / "spaces"
    for f in spaces.iterdir():
        f.rename(outside / f.name)
    spaces.rmdir()
    spaces.symlink_to(outside, target_is_directory=True)
    before = {f.name: f.read_bytes() for f in outside.iterdir()}
    reopened = Project.open(project.root)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        reopened.space("t")
    with pytest.raises(UnsafePathError):
        reopened.add_space("t", emb(seed=2), replace=True)  # would write and delete through the link
    with pytest.raises(UnsafePathError):
        reopened.remove("space", "t")
    assert {f.name: f.read_bytes() for f in outside.iterdir()} == before
    assert entry.main(["project", "info", str(project.root), "--check"]) == 2
    err = one_line_error(capsys)
    assert "unsafe path" in err and "symbolic link" in err


def test_save_as_copies_links_as_links_never_their_targets(project, outside, tmp_path, capsys):
    (project.root / "recordings").mkdir(exist_ok=True)
    (project.root / "recordings" / "leak").symlink_to(outside, target_is_directory=True)
    copy = project.save_as(tmp_path / "copy")
    leak = copy.root / "recordings" / "leak"
    assert leak.is_symlink() and os.readlink(leak) == str(outside)
    copied = [os.path.join(folder, f) for folder, _, files in os.walk(copy.root) for f in files]  # links not followed
    assert not any(open(f, "rb").read() == b"do not touch" for f in copied if not os.path.islink(f))
    assert entry.main(["project", "info", str(copy.root), "--check"]) == 2
    assert "recordings/leak" in one_line_error(capsys)


@pytest.mark.parametrize("bad", ["../outside.txt", "ABSOLUTE"])
def test_a_recording_path_out_of_the_project_is_refused(project, outside, tmp_path, capsys, bad):
    bad = str(tmp_path / "outside.txt") if bad == "ABSOLUTE" else bad
    rid = project.add_recording(np.zeros(1600, dtype=np.float32), 16000)
    with sqlite3.connect(project.root / "project.sqlite") as conn:
        conn.execute("UPDATE recordings SET wav_path = ? WHERE id = ?", (bad, rid))
    p = Project.open(project.root)
    with pytest.raises(UnsafePathError, match="recording"):
        p.recording_audio(rid)
    with pytest.raises(UnsafePathError):
        p.delete_recording(rid)
    assert (tmp_path / "outside.txt").read_text() == "do not touch either"
    assert [r.id for r in p.recordings()] == [rid]  # refused before its row went
    assert entry.main(["project", "info", str(project.root), "--check"]) == 2
    assert "recording" in one_line_error(capsys)


def test_no_absolute_local_path_is_written_into_a_project(project, tmp_path, capsys):
    import soundfile

    vec = tmp_path / "deep" / "folder" / "fr.vec"
    vec.parent.mkdir(parents=True)
    save_vectors(emb(seed=3), vec)
    vec.with_suffix(".json").write_text(json.dumps({"corpus": "/home/someone/corpora/fr.txt", "epochs": 5}))
    assert entry.main(["project", "add-space", str(project.root), str(vec), "--language", "fr"]) == 0
    entry_fr = Project.open(project.root).space_entry("fr")
    assert entry_fr.provenance["file"] == "fr.vec"
    assert entry_fr.provenance["made_by"] == {"corpus": "fr.txt", "epochs": 5}
    wav = tmp_path / "deep" / "clip.wav"
    soundfile.write(str(wav), np.zeros(800, dtype=np.float32), 16000)
    rid = project.import_recording(wav)
    assert project.db.recording(rid).note == "imported from clip.wav"
    project.record_run("align", {}, run_dir=tmp_path / "elsewhere" / "run-1")
    assert project.runs()[-1].run_dir == "run-1"
    assert str(tmp_path) not in (project.root / "wordbridge.json").read_text()
    capsys.readouterr()
    assert entry.main(["project", "info", str(project.root), "--check"]) == 0
    # a manifest written by an older version with an absolute provenance path is flagged
    edit_manifest(project, lambda d: d["spaces"][0]["provenance"].__setitem__("file", "/home/someone/t.vec"))
    assert entry.main(["project", "info", str(project.root), "--check"]) == 2
    assert "absolute local path" in one_line_error(capsys)


def test_path_helpers(tmp_path):
    assert inside(tmp_path, "spaces/a.vec") == tmp_path / "spaces" / "a.vec"
    for bad in ("", "/etc/passwd", "..", "a/../../b", "C:\\x", "a\\..\\..\\b"):
        with pytest.raises(UnsafePathError):
            inside(tmp_path, bad)
    assert portable(tmp_path, tmp_path / "runs" / "x") == "runs/x"
    assert portable(tmp_path, "/somewhere/else/x.wav") == "x.wav"
    assert without_local_paths({"a": ["/home/u/f.txt", "imported from C:\\d\\g.flac", "rel/ok", 3]}) == \
        {"a": ["f.txt", "imported from g.flac", "rel/ok", 3]}
