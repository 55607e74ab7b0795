"""Merge the metrics of several runs of one experiment into one table (mean ± std over all seeds).

A GPU call holds at most 10 minutes, so the seeds of one experiment may come from separate runs
(e.g. seed 0 in one run folder, seeds 1 and 2 in another, from the same config with a `seeds`
override). Every evaluation keeps the name of the run it came from (`run`), so each number in the
merged table still traces to one run folder's metrics.json.

    .venv/bin/python scripts/merge_runs.py docs/runs/A/metrics.json docs/runs/B/metrics.json \
        --name kjv-synthetic --out docs/runs/merged

`RUN/metrics.json@1,2` takes only those seeds from a run: a seed that a run left unfinished and a
later run made again whole is taken from the later run only, so all of one seed's numbers share
one speech space.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.atomic import write_json, write_text  # noqa: E402
from core.pipeline.config import parse_seeds  # noqa: E402
from core.errors import InputFileError, WordbridgeError  # noqa: E402
from core.pipeline.report import aggregate, results_markdown  # noqa: E402


def parse_source(arg: str) -> tuple[Path, set[int] | None]:
    """`RUN/metrics.json` (every seed) or `RUN/metrics.json@1,2` (only seeds 1 and 2)."""
    path, _, seeds = arg.partition("@")
    if not seeds:
        return Path(path), None
    try:
        chosen = set(parse_seeds(seeds))
    except ValueError:
        chosen = set()
    if not chosen:
        raise WordbridgeError(f"{arg!r}: seeds after @ must be comma-separated integers")
    return Path(path), chosen


def _read_metrics(path: Path) -> dict:
    """A run's metrics.json, or an InputFileError naming the file and what is wrong with it."""
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputFileError(path, f"cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(path, f"not a metrics.json ({exc})") from None
    missing = [k for k in ("config_file", "date", "config", "evaluations") if not isinstance(metrics, dict) or k not in metrics]
    if missing:
        raise InputFileError(path, f"not a run's metrics.json (missing {', '.join(missing)})")
    return metrics


def merge(sources_in: list[tuple[Path, set[int] | None]], name: str) -> dict:
    """One metrics dict from several: evaluations concatenated (a stage seen twice is an error)."""
    evals, seen, sources = [], set(), []
    for path, take in sources_in:
        metrics = _read_metrics(path)
        sources.append({"run": str(path.parent), "config_file": metrics["config_file"], "date": metrics["date"],
                        "seeds": metrics["config"]["seeds"], "learner_seeds": metrics["config"].get("learner_seeds", {}),
                        "seeds_taken": sorted(take) if take is not None else metrics["config"]["seeds"]})
        for e in metrics["evaluations"]:
            if take is not None and e["seed"] not in take:
                continue
            key = (e["learner"], e["configuration"], e["text"], e["seed"])
            if key in seen:
                raise WordbridgeError(f"{key} appears in two runs; merge runs with disjoint seeds")
            seen.add(key)
            evals.append({**e, "run": str(path.parent)})
    seeds = sorted({e["seed"] for e in evals})
    return {"experiment": name, "config_file": " + ".join(dict.fromkeys(s["config_file"] for s in sources)),
            "config": {"seeds": seeds}, "sources": sources, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "synthetic_speech": True, "evaluations": evals, "summary": aggregate(evals)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("metrics", nargs="+", help="metrics.json files of the runs to merge; FILE@1,2 takes only seeds 1 and 2")
    p.add_argument("--name", required=True, help="experiment name for the merged table")
    p.add_argument("--out", required=True, type=Path, help="folder for the merged metrics.json and results.md")
    args = p.parse_args()
    try:
        merged = merge([parse_source(a) for a in args.metrics], args.name)
    except WordbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "metrics.json", merged)
    write_text(args.out / "results.md", results_markdown(merged))
    print(f"{len(merged['evaluations'])} evaluations from {len(args.metrics)} runs → {args.out}")


if __name__ == "__main__":
    main()
