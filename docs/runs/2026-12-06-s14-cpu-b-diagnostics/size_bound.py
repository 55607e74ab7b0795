"""Upper bound for per-voice spaces (issue 18, session 14): a word space built from the TRUE words of
N tokens of random verses (what one voice of the 500k corpus says: 25k tokens), skip-gram with B's
settings, aligned unsupervised (selflearn) to the 500k-token text space; token classification.
Text only (no audio): the best a per-voice clustering could do."""
import json, os, sys, time, numpy as np, torch
from core.alignment import align, AlignConfig
from core.pipeline.text_space import read_sentences, train_text
from core.speech.pseudo_skipgram import train_skipgram
from core.retrieval import topk_csls
from core.vectors import unit_rows
torch.set_num_threads(2); T0 = time.time()
sents = read_sentences("/work/shared/data/text/en_KJV1611.tsv.xz", "all", 500000)
text = train_text(sents, {"dim": 50, "epochs": 10, "min_count": 3, "backend": "gensim"}, "en", device="cpu")
text = text[0] if isinstance(text, tuple) else text
print("text", len(text.words), f"{time.time()-T0:.0f} s", flush=True)
rng = np.random.default_rng(0); order = rng.permutation(len(sents))
res = []
for n in [int(x) for x in sys.argv[1:]] or [5000, 25000, 125000]:
    chosen, tot = [], 0
    for i in order:
        chosen.append(i); tot += len(sents[i])
        if tot >= n: break
    toks = [w for i in sorted(chosen) for w in sents[i]]
    sid = np.concatenate([[k] * len(sents[i]) for k, i in enumerate(sorted(chosen))])
    vocab, counts = np.unique(toks, return_counts=True)
    o = np.argsort(-counts, kind="stable"); vocab, counts = vocab[o], counts[o]
    idx = {w: r for r, w in enumerate(vocab)}
    ids = np.array([idx[w] for w in toks])
    space = train_skipgram(ids, sid, list(vocab), counts, dim=50, window=5, negatives=10, subsample=1e-4, epochs=10, seed=0, backend="gensim")
    r = align(space, text, AlignConfig(method="selflearn", device="cpu", init_vocab=2000, selflearn_vocab=5000, seed=0))
    x = torch.from_numpy(unit_rows(np.asarray(r.mapping.map_source(space.vectors), np.float32)))
    y = torch.from_numpy(unit_rows(np.asarray(r.mapping.map_target(text.vectors), np.float32)))
    _, top = topk_csls(x, y, 1, 10, device="cpu")
    pred = np.array(text.words, dtype=object)[top[:, 0].numpy()]
    ok = np.array([pred[idx[w]] == w for w in toks if w in text.index])
    res.append({"tokens": int(tot), "types": int(len(vocab)), "criterion": float(r.criterion), "classification": float(ok.mean())})
    print(res[-1], f"{time.time()-T0:.0f} s", flush=True)
json.dump(res, open(os.environ.get("SIZE_BOUND_JSON", "size_bound.json"), "w"), indent=2)
print("text first words", text.words[:10], "slice first", list(vocab[:10]), "pred", list(pred[:10]))
# supervised sanity: Procrustes on shared words
shared = [w for w in vocab[:3000] if w in text.index]
XA = unit_rows(space.vectors.astype(np.float32)); XA = unit_rows(XA - XA.mean(0)); YA = unit_rows(text.vectors.astype(np.float32)); YA = unit_rows(YA - YA.mean(0))
X = XA[[idx[w] for w in shared]]; Y = YA[[text.index[w] for w in shared]]
u, _, vt = np.linalg.svd(X[::2].T @ Y[::2]); W = u @ vt
p = (X[1::2] @ W) @ YA.T
print('text NN of god', [text.words[j] for j in np.argsort(-(YA @ YA[text.index['god']]))[1:6]])
print("supervised Procrustes P@1 other half", np.mean(np.array(text.words)[p.argmax(1)] == np.array(shared[1::2])))
