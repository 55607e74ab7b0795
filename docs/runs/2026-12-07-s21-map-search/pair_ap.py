"""Same-word type pairs among the 1,000 most frequent own types of a B pack: average precision of
each similarity (encoder centroids, shared-space centroids, raw and voice-regressed skip-gram vectors, and
the mean of an acoustic and the voice-regressed cosine). Issue 18, session 21; SYNTHETIC; labels only score.

    PYTHONPATH=. .venv/bin/python $R/pair_ap.py PACK SHARED_E.npy
"""
import sys, numpy as np, torch
sys.path.insert(0, "scripts"); sys.argv = sys.argv
from b_pack import load_pack, s13_tools
from sklearn.metrics import average_precision_score
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(sys.argv[1]); Eshared = np.load(sys.argv[2]).astype(np.float32)
types = P.global_type; n = int(types.max()) + 1
space, rank = bvg.skipgram_space(types, n, P.train, P.utt, P.speech_config)
tr = P.train[types[P.train] >= 0]; row = rank[types[tr]]
def centroids(E):
    c = np.zeros((n, E.shape[1])); np.add.at(c, row, E[tr]); return c / (np.linalg.norm(c, axis=1, keepdims=True) + 1e-9)
voices = P.train_speakers; vidx = {s: i for i, s in enumerate(voices)}
share = np.zeros((n, len(voices))); np.add.at(share, (row, np.array([vidx[s] for s in P.speaker[tr]])), 1.0)
share /= np.maximum(share.sum(1, keepdims=True), 1)
X = np.hstack([share, np.ones((n, 1))]); v = space.vectors.astype(float)
coef, *_ = np.linalg.lstsq(X, v, rcond=None); r = v - X @ coef
unit = lambda a: a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-9)
maj = bvg.majority(P.labels, types, tr); inv = {int(rank[t]): w for t, w in maj.items()}
words = np.array([inv.get(i, "?") for i in range(n)], dtype=object)
iu = np.triu_indices(1000, 1)
same = (words[:1000][:, None] == words[:1000][None, :])[iu]
print("pairs", len(same), "same share", same.mean())
S = {"acoustic_enc": centroids(P.emb), "acoustic_shared": centroids(Eshared), "sg_raw": unit(v), "sg_voice": unit(r)}
for k, m in S.items():
    s = (m[:1000] @ m[:1000].T)[iu]; print(k, "AP %.3f" % average_precision_score(same, s))
for a in ("acoustic_enc", "acoustic_shared"):
    for w in (0.3, 0.5, 0.7):
        s = w * (S[a][:1000] @ S[a][:1000].T)[iu] + (1 - w) * (S["sg_voice"][:1000] @ S["sg_voice"][:1000].T)[iu]
        print(a, "+ sg_voice w", w, "AP %.3f" % average_precision_score(same, s))
