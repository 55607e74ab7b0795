"""Wall time of the README's command-line examples at their defaults, on small real inputs.

Issue 17's target: every command's defaults finish the README's examples on the 2-core CPU in
minutes (or say before starting how long they will take). Each command runs as its own process
(`main.py ...`, as a user types it: no option beyond what the README shows, except the input and
--out paths), one after another, with a time limit each; a command past its limit is stopped and
recorded as such. Inputs (read-only, never changed):

* text-space: the textbench's comparable English corpus (KJV, odd chapters: 2.0 MB of text)
* align: the textbench's comparable EN→FR pair (en_kjv_odd.vec → fr_lsg_even.vec, the pair the
  issue measured) with its test dictionary, as `--eval-dict`
* classify: a copy of the bundled demo project and one of its own recordings
* corpus build: the real Mboshi corpus, dev split (`--reader mboshi --split dev`)
* train-speech and export-vec: the store that corpus build made
* experiment experiments/smoke.toml: needs espeak-ng (skipped, and said so, without it)

    .venv/bin/python scripts/bench_readme_defaults.py --out docs/runs/DIR/readme_defaults.json

prints a Markdown table (command, wall seconds, exit code, last output line) and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def commands(work: Path, data: Path, bench: Path) -> list[tuple[str, list[str] | None, str]]:
    """(name, argv after main.py or None when it cannot run here, why not)."""
    demo = work / "demo"
    clip = next(iter(sorted((ROOT / "resources" / "demo" / "recordings").glob("*.wav"))), None)
    espeak = shutil.which("espeak-ng") is not None
    return [
        ("--help", ["--help"], ""),
        ("text-space CORPUS --out en.vec", ["text-space", str(bench / "corpora" / "en_kjv_odd.txt"),
                                             "--out", str(work / "en.vec")], ""),
        ("align SRC.vec TGT.vec --eval-dict D --out runs/x",
         ["align", str(bench / "vectors" / "en_kjv_odd.vec"), str(bench / "vectors" / "fr_lsg_even.vec"),
          "--eval-dict", str(bench / "dicts" / "en-fr.test.txt"), "--out", str(work / "align")], ""),
        ("classify resources/demo word.wav", ["classify", str(demo), str(clip)] if clip else None,
         "" if clip else "no recording in resources/demo"),
        ("corpus build SOURCE --reader mboshi --split dev --out STORE",
         ["corpus", "build", str(data / "speech" / "mboshi"), "--reader", "mboshi", "--split", "dev",
          "--out", str(work / "store")], ""),
        ("train-speech STORE --out RUN", ["train-speech", str(work / "store"), "--out", str(work / "speech-run")], ""),
        ("export-vec RUN --out speech.vec", ["export-vec", str(work / "speech-run"), "--out", str(work / "speech.vec")], ""),
        ("experiment experiments/smoke.toml --out runs/smoke",
         ["experiment", str(ROOT / "experiments" / "smoke.toml"), "--out", str(work / "smoke")] if espeak else None,
         "" if espeak else "espeak-ng is not installed on this machine"),
    ]


def run_one(argv: list[str], limit: float, env: dict) -> dict:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "main.py", *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    try:
        output, _ = proc.communicate(timeout=limit)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - start
    lines = [line.strip() for line in output.replace("\r", "\n").splitlines() if line.strip()]
    return {"wall_s": round(wall, 1), "exit_code": proc.returncode, "timed_out": timed_out,
            "last_line": lines[-1][:200] if lines else "", "output_tail": lines[-8:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="JSON file to write (default: print only)")
    parser.add_argument("--limit", type=float, default=1800.0, help="seconds allowed per command (default: 1800)")
    parser.add_argument("--only", default="", help="comma-separated command names (their first word) to run")
    parser.add_argument("--work", default=None, help="folder for the outputs (default: a temporary one, deleted)")
    args = parser.parse_args()

    data = Path(os.environ.get("WORDBRIDGE_DATA", SHARED / "data"))
    bench = SHARED / "bench" / "textbench"
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="readme-defaults-"))
    work.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "resources" / "demo", work / "demo", dirs_exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    only = {name for name in args.only.split(",") if name}
    rows = []
    try:
        for name, argv, why in commands(work, data, bench):
            if only and name.split()[0] not in only:
                continue
            if argv is None:
                rows.append({"command": name, "skipped": why})
                print(f"{name}: not run ({why})", flush=True)
                continue
            result = run_one(argv, args.limit, env)
            rows.append({"command": name, "argv": argv, **result})
            print(f"{name}: {result['wall_s']} s, exit {result['exit_code']}"
                  f"{' (stopped at the limit)' if result['timed_out'] else ''}: {result['last_line']}", flush=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    cpu = next((line.split(":", 1)[1].strip() for line in _lscpu().splitlines() if line.startswith("Model name")), "")
    record = {"machine": {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
                          "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
              "limit_s": args.limit, "commands": rows}
    print("\n| command (`main.py ...`, defaults) | wall time | exit | last line of output |\n|---|---|---|---|")
    for row in rows:
        if "skipped" in row:
            print(f"| `{row['command']}` | not run | | {row['skipped']} |")
        else:
            wall = f"> {row['wall_s']:.0f} s (stopped)" if row["timed_out"] else f"{row['wall_s']:.1f} s"
            print(f"| `{row['command']}` | {wall} | {row['exit_code']} | {row['last_line'].replace('|', '/')} |")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def _lscpu() -> str:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
