"""Run folders written as a whole: built in a temporary folder next to the final one, then renamed.

A command that writes several files into `--out` (`align`: mapping, dictionary, metrics, config,
log) used to write them one by one into the folder, so a run killed halfway (kill -9, power cut)
left its new mapping beside the previous run's metrics. `staged_run_folder(out)`:

* checks BEFORE any computing that `out` is not a file, that its parent can be written, and that an
  existing `out` holds only files this command writes (nothing of the user's is ever replaced);
* holds a lock across processes (`.<name>.lock` next to `out`, the `filelock` library), so two runs
  into one folder are refused instead of mixed, and removes what a killed run left (hidden
  `.<name>.run-*.tmp` / `.<name>.old-*.tmp` folders);
* yields a hidden temporary folder next to `out` to write into; when the block succeeds the old
  folder is moved aside, the new one renamed into place and the old one deleted. A kill at any
  moment leaves either the old run or the new one under `out`, never a mix (between the two renames
  `out` is briefly absent and the old run survives as `.<name>.old-*.tmp`, put back by the next run).

`resumable_run_folder(out)` is the same for a run that must survive a kill (`train-speech`, whose
checkpoints let a killed run continue): the run is built in `.<name>.partial` next to `out`, a
folder that a kill or Cancel leaves in place for the next run to continue, and that replaces `out`
(through the same swap) only when the run finishes. An unfinished run is never under `out`, so a
killed run never mixes with the finished one there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from core.errors import WordbridgeError

_UMASK = os.umask(0)
os.umask(_UMASK)

@contextlib.contextmanager
def staged_run_folder(out: str | os.PathLike, owned: Iterable[str]) -> Iterator[Path]:
    """Yield a temporary folder whose content replaces the folder `out` as a whole on success.

    `owned` names the files the command writes; an existing `out` holding anything else is refused.
    Problems (out is a file, parent not writable, another run holds the folder) are one-line
    `WordbridgeError`s raised before the caller computes anything.
    """
    out = Path(out)
    check_run_folder(out, owned)
    parent = out.parent
    with run_folder_lock(out):
        _restore_and_clean(out)
        check_run_folder(out, owned)
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.run-", suffix=".tmp", dir=parent))
        except OSError as exc:
            raise WordbridgeError(f"{out}: cannot write the run folder here ({exc.strerror or exc})") from None
        try:
            yield staging
            _swap_into_place(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def partial_folder(out: str | os.PathLike) -> Path:
    """The hidden folder an unfinished resumable run of `out` is built in (`.<name>.partial`)."""
    out = Path(out)
    return out.parent / f".{out.name}.partial"


def current_run_folder(out: str | os.PathLike) -> Path:
    """The folder holding the run a rerun into `out` continues: the unfinished one if there is one, else `out`."""
    partial = partial_folder(out)
    return partial if partial.is_dir() else Path(out)


class ResumableRun:
    """The folder to write (`path`) of a `resumable_run_folder`; `commit()` puts it in place as `out`."""

    def __init__(self, out: Path, path: Path):
        self.out, self.path = out, path

    def commit(self) -> None:
        _swap_into_place(self.path, self.out)


@contextlib.contextmanager
def resumable_run_folder(out: str | os.PathLike, check=None) -> Iterator[ResumableRun]:
    """Hold `out`'s lock and yield the `ResumableRun` that is built in `partial_folder(out)`.

    `check(folder)` (may raise) is called under the lock with `current_run_folder(out)` before
    anything is written. Without an unfinished run, the partial folder starts as a copy of `out`
    (hard links where possible: every file of a run is replaced by a rename, never changed in
    place), so a rerun of a finished run continues it as before. The partial folder stays when the
    block fails, is cancelled or killed, or ends without `commit()`.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WordbridgeError(f"{out}: --out is an existing file; give a folder for the run")
    with run_folder_lock(out):
        _restore_and_clean(out)
        if check is not None:
            check(current_run_folder(out))
        work = partial_folder(out)
        if not work.is_dir():
            _start_partial(out, work)
        yield ResumableRun(out, work)


def _start_partial(out: Path, work: Path) -> None:
    """Make `work`: a copy of `out` (or empty), built under a temporary name and renamed."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.run-", suffix=".tmp", dir=out.parent))
        if out.is_dir():
            shutil.copytree(out, staging, symlinks=True, dirs_exist_ok=True, copy_function=_link_or_copy)
        os.replace(staging, work)
    except OSError as exc:
        raise WordbridgeError(f"{out}: cannot write the run folder here ({exc.strerror or exc})") from None


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def check_run_folder(out: Path, owned: Iterable[str]) -> None:
    """Refuse an `out` that is a file, lies under a file, holds foreign files or cannot be written."""
    owned = set(owned)
    if out.exists() and not out.is_dir():
        raise WordbridgeError(f"{out}: --out is an existing file; give a folder for the run")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WordbridgeError(f"{out}: cannot create the run folder's parent ({exc.strerror or exc})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise WordbridgeError(f"{out}: cannot write in {parent} (read-only or no permission)")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in owned)
        if foreign:
            raise WordbridgeError(f"{out}: the folder holds files this command does not write "
                                  f"({', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}); "
                                  "give a new or empty folder, or an earlier run folder of this command")


@contextlib.contextmanager
def run_folder_lock(out: str | os.PathLike):
    """Hold the lock of the folder `out` across processes (`.<name>.lock` next to it, `filelock`),
    without waiting: a folder another process holds is a one-line error. A holder that dies
    releases the lock with its process. Used by `align` (through `staged_run_folder`), `train-speech`
    (through `resumable_run_folder`) and `corpus build` (a feature store)."""
    from filelock import FileLock, Timeout

    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WordbridgeError(f"{out}: cannot create the folder's parent ({exc.strerror or exc})") from None
    lock = FileLock(str(out.parent / f".{out.name}.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise WordbridgeError(f"{out}: another run is writing this folder; wait for it or choose another --out") from None
    except OSError as exc:
        raise WordbridgeError(f"{out}: cannot write in {out.parent} ({exc.strerror or exc})") from None
    try:
        yield
    finally:
        lock.release()


def _restore_and_clean(out: Path) -> None:
    """Under the lock: put back an old run a kill left aside, and delete stale temporary folders
    (an unfinished resumable run, `.<name>.partial`, is kept)."""
    olds = sorted(out.parent.glob(f".{out.name}.old-*.tmp"))
    if olds and not out.exists():
        os.replace(olds.pop(), out)
    for stale in olds + sorted(out.parent.glob(f".{out.name}.run-*.tmp")):
        shutil.rmtree(stale, ignore_errors=True)


def _swap_into_place(staging: Path, out: Path) -> None:
    """Rename `staging` to `out`; an existing `out` is moved aside first and deleted afterwards."""
    os.chmod(staging, 0o777 & ~_UMASK)  # mkdtemp makes 0700 folders; give the usual permissions
    old = None
    try:
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", suffix=".tmp", dir=out.parent))
            os.replace(out, old)  # an empty folder is replaced by the rename
        os.replace(staging, out)
    except OSError as exc:
        if old is not None and not out.exists() and old.exists():
            os.replace(old, out)
        raise WordbridgeError(f"{out}: cannot put the run folder in place ({exc.strerror or exc}); "
                              "the previous run is unchanged") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

