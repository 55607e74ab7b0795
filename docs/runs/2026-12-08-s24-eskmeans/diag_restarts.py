"""Did any of the aligner's restarts find the map, or did none?  (session 24; labels score only)

For a finished run: the experiments' unsupervised aligner (selflearn + GW starts, the run's [align]) run
again on the run's speech types and English text space, keeping every restart's refined W (not only the
one with the best criterion); each scored on diag_groups.py's 20,000 held-out test segments (CSLS).

    PYTHONPATH=. python3 diag_restarts.py RUN_OUT_DIR OUT.json
"""
import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from core.alignment import AlignConfig, align, procrustes
from core.pipeline import speech_eval as ev

spec = importlib.util.spec_from_file_location("diag_criterion", Path(__file__).with_name("diag_criterion.py"))
dc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dc)


def main():
    out_dir, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    seen = dc.run_diag_groups(out_dir, out_json.with_suffix(".groups.json"))
    kept = []
    real_refine = procrustes.refine

    def keep_refine(x, y, w, cfg, log, *a, **kw):
        out = real_refine(x, y, w, cfg, log, *a, **kw)
        kept.append((out[0].detach().clone(), float(out[1])))
        return out

    procrustes.refine = keep_refine
    try:
        res = align(seen["src"], seen["tgt"], AlignConfig(method="selflearn", gw_start=True))
    finally:
        procrustes.refine = real_refine
    rows = []
    for k, (w, crit) in enumerate(kept):
        mapping = dataclasses.replace(res.mapping, W=w.cpu().numpy().astype(np.float32))
        top = ev.retrieve(mapping, seen["queries"], seen["src"], seen["tgt"], 1, 10)
        rows.append({"restart": k + 1, "start": res.restarts[k]["start"], "criterion": crit,
                     **ev.classification_scores(top, seen["truth"], seen["tgt"])})
        print(rows[-1], flush=True)
    out_json.write_text(json.dumps({"kept_criterion": float(res.criterion), "restarts": rows}, indent=1))


if __name__ == "__main__":
    main()
