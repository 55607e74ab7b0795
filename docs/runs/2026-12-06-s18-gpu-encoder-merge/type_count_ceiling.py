"""Can the map align as few types as agglomeration leaves? (issue 18, session 18). SYNTHETIC speech.
ORACLE rows: word labels join clusters on purpose.

The shared-space k-means clusters (shared_space_frontier.py --kcache, K clusters) are joined by their
majority word (ORACLE); then only the TOP joined types with the most tokens are kept and every other
joined type is merged into its most similar kept type (cosine of count-weighted mean centroids): the
realistic fate of rare words when the number of types is cut, with the frequent words left perfect.
TOP = all gives the plain ORACLE of these clusters. Classification as B's (scripts/b_pack.s13_tools).

    PYTHONPATH=. .venv/bin/python $R/type_count_ceiling.py PACK E.npy TEXT.vec KMEANS.npz --top 1000 2000 0 --json OUT.json
"""
import argparse, json, sys
import numpy as np, torch
sys.path.insert(0, "scripts")
from b_pack import load_pack, log, majority_word, s13_tools, type_measures
from core.speech.clustering import nearest_centroid
from core.vectors import load_vectors, unit_rows

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("emb"); ap.add_argument("text"); ap.add_argument("kmeans")
ap.add_argument("--top", type=int, nargs="+", default=[1000, 2000, 0], help="0 = keep all")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); E = np.load(args.emb).astype(np.float32); text = load_vectors(args.text)
z = np.load(args.kmeans); cent, a = z["cent"], z["a"]
K = len(cent); size = np.bincount(a, minlength=K)
held = nearest_centroid(E[P.held], cent)
clus = np.full(len(P.labels), -1, np.int64); clus[P.train] = a
cm = majority_word(P.labels, clus, P.train)
word_of = np.array([cm.get(c, "") for c in range(K)], dtype=object)
joined = np.unique(word_of, return_inverse=True)[1]             # ORACLE: clusters joined by majority word
J = joined.max() + 1
tokens = np.bincount(joined, weights=size, minlength=J)
jc = unit_rows(np.stack([(size[joined == j, None] * cent[joined == j]).sum(0) for j in range(J)]).astype(np.float32))


out = {"pack": args.pack, "kmeans": args.kmeans, "k": K, "joined_types": int(J), "runs": []}
for top in args.top:
    keep = np.argsort(-tokens)[: top or J]
    to = np.full(J, -1); to[keep] = np.arange(len(keep))
    rest = np.flatnonzero(to < 0)
    if len(rest):
        to[rest] = to[keep][(jc[rest] @ jc[keep].T).argmax(1)]
    group = to[joined]
    types = np.full(len(P.labels), -1, np.int64); types[P.train] = group[a]; types[P.held] = group[held]
    rec = {"top": int(top), "types": int(group.max()) + 1, **type_measures(P, types)}
    log(rec)
    rec.update(bvg.classify(types, rec["types"], P.train, P.held, P.utt, P.speech_config, text, P.labels))
    log(rec); out["runs"].append(rec)
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
log("finished")
