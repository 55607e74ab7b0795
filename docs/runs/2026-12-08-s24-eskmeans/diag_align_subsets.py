"""Does the unsupervised map find the labelled one when only the most frequent types are aligned?  (session 24)

For a finished run: the experiments' unsupervised aligner (selflearn + GW starts) on the N most frequent
speech types only (N from the command line), then the held-out classification (CSLS) of diag_groups.py's
20,000 test segments through that map, beside the criterion it kept. Labels only score.

    PYTHONPATH=. python3 diag_align_subsets.py RUN_OUT_DIR OUT.json N1,N2,...
"""
import importlib.util
import json
import sys
from pathlib import Path

from core.alignment import AlignConfig, align
from core.pipeline import speech_eval as ev

spec = importlib.util.spec_from_file_location("diag_criterion", Path(__file__).with_name("diag_criterion.py"))
dc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dc)


def main():
    out_dir, out_json, sizes = Path(sys.argv[1]), Path(sys.argv[2]), [int(n) for n in sys.argv[3].split(",")]
    seen = dc.run_diag_groups(out_dir, out_json.with_suffix(".groups.json"))
    result = {}
    for n in sizes:
        fit = align(seen["src"].subset(n), seen["tgt"], AlignConfig(method="selflearn", gw_start=True))
        top = ev.retrieve(fit.mapping, seen["queries"], seen["src"], seen["tgt"], 1, 10)
        result[f"top {n} types"] = {"criterion": float(fit.criterion),
                                    **ev.classification_scores(top, seen["truth"], seen["tgt"])}
        print(n, result[f"top {n} types"], flush=True)
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
