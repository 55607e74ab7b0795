"""Does cutting at energy valleys by itself break the speech ↔ text isomorphism?  (session 23)

An oracle, not a method: every energy segment of the training voices gets its TextGrid word (the
word it overlaps most, as the evaluation labels VAD segments), so the token stream is what a perfect
grouping of energy segments would give. word2vec on that stream, then the unsupervised map onto the
English text space (selflearn + GW starts, as the experiments), scored as type-level P@1 of the
identical word (types weighted by their counts, and unweighted over the top 1,000). The control
stream is the TextGrid words themselves. SYNTHETIC speech (espeak-ng voices, kjv_500k_bvad corpus).

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 oracle_stream.py CORPUS_DIR TEXT_VEC OUT.json
"""

import json
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from core.alignment import AlignConfig, align
from core.audio import load_audio
from core.corpus.textgrid import read_textgrid_words
from core.discovery.term_discovery import energy_segments
from core.embeddings import Embeddings
from core.pipeline.speech_eval import retrieve
from core.vectors import load_vectors


def utterance_tokens(row):
    wav, tg = row
    x, sr = load_audio(wav)
    words = read_textgrid_words(Path(tg), len(x) / sr, "words", lowercase=True) or []
    words = [(a, b, w) for a, b, w in words]
    segs = energy_segments(x)
    labels = []
    for s0, s1 in segs:
        best, lab = 0.0, None
        for a, b, w in words:
            o = min(s1, b) - max(s0, a)
            if o > best:
                best, lab = o, w
        labels.append(lab or "<sil>")
    return [w for _, _, w in words], labels, [round(s1 - s0, 3) for s0, s1 in segs]


def train(sentences, seed=0):
    from gensim.models import Word2Vec

    m = Word2Vec(sentences, vector_size=50, window=5, min_count=3, sg=1, negative=10, sample=1e-4,
                 epochs=10, workers=2, seed=seed)
    words = list(m.wv.index_to_key)
    return Embeddings(words, m.wv.vectors.copy(), np.array([m.wv.get_vecattr(w, "count") for w in words]),
                      "en", "speech")


def score(src: Embeddings, tgt: Embeddings) -> dict:
    res = align(src, tgt, AlignConfig(method="selflearn", gw_start=True), progress=None)
    idx = retrieve(res.mapping, src.vectors, src, tgt, 1, 10, "cpu")["csls"][:, 0]
    right = np.array([tgt.words[i] == w for i, w in zip(idx, src.words)])
    counts = np.asarray(src.counts, float)
    top = min(1000, len(src))
    return {"types": len(src), "criterion": float(res.criterion),
            "p1_token_weighted": float((right * counts).sum() / counts.sum()),
            "p1_top1000": float(right[:top].mean())}


def main():
    corpus, text_vec, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    rows = [line.rstrip("\n").split("\t") for line in open(corpus / "segments.tsv", encoding="utf-8")][1:]
    rows = [(str(corpus / r[3]), str(corpus / r[4])) for r in rows if r[2] == "0"]  # training voices
    cache = out.with_suffix(".tokens.json")
    if cache.exists():
        data = json.loads(cache.read_text())
    else:
        with Pool(2) as pool:
            data = pool.map(utterance_tokens, rows, chunksize=50)
        cache.write_text(json.dumps(data))
    words = [d[0] for d in data]
    labels = [d[1] for d in data]
    n_w, n_s = sum(map(len, words)), sum(map(len, labels))
    text = load_vectors(text_vec, language="en")
    result = {"utterances": len(data), "word_tokens": n_w, "energy_segments": n_s}
    for name, stream in (("words", words), ("energy_oracle", labels)):
        result[name] = score(train(stream), text)
        print(name, result[name], flush=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
