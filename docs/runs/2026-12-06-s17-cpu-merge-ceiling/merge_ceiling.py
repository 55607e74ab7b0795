"""How far "cluster each voice, then merge" can go on B's embeddings, and a linker that adds context
(issue 18, session 17). SYNTHETIC speech. Speaker ids are metadata; word labels only score, except
in the ORACLE merge, a ceiling that links clusters by their majority word.

Each training voice's own k-means (scripts/b_pack.cluster_each_voice, session 15's rule), then:
  global - the run's own k-means types (baseline);
  mnn    - session 15's greedy union of cross-voice mutual-nearest centroids;
  oracle - every cluster joined to the others with its majority word (perfect links): the ceiling
           of the route on this front end and these clusters;
  ctx    - mnn, then ROUNDS rounds re-linking with centroid cosine + CTX_WEIGHT x the cosine of the
           clusters' context vectors (PPMI of the merged types within ±2 tokens, over the top
           CTX_TYPES merged types): the voices say the same kind of text, so a word's clusters in
           two voices have the same neighbours once those neighbours are merged.
  graph  - a graph of the clusters whose edges only cross voices: each cluster to its nearest cluster
           in every other voice (weight = cosine; mutual pairs counted from both ends), cut into
           communities by Leiden (modularity, seed 0; leidenalg). A word's clusters in 20 voices link
           to each other, a voice's own duplicates of a word through their shared counterparts, and
           a wrong link is outvoted rather than chained (as the union in mnn chains it).
  snn    - shared-nearest-neighbour graph (as single-cell pipelines cluster cells): each cluster's
           SNN_K nearest clusters in every other voice are its neighbour set; two clusters are joined
           by the number of neighbours they share plus a direct link, so a voice's own duplicates of a
           word (k-means splits frequent words) meet through their common counterparts; Leiden
           (RB-configuration, RESOLUTION, seed 0) cuts it.
  dedup  - first join each voice's own duplicates of a word: two clusters of a voice whose nearest
           clusters in at least AGREE of the other voices are the same cluster (connected components
           within the voice); then session 15's mnn union over the joined clusters (centroid = the
           count-weighted mean of their members), so a type can hold a whole word of each voice;
           then ROUNDS rounds: types said by ≥ 3 voices get a prototype (count-weighted mean of
           their clusters: averaged over voices, so less voice-bound), and mutual-nearest
           prototypes are joined whatever voices they share.
  vote   - cross-voice label propagation, complete by construction: start from mnn's types; each
           round every cluster takes the type most of its nearest clusters in the 19 other voices
           hold (votes weighted by cosine, its own type one vote of weight 1), so a voice's
           duplicates of a word end in the type their counterparts hold. ROUNDS rounds
           (--vote-from-family: start from family's types).
  within - like dedup, but a voice's duplicates are found inside the voice: each cluster is joined
           to its nearest cluster of the same voice when their cosine is at least that voice's
           WITHIN_QUANTILE quantile of nearest-neighbour cosines (label-free; the median = 0.95 here;
           a voice says a word nearly the same way every time, so its k-means duplicates of a word are
           each other's nearest: 94 % of the time for words with duplicates), then mnn over the groups;
           --within-all joins every pair of a voice above the threshold instead.
  family - voices first grouped into families (average linkage on 1 − the voices' mean top-1
           cluster cosine, cut where two voices are less alike than the mean pair: label-free); inside
           a family `within` (all pairs, median) then mnn over the family's voices; then the family
           types' prototypes (count-weighted means) joined across families by mnn, one type per family.
  oracle-noise - the oracle with a share NOISE of the clusters (drawn uniformly, seed 0) moved to the
           type of their most similar cluster of another voice and another majority word: how often
           a linker may be wrong (the realistic way: to an acoustic neighbour) before the map fails.
Partial ceilings (labels used for one part of the links, to see which part matters):
  mnn-correct  - mnn with every link between clusters of different majority words cut (precision 1);
  mnn+in-voice - mnn, plus every voice's clusters with one majority word joined (no within-voice split).
Held-out segments take their nearest training centroid's merged type. "held-out ceiling" = share of
held-out segments whose type's training majority word is their own word (what a perfect map scores).

    PYTHONPATH=. .venv/bin/python $D/merge_ceiling.py /tmp/s15p500 TEXT.vec --kmult 20 \
        --cache /tmp/s17_vc20.npz --methods oracle mnn ctx --json $D/OUT.json
"""
import argparse, json, sys, time
import numpy as np, torch
from scipy import sparse
from scipy.sparse.csgraph import connected_components
sys.path.insert(0, "scripts")
from b_pack import (cluster_each_voice, load_pack, log, majority_word, merge_mutual_nearest, s13_tools,
                    voice_pair_blocks)
from core.speech.clustering import nearest_centroid
from core.vectors import load_vectors, unit_rows
bvg = s13_tools()

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text")
ap.add_argument("--methods", nargs="+", default=["oracle", "mnn", "ctx"])
ap.add_argument("--kmult", type=float, default=20.0)
ap.add_argument("--cache")
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--ctx-weight", type=float, default=1.0)
ap.add_argument("--ctx-types", type=int, default=2000)
ap.add_argument("--resolution", type=float, default=1.0, help="graph: Leiden RB-configuration resolution")
ap.add_argument("--cpm", type=float, help="graph: Leiden CPM resolution instead")
ap.add_argument("--snn-k", type=int, default=2, help="snn: nearest clusters taken in every other voice")
ap.add_argument("--agree", type=int, default=6, help="dedup: other voices whose nearest cluster must agree")
ap.add_argument("--within-quantile", type=float, default=0.5,
                help="within: a voice's nearest-neighbour cosines above this quantile join")
ap.add_argument("--within-all", action="store_true", help="within: join every pair above the threshold")
ap.add_argument("--vote-from-family", action="store_true", help="vote: start from family's types, not mnn's")
ap.add_argument("--noise", type=float, default=0.1, help="oracle-noise: share of clusters moved")
ap.add_argument("--no-classify", action="store_true")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
P = load_pack(args.pack); text = load_vectors(args.text)
log(f"{len(P.train)} training / {len(P.held)} held-out segments, {len(P.train_speakers)} training voices")
vc = cluster_each_voice(P, args.kmult, args.cache)
held_cluster = nearest_centroid(P.emb[P.held], vc.centroids)
cmaj = majority_word(P.labels, vc.local, P.train)
cmaj = np.array([cmaj.get(c, "") for c in range(len(vc.centroids))], dtype=object)
log(f"{len(vc.centroids)} voice clusters")
out = {"pack": args.pack, "kmult": args.kmult, "resolution": args.resolution, "cpm": args.cpm, "rounds": args.rounds, "ctx_weight": args.ctx_weight,
       "ctx_types": args.ctx_types, "noise": args.noise, "snn_k": args.snn_k, "agree": args.agree, "within_quantile": args.within_quantile, "within_all": args.within_all, "runs": []}


def inverse_purity(types, words):
    """Share of tokens that lie in their word's largest type (1 = no word split at all)."""
    _, wi = np.unique(words, return_inverse=True)
    M = sparse.coo_matrix((np.ones(len(wi)), (wi, types)), shape=(wi.max() + 1, types.max() + 1)).tocsr()
    return float(M.max(1).toarray().sum() / len(wi))


def link_precision(group):
    """Count-weighted share of clusters in multi-cluster types whose majority word is their type's."""
    tmaj = {}
    for c in range(len(group)):
        tmaj.setdefault(group[c], {}).setdefault(cmaj[c], 0)
        tmaj[group[c]][cmaj[c]] += vc.size[c]
    tmaj = {g: max(d, key=d.get) for g, d in tmaj.items()}
    n = np.bincount(group); multi = n[group] > 1
    ok = np.array([cmaj[c] == tmaj[group[c]] for c in range(len(group))])
    w = vc.size * multi
    return float((ok * w).sum() / max(w.sum(), 1))


def context_vectors(group):
    """Each cluster's PPMI context over the top merged types (±2 tokens within an utterance)."""
    tr = P.train; g = group[vc.local[tr]]; u = P.utt[tr]
    order = np.argsort(u, kind="stable")   # pack rows are in utterance order already; keep it safe
    g, u, c = g[order], u[order], vc.local[tr][order]
    top = np.argsort(-np.bincount(g))[:args.ctx_types]; col = np.full(g.max() + 1, -1); col[top] = np.arange(len(top))
    rows, cols = [], []
    for d in (-2, -1, 1, 2):
        a = np.arange(max(0, -d), len(g) - max(0, d)); b = a + d
        ok = (u[a] == u[b]) & (col[g[b]] >= 0)
        rows.append(c[a[ok]]); cols.append(col[g[b[ok]]] + (0 if d < 0 else len(top)))   # left and right apart
    M = sparse.coo_matrix((np.ones(sum(map(len, rows))), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(len(vc.centroids), 2 * len(top))).tocsr()
    tot = M.sum(); pr = np.asarray(M.sum(1)).ravel() / tot; pc = np.asarray(M.sum(0)).ravel() / tot
    M = M.tocoo(); pmi = np.log(M.data / tot / (pr[M.row] * pc[M.col]))
    X = sparse.csr_matrix((np.maximum(pmi, 0), (M.row, M.col)), shape=M.shape)
    nrm = np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel()); nrm[nrm == 0] = 1
    return sparse.diags(1 / nrm) @ X


def merge_ctx():
    group = merge_mutual_nearest(vc)
    for r in range(args.rounds):
        X = context_vectors(group)
        group = merge_mutual_nearest(vc, lambda ia, ib: vc.centroids[ia] @ vc.centroids[ib].T
                                     + args.ctx_weight * (X[ia] @ X[ib].T).toarray())
        log(f"ctx round {r + 1}: {group.max() + 1} types, link precision {link_precision(group):.3f}")
    return group


def nearest_in_other_voices():
    """For every cluster and every other voice: (the cluster, its nearest cluster there, their cosine)."""
    rows, cols, sims = [], [], []
    for _, _, ia, ib, S in voice_pair_blocks(vc):
        f = S.argmax(1); rows.append(ia); cols.append(ib[f]); sims.append(S[np.arange(len(ia)), f])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)


def merge_graph():
    import igraph as ig, leidenalg as la
    src, dst, w = nearest_in_other_voices()
    g = ig.Graph(n=len(cmaj), edges=np.stack([src, dst], 1).tolist(), directed=False)
    g.es["weight"] = np.maximum(w, 0).tolist()
    g = g.simplify(combine_edges="sum")   # a mutual pair becomes one edge of double weight
    if args.cpm is not None:   # constant Potts model: a community's mean edge weight must beat args.cpm
        part = la.find_partition(g, la.CPMVertexPartition, weights="weight", resolution_parameter=args.cpm, seed=0)
    else:
        part = la.find_partition(g, la.RBConfigurationVertexPartition, weights="weight",
                                 resolution_parameter=args.resolution, seed=0)
    log(f"graph: {g.vcount()} clusters, {g.ecount()} edges, {len(part)} communities")
    return np.array(part.membership)


def merge_snn():
    import igraph as ig, leidenalg as la
    rows, cols = [], []
    for _, _, ia, ib, S in voice_pair_blocks(vc):
        top = np.argpartition(-S, args.snn_k - 1, axis=1)[:, :args.snn_k]
        rows.append(np.repeat(ia, args.snn_k)); cols.append(ib[top].ravel())
    n = len(cmaj)
    A = sparse.csr_matrix((np.ones(sum(map(len, rows))), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    W = (A @ A.T + A + A.T).tocoo()
    keep = W.row < W.col
    g = ig.Graph(n=n, edges=np.stack([W.row[keep], W.col[keep]], 1).tolist())
    g.es["weight"] = W.data[keep].astype(float).tolist()
    part = la.find_partition(g, la.RBConfigurationVertexPartition, weights="weight",
                             resolution_parameter=args.resolution, seed=0)
    log(f"snn: {g.ecount()} edges, {len(part)} communities")
    return np.array(part.membership)


def within_links(quantile, all_pairs):
    """Links inside each voice: a cluster to its nearest (or, all_pairs, every cluster) of the same
    voice whose cosine is at least the voice's `quantile` of nearest-neighbour cosines."""
    a_idx, b_idx = [], []
    for a in sorted(set(vc.speaker.tolist())):
        ia = np.flatnonzero(vc.speaker == a); S = vc.centroids[ia] @ vc.centroids[ia].T
        np.fill_diagonal(S, -np.inf); f = S.argmax(1); top = S[np.arange(len(ia)), f]
        t = np.quantile(top, quantile)
        if all_pairs:
            i, j = np.nonzero(np.triu(S >= t, 1)); a_idx.append(ia[i]); b_idx.append(ia[j])
        else:
            m = top >= t; a_idx.append(ia[m]); b_idx.append(ia[f[m]])
    return a_idx, b_idx


def merge_within():
    return merge_groups_across(*within_links(args.within_quantile, args.within_all), "within")


def merge_dedup():
    n = len(cmaj); rows, cols, _ = nearest_in_other_voices()
    a_idx, b_idx = [], []
    for a in sorted(set(vc.speaker.tolist())):
        ia = np.flatnonzero(vc.speaker == a); local = np.full(n, -1); local[ia] = np.arange(len(ia))
        m = vc.speaker[rows] == a   # one row per cluster of a, one entry per other voice (their clusters never collide)
        H = sparse.csr_matrix((np.ones(m.sum()), (local[rows[m]], cols[m])), shape=(len(ia), n))
        agree = (H @ H.T).tocoo()
        m = (agree.data >= args.agree) & (agree.row < agree.col)
        a_idx.append(ia[agree.row[m]]); b_idx.append(ia[agree.col[m]])
    return merge_groups_across(a_idx, b_idx, "dedup")


def merge_groups_across(a_idx, b_idx, name):
    """Join the given within-voice links, then mnn (+ ROUNDS prototype rounds) over the joined groups."""
    n = len(cmaj)
    within = join(np.concatenate(a_idx + [np.arange(n)]), np.concatenate(b_idx + [np.arange(n)]))
    ids, within = np.unique(within, return_inverse=True)
    w_size = np.bincount(within, weights=vc.size)
    w_cent = unit_rows(np.asarray(sparse.csr_matrix((vc.size.astype(float), (within, np.arange(n))), shape=(len(ids), n))
                                  @ vc.centroids, np.float32))
    w_spk = np.zeros(len(ids), np.int64); w_spk[within] = vc.speaker
    log(f"{name}: {n} clusters -> {len(ids)} within-voice groups")
    from b_pack import VoiceClusters
    group = merge_mutual_nearest(VoiceClusters(w_cent, w_size, w_spk, None))[within]
    for r in range(args.rounds):
        nt = group.max() + 1
        proto = unit_rows(np.asarray(sparse.csr_matrix((vc.size.astype(float), (group, np.arange(n))), shape=(nt, n))
                                     @ vc.centroids, np.float32))
        nvoice = np.asarray((sparse.csr_matrix((np.ones(n), (group, vc.speaker)), shape=(nt, vc.speaker.max() + 1)) > 0).sum(1)).ravel()
        big = np.flatnonzero(nvoice >= 3)
        S = proto[big] @ proto[big].T; np.fill_diagonal(S, -np.inf); f = S.argmax(1)
        mutual = np.flatnonzero(f[f] == np.arange(len(big)))
        relabel = join(np.concatenate([np.arange(nt), big[mutual]]), np.concatenate([np.arange(nt), big[f[mutual]]]))
        group = np.unique(relabel[group], return_inverse=True)[1]
        log(f"{name} round {r + 1}: {len(big)} multi-voice types, {len(mutual) // 2} joined, {group.max() + 1} types, "
            f"link precision {link_precision(group):.3f}")
    return group


def merge_vote():
    n = len(cmaj); nn_rows, nn_cols, nn_w = nearest_in_other_voices(); nn_w = np.maximum(nn_w, 0)
    group = merge_family() if args.vote_from_family else merge_mutual_nearest(vc)
    for r in range(args.rounds):
        V = sparse.csr_matrix((np.concatenate([nn_w, np.ones(n)]), (np.concatenate([nn_rows, np.arange(n)]),
                               np.concatenate([group[nn_cols], group]))), shape=(n, group.max() + 1))
        new = np.asarray(V.argmax(1)).ravel()
        changed = int((new != group).sum())
        group = np.unique(new, return_inverse=True)[1]
        log(f"vote round {r + 1}: {changed} clusters changed type, {group.max() + 1} types, "
            f"link precision {link_precision(group):.3f}")
        if not changed:
            break
    return group


def merge_family():
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from b_pack import VoiceClusters
    voices = sorted(set(vc.speaker.tolist())); V = len(voices); n = len(cmaj)
    Q = np.zeros((V, V)); pos = {v: i for i, v in enumerate(voices)}
    for a, b, _, _, S in voice_pair_blocks(vc):
        Q[pos[a], pos[b]] = S.max(1).mean()
    Q = (Q + Q.T) / 2; D = 1 - Q; np.fill_diagonal(D, 0)
    fam_of = fcluster(linkage(squareform(D, checks=False), "average"), D[np.triu_indices(V, 1)].mean(), "distance")
    fam = np.zeros(vc.speaker.max() + 1, np.int64); fam[voices] = fam_of
    log(f"family: voice families {[[int(v) for v in np.array(voices)[fam_of == f]] for f in np.unique(fam_of)]}")
    a_idx, b_idx = within_links(0.5, True)   # within-voice duplicates, as `within --within-all`
    within = join(np.concatenate(a_idx + [np.arange(n)]), np.concatenate(b_idx + [np.arange(n)]))
    ids, within = np.unique(within, return_inverse=True)
    def pooled(labels_of, k):   # count-weighted mean centroid, size and voice of each pooled group
        c = unit_rows(np.asarray(sparse.csr_matrix((vc.size.astype(float), (labels_of, np.arange(n))), shape=(k, n))
                                 @ vc.centroids, np.float32))
        spk = np.zeros(k, np.int64); spk[labels_of] = vc.speaker
        return c, np.bincount(labels_of, weights=vc.size, minlength=k), spk
    w_cent, w_size, w_spk = pooled(within, len(ids))
    fam_type = np.full(len(ids), -1, np.int64)
    for f in np.unique(fam_of):   # mnn among the family's voices
        rows = np.flatnonzero(fam[w_spk] == f)
        g = merge_mutual_nearest(VoiceClusters(w_cent[rows], w_size[rows], w_spk[rows], None))
        fam_type[rows] = fam_type.max() + 1 + g
    ftype = fam_type[within]; nf = ftype.max() + 1
    f_cent, f_size, f_spk = pooled(ftype, nf)
    log(f"family: {nf} family types; link precision inside families {link_precision(ftype):.3f}")
    top = merge_mutual_nearest(VoiceClusters(f_cent, f_size, fam[f_spk], None))
    return top[ftype]


def oracle_noise():
    cw, group = np.unique(cmaj, return_inverse=True)
    sel = np.flatnonzero(np.random.default_rng(0).random(len(cmaj)) < args.noise)
    moved = group.copy()
    for k in range(0, len(sel), 2048):
        part = sel[k:k + 2048]; S = vc.centroids[part] @ vc.centroids.T
        S[(vc.speaker[part, None] == vc.speaker[None, :]) | (cmaj[part, None] == cmaj[None, :])] = -np.inf
        moved[part] = group[S.argmax(1)]
    return np.unique(moved, return_inverse=True)[1]


def join(pairs_a, pairs_b):
    """Connected components of the clusters under the given links."""
    A = sparse.coo_matrix((np.ones(len(pairs_a)), (pairs_a, pairs_b)), shape=(len(cmaj),) * 2)
    return connected_components(A, directed=False)[1]


def mnn_correct():
    g = merge_mutual_nearest(vc); first = {}
    a, b = [], []
    for c in range(len(g)):   # star links to the first cluster of each (type, majority word)
        k = (g[c], cmaj[c]); f = first.setdefault(k, c); a.append(f); b.append(c)
    return join(np.array(a), np.array(b))


def mnn_in_voice():
    g = merge_mutual_nearest(vc); first = {}
    a, b = list(range(len(g))), list(range(len(g)))
    for c in range(len(g)):
        for k in (("t", g[c]), ("v", vc.speaker[c], cmaj[c])):
            a.append(first.setdefault(k, c)); b.append(c)
    return join(np.array(a), np.array(b))


for method in args.methods:
    t0 = time.time()
    if method == "global":
        types, n, rec = P.global_type, int(P.global_type.max()) + 1, {"method": "global"}
    else:
        if method == "oracle":
            group = np.unique(cmaj, return_inverse=True)[1]
        else:
            group = {"mnn": lambda: merge_mutual_nearest(vc), "ctx": merge_ctx, "mnn-correct": mnn_correct,
                     "mnn+in-voice": mnn_in_voice, "graph": merge_graph, "oracle-noise": oracle_noise, "snn": merge_snn, "dedup": merge_dedup, "vote": merge_vote, "within": merge_within, "family": merge_family}[method]()
        types = np.full(len(P.labels), -1, np.int64)
        types[P.train] = group[vc.local[P.train]]; types[P.held] = group[held_cluster]
        n = int(group.max()) + 1
        rec = {"method": method, "merged_types": n, "link_precision": link_precision(group)}
    tmaj = majority_word(P.labels, types, P.train)
    rec["held_out_ceiling"] = float(np.mean([tmaj.get(t) == w for t, w in zip(types[P.held], P.labels[P.held])]))
    med, mean, pur = bvg.split_and_purity(P.labels, types, P.train)
    rec.update({"types_per_frequent_word_median": med, "mean": mean, "purity": pur,
                "inverse_purity": inverse_purity(types[P.train], P.labels[P.train])})
    log(f"{method}: {rec}")
    if not args.no_classify:
        rec.update(bvg.classify(types, n, P.train, P.held, P.utt, P.speech_config, text, P.labels))
    rec["seconds"] = round(time.time() - t0, 1)
    log(f"{method}: {rec}")
    out["runs"].append(rec)
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
log("finished")
