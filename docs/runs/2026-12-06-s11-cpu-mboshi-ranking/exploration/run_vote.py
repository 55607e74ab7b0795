exec(open("/work/main/runs/s11-ranking/exp.py").read())
sys.path.insert(0, "/work/main")
from core.speech.exemplars import held_out_mask
cal_utt = held_out_mask(tab["train"]["utterance"], 0.1); fit = ~cal_utt
truth = [N["truth_train"][i] for i in np.flatnonzero(cal_utt)]
E = enc["train"][cal_utt]; L = lab[cal_utt]
X = enc["train"][fit]; XL = lab[fit]
S = E @ X.T  # [cal, fit]
def eval_order(orders):
    h1 = h10 = t1 = t10 = 0
    for i, o in enumerate(orders):
        merged, seen = [], set()
        for r in range(10):
            for t in o[:10]:
                w = topw[t, r]
                if w not in seen: seen.add(w); merged.append(w)
        merged = [twords[w] for w in merged[:10]]
        h1 += merged[0] == truth[i]; h10 += truth[i] in merged; t1 += o[0] == L[i]; t10 += L[i] in o[:10]
    n = len(orders); return round(h1/n, 4), round(h10/n, 4), round(t1/n, 4), round(t10/n, 4)
for K, tau in [(1, 1), (20, 0.02), (20, 0.05), (50, 0.05), (50, 0.1), (100, 0.05), (200, 0.03)]:
    orders = []
    for i in range(len(E)):
        nn = np.argpartition(-S[i], K)[:K] if K > 1 else [int(S[i].argmax())]
        nn = sorted(nn, key=lambda j: -S[i, j]); s0 = S[i, nn[0]]
        vote = defaultdict(float); first = {}
        for j in nn:
            vote[XL[j]] += np.exp((S[i, j] - s0) / tau)
        o = sorted(vote, key=lambda t: -vote[t])
        if len(o) < 10:  # fill with per-type max
            seen = set(o)
            for j in np.argsort(-S[i]):
                if XL[j] not in seen: seen.add(XL[j]); o.append(XL[j])
                if len(o) >= 10: break
        orders.append(o)
    print("K", K, "tau", tau, "top1 top10 type1 type10", eval_order(orders), flush=True)
