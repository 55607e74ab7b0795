#!/usr/bin/env python
"""Re-rank the dev segments of a finished Mboshi end-to-end project with calibrated type exemplars,
without training anything again (the evaluate part of scripts/mboshi_end_to_end.py).

  1. dev segments → written words as the project stands (the baseline, the app's clip path);
  2. calibrate_type_ranking (scripts/mboshi_end_to_end.py → core.speech.exemplars.calibrate):
     centroids or exemplars, and how many nearest types are merged, chosen on 10 % of the TRAIN
     utterances held out from exemplars and centroids; the choice is stored in the project's encoder;
  3. dev segments again, once, with the stored choice.

The type → written word map is not touched, so the lexicon P@1 figures of the project's run stay
as they were. The project is changed in place (its encoder gains the exemplars): pass a copy.

Usage: .venv/bin/python scripts/mboshi_ranking.py --project runs/mboshi-s11/project --out runs/mboshi-s11
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main(argv=None) -> int:
    import mboshi_end_to_end as e2e

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--project", required=True, help="a project made by scripts/mboshi_end_to_end.py (changed in place)")
    p.add_argument("--out", required=True, help="folder for metrics.json")
    p.add_argument("--source", default=str(e2e.default_source()), help="the Mboshi corpus folder")
    p.add_argument("--max-dev", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    from core.corpus.feature_store import FeatureStore
    from core.corpus.project_corpora import corpus_folder
    from core.project.project import Project

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    project = Project.open(args.project)
    utts = e2e.read_corpus_tables(Path(args.source))
    train = FeatureStore.open(corpus_folder(project, "mboshi-train"))
    dev = FeatureStore.open(corpus_folder(project, "mboshi-dev"))
    train_counts = Counter(w for v in utts.values() if v[0] == "train" for w in v[1])
    steps = e2e.Steps(out / "timings.json")
    metrics: dict = {"machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                                 "platform": platform.platform(), "python": platform.python_version()},
                     "project": str(args.project)}
    metrics["dev_before"] = steps.run("dev segments (as the project stood)", e2e.dev_segment_scores, project, dev,
                                      utts, train_counts, args.max_dev, args.seed)
    metrics["type_ranking"] = steps.run("type exemplars (calibrated on train)", e2e.calibrate_type_ranking,
                                        project, train, utts)
    print(json.dumps(metrics["type_ranking"], indent=1), flush=True)
    metrics["dev"] = steps.run("dev segments (calibrated ranking)", e2e.dev_segment_scores, project, dev, utts,
                               train_counts, args.max_dev, args.seed)
    metrics.update({"mboshi.dev.word_top1": metrics["dev"]["top1"], "mboshi.dev.word_top10": metrics["dev"]["top10"],
                    "mboshi.dev.most_frequent_top1": metrics["dev"]["most_frequent_top1"],
                    "mboshi.dev.most_frequent_top10": metrics["dev"]["most_frequent_top10"],
                    "units": "fractions in [0, 1]", "timings_s": steps.seconds,
                    "command": "scripts/mboshi_ranking.py " + " ".join(sys.argv[1:] if argv is None else argv),
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in metrics.items() if k.startswith("mboshi.")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
