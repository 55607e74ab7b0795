exec(open("/work/main/runs/s11-ranking/exp.py").read())
truth = [N["truth_train"][i] for i in np.flatnonzero(cal_utt)]
S = dict(np.load(f"{D}/cal_sims.npz"))
for n in ("knn1", "centroid+kmeans5"):
    for M in (3, 5, 10, 20):
        print(n, "merge M", M, rank_merge(S[n], truth, M=M), flush=True)
    for M, W, a in [(10, 10, 1.0), (10, 10, 2.0), (10, 10, 4.0), (20, 10, 2.0), (20, 10, 4.0), (10, 5, 2.0), (10, 10, 8.0), (20, 20, 4.0)]:
        print(n, "score M W alpha", M, W, a, rank_score(S[n], truth, M=M, W=W, alpha=a), flush=True)
