"""How well each pair of training voices links (issue 18, session 17). SYNTHETIC speech.
For voices a ≠ b: the count-weighted share of a's clusters (scripts/b_pack.cluster_each_voice,
kmult 20) whose most similar cluster of voice b has the same majority word (labels score only), and
the label-free mean of that top cosine — whether a linker could tell good voice pairs from bad.

    PYTHONPATH=. .venv/bin/python $D/voice_pairs.py /tmp/s15p500 /tmp/s17_vc20.npz $D/voice_pairs.json
"""
import json, sys
import numpy as np
sys.path.insert(0, "scripts")
from b_pack import cluster_each_voice, load_pack, majority_word, voice_pair_blocks

pack_dir, cache, out = sys.argv[1:4]
P = load_pack(pack_dir); vc = cluster_each_voice(P, 20.0, cache)
maj = majority_word(P.labels, vc.local, P.train); cmaj = np.array([maj.get(c, "") for c in range(len(vc.size))], dtype=object)
voices = P.train_speakers; V = len(voices)
prec, top = np.full((V, V), np.nan), np.full((V, V), np.nan)
pos = {v: i for i, v in enumerate(voices)}
for a, b, ia, ib, S in voice_pair_blocks(vc):
    i, j = pos[a], pos[b]; w = vc.size[ia]; prec[i, j] = (w * (cmaj[ia] == cmaj[ib[S.argmax(1)]])).sum() / w.sum(); top[i, j] = S.max(1).mean()
off = ~np.isnan(prec)
res = {"voices": [str(P.speakers[v]) for v in voices], "precision": np.round(prec, 3).tolist(),
       "mean_top_cosine": np.round(top, 3).tolist(), "precision_min": float(prec[off].min()),
       "precision_max": float(prec[off].max()), "precision_mean": float(prec[off].mean()),
       "voice_mean_precision": np.round(np.nanmean(prec, 1), 3).tolist(),
       "best_partner_precision": np.round(np.nanmax(prec, 1), 3).tolist(),
       "corr_top_cosine_precision": float(np.corrcoef(top[off], prec[off])[0, 1])}
json.dump(res, open(out, "w"), indent=1)
print({k: v for k, v in res.items() if not isinstance(v, list)})
