"""Join B's voice-split types by what they sound like *and* where they occur (issue 18, session 21).
SYNTHETIC speech; word labels only score and fit the reference (supervised) map.

Each round: skip-gram over the current type stream (as B), the voices' offsets regressed out of the
type vectors (each type's share of each training voice; speaker ids are metadata), then the types are
joined by average linkage on 1 − (a·cos(encoder centroids) + (1 − a)·cos(voice-regressed skip-gram
vectors)) and cut to the round's number of types. At the end B's classification on the joined types
(skip-gram, voice regression, selflearn, CSLS on held-out segments) beside the labelled map's.
Type pairs of one word among the 1,000 most frequent types (session 21, GPU groups pack): encoder
cosine alone AP 0.458, voice-regressed skip-gram alone 0.290, their mean 0.627.

    PYTHONPATH=. .venv/bin/python $R/context_join.py PACK TEXT.vec --cuts 1000 --json OUT.json
"""
import argparse, json, sys
import numpy as np, torch
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
sys.path.insert(0, "scripts")
from b_pack import load_pack, log, s13_tools, type_measures
from core.alignment.base import AlignConfig
from core.alignment.pipeline import align
from core.embeddings import Embeddings
from core.vectors import load_vectors

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text")
ap.add_argument("--cuts", type=int, nargs="+", required=True, help="types after each round")
ap.add_argument("--emb", help="segment embeddings for the sound part (e.g. the voices' shared space, normalised_types.py --save); default the pack's encoder")
ap.add_argument("--acoustic-weight", type=float, default=0.5)
ap.add_argument("--no-voice-regression", action="store_true", help="align the raw skip-gram space at the end")
ap.add_argument("--save", help="write the joined types (one per segment, -1 none) to this .npy")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); text = load_vectors(args.text)
ACOUSTIC = np.load(args.emb).astype(np.float32) if args.emb else P.emb
unit = lambda a: a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-9)
vidx = {s: i for i, s in enumerate(P.train_speakers)}


def typed_space(types):
    """Skip-gram space of `types` (rows in frequency order), its voice-regressed vectors, encoder centroids."""
    n = int(types.max()) + 1
    space, rank = bvg.skipgram_space(types, n, P.train, P.utt, P.speech_config)
    tr = P.train[types[P.train] >= 0]; row = rank[types[tr]]
    cent = np.zeros((n, ACOUSTIC.shape[1])); np.add.at(cent, row, ACOUSTIC[tr])
    share = np.zeros((n, len(vidx))); np.add.at(share, (row, np.array([vidx[s] for s in P.speaker[tr]])), 1.0)
    share /= np.maximum(share.sum(1, keepdims=True), 1)
    X = np.hstack([share, np.ones((n, 1))]); v = space.vectors.astype(float)
    coef, *_ = np.linalg.lstsq(X, v, rcond=None)
    return space, rank, (v - X @ coef).astype(np.float32), unit(cent)


def classify(types):
    space, rank, regressed, _ = typed_space(types)
    sp = space if args.no_voice_regression else Embeddings(space.words, regressed, space.counts)
    tr = P.train[types[P.train] >= 0]
    maj = bvg.majority(P.labels, types, tr)
    maj_rows = {int(rank[t]): w for t, w in maj.items() if w in text.index}
    seeds = np.array([[r, text.index[w]] for r, w in maj_rows.items()])
    rows = P.held[np.array([P.labels[i] in text.index for i in P.held])]
    out = {}
    for label, cfg, s in (("unsupervised", bvg.align_cfg(), None),
                          ("supervised", AlignConfig(method="supervised", device="cpu", init_vocab=2000,
                                                     selflearn_vocab=5000, seed=0), seeds)):
        res = align(sp, text, cfg, seed_pairs=s)
        top = bvg.csls_top1(res.mapping.map_source(sp.vectors), res.mapping.map_target(text.vectors))
        r = np.array(list(maj_rows)); w = np.array([text.index[maj_rows[i]] for i in r])
        out[label] = {"criterion": float(res.criterion), "train_type_p1": float(np.mean(top[r] == w)),
                      "accuracy": float(np.mean(np.array(text.words, dtype=object)[top[rank[types[rows]]]] == P.labels[rows]))}
    return out


types = P.global_type.copy()
out = {"pack": args.pack, "emb": args.emb, "acoustic_weight": args.acoustic_weight, "rounds": []}
out["rounds"].append({"types": int(types.max()) + 1, **type_measures(P, types)})
log(out["rounds"][-1])
for cut in args.cuts:
    space, rank, regressed, cent = typed_space(types)
    a = args.acoustic_weight
    sim = a * (cent @ cent.T) + (1 - a) * (unit(regressed) @ unit(regressed).T)
    dist = np.clip(1 - sim, 0, None); np.fill_diagonal(dist, 0)
    group_of_row = fcluster(linkage(squareform(dist, checks=False), "average"), cut, "maxclust") - 1
    group_of_row = np.unique(group_of_row, return_inverse=True)[1]
    types = np.where(types >= 0, group_of_row[rank[np.maximum(types, 0)]], -1)
    out["rounds"].append({"types": int(types.max()) + 1, **type_measures(P, types)})
    log(out["rounds"][-1])
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
if args.save:
    np.save(args.save, types)
out["classification"] = classify(types)
log(out["classification"])
if args.json:
    json.dump(out, open(args.json, "w"), indent=2)
log("finished")
