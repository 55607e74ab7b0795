"""Means over skip-gram seeds of b_label_free_*.json → b_label_free_summary.json (issue 18, session 21):
"gpu" / "cpu" = the GW entropies (0.005, 0.01) and warm-started Sinkhorn, "*_eps0.01" = the first runs
with one entropy, 0.01 (commit 77d894d's core code).

    python3 $R/summarise.py   (from the repository root)
"""
import json, os
import numpy as np

R = os.path.dirname(os.path.abspath(__file__))
out = {}
for pack, suffix in (("gpu", ""), ("cpu", ""), ("gpu_eps0.01", "_eps0.01"), ("cpu_eps0.01", "_eps0.01")):
    name = f"{R}/b_label_free_{pack.split('_')[0]}_groups{suffix}.json"
    if not os.path.exists(name):
        continue
    d = json.load(open(name))
    runs = d["runs"]
    get = lambda key, field: [r[key][field] for r in runs]
    row = {"seeds": [r["sg_seed"] for r in runs], "joined_types": d["joined_types"], "text_en_to_fr_p1": d["text_en_to_fr"]["p@1"]}
    for name, key, field in (("classification_gw", "selflearn_gw_start", "classification"),
                             ("classification_selflearn_only", "selflearn", "classification"),
                             ("fr_p1_pivot", "translation_fr_pivot", "p@1"), ("fr_p5_pivot", "translation_fr_pivot", "p@5"),
                             ("fr_p1_direct", "translation_fr_gw_start", "p@1")):
        if not all(key in r for r in runs):  # --only-gw runs skip what does not depend on the GW start
            continue
        v = get(key, field)
        row[name] = {"mean": float(np.mean(v)), "std": float(np.std(v)), "values": v}
    out[pack] = row
json.dump(out, open(f"{R}/b_label_free_summary.json", "w"), indent=2)
print(json.dumps({p: {k: round(v["mean"] * 100, 2) for k, v in r.items() if isinstance(v, dict) and "mean" in v} for p, r in out.items()}))
