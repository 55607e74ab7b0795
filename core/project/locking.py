"""A lock across processes for every read-change-write of a project's manifest.

Two processes changing one project (the app and a command line, or two command lines) each re-read
`wordbridge.json`, change it and write it back; without a lock between processes one write undid
the other (2 × 15 `add_space`: 12 of 30 entries lost). `manifest_lock(root)` holds an advisory
lock on `<root>/.wordbridge.lock` (the `filelock` library: fcntl on POSIX, msvcrt on Windows) for
the whole read-change-write; a holder that dies releases it with its process.
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
    from filelock import FileLock, Timeout

    lock = FileLock(str(Path(root) / LOCK_NAME), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise WordbridgeError(f"{root}: another process has been changing this project for {timeout:.0f} s "
                              f"(lock {LOCK_NAME}); try again when it has finished") from None
    except OSError as exc:
        raise WordbridgeError(f"{root}: cannot lock the project ({exc.strerror or exc})") from None
    try:
        yield
    finally:
        lock.release()
