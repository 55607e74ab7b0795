"""Cross-voice context smoothing for configuration B (issue 18, session 14), demo scale, SYNTHETIC.

Idea: k-means types are word x voice, and every utterance has one voice, so each voice's types only
ever see that voice's types as context (several disjoint "languages"). Bridge them in skip-gram:
train on the stream plus R-1 copies in which each token is replaced, with probability p, by the type
of one of its acoustically nearest tokens *spoken by another speaker* (speaker ids are metadata; no
word labels). Word labels only score.
"""
import argparse, glob, importlib.util, json, sys, time, numpy as np, torch
from safetensors.numpy import load_file
from core.alignment import align
from core.corpus.feature_store import FeatureStore
from core.speech.pseudo_skipgram import train_skipgram
from core.vectors import load_vectors, unit_rows
spec = importlib.util.spec_from_file_location("bvg", "docs/runs/2026-12-06-s13-cpu-b-voice-groups/b_voice_groups.py")
bvg = importlib.util.module_from_spec(spec); spec.loader.exec_module(bvg)
torch.set_num_threads(2); T0 = time.time()
def log(m): print(f"[{time.time()-T0:6.0f} s] {m}", flush=True)

ap = argparse.ArgumentParser()
ap.add_argument("run", nargs="?", default="/tmp/b50k_s13")
ap.add_argument("--copies", type=int, default=4)
ap.add_argument("--p", type=float, nargs="+", default=[0.0, 0.5])
ap.add_argument("--knn", type=int, default=20)
ap.add_argument("--json", default=None)
args = ap.parse_args()

run = glob.glob(f"{args.run}/stages/speech-unit-skipgram-B-s0-*/run")[0]
cfg = json.load(open(f"{run}/config.json")); sp = cfg["speech"]; store = FeatureStore.open(cfg["store"])
seg = load_file(f"{run}/segments.safetensors"); emb = unit_rows(seg["embedding"]); types = seg["type_of"].astype(np.int64)
labels = np.array(store.labels, dtype=object); spk = np.asarray(store.speakers); utt = np.asarray(store.utterance_ids, dtype=np.int64)
held = set(store.metadata.get("held_out_speakers", [])); is_held = np.array([s in held for s in spk])
tr, ho = np.flatnonzero(~is_held & (types >= 0)), np.flatnonzero(is_held & (types >= 0))
text = load_vectors(glob.glob(f"{args.run}/stages/text-en_same-*/*.vec")[0])
n_types = int(types.max()) + 1
rank, counts = bvg.ranked(types, n_types, tr)
rt = rank[types]  # ranked type of every segment

# other-speaker nearest tokens (training segments only)
E = torch.from_numpy(emb[tr]); S = spk[tr]; nbr = []
for i in range(0, len(tr), 4096):
    s = E[i:i + 4096] @ E.T
    idx = torch.arange(i, min(i + 4096, len(tr)))
    s[torch.arange(len(idx)), idx] = -9
    nbr.append(s.topk(args.knn, 1).indices.numpy())
nbr = np.concatenate(nbr)
other = S[nbr] != S[:, None]
L = labels[tr]
prec = (L[nbr] == L[:, None])[other].mean()
log(f"{len(tr)} training tokens; other-speaker share of {args.knn}-NN {other.mean():.3f}, of those same word {prec:.3f} (labels score only)")
# candidate replacement types per token: the ranked types of its other-speaker neighbours
cand_t = rt[tr][nbr]
out = {"run": args.run, "knn": args.knn, "copies": args.copies, "other_nn_share": float(other.mean()), "other_nn_same_word": float(prec), "variants": []}
rng = np.random.default_rng(0)
order = np.argsort(tr)  # tr is sorted already (corpus order)
for p in args.p:
    v = {}
    toks, sents = [rt[tr]], [utt[tr]]
    for c in range(1, args.copies):
        t = rt[tr].copy()
        has = other.any(1)
        draw = rng.random(len(tr)) < p
        # a random other-speaker neighbour for each token
        pick = np.array([rng.choice(np.flatnonzero(o)) if o.any() else 0 for o in other])
        rep = draw & has
        t[rep] = cand_t[np.arange(len(tr)), pick][rep]
        toks.append(t); sents.append(utt[tr] + c * (utt.max() + 1))
    space = train_skipgram(np.concatenate(toks), np.concatenate(sents), [f"#{i}" for i in range(n_types)], counts,
                           dim=sp["dim"], window=sp["sg_window"], negatives=sp["sg_negatives"], subsample=sp["sg_subsample"],
                           epochs=sp["sg_epochs"], seed=0, backend="gensim")
    maj = bvg.majority(labels, types, tr)
    bound = bvg.supervised_bound(space, {int(rank[t]): w for t, w in maj.items()}, text)
    res = align(space, text, bvg.align_cfg())
    top = bvg.csls_top1(res.mapping.map_source(space.vectors), res.mapping.map_target(text.vectors))
    rows = ho[np.array([labels[i] in text.index for i in ho])]
    pred = np.array(text.words, dtype=object)[top[rt[rows]]]
    acc = float(np.mean(pred == labels[rows]))
    # how word-like: nearest other type in the space shares the majority word?
    V = unit_rows(space.vectors.astype(np.float32)); sim = V @ V.T; np.fill_diagonal(sim, -9)
    majr = {int(rank[t]): w for t, w in maj.items()}
    top50 = [r for r in range(min(300, n_types)) if r in majr]
    nn_same = float(np.mean([majr.get(int(sim[r].argmax())) == majr[r] for r in top50]))
    v.update({"p": p, "supervised_bound_fit_other": bound, "criterion": float(res.criterion), "classification": acc,
         "segments": int(len(rows)), "top300_types_nn_same_majority_word": nn_same})
    out["variants"].append(v)
    log(f"p {p}: supervised bound {bound[0]:.3f}/{bound[1]:.3f}, nearest type same word (top 300) {nn_same:.3f}, "
        f"criterion {res.criterion:.3f}, held-out classification {100*acc:.2f} % of {len(rows)}")
    # merge candidates: other-voice type maximising acoustic + lam * context similarity (labels score only)
    cent = np.zeros((n_types, emb.shape[1]), np.float32)
    np.add.at(cent, rt[tr], emb[tr]); cent = unit_rows(cent)
    spk_ids = {s: i for i, s in enumerate(sorted(set(S)))}
    maj_spk = np.full(n_types, -1)
    for r in range(n_types):
        m = rt[tr] == r
        if m.any(): maj_spk[r] = np.bincount([spk_ids[s] for s in S[m]]).argmax()
    A = cent @ cent.T
    diff = maj_spk[:, None] != maj_spk[None, :]
    for lam in (0.0, 0.5, 1.0, 2.0, 99.0):
        sc = np.where(diff, A + lam * sim if lam < 99 else sim, -9)
        best = sc.argmax(1); back = sc.argmax(0)
        prec_top = float(np.mean([majr.get(int(best[r])) == majr[r] for r in top50]))
        mnn = [r for r in range(n_types) if back[best[r]] == r and r in majr and int(best[r]) in majr]
        prec_mnn = float(np.mean([majr[int(best[r])] == majr[r] for r in mnn])) if mnn else 0.0
        v.setdefault("merge", []).append({"lam": lam, "top300_precision": prec_top, "mnn_pairs": len(mnn), "mnn_precision": prec_mnn})
        log(f"   lam {lam}: best other-voice type same word (top 300) {prec_top:.3f}; MNN {len(mnn)} pairs, precision {prec_mnn:.3f}")
if args.json:
    json.dump(out, open(args.json, "w"), indent=2)
