"""Is configuration B's failure a search failure or a criterion failure? (issue 18, session 21)
SYNTHETIC speech; word labels only score and, in the *supervised* rows, fit the labelled map.

For one type inventory over a B pack: the skip-gram space of the training stream (as B classifies),
then three maps to the text space, each with its unsupervised criterion (mean CSLS cosine of the top
types, what self-learning maximises and what picks among restarts) and its held-out classification:
  unsupervised — selflearn (3 restarts), as B;
  supervised   — Procrustes on every type → its majority word (labels), no refinement;
  supervised+r — the same, then 5 rounds of unsupervised Procrustes refinement.
If a labelled map scores a higher criterion than the one selflearn found, B fails in the search (a
better search would find it); if lower, the criterion itself prefers wrong maps on these types.

Types: --own (the run's k-means), --shared E.npy K:N (shared-space k-means K joined by average
linkage to N types, as shared_space_frontier.py), --oracle (own types joined by majority word).

    PYTHONPATH=. .venv/bin/python $R/map_search.py PACK TEXT.vec --own --json OUT.json
"""
import argparse, collections, json, os, sys, time
import numpy as np, torch
sys.path.insert(0, "scripts")
from b_pack import agglomerate_centroids, load_pack, log, s13_tools, type_measures
from core.alignment.base import AlignConfig
from core.alignment.pipeline import align
from core.speech.clustering import kmeans, nearest_centroid
from core.vectors import load_vectors

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text")
ap.add_argument("--own", action="store_true")
ap.add_argument("--oracle", action="store_true")
ap.add_argument("--shared", nargs=2, metavar=("EMB", "K:N"))
ap.add_argument("--kcache", help="k-means cache file for --shared (npz with cent, a)")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); text = load_vectors(args.text)


def inventory():
    """(name, types over all segments, number of types)."""
    if args.own or args.oracle:
        t = P.global_type.copy(); n = int(t.max()) + 1
        if args.own:
            yield "own", t, n
        if args.oracle:
            maj = bvg.majority(P.labels, t, P.train[t[P.train] >= 0])
            words = sorted(set(maj.values())); wid = {w: i for i, w in enumerate(words)}
            join = np.array([wid[maj[k]] if k in maj else -1 for k in range(n)])
            o = np.where(t >= 0, join[np.maximum(t, 0)], -1)
            yield "oracle", o, len(words)
    if args.shared:
        E = np.load(args.shared[0]).astype(np.float32); K, N = map(int, args.shared[1].split(":"))
        if args.kcache and os.path.exists(args.kcache):
            z = np.load(args.kcache); cent, a = z["cent"], z["a"]
        else:
            cent, a = kmeans(E[P.train], K, 25, 0, "torch"); cent, a = np.asarray(cent), np.asarray(a)
            if args.kcache:
                np.savez(args.kcache, cent=cent, a=a)
        group = agglomerate_centroids(cent, [N])[N] if N < K else np.arange(K)
        t = np.full(len(P.labels), -1, np.int64); t[P.train] = group[a]
        t[P.held] = group[nearest_centroid(E[P.held], cent)]
        yield f"shared{K}:{N}", t, int(group.max()) + 1


def score(space, rank, types, mapping, maj_rows):
    """Held-out classification and type-level P@1 against each type's majority word."""
    top = bvg.csls_top1(mapping.map_source(space.vectors), mapping.map_target(text.vectors))
    rows = P.held[np.array([P.labels[i] in text.index for i in P.held])]
    predicted = np.array(text.words, dtype=object)[top[rank[types[rows]]]]
    r = np.array(list(maj_rows)); w = np.array([text.index[maj_rows[i]] for i in r])
    return {"accuracy": float(np.mean(predicted == P.labels[rows])),
            "type_p1": float(np.mean(top[r] == w)), "type_p1_top500": float(np.mean(top[r[r < 500]] == w[r < 500]))}


out = {"pack": args.pack, "runs": []}
for name, types, n in inventory():
    t0 = time.time()
    space, rank = bvg.skipgram_space(types, n, P.train, P.utt, P.speech_config)
    maj = bvg.majority(P.labels, types, P.train[types[P.train] >= 0])
    maj_rows = {int(rank[t]): w for t, w in maj.items() if w in text.index}
    seeds = np.array([[r, text.index[w]] for r, w in maj_rows.items()])
    rec = {"types": name, "n_types": n, **type_measures(P, types), "seed_pairs": int(len(seeds))}
    for label, cfg, sp in (
            ("unsupervised", bvg.align_cfg(), None),
            ("supervised", AlignConfig(method="supervised", device="cpu", init_vocab=2000, selflearn_vocab=5000, seed=0), seeds),
            ("supervised_refined", AlignConfig(method="supervised", supervised_refinement=5, device="cpu",
                                               init_vocab=2000, selflearn_vocab=5000, seed=0), seeds)):
        res = align(space, text, cfg, seed_pairs=sp)
        rec[label] = {"criterion": float(res.criterion), **score(space, rank, types, res.mapping, maj_rows)}
        if label == "unsupervised":
            rec[label]["restarts"] = [float(r.get("criterion", float("nan"))) for r in res.restarts]
        log(f"{name} {label}: {rec[label]}")
    rec["seconds"] = time.time() - t0
    out["runs"].append(rec)
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
log("finished")
