"""Does a wider search find the map the criterion already prefers? (issue 18, session 21)
SYNTHETIC speech; labels only score.

Input: a pack and joined types (context_join.py --save). The voice-regressed skip-gram space is
built once per skip-gram seed; then each alignment setting (selflearn with more restarts or other
start vocabularies, adversarial) is run and its criterion, training-type P@1 and held-out
classification written. Which map a user would get = the highest criterion among the settings run.

    PYTHONPATH=. .venv/bin/python $R/search_probe.py PACK TYPES.npy TEXT.vec --sg-seeds 0 1 \
        --settings selflearn:3:2000 selflearn:10:2000 --json OUT.json
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
ap.add_argument("pack"); ap.add_argument("types"); ap.add_argument("text")
ap.add_argument("--sg-seeds", type=int, nargs="+", default=[0])
ap.add_argument("--settings", nargs="+", default=["selflearn:3:2000"],
                help="method:restarts:init_vocab (adversarial: adversarial:restarts:epoch_size)")
ap.add_argument("--device", default="cpu")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); text = load_vectors(args.text); types = np.load(args.types)
n = int(types.max()) + 1
vidx = {s: i for i, s in enumerate(P.train_speakers)}
rows = P.held[np.array([P.labels[i] in text.index for i in P.held])]


def config(setting, seed):
    method, restarts, size = setting.split(":")
    if method == "adversarial":
        return AlignConfig(method="adversarial", device=args.device, restarts=int(restarts), adv_epoch_size=int(size),
                           seed=seed)
    return AlignConfig(method="selflearn", device=args.device, restarts=int(restarts), init_vocab=int(size),
                       selflearn_vocab=5000, seed=seed)


out = {"pack": args.pack, "types_file": args.types, "runs": []}
for sg_seed in args.sg_seeds:
    space, rank = bvg.skipgram_space(types, n, P.train, P.utt, P.speech_config, seed=sg_seed)
    tr = P.train[types[P.train] >= 0]; row = rank[types[tr]]
    share = np.zeros((n, len(vidx))); np.add.at(share, (row, np.array([vidx[s] for s in P.speaker[tr]])), 1.0)
    share /= np.maximum(share.sum(1, keepdims=True), 1)
    X = np.hstack([share, np.ones((n, 1))]); v = space.vectors.astype(float)
    coef, *_ = np.linalg.lstsq(X, v, rcond=None)
    sp = Embeddings(space.words, (v - X @ coef).astype(np.float32), space.counts)
    maj = bvg.majority(P.labels, types, tr)
    maj_rows = {int(rank[t]): w for t, w in maj.items() if w in text.index}
    r = np.array(list(maj_rows)); w = np.array([text.index[maj_rows[i]] for i in r])
    for setting in args.settings:
        res = align(sp, text, config(setting, 0))
        top = bvg.csls_top1(res.mapping.map_source(sp.vectors), res.mapping.map_target(text.vectors))
        rec = {"sg_seed": sg_seed, "setting": setting, "criterion": float(res.criterion),
               "restart_criteria": [float(x["criterion"]) for x in res.restarts],
               "train_type_p1": float(np.mean(top[r] == w)),
               "accuracy": float(np.mean(np.array(text.words, dtype=object)[top[rank[types[rows]]]] == P.labels[rows])),
               "seconds": float(res.timings.get("total", 0))}
        log(rec); out["runs"].append(rec)
        if args.json:
            json.dump(out, open(args.json, "w"), indent=2)
log("finished")
