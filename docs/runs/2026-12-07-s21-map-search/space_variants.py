"""Label-free changes to B's skip-gram type space, each judged by how its labelled map and its
unsupervised map compare (issue 18, session 21). SYNTHETIC speech; labels fit only the reference
(supervised) map and score.

Variants (all on the pack's own types; speaker ids are metadata):
  raw        — the skip-gram space as B has it;
  voice      — each type's share of each training voice regressed out of its vector (criterion_probe.py);
  smooth:K:A — then each vector mixed with the mean of its K acoustically nearest types (cosine of
               encoder centroids, or of shared-space centroids with --emb), weight A, so that the
               voice-split types of one word move together; mutual-neighbour edges only with :mutual.
Decisions are read off the training types (the criterion gap and type P@1 of the two maps); the
held-out classification is written beside them.

    PYTHONPATH=. .venv/bin/python $R/space_variants.py PACK TEXT.vec voice smooth:5:0.5 --json OUT.json
"""
import argparse, json, sys
import numpy as np, torch
sys.path.insert(0, "scripts")
from b_pack import load_pack, log, s13_tools
from core.alignment.base import AlignConfig
from core.alignment.pipeline import align
from core.embeddings import Embeddings
from core.vectors import load_vectors

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text"); ap.add_argument("variants", nargs="+")
ap.add_argument("--emb", help="segment embeddings for the acoustic neighbours (default: the pack's encoder)")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); text = load_vectors(args.text)
types = P.global_type; n = int(types.max()) + 1
space, rank = bvg.skipgram_space(types, n, P.train, P.utt, P.speech_config)
tr = P.train[types[P.train] >= 0]
row = rank[types[tr]]
E = np.load(args.emb).astype(np.float32) if args.emb else P.emb
cent = np.zeros((n, E.shape[1])); np.add.at(cent, row, E[tr]); cent /= np.linalg.norm(cent, axis=1, keepdims=True) + 1e-9
voices = P.train_speakers; vidx = {s: i for i, s in enumerate(voices)}
share = np.zeros((n, len(voices))); np.add.at(share, (row, np.array([vidx[s] for s in P.speaker[tr]])), 1.0)
share /= np.maximum(share.sum(1, keepdims=True), 1)
maj = bvg.majority(P.labels, types, tr)
maj_rows = {int(rank[t]): w for t, w in maj.items() if w in text.index}
seeds = np.array([[r, text.index[w]] for r, w in maj_rows.items()])
sim = cent @ cent.T; np.fill_diagonal(sim, -np.inf)


def voice_regressed(v):
    X = np.hstack([share, np.ones((n, 1))])
    coef, *_ = np.linalg.lstsq(X, v.astype(float), rcond=None)
    return v - X @ coef


def smoothed(v, k, a, mutual):
    nb = np.argsort(-sim, axis=1)[:, :k]
    w = np.zeros((n, n)); w[np.repeat(np.arange(n), k), nb.ravel()] = 1.0
    if mutual:
        w = w * w.T
    deg = w.sum(1, keepdims=True)
    mean = np.divide(w @ v, deg, out=np.zeros_like(v), where=deg > 0)
    return np.where(deg > 0, (1 - a) * v + a * mean, v)


def variant(spec):
    v = space.vectors.astype(float)
    parts = spec.split("+")
    for p in parts:
        if p == "voice":
            v = voice_regressed(v)
        elif p.startswith("smooth"):
            f = p.split(":"); v = smoothed(v, int(f[1]), float(f[2]), len(f) > 3 and f[3] == "mutual")
        elif p != "raw":
            raise SystemExit(f"unknown variant part {p!r}")
    return Embeddings(space.words, v.astype(np.float32), space.counts)


def scores(sp, mapping):
    top = bvg.csls_top1(mapping.map_source(sp.vectors), mapping.map_target(text.vectors))
    rows = P.held[np.array([P.labels[i] in text.index for i in P.held])]
    r = np.array(list(maj_rows)); w = np.array([text.index[maj_rows[i]] for i in r])
    return {"train_type_p1": float(np.mean(top[r] == w)),
            "heldout_accuracy": float(np.mean(np.array(text.words, dtype=object)[top[rank[types[rows]]]] == P.labels[rows]))}


out = {"pack": args.pack, "emb": args.emb, "runs": []}
for spec in args.variants:
    sp = variant(spec); rec = {"variant": spec}
    for label, cfg, s in (("unsupervised", bvg.align_cfg(), None),
                          ("supervised", AlignConfig(method="supervised", device="cpu", init_vocab=2000,
                                                     selflearn_vocab=5000, seed=0), seeds)):
        res = align(sp, text, cfg, seed_pairs=s)
        rec[label] = {"criterion": float(res.criterion), **scores(sp, res.mapping)}
    rec["criterion_gap"] = rec["supervised"]["criterion"] - rec["unsupervised"]["criterion"]
    log(rec); out["runs"].append(rec)
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
log("finished")
