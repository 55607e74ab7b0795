"""How well can per-speaker clusters be linked across speakers? (demo pack, SYNTHETIC; labels score only)"""
import sys, collections, numpy as np, torch, time
from scipy.optimize import linear_sum_assignment
from core.speech.clustering import kmeans
from core.vectors import unit_rows
torch.set_num_threads(2); T0 = time.time()
pack = sys.argv[1] if len(sys.argv) > 1 else "/tmp/s14"
KS = int(sys.argv[2]) if len(sys.argv) > 2 else 190
meta = np.load(f"{pack}/meta.npz")
emb = unit_rows(np.concatenate([np.load(f"{pack}/emb_a.npy"), np.load(f"{pack}/emb_b.npy")]).astype(np.float32))
labels = meta["vocab"][meta["word"]]; spk = meta["speaker"]; names = meta["speakers"]
held = set(meta["held_out"].tolist()); train_spk = [s for s in sorted(set(spk.tolist())) if names[s] not in held]
per = {}
for s in train_spk:
    rows = np.flatnonzero(spk == s)
    c, a = kmeans(emb[rows], KS, 25, 0, "torch"); a = np.asarray(a); c = unit_rows(np.asarray(c))
    cnt = np.bincount(a, minlength=KS)
    maj = np.array([collections.Counter(labels[rows][a == k]).most_common(1)[0][0] if cnt[k] else "" for k in range(KS)], dtype=object)
    per[s] = (c, cnt, maj)
piv = max(train_spk, key=lambda s: (spk == s).sum())
Cp, np_, mp = per[piv]
def prec(pairs, maj, top=None):
    ps = [(i, j) for i, j in pairs if top is None or i in top]
    return np.mean([maj[i] == mp[j] for i, j in ps]) if ps else 0, len(ps)
res = collections.defaultdict(list)
for s in train_spk:
    if s == piv: continue
    C, n, m = per[s]
    top = set(np.argsort(-n)[:100].tolist())
    A = C @ Cp.T
    f, b = A.argmax(1), A.argmax(0)
    res["acoustic MNN"].append(prec([(i, int(f[i])) for i in range(KS) if b[f[i]] == i], m, top))
    r, c_ = linear_sum_assignment(-A); res["hungarian acoustic"].append(prec(list(zip(r, c_)), m, top))
    lf = np.log(n + 1)[:, None] - np.log(np_ + 1)[None, :]
    for lam in (0.05, 0.1, 0.2):
        r, c_ = linear_sum_assignment(-(A - lam * np.abs(lf))); res[f"hungarian ac + freq lam {lam}"].append(prec(list(zip(r, c_)), m, top))
    # ridge map towards identity, refit on confident matches
    W = np.eye(C.shape[1], dtype=np.float32)
    for it in range(5):
        A2 = unit_rows(C @ W) @ Cp.T
        r, c_ = linear_sum_assignment(-(A2 - 0.1 * np.abs(lf)))
        conf = A2[r, c_] > np.quantile(A2[r, c_], 0.5)
        X, Y = C[r[conf]], Cp[c_[conf]]; lamr = 1.0
        W = np.linalg.solve(X.T @ X + lamr * np.eye(len(W)), X.T @ Y + lamr * np.eye(len(W))).astype(np.float32)
    res["ridge map + hungarian (5 rounds)"].append(prec(list(zip(r, c_)), m, top))
for k, v in res.items():
    print(f"{k:40s} top-100 clusters' match same majority word: {np.mean([x[0] for x in v]):.3f} (per speaker {[round(x[0], 2) for x in v]})")
print(f"{time.time()-T0:.0f} s")
