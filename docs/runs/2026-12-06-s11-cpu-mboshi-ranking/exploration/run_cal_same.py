exec(open("/work/main/runs/s11-ranking/exp.py").read())
sys.path.insert(0, "/work/main")
from core.speech.exemplars import held_out_mask
cal_utt = held_out_mask(tab["train"]["utterance"], 0.1); fit = ~cal_utt
truth = [N["truth_train"][i] for i in np.flatnonzero(cal_utt)]
E = enc["train"][cal_utt]; L = lab[cal_utt]
C = centroids(fit)
variants = {"centroid": [C], "centroid+speakers": [C] + speaker_protos(fit)}
for k in (3, 5):
    variants[f"centroid+kmeans{k}"] = [C] + kmeans_protos(fit, k)
sims = {n: type_sims(E, p) for n, p in variants.items()}
sims["exemplars(knn1)+centroid"] = np.maximum(knn_sims(E, fit), sims["centroid"])
res = {}
for n, S in sims.items():
    res[n] = {"type_acc": type_acc(S, L), **{f"merge{M}": rank_merge(S, truth, M=M) for M in (3, 10)},
              "score_M20_W10_a4": rank_score(S, truth, M=20, W=10, alpha=4.0)}
    print(n, res[n], flush=True)
json.dump(res, open(f"{D}/cal_same_slice.json", "w"), indent=1)
