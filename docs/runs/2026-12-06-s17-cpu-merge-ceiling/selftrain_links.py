"""Configuration B: learn a voice-free word space from the audio's own cross-voice cluster links
(issue 18, session 17). SYNTHETIC speech. Speaker ids are metadata; word labels only score.

Each training voice's k-means clusters are kept fixed (scripts/b_pack.cluster_each_voice, kmult 20).
Each round: cluster centroids in the current space; the most similar TOP_SHARE of the cross-voice
mutual-nearest centroid pairs are the positives (their precision, measured with labels and never
used, rises with similarity: 0.53 over all pairs, 0.76 over the top 30 %); a residual MLP on the
segment embeddings is trained with a symmetric InfoNCE loss on one random segment of each side of a
pair (in-batch negatives); the whole pack is re-embedded. ROUNDS rounds, decided before any
classification. Then two groupings of the final space are described (and, without --no-classify,
classified exactly as B's: skip-gram, selflearn to the text, CSLS): the run's rule (global k-means,
K of the run) and session 15's per-voice mnn merge, beside the run's own k-means types. Session 17
ran it with --no-classify only (the diagnostics showed nothing to classify).

    PYTHONPATH=. .venv/bin/python $D/selftrain_links.py /tmp/s15p500 TEXT.vec \
        --cache /tmp/s17_vc20.npz --json $D/selftrain_links.json
"""
import argparse, json, sys
import numpy as np, torch
from scipy import sparse
sys.path.insert(0, "scripts")
from b_pack import (VoiceClusters, cluster_each_voice, load_pack, log, majority_word, merge_mutual_nearest,
                    s13_tools, voice_pair_blocks)
from core.speech.clustering import kmeans, nearest_centroid
from core.vectors import load_vectors, unit_rows
bvg = s13_tools()

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text")
ap.add_argument("--cache"); ap.add_argument("--kmult", type=float, default=20.0)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--steps", type=int, default=3000)
ap.add_argument("--batch", type=int, default=1024)
ap.add_argument("--temperature", type=float, default=0.1)
ap.add_argument("--top-share", type=float, default=0.3,
                help="positives = the most similar share of the mutual pairs (their precision rises with similarity)")
ap.add_argument("--no-classify", action="store_true")
ap.add_argument("--json")
args = ap.parse_args()
torch.manual_seed(0); torch.set_num_threads(2); rng = np.random.default_rng(0)
P = load_pack(args.pack); text = load_vectors(args.text)
vc = cluster_each_voice(P, args.kmult, args.cache)
nc = len(vc.centroids); tr = P.train
cmaj = majority_word(P.labels, vc.local, tr); cmaj = np.array([cmaj.get(c, "") for c in range(nc)], dtype=object)
order = tr[np.argsort(vc.local[tr], kind="stable")]               # members of cluster c: order[start[c]:start[c+1]]
start = np.concatenate([[0], np.cumsum(np.bincount(vc.local[tr], minlength=nc))])
member_mean = sparse.csr_matrix((np.ones(len(tr)), (vc.local[tr], tr)), shape=(nc, len(P.labels)))
out = {"pack": args.pack, "args": vars(args), "rounds": []}


def centroids(Z):
    return unit_rows(np.asarray(member_mean @ Z, np.float32))


def mutual_pairs(C):
    """Cross-voice mutual-nearest centroid pairs (i, j) and their cosines."""
    pairs, sims = [], []
    for _, _, ia, ib, S in voice_pair_blocks(vc, C, both_orders=False):
        f, r = S.argmax(1), S.argmax(0); m = r[f] == np.arange(len(ia))
        pairs.append(np.stack([ia[m], ib[f[m]]], 1)); sims.append(S[np.flatnonzero(m), f[m]])
    return np.concatenate(pairs), np.concatenate(sims)


class Residual(torch.nn.Module):
    def __init__(self, d, h=512):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, h), torch.nn.ReLU(),
                                       torch.nn.Linear(h, d))
        torch.nn.init.zeros_(self.net[-1].weight); torch.nn.init.zeros_(self.net[-1].bias)   # starts as the identity

    def forward(self, x):
        return torch.nn.functional.normalize(x + self.net(x), dim=1)


def sample_member(c):
    return order[start[c] + (rng.random(len(c)) * (start[c + 1] - start[c])).astype(np.int64)]


def train_round(pairs, X):
    model = Residual(X.shape[1]); opt = torch.optim.Adam(model.parameters(), 1e-3)
    Xt = torch.from_numpy(X); losses = []
    for step in range(args.steps):
        pb = pairs[rng.integers(len(pairs), size=args.batch)]
        a, b = model(Xt[sample_member(pb[:, 0])]), model(Xt[sample_member(pb[:, 1])])
        logits = a @ b.T / args.temperature; y = torch.arange(len(pb))
        loss = (torch.nn.functional.cross_entropy(logits, y) + torch.nn.functional.cross_entropy(logits.T, y)) / 2
        opt.zero_grad(); loss.backward(); opt.step(); losses.append(float(loss.detach()))
    with torch.no_grad():
        Z = torch.cat([model(Xt[i:i + 65536]) for i in range(0, len(X), 65536)]).numpy()
    return Z, float(np.mean(losses[-100:]))


def inverse_purity(types, words):
    _, wi = np.unique(words, return_inverse=True)
    M = sparse.coo_matrix((np.ones(len(wi)), (wi, types)), shape=(wi.max() + 1, types.max() + 1)).tocsr()
    return float(M.max(1).toarray().sum() / len(wi))


def describe(types, rows=tr):
    med, mean, pur = bvg.split_and_purity(P.labels, types, rows)
    return {"types_per_frequent_word_mean": mean, "purity": pur, "inverse_purity": inverse_purity(types[rows], P.labels[rows])}


Z = P.emb.copy()
for r in range(args.rounds + 1):
    C = centroids(Z); pairs, sims = mutual_pairs(C)
    prec = float(np.mean(cmaj[pairs[:, 0]] == cmaj[pairs[:, 1]]))
    # same-word nearest neighbour across voices, by cluster: how voice-free the space is (labels score only)
    keep = sims >= np.quantile(sims, 1 - args.top_share); pairs = pairs[keep]
    rec = {"round": r, "mutual_pairs": int(len(keep)), "pair_precision": prec, "positives": int(keep.sum()),
           "positive_precision": float(np.mean(cmaj[pairs[:, 0]] == cmaj[pairs[:, 1]]))}
    log(f"round {r}: {rec}")
    out["rounds"].append(rec)
    if r == args.rounds:
        break
    Z, loss = train_round(pairs, Z)
    rec["loss"] = loss; log(f"round {r}: trained, loss {loss:.3f}")
    if args.json: json.dump(out, open(args.json, "w"), indent=2)

K = int(P.speech_config["clusters"])
cent, assign = kmeans(Z[tr], K, P.speech_config.get("kmeans_iters", 25), 0, "torch")
g_types = np.full(len(P.labels), -1, np.int64); g_types[tr] = np.asarray(assign)
g_types[P.held] = nearest_centroid(Z[P.held], np.asarray(cent))
vcz = VoiceClusters(C, vc.size, vc.speaker, vc.local)
held_cluster = nearest_centroid(Z[P.held], C)
out["final"] = []
groupings = [("the run's own k-means (before)", P.global_type, K), ("global k-means", g_types, K)]
g = merge_mutual_nearest(vcz)
t = np.full(len(P.labels), -1, np.int64); t[tr] = g[vc.local[tr]]; t[P.held] = g[held_cluster]
groupings.append(("per-voice mnn merge", t, int(g.max()) + 1))
for name, types, n in groupings:
    rec = {"grouping": name, "types": n, **describe(types)}
    tmaj = majority_word(P.labels, types, tr)
    rec["held_out_ceiling"] = float(np.mean([tmaj.get(x) == w for x, w in zip(types[P.held], P.labels[P.held])]))
    log(f"{name}: {rec}")
    if not args.no_classify:
        rec.update(bvg.classify(types, n, tr, P.held, P.utt, P.speech_config, text, P.labels))
        log(f"{name}: accuracy {rec['accuracy']:.5f}, bound {rec['supervised_bound_fit_other']}")
    out["final"].append(rec)
    if args.json: json.dump(out, open(args.json, "w"), indent=2)
log("finished")
