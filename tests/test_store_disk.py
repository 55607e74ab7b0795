"""Issue 17, deliver 4: a feature store is replaced as a whole (its seven files as a set, header.json
last): a full disk at any file of a rebuild (--overwrite) leaves the older store whole and the
message true; free space is checked before the memory-mapped features file is made (one line
naming the bytes needed and free), its blocks are reserved so a full disk is ENOSPC, not SIGBUS; a
store-sized temporary file left by a killed build is removed by the rerun."""

from __future__ import annotations

import builtins
import errno
import os
import signal
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.corpus.build import build_feature_store
from core.corpus.feature_store import FeatureStore
from core.errors import WordbridgeError
from core.features import FeatureConfig
from test_feature_store import make_corpus

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_a_rebuild_failing_on_a_full_disk_leaves_the_older_store_whole(tmp_path, monkeypatch):
    corpus = make_corpus(tmp_path / "corpus", n_files=3)
    store = tmp_path / "store"
    build_feature_store(corpus, store, "textgrid", shard_files=2)
    before = _files(store)
    real_open = builtins.open

    def full_at_segments(file, mode="r", *args, **kwargs):  # the store's 6th file meets a full disk
        path = Path(os.fspath(file))
        if any(c in mode for c in "wax") and path.parent == store and "segments.jsonl" in path.name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", full_at_segments)
    with pytest.raises(WordbridgeError, match="disk full; nothing was overwritten"):
        build_feature_store(corpus, store, "textgrid", config=FeatureConfig(deltas=True), shard_files=2,
                            overwrite=True)
    monkeypatch.setattr(builtins, "open", real_open)
    assert _files(store) == before  # the older store, every file as it was, and no temporary file
    assert FeatureStore.open(store).dim == 13
    done = build_feature_store(corpus, store, "textgrid", config=FeatureConfig(deltas=True), shard_files=2,
                               overwrite=True)
    assert done.shards_resumed == 2 and FeatureStore.open(store).dim == 39  # the shards were kept


def test_free_space_is_checked_before_the_features_file_is_made(tmp_path, monkeypatch, capsys):
    corpus = make_corpus(tmp_path / "corpus", n_files=2)
    usage = namedtuple("usage", "total used free")
    free = lambda path: 5000 if Path(path).name == "s" else 10**9  # noqa: E731 - the shards (in .build) fit
    monkeypatch.setattr("shutil.disk_usage", lambda path: usage(10**9, 10**9 - free(path), free(path)))
    args = ["corpus", "build", str(corpus), "--reader", "textgrid", "--out", str(tmp_path / "s"), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "not enough free disk space for the feature store: it needs " in err and "5,000 bytes" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in (tmp_path / "s").iterdir()] == [".build"]  # no features file was made
    monkeypatch.undo()

    def no_blocks(fd, offset, length):  # the disk fills up between the check and the write
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", no_blocks)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "features.npy: disk full; nothing was overwritten" in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in (tmp_path / "s").iterdir()] == [".build"]
    monkeypatch.undo()
    assert main(args) == 0


KILLED_IN_FINALIZE = """
import os, signal, sys
from pathlib import Path
import core.atomic
real = core.atomic._fsync_file
def die(path):  # the store's features are written under a temporary name: killed before the rename
    if Path(path).name.startswith(".features.npy."):
        os.kill(os.getpid(), signal.SIGKILL)
    real(path)
core.atomic._fsync_file = die
from core.corpus.build import build_feature_store
build_feature_store(sys.argv[1], sys.argv[2], "textgrid", shard_files=2)
"""


def test_a_store_sized_temporary_file_of_a_killed_build_is_removed_by_the_rerun(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", n_files=3)
    store = tmp_path / "store"
    killed = subprocess.run([sys.executable, "-c", KILLED_IN_FINALIZE, str(corpus), str(store)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = [p for p in store.iterdir() if p.name.startswith(".features.npy.")]
    assert left and left[0].stat().st_size > 9 * 13 * 2  # the store-sized features file
    build_feature_store(corpus, store, "textgrid", shard_files=2)
    assert sorted(p.name for p in store.iterdir()) == sorted(
        ["features.npy", "offsets.npy", "lengths.npy", "utterance_ids.npy", "positions.npy", "segments.jsonl",
         "header.json"])
    assert FeatureStore.open(store).n_segments == 9
