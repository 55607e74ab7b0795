"""How long "Refine with my pairs" takes on the bundled demo (resources/demo), on this CPU.

Copies the demo to a temporary folder (the shipped project is never written), confirms the
speech → English pairs the demo's own map induces for its N most frequent speech types, and times
`core.refine_pairs.refine_with_pairs` (two semi-supervised alignments, the better one kept) R times,
each on a fresh copy. Prints the median and every run as JSON.

    .venv/bin/python scripts/bench_refine.py [--pairs 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    from core.classify import ClipClassifier
    from core.project.project import Project
    from core.refine_pairs import refine_with_pairs

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--project", default=str(ROOT / "resources" / "demo"), help="project to copy (default: the demo)")
    p.add_argument("--pairs", type=int, default=10, help="confirmed pairs (default 10)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs, each on a fresh copy (default 3)")
    args = p.parse_args(argv)
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            project = Project.open(shutil.copytree(args.project, Path(tmp) / "project"))
            classifier = ClipClassifier.load(project)
            text_id = classifier.primary_text()
            language = classifier.texts[text_id].entry.language
            for pair in classifier.induce_pairs(text_id, args.pairs):
                project.confirm_pair(pair.speech_type, pair.text_word, language)
            t0 = time.perf_counter()
            result = refine_with_pairs(project)
            runs.append({"seconds": round(time.perf_counter() - t0, 2), "start_kept": result.start,
                         "criterion_before": round(result.criterion_before, 4),
                         "criterion_after": round(result.criterion_after, 4)})
    print(json.dumps({"command": "python scripts/bench_refine.py " + " ".join(argv or sys.argv[1:]),
                      "project": args.project, "pairs": args.pairs,
                      "median_seconds": statistics.median(r["seconds"] for r in runs), "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
