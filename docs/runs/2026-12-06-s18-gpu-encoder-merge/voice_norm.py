"""Do per-voice normalisations of the cluster space raise cross-voice link precision? (issue 18,
session 18; diagnostics on training voices only). SYNTHETIC speech. Speaker ids are metadata; word
labels only score.

For every ordered pair of training voices (a, b): the count-weighted share of a's clusters
(scripts/b_pack.cluster_each_voice, kmult 20) whose most similar cluster of b holds the same majority
word — as voice_pairs.py (session 17), but after a label-free transform of each voice's centroids:
  none      - the clusters as they are;
  center    - minus the voice's count-weighted mean centroid, back to unit length;
  whiten    - centred, then ZCA-whitened with the voice's count-weighted covariance (CORAL-like:
              every voice gets the same second moments);
  procrustes- whitened, then each voice b rotated onto voice a by orthogonal Procrustes on their
              mutual nearest clusters, ROUNDS refinements (as the paper refines its map, here voice
              to voice);
  gpa       - whitened, then generalised Procrustes: every voice rotated onto the count-weighted mean of
              its mutual nearest partners in all other voices, ROUNDS rounds (one shared space).

    PYTHONPATH=. .venv/bin/python $R/voice_norm.py PACK CACHE.npz OUT.json [--rounds 5]
"""
import argparse, json, sys
import numpy as np
sys.path.insert(0, "scripts")
from b_pack import cluster_each_voice, load_pack, log, majority_word, mutual_nearest as mutual, procrustes

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("cache"); ap.add_argument("out")
ap.add_argument("--rounds", type=int, default=5)
ap.add_argument("--methods", nargs="+", default=["none", "center", "whiten", "procrustes", "gpa"])
args = ap.parse_args()

P = load_pack(args.pack); vc = cluster_each_voice(P, 20.0, args.cache)
maj = majority_word(P.labels, vc.local, P.train)
cmaj = np.array([maj.get(c, "") for c in range(len(vc.size))], dtype=object)
voices = sorted(set(vc.speaker.tolist())); V = len(voices)
idx = {v: np.flatnonzero(vc.speaker == v) for v in voices}
unit = lambda X: X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-9)


def centred(v):
    X, w = vc.centroids[idx[v]].astype(np.float64), vc.size[idx[v]].astype(np.float64)
    return X - (w[:, None] * X).sum(0) / w.sum(), w


def whitened(v):
    X, w = centred(v)
    C = (w[:, None] * X).T @ X / w.sum()
    e, U = np.linalg.eigh(C)
    return unit(X @ U @ np.diag(1 / np.sqrt(np.maximum(e, 1e-6 * e.max()))) @ U.T)


def precision(space, pair_map=None):
    prec = np.full((V, V), np.nan)
    for i, a in enumerate(voices):
        for j, b in enumerate(voices):
            if a == b:
                continue
            A, B = space[a], space[b]
            if pair_map is not None:
                B = B @ pair_map(a, b)
            w = vc.size[idx[a]]; nn = (A @ B.T).argmax(1)
            prec[i, j] = (w * (cmaj[idx[a]] == cmaj[idx[b]][nn])).sum() / w.sum()
    off = ~np.isnan(prec)
    return {"precision_mean": round(float(prec[off].mean()), 4), "precision_min": round(float(prec[off].min()), 4),
            "precision_max": round(float(prec[off].max()), 4),
            "share_pairs_ge_0.85": round(float((prec[off] >= 0.85).mean()), 4),
            "voice_mean_precision": np.round(np.nanmean(prec, 1), 3).tolist()}


res = {}
base = {v: vc.centroids[idx[v]].astype(np.float64) for v in voices}
for m in args.methods:
    if m == "none":
        res[m] = precision(base)
    elif m == "center":
        res[m] = precision({v: unit(centred(v)[0]) for v in voices})
    elif m == "whiten":
        res[m] = precision({v: whitened(v) for v in voices})
    elif m == "procrustes":
        W = {v: whitened(v) for v in voices}
        cache = {}

        def pair_map(a, b):
            if (a, b) not in cache:
                R = np.eye(W[a].shape[1])
                for _ in range(args.rounds):
                    i, j = mutual(W[a], W[b] @ R)
                    R = procrustes(W[a][i], W[b][j])
                cache[(a, b)] = R
            return cache[(a, b)]
        res[m] = precision(W, pair_map)
    elif m == "gpa":
        W = {v: whitened(v) for v in voices}
        R = {v: np.eye(W[v].shape[1]) for v in voices}
        for _ in range(args.rounds):
            cur = {v: W[v] @ R[v] for v in voices}
            for a in voices:
                # target: for each of a's clusters the mean of its mutual partners in other voices
                T, n = np.zeros_like(cur[a]), np.zeros(len(cur[a]))
                for b in voices:
                    if b != a:
                        i, j = mutual(cur[a], cur[b]); T[i] += cur[b][j]; n[i] += 1
                k = n > 0
                R[a] = procrustes(T[k] / n[k, None], W[a][k])
        res[m] = precision({v: unit(W[v] @ R[v]) for v in voices})
    log(f"{m}: {({k: x for k, x in res[m].items() if not isinstance(x, list)})}")
json.dump(res, open(args.out, "w"), indent=1)
