"""Would word frequency tell the right map from the wrong one?  (session 24; labels score only)

For a finished run: the map its evaluation kept (unsupervised) and the map fitted WITH labels (as
diag_groups.py), each translating the run's 1,000 speech types to their CSLS-nearest English word; per map,
the Spearman correlation between a type's count and its word's count, and the median frequency rank of the
words reached. A map that sends frequent sounds to rare words would be visible without labels.

    PYTHONPATH=. python3 diag_frequency.py RUN_OUT_DIR OUT.json
"""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from core.alignment import AlignConfig, align
from core.alignment.mapping import Mapping
from core.retrieval import translate

spec = importlib.util.spec_from_file_location("diag_criterion", Path(__file__).with_name("diag_criterion.py"))
dc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dc)


def frequency_agreement(mapping, src, tgt) -> dict:
    """Spearman(type count, its word's count) over the types' CSLS top-1 words, and the words' median rank."""
    top = translate(mapping.map_source(src.vectors), mapping.map_target(tgt.vectors), 1, "csls", 10)
    rows = np.asarray(top[1] if isinstance(top, tuple) else top["indices"])[:, 0]
    rho = spearmanr(np.asarray(src.counts, float), np.asarray(tgt.counts, float)[rows]).statistic
    return {"spearman_counts": float(rho), "median_word_rank": float(np.median(rows)),
            "distinct_words": int(len(set(rows.tolist())))}


def main():
    out_dir, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    seen = dc.run_diag_groups(out_dir, out_json.with_suffix(".groups.json"))
    src, tgt = seen["src"], seen["tgt"]
    evaluation = next(e for e in json.loads((out_dir / "metrics.json").read_text())["evaluations"]
                      if e["text"] == "en_same")
    kept = Mapping.load(out_dir / "stages" / evaluation["stage"] / "mapping.safetensors")
    labelled = align(src, tgt, AlignConfig(method="supervised"), seed_pairs=seen["pairs"]).mapping
    result = {"kept (unsupervised)": frequency_agreement(kept, src, tgt),
              "labelled": frequency_agreement(labelled, src, tgt)}
    print(json.dumps(result, indent=1))
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
