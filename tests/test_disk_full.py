"""Issue 17, deliver 4: a full disk / file-size limit (`ulimit -f`, errno 27) while safetensors writes,
and a truncated checkpoint, are one-line errors (exit code 2), nothing is overwritten; temporary files
that killed writes left are removed when a project opens and never copied by Save As. Real processes
with a small RLIMIT_FSIZE stand in for a full disk."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.project import Project
from core.vectors import save_vectors

ROOT = Path(__file__).resolve().parents[1]
LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
{body}
"""


def _limited(body: str, limit: int = 64 * 1024) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LIMITED.format(limit=limit, body=body)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_add_space_past_the_file_size_limit_is_one_line_and_changes_nothing(tmp_path):
    root = tmp_path / "p"
    Project.create(root, "p")
    words = [f"w{i}" for i in range(2000)]
    save_vectors(Embeddings(words, np.random.default_rng(0).standard_normal((2000, 32)).astype(np.float32)),
                 tmp_path / "big.vec")  # 256 KB of float32: more than the 64 KB limit
    before = (root / "wordbridge.json").read_bytes()
    done = _limited(f"from core.cli import main; sys.exit(main(['project', 'add-space', {str(root)!r}, "
                    f"{str(tmp_path / 'big.vec')!r}, '--language', 'x']))")
    assert done.returncode == 2, done.stderr
    assert "file-size limit reached" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert (root / "wordbridge.json").read_bytes() == before
    assert [p.name for p in root.rglob("*") if "tmp" in p.name] == []


def test_a_training_checkpoint_past_the_file_size_limit_is_one_line(tmp_path):
    body = f"""
import torch
from pathlib import Path
from core.errors import WordbridgeError
from core.speech.training import save_checkpoint
model = torch.nn.Linear(200, 200)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
try:
    save_checkpoint(Path({str(tmp_path / 'ckpt')!r}), model, opt, {{"step": 5}})
except WordbridgeError as exc:
    print("error:", exc, file=sys.stderr)
    sys.exit(2)
"""
    done = _limited(body, limit=32 * 1024)
    assert done.returncode == 2, done.stderr
    assert "ckpt-000000005.safetensors: file-size limit reached" in done.stderr and "Traceback" not in done.stderr
    assert list((tmp_path / "ckpt").iterdir()) == []


def test_a_truncated_checkpoint_is_one_line(tmp_path):
    import torch

    from core.speech.training import load_checkpoint, save_checkpoint

    model = torch.nn.Linear(8, 8)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    save_checkpoint(tmp_path, model, opt, {"step": 3})
    weights = next(tmp_path.glob("ckpt-*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(WordbridgeError, match="damaged or truncated safetensors file") as info:
        load_checkpoint(tmp_path, model, opt)
    assert "\n" not in str(info.value) and "start over" in str(info.value)


def test_stale_temporary_files_are_removed_on_open_and_never_copied_by_save_as(tmp_path):
    root = tmp_path / "p"
    project = Project.create(root, "p")
    project.add_space("s", Embeddings(["a", "b"], np.eye(2, dtype=np.float32)), kind="text", language="x")
    old = time.time() - 3600
    stale = [root / "spaces" / ".s.safetensors.k2j3.tmp", root / "spaces" / "s.safetensors.tmpA1b2C3",
             root / ".wordbridge.json.x1y2.tmp"]
    for path in stale:
        path.write_bytes(b"half-written")
        os.utime(path, (old, old))
    fresh = root / "spaces" / "s.safetensors.tmpZZZZ"  # maybe still being written by another process
    fresh.write_bytes(b"in progress")
    reopened = Project.open(root)
    assert [p.exists() for p in stale] == [False, False, False] and fresh.exists()
    copy = reopened.save_as(tmp_path / "copy")
    assert [p.name for p in copy.root.rglob("*") if "tmp" in p.name] == []
    assert copy.space("s").words == ["a", "b"]


def _save_as_source(tmp_path) -> Project:
    project = Project.create(tmp_path / "proj", "p")
    for name in ("s", "t"):  # several files, so that the disk fills up part-way through the copy
        project.add_space(name, Embeddings(["a", "b"], np.eye(2, dtype=np.float32)), kind="text", language="x")
    return project


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_disk_filling_up_during_save_as_removes_the_partial_copy_and_leaves_the_source(tmp_path, monkeypatch):
    import errno
    import shutil

    project = _save_as_source(tmp_path)
    before = _tree(project.root)
    real_copy, copied = shutil.copy2, []

    def copy_until_full(source, target, **kwargs):  # the first file fits, the second meets a full disk
        if copied:
            with open(target, "wb") as fh:
                fh.write(b"half")  # a partly written file, as a real full disk leaves
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target)
        copied.append(source)
        return real_copy(source, target, **kwargs)

    monkeypatch.setattr(shutil, "copy2", copy_until_full)
    with pytest.raises(WordbridgeError) as caught:
        project.save_as(tmp_path / "copy")
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{tmp_path / 'copy'}: disk full while copying ")
    assert message.endswith(f"; the partial copy was removed and {project.root} is unchanged "
                            "(free some space or save the copy elsewhere)")
    assert len(copied) == 1  # stopped at the first full disk, not tried on every remaining file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]  # no copy, no temporary folder
    assert _tree(project.root) == before
    monkeypatch.undo()
    assert Project.open(project.root).space("t").words == ["a", "b"]
    assert Project.open(project.save_as(tmp_path / "copy").root).space("s").words == ["a", "b"]


def test_a_disk_filling_up_while_save_as_copies_the_database_is_the_same_line(tmp_path, monkeypatch):
    import errno

    from core.project.database import ProjectDatabase

    project = _save_as_source(tmp_path)
    before = _tree(project.root)

    def full(self, target):  # what backup_to makes of SQLite's SQLITE_FULL (the copy's disk, not the source)
        raise OSError(errno.ENOSPC, f"{target}: database or disk is full")

    monkeypatch.setattr(ProjectDatabase, "backup_to", full)
    with pytest.raises(WordbridgeError, match=r"copy: disk full while copying project.sqlite; the partial copy "
                                              r"was removed"):
        project.save_as(tmp_path / "copy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"] and _tree(project.root) == before
