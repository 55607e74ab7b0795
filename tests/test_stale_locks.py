"""Issue 17: a writer that dies (kill -9) never leaves a lock or a file set that blocks the next one,
and a writer on another machine (a project on a shared disk) is never taken for a dead one.

* The project's manifest lock and a run folder's lock are `filelock` locks (fcntl `flock` on
  Linux): the kernel releases them with the killed process, so the next writer goes on at once.
  (On a file system without flock, filelock falls back to a lock file holding the host name and
  process id, and breaks it only for a dead process of its own host.)
* A file set's temporary names carry the writer's machine (`core.atomic.HOST_TAG`) and process id:
  a dead process of this machine is recognised, one of another machine is left alone.
Real processes, killed with SIGKILL while they hold the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.atomic import HOST_TAG, finish_file_sets
from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.project import Project
from core.run_folder import run_folder_lock

ROOT = Path(__file__).resolve().parents[1]

HOLD = """
import sys, time
from core.project.locking import manifest_lock
from core.run_folder import run_folder_lock
kind, path = sys.argv[1], sys.argv[2]
with (manifest_lock(path) if kind == "project" else run_folder_lock(path)):
    print("held", flush=True)
    time.sleep(600)
"""


def _space(n: int = 3) -> Embeddings:
    return Embeddings([f"w{i}" for i in range(n)], np.eye(n, dtype=np.float32))


def _hold_then_kill(kind: str, path: Path, while_held) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, kind, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read()
        while_held()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert holder.returncode == -signal.SIGKILL


def test_the_project_lock_of_a_killed_writer_is_free_again(tmp_path):
    project = Project.create(tmp_path / "proj", "Locks")

    def refused_while_held():
        from core.project.locking import manifest_lock

        with pytest.raises(WordbridgeError, match="another process has been changing this project for 0 s"):
            with manifest_lock(project.root, timeout=0):
                pass

    _hold_then_kill("project", project.root, refused_while_held)
    project.add_space("t", _space())  # waits up to 60 s for a live holder; the dead one holds nothing
    assert [s.id for s in Project.open(project.root).manifest.spaces] == ["t"]


def test_the_run_folder_lock_of_a_killed_run_is_free_again(tmp_path):
    out = tmp_path / "run"

    def refused_while_held():
        with pytest.raises(WordbridgeError, match="another run is writing this folder"):
            with run_folder_lock(out):
                pass

    _hold_then_kill("run", out, refused_while_held)
    with run_folder_lock(out):  # taken at once (timeout 0)
        pass


def _ended_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_file_set_leftovers_name_their_machine_and_only_this_machines_dead_writers_are_removed(tmp_path):
    pid = _ended_pid()
    other_host = "0123abcd" if HOST_TAG != "0123abcd" else "fedc9876"
    ours = tmp_path / f".s.vec.set-{HOST_TAG}-{pid}-ab12.tmp"
    theirs = tmp_path / f".s.vec.set-{other_host}-{pid}-cd34.tmp"  # the same pid on another machine
    journal = tmp_path / f".s.vec.set-{other_host}-{pid}-cd34.commit"
    for path in (ours, theirs, journal):
        path.write_text('{"rename": [[".s.vec.set-x.tmp", "s.vec"]]}' if path == journal else "half")
    assert finish_file_sets(tmp_path) == [ours.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([theirs.name, journal.name])  # left to their writer


KILLED_WRITING_A_SET = """
import os, signal, sys
from core.atomic import atomic_file_set
with atomic_file_set([sys.argv[1] + "/a", sys.argv[1] + "/b"]) as (a, b):
    a.write_text("new a")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_writers_set_is_recognised_as_this_machines_and_removed(tmp_path):
    (tmp_path / "a").write_text("old a")
    done = subprocess.run([sys.executable, "-c", KILLED_WRITING_A_SET, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "a")
    assert len(left) == 2 and all(f".set-{HOST_TAG}-" in name for name in left), left
    assert sorted(finish_file_sets(tmp_path)) == left
    assert [p.name for p in tmp_path.iterdir()] == ["a"] and (tmp_path / "a").read_text() == "old a"
    assert os.listdir(tmp_path) == ["a"]
