"""Configuration B's types after normalising each voice into one shared space (issue 18, session 18).
SYNTHETIC speech. Speaker ids are metadata every recording has; word labels only score.

Every voice (training and held-out alike, each from its own segments only): centred and ZCA-whitened
with its own mean and covariance, then rotated into a space shared by all voices by generalised
Procrustes on its own k-means clusters (scripts/b_pack.cluster_each_voice, kmult 20): each round a
voice's rotation maps its clusters onto the mean of their mutual-nearest partners in every other
training voice. Held-out voices are rotated onto the training voices' space the same way (training
voices fixed), so nothing of a held-out voice but its own audio is used.

Methods (types of the training stream; held-out segments take their nearest type in the shared space):
  global-norm - one k-means (the run's K, 25 iterations, seed 0) over all normalised training
                segments: B's pipeline with the voices normalised first;
  mnn-norm    - session 15's mutual-nearest merge of the voices' normalised clusters.
Classification exactly as B's (skip-gram, selflearn to the text, CSLS; scripts/b_pack.s13_tools).

    PYTHONPATH=. .venv/bin/python $R/normalised_types.py PACK TEXT.vec --cache CACHE.npz --json OUT.json
"""
import argparse, json, sys, time
import numpy as np, torch
sys.path.insert(0, "scripts")
from b_pack import (VoiceClusters, cluster_each_voice, load_pack, log, majority_word, merge_mutual_nearest,
                    partner_mean, procrustes, rotate_onto, s13_tools, type_measures, zca_whitening)
from core.speech.clustering import kmeans, nearest_centroid
from core.vectors import load_vectors, unit_rows

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text")
ap.add_argument("--cache", required=True)
ap.add_argument("--rounds", type=int, default=15)
ap.add_argument("--methods", nargs="+", default=["global-norm", "mnn-norm"])
ap.add_argument("--no-classify", action="store_true")
ap.add_argument("--json")
ap.add_argument("--save", help="write the shared-space embeddings (float16 .npy) here")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); text = load_vectors(args.text)
vc = cluster_each_voice(P, 20.0, args.cache)
K = int(P.speech_config["clusters"])
train_voices = P.train_speakers
held_voices = sorted(set(P.speaker[P.held].tolist()))


t0 = time.time()
white = {}                                       # voice -> (mu, Z)
cl = {}                                          # voice -> whitened unit cluster centroids
for v in train_voices:
    white[v] = zca_whitening(P.emb[P.train[P.speaker[P.train] == v]])
    mu, Z = white[v]; cl[v] = unit_rows(((vc.centroids[vc.speaker == v] - mu) @ Z))
rot = {v: np.eye(P.emb.shape[1]) for v in train_voices}
for r in range(args.rounds):
    cur = {v: cl[v] @ rot[v] for v in train_voices}
    for v in train_voices:
        k, T = partner_mean(cur[v], [cur[u] for u in train_voices if u != v])
        rot[v] = procrustes(T, cl[v][k])
log(f"training voices whitened and rotated ({args.rounds} GPA rounds)")
shared = [cl[v] @ rot[v] for v in train_voices]
for h in held_voices:                            # a held-out voice: its own audio only
    rows = P.held[P.speaker[P.held] == h]
    white[h] = zca_whitening(P.emb[rows]); mu, Z = white[h]
    ks = max(20, int(round(20.0 * K * len(rows) / len(P.train))))
    c, _ = kmeans(P.emb[rows], ks, 25, 0, "torch")
    rot[h] = rotate_onto(unit_rows((unit_rows(np.asarray(c)) - mu) @ Z), shared, args.rounds)
E = np.zeros_like(P.emb)
for v in train_voices + held_voices:
    rows = np.flatnonzero(P.speaker == v); mu, Z = white[v]
    E[rows] = unit_rows(((P.emb[rows] - mu) @ Z @ rot[v]).astype(np.float32))
log(f"all voices in the shared space ({time.time() - t0:.0f} s)")
if args.save:
    np.save(args.save, E.astype(np.float16))


def pair_precision(centroids):
    """Mean over ordered training-voice pairs of the count-weighted nearest-cluster same-word share."""
    cm = majority_word(P.labels, vc.local, P.train); cm = np.array([cm.get(c, "") for c in range(len(vc.size))], dtype=object)
    vals = []
    for a in train_voices:
        ia = np.flatnonzero(vc.speaker == a)
        for b in train_voices:
            if a != b:
                ib = np.flatnonzero(vc.speaker == b); nn = (centroids[ia] @ centroids[ib].T).argmax(1)
                vals.append((vc.size[ia] * (cm[ia] == cm[ib[nn]])).sum() / vc.size[ia].sum())
    return {"pair_precision_mean": float(np.mean(vals)), "pair_precision_min": float(np.min(vals))}


norm_cent = unit_rows(np.concatenate([cl[v] @ rot[v] for v in train_voices]).astype(np.float32))
# norm_cent stacks the voices in train_voices order: vc's rows must be grouped the same way
# (cluster_each_voice appends voice by voice, in sorted order)
assert np.array_equal(vc.speaker, np.concatenate([vc.speaker[vc.speaker == v] for v in train_voices]))
out = {"pack": args.pack, "rounds": args.rounds, "pair_precision_before": pair_precision(vc.centroids),
       "pair_precision_after": pair_precision(norm_cent), "runs": []}
log(f"voice-pair precision {out['pair_precision_before']} -> {out['pair_precision_after']}")
for method in args.methods:
    t1 = time.time()
    if method == "global-norm":
        cent, a = kmeans(E[P.train], K, int(P.speech_config.get("kmeans_iters", 25)), 0, "torch")
        types = np.full(len(P.labels), -1, np.int64); types[P.train] = a
        types[P.held] = nearest_centroid(E[P.held], np.asarray(cent)); n = K
    elif method == "mnn-norm":
        group = merge_mutual_nearest(VoiceClusters(norm_cent, vc.size, vc.speaker, vc.local))
        types = np.full(len(P.labels), -1, np.int64); types[P.train] = group[vc.local[P.train]]
        types[P.held] = group[nearest_centroid(E[P.held], norm_cent)]; n = int(group.max()) + 1
    med, mean, _ = bvg.split_and_purity(P.labels, types, P.train)
    rec = {"method": method, "types": n, **type_measures(P, types), "types_per_frequent_word_median": med, "mean": mean}
    log(f"{method}: {rec}")
    if not args.no_classify:
        rec.update(bvg.classify(types, n, P.train, P.held, P.utt, P.speech_config, text, P.labels))
    rec["seconds"] = round(time.time() - t1, 1)
    log(f"{method}: {rec}")
    out["runs"].append(rec)
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
log("finished")
