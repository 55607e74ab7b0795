"""How word-like are a finished unit-skipgram run's types?  (session 23; labels only score)

For an experiment output folder with one speech stage: each training segment's type (the run's grouping,
joined types when the run joined them) and each held-out segment's placed type (nearest prototype, as the
evaluation places it) against the segment's word (its label for TextGrid segments; the word it overlaps
most for VAD / energy segments, as the evaluation labels them). Reports
  purity_word      token-weighted share of a type's segments that carry its majority word;
  purity_speaker   the same for speakers (a type split by voice has high speaker purity);
  ceiling_test     share of labelled held-out segments whose placed type's majority word (from training)
                   is their word: what a perfect type → word map would classify right;
  words_covered    distinct words that are the majority word of some type (of the 1,000 most frequent);
  supervised_map   held-out classification (CSLS) through a map fitted WITH labels: orthogonal Procrustes
                   on (type, its majority word) pairs onto the run's English text space — whether the
                   type space is linearly the text's shape at all (a diagnosis, not a result).

    PYTHONPATH=. python3 diag_groups.py RUN_OUT_DIR OUT.json
"""

import glob
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from core.atomic import load_safetensors
from core.corpus.feature_store import FeatureStore
from core.pipeline import speech_eval as ev
from core.speech.runner import SEGMENTS_FILE, split_segments
from core.speech.type_space import ASSIGN_FILE, placement_similarities


def purity(types: np.ndarray, values: list) -> float:
    by = defaultdict(Counter)
    for t, v in zip(types, values):
        by[int(t)][v] += 1
    return sum(c.most_common(1)[0][1] for c in by.values()) / max(1, len(types))


def placed_rows(types: np.ndarray, names: list, space) -> np.ndarray:
    """Rows of the type space (types.vec) of grouping type ids."""
    return np.array([space.index[names[int(t)]] for t in types], np.int64)


def main():
    out_dir, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
    store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
    train, test = split_segments(store, exclude_held_out=True)
    train, test = np.asarray(train, np.int64), np.asarray(test, np.int64)
    if any(store.labels[i] for i in train[:100]):
        label = lambda rows: [store.labels[i] for i in rows]  # noqa: E731
    else:
        found = glob.glob(f"{out_dir}/stages/features-textgrid-*/store")
        if found:
            words = FeatureStore.open(found[0])
        else:  # the TextGrids themselves (no feature store needed), read from the corpus stage's folder
            from types import SimpleNamespace

            from core.corpus.textgrid import read_textgrid_corpus

            corpus = json.loads(Path(glob.glob(f"{out_dir}/stages/corpus-*/stage.json")[0]).read_text())
            words = SimpleNamespace(table=read_textgrid_corpus(corpus["summary"]["path"])[0])
        label = lambda rows: ev.overlap_labels(store.table, rows, words)  # noqa: E731
    tensors = load_safetensors(run / SEGMENTS_FILE)
    type_of = np.asarray(tensors["type_of"])
    if len(type_of) == len(store):
        train_types = type_of[train]
    else:
        train_types = type_of
    train_words = label(train)
    speakers = np.asarray(store.speakers)
    arrays = load_safetensors(run / ASSIGN_FILE)
    enc = np.asarray(tensors["embedding"])[test]
    placed = placement_similarities(enc, arrays["assign_centroids"], arrays.get("assign_prototypes")).argmax(1)
    majority = {}
    by = defaultdict(Counter)
    for t, w in zip(train_types, train_words):
        by[int(t)][w] += 1
    majority = {t: c.most_common(1)[0][0] for t, c in by.items()}
    test_words = label(test)
    labelled = [(p, w) for p, w in zip(placed, test_words) if w]
    top = [w for w, _ in Counter(w for w in train_words if w).most_common(1000)]
    result = {"run": str(run), "train_segments": int(len(train)), "test_segments": int(len(test)),
              "types": int(len(set(train_types.tolist()))),
              "purity_word": purity(train_types, train_words),
              "purity_speaker": purity(train_types, speakers[train].tolist()),
              "ceiling_test": float(np.mean([majority.get(int(p)) == w for p, w in labelled])),
              "words_covered_top1000": len(set(majority.values()) & set(top)),
              "note": "type_of indexes " + ("all segments" if len(type_of) == len(store) else "training segments")}
    text_vec = glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")
    if text_vec:
        from core.alignment import AlignConfig, align
        from core.vectors import load_vectors

        speech_types = load_vectors(run / "types.vec", modality="speech")
        text = load_vectors(text_vec[0], language="en")
        names = json.loads((run / "grouping.json").read_text())["names"]
        pairs = [(speech_types.index[names[t]], text.index[w]) for t, w in majority.items()
                 if w in text and names[t] in speech_types.index]
        fit = align(speech_types, text, AlignConfig(method="supervised", device="auto"),
                    seed_pairs=np.asarray(pairs, np.int64))
        sample = np.sort(np.random.default_rng(0).choice(len(test), min(20000, len(test)), replace=False))
        queries = speech_types.vectors[placed_rows(placed[sample], names, speech_types)]
        top = ev.retrieve(fit.mapping, queries, speech_types, text, 1, 10)
        truth = [test_words[i] for i in sample]
        result["supervised_map"] = ev.classification_scores(top, truth, text)
        result["supervised_pairs"] = len(pairs)
    print(json.dumps(result, indent=1))
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
