import sys, json, time, hashlib
import numpy as np
from collections import defaultdict
D = "/work/main/runs/s11-ranking"
Z = np.load(f"{D}/enc.npz"); N = json.load(open(f"{D}/names.json"))
tab = {s: json.load(open(f"{D}/{s}_table.json")) for s in ("train", "dev")}
topw = np.load(f"{D}/topw.npy"); topw_s = np.load(f"{D}/topw_s.npy")
types, twords = N["types"], N["twords"]; tindex = {t: i for i, t in enumerate(types)}
V = len(types)
def unit(x): return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
enc = {s: unit(Z[s]).astype(np.float32) for s in ("train", "dev")}
lab = np.array([tindex[l] for l in tab["train"]["label"]])
spk = np.array(tab["train"]["speaker"])
cal_utt = np.array([int(hashlib.md5(u.encode()).hexdigest(), 16) % 10 == 0 for u in tab["train"]["utterance"]])
fit = ~cal_utt
print("cal segments", cal_utt.sum(), "fit", fit.sum())

def centroids(rows):
    S = np.zeros((V, enc["train"].shape[1])); np.add.at(S, lab[rows], enc["train"][rows]); return unit(S).astype(np.float32)
def speaker_protos(rows):
    out = []
    for s in sorted(set(spk)):
        out.append(centroids(rows & (spk == s)))
    return out
def kmeans_protos(rows, k, iters=10, seed=0):
    """k sub-centroids per type (types with >= 2k members); other types: none (zero rows)."""
    rng = np.random.default_rng(seed); X = enc["train"]
    P = np.zeros((k, V, X.shape[1]), np.float32)
    members = defaultdict(list)
    for i in np.flatnonzero(rows): members[lab[i]].append(i)
    for t, m in members.items():
        if len(m) < 2 * k: continue
        x = X[m]; c = x[rng.choice(len(m), k, replace=False)]
        for _ in range(iters):
            a = (x @ c.T).argmax(1)
            c = unit(np.stack([x[a == j].mean(0) if (a == j).any() else c[j] for j in range(k)]))
        P[:, t] = c
    return list(P)
def type_sims(E, protos):
    s = E @ protos[0].T
    for p in protos[1:]: np.maximum(s, E @ p.T, out=s)
    return s
def knn_sims(E, rows, chunk=512):
    """per type: the max cosine over its (fit) segments = 1-NN per type"""
    X = enc["train"][rows]; L = lab[rows]
    out = np.full((len(E), V), -1.0, np.float32)
    order = np.argsort(L); X = X[order]; L = L[order]
    starts = np.flatnonzero(np.r_[True, L[1:] != L[:-1]])
    for a in range(0, len(E), chunk):
        s = E[a:a + chunk] @ X.T
        out[a:a + chunk, L[starts]] = np.maximum.reduceat(s, starts, axis=1)
    return out

def rank_merge(S, truth, M=3, k=10):
    h1 = h10 = 0
    near = np.argsort(-S, 1)[:, :M]
    for i in range(len(S)):
        merged, seen = [], set()
        for r in range(k):
            for t in near[i]:
                w = topw[t, r]
                if w not in seen: seen.add(w); merged.append(w)
        merged = [twords[w] for w in merged[:k]]
        h1 += merged[0] == truth[i]; h10 += truth[i] in merged
    return h1 / len(S), h10 / len(S)

def rank_score(S, truth, M=10, W=10, alpha=1.0, k=10, tau=None):
    """word score = max over the M nearest types of alpha*type_sim + csls(type, word) (W words per type)"""
    h1 = h10 = 0
    near = np.argsort(-S, 1)[:, :M]
    for i in range(len(S)):
        best = {}
        for t in near[i]:
            ts = alpha * S[i, t]
            for w, ws in zip(topw[t, :W], topw_s[t, :W]):
                v = ts + ws
                if v > best.get(w, -9): best[w] = v
        ranked = sorted(best, key=lambda w: -best[w])[:k]
        ranked = [twords[w] for w in ranked]
        h1 += ranked[0] == truth[i]; h10 += truth[i] in ranked
    return h1 / len(S), h10 / len(S)

def type_acc(S, labels_true, M=(1, 3, 10)):
    order = np.argsort(-S, 1)[:, :max(M)]
    return {m: float(np.mean([(l in order[i, :m]) for i, l in enumerate(labels_true)])) for m in M}
