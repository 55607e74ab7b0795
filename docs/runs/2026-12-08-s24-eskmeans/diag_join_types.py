"""Would joining types that always follow each other make the every-valley stream more word-like?  (session 24)

For a finished run: its types in order within each utterance (training: the run's grouping; held-out: the
type each segment is placed in, as the evaluation places it). A pair of adjacent types (a, b) is joined into
one token when P(b follows | a) and P(a precedes | b) are both at least TAU over the training utterances
(parts of one word follow each other almost always; a word's end and the next word's start do not); joined
greedily left to right, PASSES times (so up to 2**PASSES types a token). word2vec (the experiments' skip-gram
settings) on the joined training stream; then, as diag_groups.py, a map fitted WITH labels (Procrustes on each
token and its segments' majority word) and the unsupervised aligner (selflearn + GW starts), each scored per
held-out segment: right when its token's nearest English word (CSLS) is the segment's word. TAU and PASSES
fixed before looking (0.5, 2). Labels only score and fit the labelled map.

    PYTHONPATH=. python3 diag_join_types.py RUN_OUT_DIR OUT.json
"""
import glob
import importlib.util
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from core.alignment import AlignConfig, align
from core.atomic import load_safetensors
from core.corpus.feature_store import FeatureStore
from core.embeddings import Embeddings
from core.pipeline import speech_eval as ev
from core.speech.runner import SEGMENTS_FILE
from core.speech.type_space import ASSIGN_FILE, placement_similarities

TAU, PASSES = 0.5, 2
spec = importlib.util.spec_from_file_location("diag_criterion", Path(__file__).with_name("diag_criterion.py"))
dc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dc)


def utterance_streams(rows, types, utterance, position):
    """{utterance: [(segment row, type), ...] in spoken order}."""
    streams = defaultdict(list)
    for r, t in zip(rows, types):
        streams[utterance[r]].append((int(position[r]), int(r), str(t)))
    return {u: [(r, t) for _, r, t in sorted(v)] for u, v in streams.items()}


def joinable(streams):
    """Adjacent type pairs each of which nearly always comes with the other (TAU both ways)."""
    after, before, pair = Counter(), Counter(), Counter()
    for seq in streams.values():
        toks = [t for _, t in seq]
        for a, b in zip(toks, toks[1:]):
            pair[a, b] += 1
            after[a] += 1
            before[b] += 1
    return {p for p, n in pair.items() if n >= 5 and n / after[p[0]] >= TAU and n / before[p[1]] >= TAU}


def join(streams, pairs):
    """Greedy left-to-right joining of `pairs`: {utterance: [([segment rows], token), ...]}."""
    out = {}
    for u, seq in streams.items():
        merged, i = [], 0
        while i < len(seq):
            rows, tok = seq[i][0], seq[i][1]
            if i + 1 < len(seq) and (tok, seq[i + 1][1]) in pairs:
                rows, tok, i = rows + seq[i + 1][0], f"{tok}_{seq[i + 1][1]}", i + 2
            else:
                i += 1
            merged.append((rows, tok))
        out[u] = merged
    return out


def main():
    out_dir, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    # diag_groups' store, labels and placement, captured from its own run
    labels, real_overlap = [], ev.overlap_labels

    def keep_labels(table, rows, words):
        labels.append((list(rows), real_overlap(table, rows, words)))
        return labels[-1][1]

    ev.overlap_labels = keep_labels
    try:
        seen = dc.run_diag_groups(out_dir, out_json.with_suffix(".groups.json"))
    finally:
        ev.overlap_labels = real_overlap
    (train, train_words), (test, test_words) = labels[0], labels[1]
    run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
    store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
    utterance, position = np.asarray(store.table.utterance, dtype=object), store.table.position
    tensors = load_safetensors(run / SEGMENTS_FILE)
    type_of = np.asarray(tensors["type_of"])
    arrays = load_safetensors(run / ASSIGN_FILE)
    placed = placement_similarities(np.asarray(tensors["embedding"])[test], arrays["assign_centroids"],
                                    arrays.get("assign_prototypes")).argmax(1)
    word_of = dict(zip(train, train_words)) | dict(zip(test, test_words))
    train_streams = utterance_streams(train, type_of[train], utterance, position)
    test_streams = utterance_streams(test, placed, utterance, position)
    train_streams = {u: [([r], t) for r, t in s] for u, s in train_streams.items()}
    test_streams = {u: [([r], t) for r, t in s] for u, s in test_streams.items()}
    result = {"tau": TAU, "passes": PASSES}
    for p in range(PASSES):
        pairs = joinable({u: [(None, t) for _, t in s] for u, s in train_streams.items()})
        train_streams, test_streams = join(train_streams, pairs), join(test_streams, pairs)
        result[f"pass {p + 1}"] = {"pairs": len(pairs),
                                   "train_tokens": sum(len(s) for s in train_streams.values())}
    from gensim.models import Word2Vec
    sentences = [[t for _, t in s] for s in train_streams.values()]
    model = Word2Vec(sentences, vector_size=50, window=5, min_count=3, sg=1, negative=10, sample=1e-4, epochs=10,
                     workers=2, seed=0)
    words = list(model.wv.index_to_key)
    space = Embeddings(words, model.wv.vectors.copy(), np.array([model.wv.get_vecattr(w, "count") for w in words]),
                       "en", "speech")
    text = seen["tgt"]
    majority = defaultdict(Counter)
    for s in train_streams.values():
        for rows, tok in s:
            for r in rows:
                if word_of.get(r):
                    majority[tok][word_of[r]] += 1
    token_word = {t: c.most_common(1)[0][0] for t, c in majority.items()}
    purity = sum(c.most_common(1)[0][1] for c in majority.values()) / sum(sum(c.values()) for c in majority.values())
    result["types"] = len(space)
    result["token_word_purity"] = purity
    tests = [(tok, word_of.get(r)) for s in test_streams.values() for rows, tok in s for r in rows]
    tests = [(tok, w) for tok, w in tests if w and tok in space.index]
    rng = np.random.default_rng(0)
    sample = [tests[i] for i in np.sort(rng.choice(len(tests), min(20000, len(tests)), replace=False))]
    queries = space.vectors[[space.index[t] for t, _ in sample]]
    truth = [w for _, w in sample]
    pairs = np.array([(space.index[t], text.index[w]) for t, w in token_word.items()
                      if t in space.index and w in text], np.int64)
    for name, cfg, kw in [("labelled map", AlignConfig(method="supervised"), {"seed_pairs": pairs}),
                          ("unsupervised", AlignConfig(method="selflearn", gw_start=True), {})]:
        fit = align(space, text, cfg, **kw)
        top = ev.retrieve(fit.mapping, queries, space, text, 1, 10)
        result[name] = {"criterion": float(fit.criterion), **ev.classification_scores(top, truth, text)}
        print(name, result[name], flush=True)
    print(json.dumps(result, indent=1))
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
