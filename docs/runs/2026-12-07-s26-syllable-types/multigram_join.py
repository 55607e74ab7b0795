"""Join syllable-like stretches into word-like units by a multigram model over their learnt types
(session 26; a diagnosis, labels only score)

Each pause-free run of adjacent training stretches (a finished run's learnt types) is segmented by Viterbi
into units of 1..MAXN consecutive types under a unigram model of units (multigrams, Deligne & Bimbot 1995),
re-estimated from its own segmentation for three rounds; each unit of L types pays BETA × (L - 1) nats, since
maximum likelihood alone prefers the longest units. A cut the segmentation joins is scored against whether
it lies inside a word (both stretches overlap most the same TextGrid word token). SYNTHETIC speech.

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 multigram_join.py RUN_OUT_DIR MAXN BETA[,BETA...] OUT.json
"""
import json
import sys
from collections import Counter
from math import log
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from boundary_probe import learnt_types, word_tokens  # noqa: E402



def viterbi(t: list[int], logp: dict, floor: float, maxn: int, beta: float) -> list[int]:
    """End positions of the best segmentation of type sequence `t` into known units."""
    n = len(t)
    best, back = [0.0] + [-1e18] * n, [0] * (n + 1)
    for e in range(1, n + 1):
        for length in range(1, min(maxn, e) + 1):
            lp = logp.get(tuple(t[e - length:e]), floor if length == 1 else None)
            if lp is not None and best[e - length] + lp - beta * (length - 1) > best[e]:
                best[e], back[e] = best[e - length] + lp - beta * (length - 1), length
    ends, e = [], n
    while e > 0:
        ends.append(e)
        e -= back[e]
    return sorted(ends)


def main():
    out_dir, maxn, betas, out_json = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    run, store, words, train, types = learnt_types(out_dir)
    utt, tok = np.asarray(store.utterance_ids), word_tokens(store, train, words)
    start, end = np.asarray(store.table.start, float), np.asarray(store.table.end, float)
    runs, current = [], [int(train[0])]
    for i in train[1:].tolist():  # a pause (> 5 ms of silence) always ends a run: it lies between words
        if i - 1 == current[-1] and utt[i] == utt[i - 1] and start[i] - end[i - 1] <= 0.005:
            current.append(i)
        else:
            runs.append(current)
            current = [i]
    runs.append(current)
    seqs = [[int(types[i]) for i in r] for r in runs]
    inner = np.array([tok[r[k]] == tok[r[k + 1]] and tok[r[k]] >= 0 for r in runs for k in range(len(r) - 1)])
    result = {"run": str(run), "maxn": maxn, "runs": len(runs), "cuts": int(len(inner)),
              "inner_share": float(inner.mean()), "by_beta": {}}
    for beta in [float(b) for b in betas.split(",")]:
        counts = Counter(tuple(t[k:k + n]) for t in seqs for n in range(1, maxn + 1) for k in range(len(t) - n + 1))
        rounds = []
        for _ in range(3):
            total = sum(counts.values())
            logp = {u: log(c / total) for u, c in counts.items()}
            counts, joined = Counter(), []
            for t in seqs:
                ends = viterbi(t, logp, log(1 / total), maxn, beta)
                cut_at = set(ends)
                joined.extend((k + 1) not in cut_at for k in range(len(t) - 1))
                prev = 0
                for e in ends:
                    counts[tuple(t[prev:e])] += 1
                    prev = e
            j = np.array(joined)
            rounds.append({"units": len(counts), "joined_share": float(j.mean()),
                           "precision": float(inner[j].mean()) if j.any() else 0.0,
                           "recall": float((inner & j).sum() / inner.sum())})
            print(beta, rounds[-1], flush=True)
        result["by_beta"][str(beta)] = rounds
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
