"""Pseudo-word groups for the encoder's pair round, taken from the voices' shared space (issue 18,
session 19). SYNTHETIC speech; word labels only score the groups, never choose them.

Session 18 normalised every voice into one shared space (normalised_types.py --save) and joined a
K-means of it by average linkage. Here those types become training groups: a segment keeps its type
only if it lies in the inner share of its type (cosine to the type's mean, per type) and the type
spans at least two training voices. Held-out voices never get a group. Writes groups.npz (int16 per
segment, -1 outside a group) for run_with_groups.py on the GPU, and prints what the groups are worth
against the labels (coverage, purity, cross-voice group-mate precision: the share of group-mate pairs
from different voices that are the same word).

KMEANS.npz: a K-means of E's training rows (cent, a); made (K 5,000) when the file does not exist yet.

    PYTHONPATH=. .venv/bin/python $R/make_groups.py PACK E.npy KMEANS.npz --cut 2000 --inner 0.5 --out G.npz --json G.json
"""
import argparse, json, os, sys
import numpy as np
from scipy import sparse
sys.path.insert(0, "scripts")
from b_pack import agglomerate_centroids, load_pack, log
from core.speech.clustering import kmeans


def cross_voice_precision(group, word, voice):
    """Share of same-word pairs among group-mate pairs from different voices (rows with group >= 0)."""
    ok = group >= 0
    g, w, v = group[ok], np.unique(word[ok], return_inverse=True)[1], voice[ok]
    def pairs(*keys):   # sum over cells of count^2, cells = unique key tuples
        _, c = np.unique(np.stack(keys), axis=1, return_counts=True)
        return float((c.astype(np.float64) ** 2).sum())
    same_word = pairs(g, w) - pairs(g, w, v)    # same group, same word, different voice
    all_pairs = pairs(g) - pairs(g, v)          # same group, different voice
    return same_word / all_pairs if all_pairs else float("nan")


ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("emb"); ap.add_argument("kmeans")
ap.add_argument("--cut", type=int, nargs="+", default=[2000])
ap.add_argument("--inner", type=float, nargs="+", default=[0.5], help="share of each type kept, nearest its mean")
ap.add_argument("--out", help="write groups.npz for the first (cut, inner)")
ap.add_argument("--json")
args = ap.parse_args()
P = load_pack(args.pack); E = np.load(args.emb).astype(np.float32)
E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-8)
if os.path.exists(args.kmeans):
    z = np.load(args.kmeans); cent, a = z["cent"], z["a"]
else:   # K 5,000 as session 18's cached one (shared_space_frontier.py --kcache), 25 iterations, seed 0
    cent, a = kmeans(E[P.train], 5000, 25, 0, "torch"); cent, a = np.asarray(cent), np.asarray(a)
    np.savez(args.kmeans, cent=cent, a=a)
joined = agglomerate_centroids(cent, args.cut)
tr, spk, words = P.train, P.speaker[P.train], P.labels[P.train]
rows = []
for cut in args.cut:
    t = joined[cut][a]
    m = int(t.max()) + 1
    assert m < 2 ** 15, "groups are written as int16"
    mean = np.zeros((m, E.shape[1])); np.add.at(mean, t, E[tr]); mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    cos = (E[tr] * mean[t]).sum(1)
    n_voices = np.asarray((sparse.coo_matrix((np.ones(len(t)), (t, spk))).tocsr() > 0).sum(1)).ravel()
    for inner in args.inner:
        keep = n_voices[t] >= 2
        if inner < 1:   # per type: the cosine at the type's (1 - inner) quantile
            order = np.lexsort((-cos, t)); rank = np.empty(len(t)); start = np.searchsorted(t[order], np.arange(m))
            size = np.bincount(t, minlength=m)
            rank[order] = np.arange(len(t)) - start[t[order]]
            keep &= rank < np.ceil(inner * size[t])
        g = np.where(keep, t, -1)
        rec = {"cut": cut, "inner": inner, "groups": int(len(np.unique(g[g >= 0]))),
               "grouped_segments": int(keep.sum()), "coverage": round(float(keep.mean()), 4),
               "purity": round(float(sum(np.unique(words[keep & (t == x)], return_counts=True)[1].max()
                                         for x in np.unique(g[g >= 0])) / keep.sum()), 4),
               "cross_voice_precision": round(cross_voice_precision(g, words, spk), 4)}
        log(rec); rows.append(rec)
        if args.out and len(rows) == 1:
            full = np.full(len(P.labels), -1, np.int16); full[tr] = g   # < 32,768 groups
            # speakers travel too, so the GPU run can check its segments are in the pack's order
            np.savez_compressed(args.out, group=full, speaker=P.speaker.astype(np.int16), speakers=P.speakers)
if args.json:
    json.dump({"pack": args.pack, "emb": args.emb, "kmeans": args.kmeans, "rows": rows}, open(args.json, "w"), indent=2)
