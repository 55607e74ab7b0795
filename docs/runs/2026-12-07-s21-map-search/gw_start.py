"""Configuration B's map started from a Gromov–Wasserstein coupling (issue 18, session 21).
SYNTHETIC speech; word labels only score and fit the reference (supervised) map.

Session 21 found that on voice-split types the unsupervised criterion prefers a wrong map, and on
types joined by sound and context (context_join.py) it prefers the right one, which selflearn's
start (similarity distributions) still does not reach. The start here: entropic Gromov–Wasserstein
(Alvarez-Melis & Jaakkola, EMNLP 2018; POT's solver) between the cosine distances of the top
`--gw-source` speech types and the top `--gw-target` written words, each type paired with the word
its coupling row favours; then the pipeline's self-learning and refinement from those pairs
(selflearn with this start as its first run; the other restarts as before), or the pairs kept as a
seed dictionary (semisupervised). The map kept is the one with the higher criterion — label-free.

    PYTHONPATH=. .venv/bin/python $R/gw_start.py PACK TYPES.npy|own TEXT.vec --json OUT.json
"""
import argparse, json, sys, time
import numpy as np, ot, torch
sys.path.insert(0, "scripts")
from b_pack import load_pack, log, s13_tools, type_measures
import core.alignment.pipeline as pipeline
from core.alignment import selflearn
from core.alignment.base import AlignConfig
from core.embeddings import Embeddings
from core.vectors import load_vectors

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("types"); ap.add_argument("text")
ap.add_argument("--sg-seeds", type=int, nargs="+", default=[0])
ap.add_argument("--no-voice-regression", action="store_true")
ap.add_argument("--gw-source", type=int, default=1000); ap.add_argument("--gw-target", type=int, default=2000)
ap.add_argument("--gw-eps", type=float, default=0.01)
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); text = load_vectors(args.text)
types = P.global_type.copy() if args.types == "own" else np.load(args.types)
n = int(types.max()) + 1
vidx = {s: i for i, s in enumerate(P.train_speakers)}
rows = P.held[np.array([P.labels[i] in text.index for i in P.held])]


def gw_pairs(x, y):
    """Entropic GW coupling of the top rows of x and y (unit, centred rows) → pairs [ns, 2]."""
    ns, nt = min(args.gw_source, len(x)), min(args.gw_target, len(y))
    xs, yt = x[:ns].double().cpu().numpy(), y[:nt].double().cpu().numpy()
    c1, c2 = 1 - xs @ xs.T, 1 - yt @ yt.T
    t0 = time.time()
    coupling = ot.gromov.entropic_gromov_wasserstein(c1, c2, ot.unif(ns), ot.unif(nt), "square_loss",
                                                    epsilon=args.gw_eps, max_iter=200, tol=1e-9)
    j = coupling.argmax(1)
    log(f"GW {ns}×{nt}, ε {args.gw_eps}: {time.time() - t0:.0f} s, {len(set(j.tolist()))} distinct words")
    return torch.stack([torch.arange(ns), torch.from_numpy(j).long()], 1).to(x.device), j


def run(sp, label, cfg, seeds=None, gw=False):
    """align() with, if `gw`, the GW pairs as selflearn's first start (the other restarts unchanged)."""
    original = selflearn.restart_start
    found = {}

    def start(x, y, c, lg, restart, first=None):
        if restart == 0:
            found["pairs"], found["j"] = gw_pairs(x, y)
            return found["pairs"]
        return original(x, y, c, lg, restart, first=None)
    if gw:
        pipeline.selflearn.restart_start = start
    try:
        res = pipeline.align(sp, text, cfg, seed_pairs=seeds)
    finally:
        pipeline.selflearn.restart_start = original
    return res, found


def space_of(sg_seed):
    space, rank = bvg.skipgram_space(types, n, P.train, P.utt, P.speech_config, seed=sg_seed)
    if args.no_voice_regression:
        return space, rank
    tr = P.train[types[P.train] >= 0]; row = rank[types[tr]]
    share = np.zeros((n, len(vidx))); np.add.at(share, (row, np.array([vidx[s] for s in P.speaker[tr]])), 1.0)
    share /= np.maximum(share.sum(1, keepdims=True), 1)
    X = np.hstack([share, np.ones((n, 1))]); v = space.vectors.astype(float)
    coef, *_ = np.linalg.lstsq(X, v, rcond=None)
    return Embeddings(space.words, (v - X @ coef).astype(np.float32), space.counts), rank


out = {"pack": args.pack, "types_file": args.types, "voice_regression": not args.no_voice_regression,
       "gw": {"source": args.gw_source, "target": args.gw_target, "eps": args.gw_eps},
       "type_measures": type_measures(P, types), "types": n, "runs": []}
base = dict(device="cpu", init_vocab=2000, selflearn_vocab=5000, seed=0)
for sg_seed in args.sg_seeds:
    sp, rank = space_of(sg_seed)
    tr = P.train[types[P.train] >= 0]
    maj = bvg.majority(P.labels, types, tr)
    maj_rows = {int(rank[t]): w for t, w in maj.items() if w in text.index}
    r = np.array(list(maj_rows)); w = np.array([text.index[maj_rows[i]] for i in r])
    seeds = np.array([[a, text.index[b]] for a, b in maj_rows.items()])
    rec = {"sg_seed": sg_seed}
    for label, cfg, s, gw in (("selflearn", AlignConfig(method="selflearn", **base), None, False),
                              ("selflearn_gw_start", AlignConfig(method="selflearn", **base), None, True),
                              ("supervised_reference", AlignConfig(method="supervised", **base), seeds, False)):
        res, found = run(sp, label, cfg, s, gw)
        top = bvg.csls_top1(res.mapping.map_source(sp.vectors), res.mapping.map_target(text.vectors))
        rec[label] = {"criterion": float(res.criterion),
                      "restart_criteria": [float(q["criterion"]) for q in res.restarts],
                      "train_type_p1": float(np.mean(top[r] == w)),
                      "accuracy": float(np.mean(np.array(text.words, dtype=object)[top[rank[types[rows]]]] == P.labels[rows]))}
        if "j" in found:
            in_maj = [i for i in range(len(found["j"])) if i in maj_rows]
            rec[label]["gw_pair_precision"] = float(np.mean([found["j"][i] == text.index[maj_rows[i]] for i in in_maj]))
        log(f"seed {sg_seed} {label}: {rec[label]}")
    rec["chosen_by_criterion"] = max(("selflearn", "selflearn_gw_start"), key=lambda k: rec[k]["criterion"])
    out["runs"].append(rec)
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
log("finished")
