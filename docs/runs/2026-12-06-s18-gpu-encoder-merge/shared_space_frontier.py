"""Purity against completeness of k-means types in the voices' shared space, and of those types joined
by average-linkage agglomeration (issue 18, session 18). SYNTHETIC speech; word labels only score.

Input: a pack and its shared-space embeddings (normalised_types.py --save). For each K: one k-means
over the training segments (25 iterations, seed 0), then the centroids are joined by average linkage
on cosine and cut at each requested number of types. Held-out segments take their nearest k-means
centroid's (joined) type. --classify N1 N2 …: classify those (K, N) points as B does (skip-gram,
selflearn, CSLS), written K:N.

    PYTHONPATH=. .venv/bin/python $R/shared_space_frontier.py PACK E.npy TEXT.vec --k 2000 5000 \
        --cut 5000 3000 2000 1500 1000 --classify 2000:1000 --json OUT.json
"""
import argparse, json, os, sys, time
import numpy as np, torch
from scipy.cluster.hierarchy import fcluster, linkage
sys.path.insert(0, "scripts")
from b_pack import load_pack, log, s13_tools, type_measures
from core.speech.clustering import kmeans, nearest_centroid
from core.vectors import load_vectors

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("emb"); ap.add_argument("text")
ap.add_argument("--k", type=int, nargs="+", default=[2000])
ap.add_argument("--cut", type=int, nargs="+", default=[1500, 1000, 750, 500])
ap.add_argument("--classify", nargs="*", default=[])
ap.add_argument("--json")
ap.add_argument("--linkage", nargs="+", default=["average"], help="scipy linkage methods (ward: Euclidean on unit centroids)")
ap.add_argument("--kcache", help="folder: k-means of each K cached here as kmeans_K.npz")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); E = np.load(args.emb).astype(np.float32); text = load_vectors(args.text)
want = {tuple(map(int, s.split(":"))) for s in args.classify}


out = {"pack": args.pack, "emb": args.emb, "runs": []}
for K in args.k:
    path = f"{args.kcache}/kmeans_{K}.npz" if args.kcache else None
    if path and os.path.exists(path):
        z = np.load(path); cent, a = z["cent"], z["a"]
    else:
        cent, a = kmeans(E[P.train], K, 25, 0, "torch"); cent, a = np.asarray(cent), np.asarray(a)
        if path:
            np.savez(path, cent=cent, a=a)
    held = nearest_centroid(E[P.held], cent)
    unit = cent / np.linalg.norm(cent, axis=1, keepdims=True)
    for method in args.linkage:
        Z = linkage(unit, method, metric="euclidean" if method == "ward" else "cosine")
        log(f"K {K}: k-means and {method} linkage done")
        for n in ([K] if method == args.linkage[0] else []) + [c for c in args.cut if c < K]:
            group = np.arange(K) if n == K else fcluster(Z, n, "maxclust") - 1
            group = np.unique(group, return_inverse=True)[1]
            types = np.full(len(P.labels), -1, np.int64); types[P.train] = group[a]; types[P.held] = group[held]
            m = int(group.max()) + 1
            rec = {"k": K, "linkage": method, "types": m, **type_measures(P, types)}
            if (K, n) in want and method == args.linkage[0]:
                rec.update(bvg.classify(types, m, P.train, P.held, P.utt, P.speech_config, text, P.labels))
            log(rec); out["runs"].append(rec)
            if args.json:
                json.dump(out, open(args.json, "w"), indent=2)
log("finished")
