"""Time to the first window (and to the opened demo) of `python main.py app`, as a user starts it.

Each run is a fresh process with Qt's offscreen platform, settings and data in a temporary folder
(so the app opens the bundled demo, read-only) and WORDBRIDGE_REPORT_STARTUP=1: the app prints
"startup: splash shown / libraries loaded / window shown / project shown N s after the process
started" (an older app prints only the last two). The run is stopped (SIGTERM to the process this
script started) once the project is shown. Prints each run and the medians.

    .venv/bin/python scripts/bench_startup.py [--runs 3] [--root TREE] [--platform xcb]

`--root` runs another checkout's main.py (a worktree of an older commit, for a before/after).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from child_process import stop  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ("splash shown", "libraries loaded", "window shown", "window painted", "project shown")


def one_run(root: Path, platform: str = "offscreen", timeout_s: float = 180) -> dict[str, float]:
    """Start the app once; return {event: seconds after the process started}."""
    tmp = Path(tempfile.mkdtemp(prefix="wb-startup-"))
    env = {**os.environ, "QT_QPA_PLATFORM": platform, "WORDBRIDGE_REPORT_STARTUP": "1",
           "WORDBRIDGE_CONFIG_DIR": str(tmp / "config"), "WORDBRIDGE_DATA_HOME": str(tmp / "data")}
    proc = subprocess.Popen([sys.executable, "main.py", "app"], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    found: dict[str, float] = {}
    end = time.monotonic() + timeout_s
    try:
        for line in proc.stdout:
            m = re.match(r"startup: (.+?) ([\d.]+) s after the process started", line)
            if m:
                found[m.group(1)] = float(m.group(2))
            if "project shown" in found or time.monotonic() > end:
                break
    finally:
        stop(proc, grace_s=10)
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose main.py is started")
    parser.add_argument("--platform", default="offscreen",
                        help="Qt platform (offscreen; xcb with DISPLAY set, e.g. an Xvfb: offscreen never "
                             "'exposes' a QSplashScreen, whose show() then waits its 1-s time-out)")
    args = parser.parse_args(argv)
    runs = []
    for n in range(args.runs):
        found = one_run(args.root, args.platform)
        runs.append(found)
        print(f"run {n + 1}: " + ", ".join(f"{e} {found[e]:.2f} s" for e in EVENTS if e in found), flush=True)
    print(f"median of {args.runs} runs:")
    for event in EVENTS:
        values = [r[event] for r in runs if event in r]
        if values:
            print(f"  {event + ':':18s} {statistics.median(values):.2f} s  (runs: "
                  f"{', '.join(f'{v:.2f}' for v in values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
