"""Voices adapted to their own types, round after round (issue 18, session 18). SYNTHETIC speech;
speaker ids are metadata, word labels only score.

Start: the shared-space embeddings of normalised_types.py --save (every voice whitened and rotated by
generalised Procrustes on mutual-nearest clusters). Each round: one k-means (K, 25 iterations, seed 0)
over the training segments, average linkage of its centroids cut at CUT types; then every voice (held-out
voices too: their segments take their nearest centroid's type, no labels) is rotated — orthogonal
Procrustes, or with --affine a least-squares linear map — so that its own mean of each type it says
≥ 3 times lands on that type's mean over all training voices, and the rows are re-normalised. If the
types join a word's voice-family clusters, this pulls the families together before the next k-means.
The last round's types are classified as B's (skip-gram, selflearn, CSLS).

    PYTHONPATH=. .venv/bin/python $R/type_adapted_norm.py PACK E.npy TEXT.vec --rounds 3 --json OUT.json
"""
import argparse, json, sys
import numpy as np, torch
from scipy.cluster.hierarchy import fcluster, linkage
sys.path.insert(0, "scripts")
from b_pack import load_pack, log, procrustes, s13_tools, type_measures
from core.speech.clustering import kmeans, nearest_centroid
from core.vectors import load_vectors, unit_rows

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("emb"); ap.add_argument("text")
ap.add_argument("--k", type=int, default=2000); ap.add_argument("--cut", type=int, default=1000)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--affine", action="store_true")
ap.add_argument("--no-classify", action="store_true")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); E = np.load(args.emb).astype(np.float32); text = load_vectors(args.text)
voices = sorted(set(P.speaker[np.concatenate([P.train, P.held])].tolist()))


def typed(E):
    """Segment types (-1 where none): k-means of the training rows, centroids joined by average linkage."""
    cent, a = kmeans(E[P.train], args.k, 25, 0, "torch"); cent = np.asarray(cent)
    group = fcluster(linkage(unit_rows(cent), "average", metric="cosine"), args.cut, "maxclust") - 1
    group = np.unique(group, return_inverse=True)[1]
    types = np.full(len(P.labels), -1, np.int64)
    types[P.train] = group[np.asarray(a)]; types[P.held] = group[nearest_centroid(E[P.held], cent)]
    return types, int(group.max()) + 1


out = {"pack": args.pack, "emb": args.emb, "k": args.k, "cut": args.cut, "affine": args.affine, "runs": []}
for r in range(args.rounds + 1):
    types, n = typed(E)
    rec = {"round": r, "types": n, **type_measures(P, types)}
    if r == args.rounds:
        if not args.no_classify:
            rec.update(bvg.classify(types, n, P.train, P.held, P.utt, P.speech_config, text, P.labels))
    log(rec); out["runs"].append(rec)
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
    if r == args.rounds:
        break
    tr = P.train
    T = np.zeros((n, E.shape[1])); np.add.at(T, types[tr], E[tr]); T /= np.maximum(np.bincount(types[tr], minlength=n), 1)[:, None]
    for v in voices:
        rows = np.flatnonzero((P.speaker == v) & (types >= 0))
        cnt = np.bincount(types[rows], minlength=n); ok = cnt >= 3
        A = np.zeros((n, E.shape[1])); np.add.at(A, types[rows], E[rows]); A = A[ok] / cnt[ok, None]
        if args.affine:
            W = np.linalg.lstsq(A, T[ok], rcond=None)[0]
        else:
            W = procrustes(T[ok], A)
        E[rows] = unit_rows((E[rows] @ W).astype(np.float32))
log("finished")
