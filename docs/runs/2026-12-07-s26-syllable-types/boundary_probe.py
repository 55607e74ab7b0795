"""Can the learnt stretch types tell a word's inner cuts from cuts between words?  (session 26; a diagnosis)

For every pair of adjacent training stretches of one utterance (every-valley cut, a finished run's learnt
types), whether the cut lies inside a word (both stretches overlap most the same TextGrid word token: labels
only score) against statistics a word segmenter without labels could use: the type bigram's pointwise mutual
information, forward and backward transition probabilities (Saffran-style), and the silent gap between the
stretches. Reports each statistic's ROC AUC and the precision / recall of joining the top 10 / 5 / 2 % of
cuts by it. SYNTHETIC speech.

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 boundary_probe.py RUN_OUT_DIR OUT.json
"""
import glob
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from core.atomic import load_safetensors
from core.corpus.feature_store import FeatureStore
from core.speech.runner import SEGMENTS_FILE, split_segments


def word_tokens(store, rows, words) -> np.ndarray:
    """Index (in the word store) of the word token each stretch overlaps most; -1 for none."""
    by_audio = defaultdict(list)
    wt = words.table
    for k, (a, s, e, lab) in enumerate(zip(wt.audio, wt.start, wt.end, wt.label)):
        if lab:
            by_audio[str(Path(a).resolve())].append((float(s), float(e), k))
    tab, cache, tok = store.table, {}, np.full(len(store), -1)
    for i in rows:
        a = tab.audio[i]
        if a not in cache:
            cache[a] = by_audio.get(str(Path(a).resolve()), [])
        s, e, best, overlap = float(tab.start[i]), float(tab.end[i]), -1, 0.0
        for ws, we, k in cache[a]:
            o = min(e, we) - max(s, ws)
            if o > overlap:
                best, overlap = k, o
        tok[i] = best
    return tok


def learnt_types(out_dir: Path):
    """(run folder, stretch store, word store, training rows, each store row's learnt type or -1)."""
    run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
    store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
    words = FeatureStore.open(glob.glob(f"{out_dir}/stages/features-textgrid-*/store")[0])
    train = np.asarray(split_segments(store, exclude_held_out=True)[0], np.int64)
    type_of = np.asarray(load_safetensors(run / SEGMENTS_FILE)["type_of"])
    types = np.full(len(store), -1)
    types[train] = type_of if len(type_of) == len(train) else type_of[train]
    return run, store, words, train, types


def main():
    out_dir, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    run, store, words, train, types = learnt_types(out_dir)
    utt = np.asarray(store.utterance_ids)
    tok = word_tokens(store, train, words)
    is_train = np.zeros(len(store), bool)
    is_train[train] = True
    adj = np.flatnonzero(is_train[:-1] & is_train[1:] & (utt[1:] == utt[:-1]))  # the store is in utterance order
    inner = (tok[adj] == tok[adj + 1]) & (tok[adj] >= 0)
    gap = np.array([float(store.table.start[i + 1]) - float(store.table.end[i]) for i in adj])
    a, b = types[adj].tolist(), types[adj + 1].tolist()
    pairs, left, right, n = Counter(zip(a, b)), Counter(a), Counter(b), len(adj)
    stats = {"pmi": np.array([np.log(pairs[p] * n / (left[p[0]] * right[p[1]])) for p in zip(a, b)]),
             "tp_forward": np.array([pairs[p] / left[p[0]] for p in zip(a, b)]),
             "tp_backward": np.array([pairs[p] / right[p[1]] for p in zip(a, b)]),
             "minus_gap": -gap}
    result = {"run": str(run), "cuts": n, "inner_share": float(inner.mean()),
              "gap_share": float((gap > 0.005).mean()), "inner_share_of_gaps": float(inner[gap > 0.005].mean())}
    for name, v in stats.items():
        result[name] = {"auc": float(roc_auc_score(inner, v))}
        for top in (0.10, 0.05, 0.02):
            chosen = v > np.quantile(v, 1 - top)
            result[name][f"top{top:.2f}"] = {"precision": float(inner[chosen].mean()),
                                             "recall": float(inner[chosen].sum() / inner.sum())}
    print(json.dumps(result, indent=1))
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
