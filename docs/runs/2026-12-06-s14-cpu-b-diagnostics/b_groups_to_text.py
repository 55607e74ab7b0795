"""Configuration B with voice groups as separate "languages", each aligned to the TEXT directly
(issue 18, session 14). SYNTHETIC speech. Reads export_b_segments.py's pack of a B run.

Speaker ids are metadata (no word labels): training speakers are grouped by how alike their use of
the run's global k-means types is (cosine of type histograms, average-linkage); each group gets its
own k-means (K = run's K x group share), its own skip-gram space, and its own unsupervised selflearn
map to the text space. A held-out speaker joins the group whose type histogram is nearest (its own
unlabelled segments, no labels). Word labels only score.

    python b_groups_to_text.py PACK_DIR TEXT.vec --groups 1 2 3 4 --json out.json
"""
import argparse, collections, importlib.util, json, time, numpy as np, torch
from scipy.cluster.hierarchy import fcluster, linkage
from core.alignment import align
from core.speech.clustering import kmeans, nearest_centroid
from core.speech.pseudo_skipgram import token_stream, train_skipgram
from core.vectors import load_vectors, unit_rows
spec = importlib.util.spec_from_file_location("bvg", "docs/runs/2026-12-06-s13-cpu-b-voice-groups/b_voice_groups.py")
bvg = importlib.util.module_from_spec(spec); spec.loader.exec_module(bvg)
T0 = time.time()
def log(m): print(f"[{time.time()-T0:6.0f} s] {m}", flush=True)

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text")
ap.add_argument("--groups", type=int, nargs="+", default=[1, 2, 3, 4])
ap.add_argument("--device", default="cpu")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2 if args.device == "cpu" else 8)
meta = np.load(f"{args.pack}/meta.npz")
emb = unit_rows(np.concatenate([np.load(f"{args.pack}/emb_a.npy"), np.load(f"{args.pack}/emb_b.npy")]).astype(np.float32))
cfg = json.loads(str(meta["config"])); sp = cfg["speech"]; K = int(sp["clusters"])
gtype = meta["type_of"].astype(np.int64); vocab = meta["vocab"]; labels = vocab[meta["word"]].astype(object)
spk = meta["speaker"]; spk_names = meta["speakers"]; utt = meta["utt"]
held = set(meta["held_out"].tolist()); is_held = np.array([spk_names[s] in held for s in spk])
text = load_vectors(args.text)
tr = np.flatnonzero(~is_held & (gtype >= 0)); ho = np.flatnonzero(is_held & (gtype >= 0))
log(f"{len(tr)} training / {len(ho)} held-out segments, K {K}, {len(set(spk[tr]))} training speakers")
train_spk = sorted(set(spk[tr].tolist())); held_spk = sorted(set(spk[ho].tolist()))
def hist(rows):
    h = np.bincount(gtype[rows], minlength=K).astype(np.float64); return h / np.linalg.norm(h)
H = np.stack([hist(tr[spk[tr] == s]) for s in train_spk])
Z = linkage(H, method="average", metric="cosine")
score_rows = ho[np.array([labels[i] in text.index for i in ho])]
out = {"pack": args.pack, "text": args.text, "K": K, "train_segments": int(len(tr)), "scored_segments": int(len(score_rows)), "runs": []}
for G in args.groups:
    t0 = time.time()
    assign = fcluster(Z, G, criterion="maxclust") - 1 if G > 1 else np.zeros(len(train_spk), int)
    G_eff = int(assign.max()) + 1
    grp = {s: int(a) for s, a in zip(train_spk, assign)}
    gh = np.stack([unit_rows(H[assign == g].sum(0, keepdims=True))[0] for g in range(G_eff)])
    hgrp = {s: int(np.argmax(gh @ hist(ho[spk[ho] == s]))) for s in held_spk}
    correct = np.zeros(len(labels), bool); groups = []; votes = []
    for g in range(G_eff):
        rows = tr[np.array([grp[s] == g for s in spk[tr]])]
        k = max(50, int(round(K * len(rows) / len(tr))))
        cent, a = kmeans(emb[rows], k, sp.get("kmeans_iters", 25), 0, "torch")
        cent = np.asarray(cent); local = np.full(len(labels), -1, np.int64); local[rows] = np.asarray(a)
        hrows = score_rows[np.array([hgrp[s] == g for s in spk[score_rows]])]
        if len(hrows): local[hrows] = nearest_centroid(emb[hrows], cent)
        # every scored held-out segment through this group too (for the vote over groups)
        near_all = nearest_centroid(emb[score_rows], cent)
        sim_all = np.einsum("ij,ij->i", emb[score_rows], unit_rows(cent[near_all]))
        rank, counts = bvg.ranked(local, k, rows)
        rl = np.where(local >= 0, rank[np.maximum(local, 0)], -1)
        toks, sents = token_stream(rl, utt, rows)
        space = train_skipgram(toks, sents, [f"#{i}" for i in range(k)], counts, dim=sp["dim"], window=sp["sg_window"],
                               negatives=sp["sg_negatives"], subsample=sp["sg_subsample"], epochs=sp["sg_epochs"],
                               seed=0, backend="gensim")
        acfg = bvg.align_cfg(); acfg.device = args.device
        res = align(space, text, acfg)
        top = bvg.csls_top1(res.mapping.map_source(space.vectors), res.mapping.map_target(text.vectors))
        votes.append((np.array(text.words, dtype=object)[top[rank[near_all]]], sim_all, float(res.criterion)))
        if len(hrows):
            pred = np.array(text.words, dtype=object)[top[rl[hrows]]]
            correct[hrows] = pred == labels[hrows]
        med, mean, pur = bvg.split_and_purity(labels, local, rows)
        maj = bvg.majority(labels, local, rows)
        bound = bvg.supervised_bound(space, {int(rank[t]): w for t, w in maj.items()}, text)
        acc = float(correct[hrows].mean()) if len(hrows) else None
        groups.append({"group": g, "speakers": [str(spk_names[s]) for s in train_spk if grp[s] == g],
                       "held_out_speakers": [str(spk_names[s]) for s in held_spk if hgrp[s] == g],
                       "tokens": int(len(rows)), "K": k, "types_per_frequent_word_median": med, "mean": mean,
                       "purity": pur, "criterion": float(res.criterion), "supervised_bound_fit_other": bound,
                       "held_out_scored": int(len(hrows)), "classification": acc})
        log(f"G {G} group {g}: {len(rows)} tokens, {groups[-1]['speakers'][:6]}..., K {k}, types/word {med} ({mean:.2f}), purity {pur:.3f}, "
            f"criterion {res.criterion:.3f}, supervised bound {bound[0]:.3f}/{bound[1]:.3f}, held-out {len(hrows)} segs acc "
            f"{'-' if acc is None else f'{100*acc:.2f} %'}")
    total = float(correct[score_rows].mean())
    vote_acc = {}
    if G_eff > 1:
        for beta in (0.0, 8.0, 32.0):
            tally = [collections.defaultdict(float) for _ in score_rows]
            for words, sims, crit in votes:
                w8 = np.exp(beta * (sims - 1.0))
                for i, (w, x) in enumerate(zip(words, w8)):
                    tally[i][w] += x
            pred = np.array([max(t, key=t.get) for t in tally], dtype=object)
            vote_acc[beta] = float(np.mean(pred == labels[score_rows]))
        log(f"G {G}: vote over groups (weight exp(beta (cos - 1))): {vote_acc}")
    out["runs"].append({"G": G, "groups": groups, "classification": total, "vote_classification": vote_acc,
                        "mean_criterion": float(np.mean([x["criterion"] for x in groups])), "seconds": round(time.time() - t0, 1)})
    log(f"G {G}: held-out classification {100*total:.3f} % of {len(score_rows)}; mean criterion {out['runs'][-1]['mean_criterion']:.3f}")
    if args.json: json.dump(out, open(args.json, "w"), indent=2)
