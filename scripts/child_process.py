"""Stop a child process this program started, by its pid: SIGTERM, then SIGKILL if it lingers.

Shared by scripts/bench_startup.py and the tests that start the app or a server (tests put
scripts/ on sys.path, as for make_fixture_project)."""

from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen | None, grace_s: float = 5.0) -> None:
    """Terminate `proc` and wait up to `grace_s` seconds for it, then kill it; a process that has
    already ended (or None) is left alone."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
