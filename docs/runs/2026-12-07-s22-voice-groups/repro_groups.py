"""Check: product voice_groups on the s15p500 pack (DTW-pairs CPU encoder) vs session 20's groups_cpu.npz."""
import sys, time, json
import numpy as np
sys.path.insert(0, "scripts")
from b_pack import load_pack
from core.speech.voice_space import VoiceGroupSettings, voice_groups
from sklearn.metrics import adjusted_rand_score
t0 = time.time()
P = load_pack("/tmp/s15p500")
spk = P.speakers[P.speaker].astype(str)
n = len(P.labels)
g, summ = voice_groups(P.emb[P.train], P.train, spk, n, VoiceGroupSettings(voice_clusters_total=40000))
print(f"[{time.time()-t0:.0f} s]", summ, flush=True)
old = np.load("build/s19/groups_cpu.npz")["group"].astype(np.int64)
keep = g[P.train] >= 0
w = P.labels[P.train]
pur = sum(np.unique(w[keep & (g[P.train] == x)], return_counts=True)[1].max() for x in np.unique(g[P.train][keep])) / keep.sum()
both = (g >= 0) & (old >= 0)
print(json.dumps({"coverage": float(keep.mean()), "purity": float(pur), "old_grouped": int((old>=0).sum()),
                  "both_grouped": int(both.sum()), "ari_on_both": float(adjusted_rand_score(old[both], g[both]))}), flush=True)
np.save("/tmp/s22/groups_product.npy", g)
