"""How right must a cross-voice cluster merge be for configuration B to align? (issue 18, session 15)

Text only, no audio: a bound for the "split by voice, then merge" route at 500k tokens.
The first 500k KJV tokens (B's 500k corpus says exactly these); each verse gets one of V = 20
training voices at random. Each word's voices are cut at random into G groups (session 14 measured
3-4 clusters per frequent word, split by voice in a word-specific way), so a token's pseudo type is
(word, group of its voice) - what k-means makes of the acoustic embeddings. Optionally a share q of
tokens first take a random other word (k-means purity ~0.70). The merge step then links each
non-first group (word, g > 0) to its own word's first group with probability p, otherwise to the
first group of a random word within +-50 frequency ranks (a wrong acoustic link); p = None keeps the
split stream unmerged. Skip-gram with B's settings over the stream, selflearn to the 500k text space,
token classification (CSLS; a token is right when its type maps to its TRUE word).
Usage: merge_bound.py OUT.json  "G,p,q" ...   (p "none" = no merge)
"""
import json, sys, time
import numpy as np, torch
from core.alignment import align, AlignConfig
from core.pipeline.text_space import read_sentences, train_text
from core.speech.pseudo_skipgram import train_skipgram
from core.retrieval import topk_csls
from core.vectors import unit_rows

torch.set_num_threads(1); T0 = time.time(); V = 20
sents = read_sentences("/work/shared/data/text/en_KJV1611.tsv.xz", "all", 500000)
text = train_text(sents, {"dim": 50, "epochs": 10, "min_count": 3, "backend": "gensim"}, "en", device="cpu")
text = text[0] if isinstance(text, tuple) else text
toks = [w for s in sents for w in s]
sid = np.concatenate([[k] * len(s) for k, s in enumerate(sents)])
vocab, counts = np.unique(toks, return_counts=True)
o = np.argsort(-counts, kind="stable"); vocab, counts = vocab[o], counts[o]
index = {w: r for r, w in enumerate(vocab)}
word = np.array([index[w] for w in toks])                  # true word rank of each token
in_text = np.array([w in text.index for w in vocab])
text_rank = np.array([text.index.get(w, -1) for w in vocab])
print("text", len(text.words), "stream", len(word), "types", len(vocab), f"{time.time()-T0:.0f} s", flush=True)


def run(G, p, q, seed=0):
    rng = np.random.default_rng(seed)
    voice = rng.integers(0, V, len(sents))[sid]             # one voice per verse
    heard = word.copy()
    if q > 0:                                               # k-means impurity: a random other word
        flip = rng.random(len(word)) < q
        heard[flip] = rng.choice(len(vocab), flip.sum(), p=counts / counts.sum())
    group_of = rng.integers(0, G, (len(vocab), V))           # word-specific voice partition
    group = group_of[heard, voice]
    if p is None:
        typ = heard * G + group
    else:
        n = len(vocab)
        target = np.repeat(np.arange(n)[:, None], G, 1)     # merged type of (word, g)
        wrong = rng.random((n, G)) >= p
        wrong[:, 0] = False
        other = np.clip(np.arange(n)[:, None] + rng.integers(-50, 51, (n, G)), 0, n - 1)
        target[wrong] = other[wrong]
        typ = target[heard, group]
    ids, inv = np.unique(typ, return_inverse=True)
    c = np.bincount(inv)
    order = np.argsort(-c, kind="stable"); rank = np.empty_like(order); rank[order] = np.arange(len(order))
    tok = rank[inv]
    space = train_skipgram(tok, sid, [f"t{i}" for i in range(len(order))], c[order], dim=50, window=5,
                           negatives=10, subsample=1e-4, epochs=10, seed=0, backend="gensim")
    r = align(space, text, AlignConfig(method="selflearn", device="cpu", init_vocab=2000, selflearn_vocab=5000, seed=0))
    x = torch.from_numpy(unit_rows(np.asarray(r.mapping.map_source(space.vectors), np.float32)))
    y = torch.from_numpy(unit_rows(np.asarray(r.mapping.map_target(text.vectors), np.float32)))
    _, top = topk_csls(x, y, 1, 10, device="cpu")
    pred = top[:, 0].numpy()[tok]                           # text word predicted for each token
    ok = in_text[word] & (pred == text_rank[word])
    scored = in_text[word]
    return {"G": G, "p": p, "q": q, "types": int(len(order)), "criterion": float(r.criterion),
            "classification": float(ok[scored].mean()), "tokens": int(scored.sum()),
            "seconds": round(time.time() - T0)}


out = []
for spec in sys.argv[2:]:
    G, p, q = spec.split(",")
    out.append(run(int(G), None if p == "none" else float(p), float(q)))
    print(out[-1], flush=True)
    json.dump(out, open(sys.argv[1], "w"), indent=2)
