"""Stretch types named with their neighbours' types  (session 26; a diagnosis, labels only score)

Each training stretch's learnt type t (a finished run's grouping: joined types) is renamed to
(previous type, t, next type) when that triple occurs at least MIN times, else (t, next type) when that pair
does, else t — so "un" of "unto" and "un" of "under" can part by what follows. Then session 23's oracle
scoring (word2vec over the stream, the experiments' unsupervised map, per-stretch accuracy on the training
voices). MODE: cur (control) | next | both. With BASE = kK (an ORACLE base instead of the learnt types):
session 25's perfect units grouped by sound into K groups (oracle_merge_noise.py's k-means mode). SYNTHETIC speech.

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 context_types.py RUN_OUT_DIR MODE MIN OUT.json [BASE]
"""
import glob
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

RUNS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(RUNS / "2026-12-07-s23-energy-vad"))
sys.path.insert(0, str(RUNS / "2026-12-07-s25-context"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from diag_groups import purity  # noqa: E402
from oracle_units import score  # noqa: E402

from boundary_probe import learnt_types  # noqa: E402

from core.atomic import load_safetensors  # noqa: E402
from core.pipeline import speech_eval as ev  # noqa: E402
from core.speech.runner import SEGMENTS_FILE  # noqa: E402
from core.vectors import load_vectors  # noqa: E402


def context_named(types: np.ndarray, utt: np.ndarray, mode: str, min_count: int) -> list[str]:
    """Each stretch's type with its neighbours' types (same utterance) where that n-gram is frequent."""
    same_prev = np.r_[False, utt[1:] == utt[:-1]]
    same_next = np.r_[utt[1:] == utt[:-1], False]
    prev = np.where(same_prev, np.r_[-1, types[:-1]], -1).tolist()
    nxt = np.where(same_next, np.r_[types[1:], -1], -1).tolist()
    cur = types.tolist()
    tri, bi = Counter(zip(prev, cur, nxt)), Counter(zip(cur, nxt))
    tokens = []
    for p, c, n in zip(prev, cur, nxt):
        if mode == "both" and tri[(p, c, n)] >= min_count:
            tokens.append(f"{p}<{c}>{n}")
        elif mode in ("both", "next") and bi[(c, n)] >= min_count:
            tokens.append(f"{c}>{n}")
        else:
            tokens.append(str(c))
    return tokens


def main():
    out_dir, mode, min_count, out_json = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    base = sys.argv[5] if len(sys.argv) > 5 else "learnt"
    t0 = time.time()
    run, store, words, train, learnt = learnt_types(out_dir)
    if base == "learnt":
        labels = ev.overlap_labels(store.table, train, words)
        types = learnt[train]
    else:  # ORACLE: perfect units grouped by sound (session 25)
        from oracle_merge_noise import grouped, oracle_units

        units, labels = oracle_units(store.table, train, words)
        enc = np.asarray(load_safetensors(run / SEGMENTS_FILE)["embedding"], dtype=np.float64)[train]
        enc /= np.linalg.norm(enc, axis=1, keepdims=True).clip(1e-9)
        types = np.unique(grouped(units, enc, int(base[1:]))[0], return_inverse=True)[1]
    labels = [lab or "<sil>" for lab in labels]
    utt = np.asarray(store.utterance_ids)[train]
    tokens = context_named(np.asarray(types), utt, mode, min_count)
    # one sentence of (token, [its word]) per utterance; an utterance's rows are contiguous in the store
    cuts = np.flatnonzero(utt[1:] != utt[:-1]) + 1
    pairs = [(tok, [lab]) for tok, lab in zip(tokens, labels)]
    stream = [pairs[a:b] for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(pairs)])]
    text = load_vectors(glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")[0], language="en")
    result = {"run": str(run), "base": base, "mode": mode, "min_count": min_count, "stretches": len(tokens),
              "types": len(set(tokens)), "purity_word_types": purity(np.asarray(types), labels),
              "purity_word": purity(np.unique(tokens, return_inverse=True)[1], labels)}
    print(result, flush=True)
    result["units"] = score(stream, text)
    result["seconds"] = round(time.time() - t0)
    print(json.dumps(result, indent=1), flush=True)
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
