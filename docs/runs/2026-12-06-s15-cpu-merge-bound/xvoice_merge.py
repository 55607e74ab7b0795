"""Configuration B by clustering each voice on its own, then merging the voices' clusters (issue 18, s15).
SYNTHETIC speech. Reads a pack of a B run (session 14's export_b_segments.py / build's parts variant).

Speaker ids are metadata; word labels only score. Each training speaker's segments get their own
k-means (K_s = KMULT x run's K x speaker's share of training tokens: one voice needs no clusters for
other voices). The speakers' clusters are then merged into cross-voice types, each type holding at
most one cluster per speaker:
  mnn    - greedy union of cross-speaker mutual-nearest-neighbour centroid pairs, most similar first;
  mnn-rounds - mnn, then ROUNDS rounds of mutual nearest merged types (prototype = count-weighted
           mean of their clusters) that share no speaker, joined;
  proto  - prototypes = the largest speaker's centroids; each round every speaker's clusters are
           matched one-to-one to the prototypes (Hungarian on cosine), the prototypes become the
           count-weighted means of what was matched; ROUNDS rounds.
The merged stream (one sentence per utterance) goes through B's skip-gram, selflearn to the text and
CSLS; a held-out segment takes the type of its nearest training centroid. Also the run's own global
k-means types, as the baseline. link precision = share of matched clusters (count-weighted) whose
majority word is their merged type's majority word (session 14's item 4 measure, over all clusters).

    python xvoice_merge.py PACK_DIR TEXT.vec --methods global mnn proto --kmult 2 --json out.json
"""
import argparse, collections, glob, importlib.util, json, time, numpy as np, torch
from scipy.optimize import linear_sum_assignment
from core.speech.clustering import kmeans, nearest_centroid
from core.vectors import load_vectors, unit_rows
spec = importlib.util.spec_from_file_location("bvg", "docs/runs/2026-12-06-s13-cpu-b-voice-groups/b_voice_groups.py")
bvg = importlib.util.module_from_spec(spec); spec.loader.exec_module(bvg)
T0 = time.time()
def log(m): print(f"[{time.time()-T0:6.0f} s] {m}", flush=True)

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text")
ap.add_argument("--methods", nargs="+", default=["global", "mnn", "proto"])
ap.add_argument("--kmult", type=float, default=2.0)
ap.add_argument("--rounds", type=int, default=10)
ap.add_argument("--no-classify", action="store_true", help="link diagnostics only")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
meta = np.load(f"{args.pack}/meta.npz")
parts = sorted(glob.glob(f"{args.pack}/emb_[0-9]*.npy"), key=lambda p: int(p.rsplit("_", 1)[1][:-4])) \
    or [f"{args.pack}/emb_a.npy", f"{args.pack}/emb_b.npy"]
emb = unit_rows(np.concatenate([np.load(p) for p in parts]).astype(np.float32))
cfg = json.loads(str(meta["config"])); sp = cfg["speech"]; K = int(sp["clusters"])
gtype = meta["type_of"].astype(np.int64); labels = meta["vocab"][meta["word"]].astype(object)
spk = meta["speaker"]; names = meta["speakers"]; utt = meta["utt"]
held = set(meta["held_out"].tolist()); is_held = np.array([names[s] in held for s in spk])
text = load_vectors(args.text)
tr = np.flatnonzero(~is_held & (gtype >= 0)); ho = np.flatnonzero(is_held & (gtype >= 0))
train_spk = sorted(set(spk[tr].tolist()))
log(f"{len(tr)} training / {len(ho)} held-out segments, K {K}, {len(train_spk)} training speakers, dim {emb.shape[1]}")
out = {"pack": args.pack, "text": args.text, "K": K, "kmult": args.kmult, "rounds": args.rounds, "runs": []}

# 1. each training speaker's own k-means
cent, csize, cmaj, cspk, local = [], [], [], [], np.full(len(labels), -1, np.int64)
for s in train_spk:
    rows = tr[spk[tr] == s]
    ks = max(20, int(round(args.kmult * K * len(rows) / len(tr))))
    c, a = kmeans(emb[rows], ks, sp.get("kmeans_iters", 25), 0, "torch")
    a = np.asarray(a); base = len(cent)
    local[rows] = base + a
    for k in range(ks):
        m = labels[rows][a == k]
        cent.append(np.asarray(c)[k]); csize.append(len(m)); cspk.append(s)
        cmaj.append(collections.Counter(m).most_common(1)[0][0] if len(m) else "")
cent = unit_rows(np.stack(cent).astype(np.float32)); csize = np.array(csize); cspk = np.array(cspk); cmaj = np.array(cmaj, dtype=object)
_, _, own_pur = bvg.split_and_purity(labels, local, tr)
log(f"per-speaker k-means: {len(cent)} clusters ({len(cent) // len(train_spk)} a speaker), purity {own_pur:.3f}")


def merge_mnn():
    group = np.arange(len(cent)); members = {i: {int(cspk[i])} for i in range(len(cent))}
    def find(i):
        while group[i] != i:
            group[i] = group[group[i]]; i = group[i]
        return i
    edges = []
    for a in train_spk:
        ia = np.flatnonzero(cspk == a)
        for b in train_spk:
            if b <= a: continue
            ib = np.flatnonzero(cspk == b); S = cent[ia] @ cent[ib].T
            f, r = S.argmax(1), S.argmax(0)
            edges += [(float(S[i, f[i]]), int(ia[i]), int(ib[f[i]])) for i in range(len(ia)) if r[f[i]] == i]
    for _, i, j in sorted(edges, reverse=True):
        gi, gj = find(i), find(j)
        if gi != gj and not (members[gi] & members[gj]):
            group[gj] = gi; members[gi] |= members.pop(gj)
    return np.array([find(i) for i in range(len(cent))])


def merge_mnn_rounds():
    """mnn, then rounds of the same at the level of merged types: each type's prototype is the
    count-weighted mean of its clusters; mutual nearest types with no speaker in common are joined."""
    group = merge_mnn()
    for _ in range(args.rounds):
        ids, group = np.unique(group, return_inverse=True)
        P = unit_rows(np.stack([(cent[group == g] * csize[group == g, None]).sum(0) for g in range(len(ids))]))
        spk_sets = np.zeros((len(ids), max(train_spk) + 1), bool); spk_sets[group, cspk] = True
        S = P @ P.T
        S[(spk_sets.astype(np.int32) @ spk_sets.T.astype(np.int32)) > 0] = -np.inf   # share a speaker (or itself)
        f = S.argmax(1); ok = np.isfinite(S[np.arange(len(S)), f])
        pairs = [(i, int(f[i])) for i in range(len(S)) if ok[i] and f[f[i]] == i and i < f[i]]
        if not pairs:
            break
        join = np.arange(len(ids))
        for i, j in pairs:
            join[j] = i
        group = join[group]
    return group


def merge_proto():
    piv = max(train_spk, key=lambda s: csize[cspk == s].sum())
    P = cent[cspk == piv].copy(); group = np.zeros(len(cent), np.int64)
    for _ in range(args.rounds):
        for s in train_spk:
            ix = np.flatnonzero(cspk == s)
            r, c = linear_sum_assignment(-(cent[ix] @ P.T))
            g = np.full(len(ix), -1); g[r] = c
            # clusters beyond the prototypes' number (a speaker with more) take their nearest prototype
            g[g < 0] = (cent[ix][g < 0] @ P.T).argmax(1); group[ix] = g
        P = unit_rows(np.stack([(cent[group == g] * csize[group == g, None]).sum(0) if (group == g).any() else P[g]
                                for g in range(len(P))]))
    return group


def score_groups(group):
    gmaj = {}
    for g in np.unique(group):
        c = collections.Counter()
        for i in np.flatnonzero(group == g): c[cmaj[i]] += csize[i]
        gmaj[g] = c.most_common(1)[0][0]
    multi = np.array([(group == group[i]).sum() > 1 for i in range(len(cent))])
    ok = np.array([cmaj[i] == gmaj[group[i]] for i in range(len(cent))])
    w = csize * multi
    return float((ok * w).sum() / max(w.sum(), 1)), int(len(np.unique(group))), float(multi.mean())


for method in args.methods:
    t0 = time.time()
    if method == "global":
        types, n = gtype, K
        rec = {"method": "global k-means (the run's own B types)"}
    else:
        group = {"mnn": merge_mnn, "mnn-rounds": merge_mnn_rounds, "proto": merge_proto}[method]()
        _, group = np.unique(group, return_inverse=True)
        prec, ngroups, share = score_groups(group)
        types = np.full(len(labels), -1, np.int64); types[tr] = group[local[tr]]
        types[ho] = group[nearest_centroid(emb[ho], cent)]; n = ngroups
        rec = {"method": method, "link_precision": prec, "merged_types": ngroups, "clusters_in_multi_member_types": share}
    med, mean, pur = bvg.split_and_purity(labels, types, tr)
    rec.update({"types_per_frequent_word_median": med, "mean": mean, "purity": pur})
    log(f"{method}: {rec}")
    if not args.no_classify:
        rec.update(bvg.classify(types, n, tr, ho, utt, sp, text, labels))
    rec["seconds"] = round(time.time() - t0, 1)
    log(f"{method}: {rec}")
    out["runs"].append(rec)
    if args.json: json.dump(out, open(args.json, "w"), indent=2)
