"""Would joining adjacent units rebuild words cut at energy valleys?  (session 23; an oracle, not a method)

Each energy segment of the training voices gets the unit a perfect grouping would give it, from the
TextGrid (labels are read here only to build the oracle): a word it covers alone is that word; one
part of a word cut into several segments is `word#k` (k-th part); a segment holding several words is
`w1+w2`. Streams, each turned into word2vec vectors and mapped onto the English text space without
labels (selflearn + GW starts, as the experiments), scored per segment like the VAD evaluation (a
segment is right when its token's nearest text word, CSLS, is the word it overlaps most):
  units          the units themselves;
  units+phrases  units joined by gensim Phrases (Mikolov et al. 2013's collocation score, defaults,
                 two passes) before word2vec.
SYNTHETIC speech (espeak-ng voices, kjv_500k_bvad corpus).

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 oracle_units.py CORPUS_DIR TEXT_VEC OUT.json
"""

import json
import sys
from collections import Counter
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


def utterance_units(row):
    wav, tg = row
    x, sr = load_audio(wav)
    words = read_textgrid_words(Path(tg), len(x) / sr, "words", lowercase=True) or []
    segs = energy_segments(x)
    units, labels = [], []
    parts = Counter()
    owner = []  # per segment: words it holds (>= half of the word inside it)
    for s0, s1 in segs:
        held, best, lab = [], 0.0, None
        for a, b, w in words:
            o = min(s1, b) - max(s0, a)
            if o > best:
                best, lab = o, w
            if o > 0.5 * (b - a):
                held.append(w)
        owner.append(held)
        labels.append(lab)
    for (s0, s1), held, lab in zip(segs, owner, labels):
        if len(held) >= 2:
            units.append("+".join(held))
        elif len(held) == 1:
            units.append(held[0])
        elif lab is not None:  # part of a word cut into several segments
            units.append(f"{lab}#{parts[lab]}")
            parts[lab] += 1
        else:
            units.append("<sil>")
    return units, [lab or "<sil>" for lab in labels]


def vectors(sentences):
    from gensim.models import Word2Vec

    m = Word2Vec(sentences, vector_size=50, window=5, min_count=3, sg=1, negative=10, sample=1e-4,
                 epochs=10, workers=2, seed=0)
    words = list(m.wv.index_to_key)
    return Embeddings(words, m.wv.vectors.copy(), np.array([m.wv.get_vecattr(w, "count") for w in words]),
                      "en", "speech")


def score(tokens, text) -> dict:
    """tokens: per utterance, (token, [labels of its segments]); the per-segment accuracy."""
    space = vectors([[t for t, _ in utt] for utt in tokens])
    res = align(space, text, AlignConfig(method="selflearn", gw_start=True))
    top = retrieve(res.mapping, space.vectors, space, text, 1, 10, "cpu")["csls"][:, 0]
    guess = {w: text.words[i] for w, i in zip(space.words, top)}
    right = total = 0
    for utt in tokens:
        for tok, labs in utt:
            for lab in labs:
                if lab in text:
                    total += 1
                    right += guess.get(tok) == lab
    return {"types": len(space), "criterion": float(res.criterion), "segment_accuracy": right / total,
            "segments_scored": total}


def main():
    corpus, text_vec, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    rows = [line.rstrip("\n").split("\t") for line in open(corpus / "segments.tsv", encoding="utf-8")][1:]
    rows = [(str(corpus / r[3]), str(corpus / r[4])) for r in rows if r[2] == "0"]
    with Pool(2) as pool:
        data = pool.map(utterance_units, rows, chunksize=50)
    text = load_vectors(text_vec, language="en")
    result = {"utterances": len(data), "segments": sum(len(u) for u, _ in data)}
    units = [list(zip(u, [[lab] for lab in labs])) for u, labs in data]
    kinds = Counter(("several" if "+" in t else "part" if "#" in t else "word") for u, _ in data for t in u)
    result["unit_kinds"] = dict(kinds)
    result["units"] = score(units, text)
    print("units", result["units"], flush=True)

    from gensim.models.phrases import Phrases

    joined = units
    for _ in range(2):  # two passes join up to four units
        model = Phrases([[t for t, _ in utt] for utt in joined], min_count=5, threshold=10.0, delimiter="_")
        frozen = model.freeze()
        nxt = []
        for utt in joined:
            toks = [t for t, _ in utt]
            merged = frozen[toks]
            # rebuild each merged token's segment labels by walking the constituents
            i, out_utt = 0, []
            for m in merged:
                n = 1
                while "_".join(toks[i:i + n]) != m:
                    n += 1
                labs = [lab for _, ls in utt[i:i + n] for lab in ls]
                out_utt.append((m, labs))
                i += n
            nxt.append(out_utt)
        joined = nxt
    result["joined_tokens"] = sum(len(u) for u in joined)
    result["units+phrases"] = score(joined, text)
    print("units+phrases", result["units+phrases"], flush=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
