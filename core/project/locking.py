"""A lock across processes for every read-change-write of a project's manifest.

Two processes changing one project (the app and a command line, or two command lines) each re-read
`wordbridge.json`, change it and write it back; without a lock between processes one write undid
the other (2 × 15 `add_space`: 12 of 30 entries lost). `manifest_lock(root)` holds an advisory
lock on `<root>/.wordbridge.lock` (the `filelock` library: fcntl on POSIX, msvcrt on Windows) for
the whole read-change-write; a holder that dies releases it with its process. `file_lock` is the
same for any other file (the app's per-user settings, app/settings.py).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from core.errors import WordbridgeError

LOCK_NAME = ".wordbridge.lock"
WAIT_SECONDS = 60.0


@contextlib.contextmanager
def manifest_lock(root: str | os.PathLike, timeout: float = WAIT_SECONDS):
    """Hold the project's manifest lock (waiting up to `timeout` s for another process to finish)."""
    with file_lock(Path(root) / LOCK_NAME, timeout, root, "this project", "the project"):
        yield


@contextlib.contextmanager
def file_lock(lock_path: str | os.PathLike, timeout: float, where, what: str, locked: str):
    """Hold the `filelock` lock `lock_path` for a read-change-write of `what` (used by the manifest
    above and the app's per-user settings file, app/settings.py); waiting longer than `timeout` s,
    or a folder where no lock can be made, is one line (`WordbridgeError`) naming `where`."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise WordbridgeError(f"{where}: another process has been changing {what} for {timeout:.0f} s "
                              f"(lock {Path(lock_path).name}); try again when it has finished") from None
    except OSError as exc:
        raise WordbridgeError(f"{where}: cannot lock {locked} ({exc.strerror or exc})") from None
    try:
        yield
    finally:
        lock.release()
