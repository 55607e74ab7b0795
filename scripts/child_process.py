"""Child processes of scripts and tests: stop one (SIGTERM, then SIGKILL if it lingers), or race several
(started together, each must exit 0).

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


def race(script: str, argvs: list[list[str]], timeout_s: float = 300) -> None:
    """Run `python -c script ARGV…` once per argument list, all at the same moment: each child
    prints "ready" when set up and waits for a line on stdin, which they all get together. Raises
    AssertionError with the child's stderr if one does not get ready or does not exit 0."""
    import sys

    procs = [subprocess.Popen([sys.executable, "-c", script, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for argv in argvs]
    try:
        for proc in procs:
            assert proc.stdout.readline() == "ready\n", proc.stderr.read()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            _, err = proc.communicate(timeout=timeout_s)
            assert proc.returncode == 0, err
    finally:
        for proc in procs:
            stop(proc)
