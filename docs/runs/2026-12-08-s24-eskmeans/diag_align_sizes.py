"""Does aligning fewer speech types, or onto fewer text words, avoid the wrong optima?  (session 24)

For a finished run: the experiments' unsupervised aligner (selflearn + GW starts) on the N most frequent
speech types (SIDE = types; all text words) or from all the types onto the N most frequent English words
(SIDE = words: a frequency prior in its crudest form), N from the command line; then diag_groups.py's 20,000
held-out test segments classified through that map against the whole English space (CSLS), beside the
criterion it kept. Labels only score.

    PYTHONPATH=. python3 diag_align_sizes.py RUN_OUT_DIR OUT.json types|words N1,N2,...
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
    out_dir, out_json, side = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    sizes = [int(n) for n in sys.argv[4].split(",")]
    seen = dc.run_diag_groups(out_dir, out_json.with_suffix(".groups.json"))
    result = {}
    for n in sizes:
        src, tgt = (seen["src"].subset(n), seen["tgt"]) if side == "types" else (seen["src"], seen["tgt"].subset(n))
        fit = align(src, tgt, AlignConfig(method="selflearn", gw_start=True))
        top = ev.retrieve(fit.mapping, seen["queries"], seen["src"], seen["tgt"], 1, 10)
        result[f"top {n} {side}"] = {"criterion": float(fit.criterion),
                                     **ev.classification_scores(top, seen["truth"], seen["tgt"])}
        print(n, result[f"top {n} {side}"], flush=True)
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
