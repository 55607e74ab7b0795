exec(open("/work/main/runs/s11-ranking/exp.py").read())
truth = [N["truth_train"][i] for i in np.flatnonzero(cal_utt)]
S = dict(np.load(f"{D}/cal_sims.npz"))
def rank_soft(Sm, truth, M=20, W=3, tau=0.05, decay=0.5, k=10):
    """word score = sum over the M nearest types of exp((sim-best)/tau) * decay**rank(word in type's list)"""
    h1 = h10 = 0
    near = np.argsort(-Sm, 1)[:, :M]
    for i in range(len(Sm)):
        best = defaultdict(float); s0 = Sm[i, near[i, 0]]
        for t in near[i]:
            wt = np.exp((Sm[i, t] - s0) / tau)
            for r, w in enumerate(topw[t, :W]):
                best[w] += wt * decay ** r
        ranked = [twords[w] for w in sorted(best, key=lambda w: -best[w])[:k]]
        h1 += ranked[0] == truth[i]; h10 += truth[i] in ranked
    return round(h1 / len(Sm), 4), round(h10 / len(Sm), 4)
for n in ("knn1", "centroid+kmeans5"):
    for M, W, tau, dec in [(20, 1, 0.05, 0.5), (20, 3, 0.05, 0.3), (20, 3, 0.02, 0.3), (20, 3, 0.1, 0.3), (30, 3, 0.05, 0.1), (30, 5, 0.05, 0.3), (20, 2, 0.03, 0.2)]:
        print(n, "soft M W tau decay", M, W, tau, dec, rank_soft(S[n], truth, M, W, tau, dec), flush=True)
