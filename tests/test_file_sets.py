"""Issue 17, deliver 4: outputs of several files are replaced as a set. A text space (.vec + .counts,
and text-space's .json) whose second file fails on a full disk leaves the old files as they were
(so "nothing was overwritten" is true); a writer killed between two renames is completed by the next
read or write; temporary files of dead writers are removed at the next start."""

from __future__ import annotations

import builtins
import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.atomic import atomic_file_set, finish_file_sets
from core.cli import main
from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.vectors import load_vectors, save_vectors

ROOT = Path(__file__).resolve().parents[1]


def _space(n: int, seed: int) -> Embeddings:
    words = [f"w{i}" for i in range(n)]
    return Embeddings(words, np.random.default_rng(seed).standard_normal((n, 4)).astype(np.float32),
                      np.arange(n, 0, -1, dtype=np.int64) * (seed + 1))


@pytest.fixture
def full_disk_for(monkeypatch):
    """Writes into any file whose name holds `part` fail with ENOSPC after a few bytes."""

    def arm(part: str):
        real_open = builtins.open

        class Full:
            def __init__(self, fh):
                self.fh = fh

            def write(self, data):
                self.fh.write(data[:3])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.fh.close()

            def __getattr__(self, name):
                return getattr(self.fh, name)

        def fake_open(file, mode="r", *args, **kwargs):
            fh = real_open(file, mode, *args, **kwargs)
            if any(c in mode for c in "wax") and part in os.fspath(file):
                return Full(fh)
            return fh

        monkeypatch.setattr(builtins, "open", fake_open)

    return arm


def test_counts_failing_on_a_full_disk_leaves_the_old_vec_and_counts(tmp_path, full_disk_for):
    out = tmp_path / "s.vec"
    save_vectors(_space(5, 0), out)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    full_disk_for(".counts")
    with pytest.raises(WordbridgeError, match="disk full; nothing was overwritten"):
        save_vectors(_space(7, 1), out)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temp file either


def test_text_space_with_a_full_disk_at_its_second_file_keeps_the_old_run(tmp_path, full_disk_for, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(["the cat sat on the mat", "the dog sat on the log"] * 30) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "space.vec"
    args = ["text-space", str(corpus), "--out", str(out), "--dim", "4", "--epochs", "1", "--min-count", "1",
            "--sample", "0", "--workers", "1", "--quiet"]
    assert main(args) == 0
    before = {p.name: p.read_bytes() for p in out.parent.iterdir()}
    assert set(before) == {"space.vec", "space.counts", "space.json"}
    full_disk_for(".counts")
    assert main(args + ["--dim", "6"]) == 2  # another run into the same files
    err = capsys.readouterr().err
    assert "disk full; nothing was overwritten" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in out.parent.iterdir()} == before


KILLED_BETWEEN_RENAMES = """
import os, signal, sys
import numpy as np
import core.atomic
from core.embeddings import Embeddings
from core.vectors import save_vectors
real, calls = os.replace, []
def replace(src, dst):
    calls.append(dst)
    if len(calls) == 2:  # the .vec is in place, the .counts not yet
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
core.atomic.os.replace = replace
emb = Embeddings(["a", "b", "c"], np.eye(3, dtype=np.float32), np.array([30, 20, 10]))
save_vectors(emb, sys.argv[1])
"""


def test_a_writer_killed_between_two_renames_is_completed_by_the_next_read(tmp_path):
    out = tmp_path / "s.vec"
    save_vectors(Embeddings(["x", "y"], np.eye(2, dtype=np.float32), np.array([5, 4])), out)
    done = subprocess.run([sys.executable, "-c", KILLED_BETWEEN_RENAMES, str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    assert out.read_text().startswith("3 3") and (tmp_path / "s.counts").read_text() == "x 5\ny 4\n"
    assert len(list(tmp_path.glob(".s.vec.set-*.commit"))) == 1  # the journal of the unfinished set
    emb = load_vectors(out)  # completes the set before reading
    assert emb.words == ["a", "b", "c"] and emb.counts.tolist() == [30, 20, 10]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.counts", "s.vec"]


def test_temporary_files_of_dead_writers_are_removed_at_the_next_write(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has ended
    for name in (f".s.vec.set-{pid}-ab12.tmp", f".s.counts.set-{pid}-ab12.tmp"):
        (tmp_path / name).write_bytes(b"half")
    live = tmp_path / f".s.vec.set-{os.getppid()}-cd34.tmp"  # a writer still running: kept
    live.write_bytes(b"in progress")
    save_vectors(_space(3, 0), tmp_path / "s.vec")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["s.vec", "s.counts", live.name])


def test_a_set_failing_in_the_block_changes_nothing_and_a_journal_cut_short_is_dropped(tmp_path):
    (tmp_path / "a").write_text("old a")
    with pytest.raises(RuntimeError):
        with atomic_file_set([tmp_path / "a", tmp_path / "b"]) as (a, b):
            a.write_text("new a")
            raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"] and (tmp_path / "a").read_text() == "old a"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    (tmp_path / f".a.set-{pid}-ef56.tmp").write_text("new a")
    (tmp_path / f".a.set-{pid}-ef56.commit").write_text('{"rename": [[".a.set-')  # killed while writing it
    finish_file_sets(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"] and (tmp_path / "a").read_text() == "old a"
    with pytest.raises(ValueError):
        with atomic_file_set([tmp_path / "a", tmp_path / "sub" / "b"]):
            pass
