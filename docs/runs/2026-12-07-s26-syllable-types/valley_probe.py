"""Do energy-valley cuts inside a word look different from cuts between words?  (session 26; a diagnosis)

The energy reader's every-valley cut (min = max = 0.08 s) of the first N training-voice utterances, and at
each cut between adjacent stretches: the valley's depth below the lower of the two stretches' peaks, its
level below the utterance's loudest frame, the two stretches' lengths and the silent gap. Labels (TextGrid
words) only say which cuts lie inside a word. Reports each cue's ROC AUC for "inside a word" (a low value
meaning inside) and its means. SYNTHETIC speech.

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 valley_probe.py CORPUS_DIR N OUT.json
"""
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from sklearn.metrics import roc_auc_score

from core.corpus.textgrid import read_textgrid_words
from core.discovery.term_discovery import HOP, SR, energy_segments, log_energy


def most_overlapped(words, s, t) -> int:
    best, overlap = -1, 0.0
    for k, (ws, we) in enumerate(words):
        o = min(t, we) - max(s, ws)
        if o > overlap:
            best, overlap = k, o
    return best


def main():
    corpus, n, out_json = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    rows = [line.rstrip("\n").split("\t") for line in open(corpus / "segments.tsv", encoding="utf-8")][1:]
    rows = [r for r in rows if r[2] == "0"][:n]
    cues, inner = [], []
    for r in rows:
        x, sr = sf.read(corpus / r[3])
        assert sr == SR
        words = [(s, e) for s, e, lab in read_textgrid_words(corpus / r[4], len(x) / SR, "words") if lab]
        spans = energy_segments(x, min_s=0.08, max_s=0.08)
        e = log_energy(x)
        ids = [most_overlapped(words, s, t) for s, t in spans]
        for k in range(len(spans) - 1):
            (s0, t0), (s1, t1) = spans[k], spans[k + 1]
            a, c, b = (int(round(v * SR / HOP)) for v in (s0, s1, t1))
            c = min(c, len(e) - 1)
            depth = min(e[a:c].max(), e[c:b].max()) - e[c]
            cues.append((depth, e[c] - e.max(), t0 - s0, t1 - s1, s1 - t0))
            inner.append(ids[k] == ids[k + 1] and ids[k] >= 0)
    f, y = np.array(cues), np.array(inner)
    result = {"utterances": len(rows), "cuts": len(y), "inner_share": float(y.mean())}
    for j, name in enumerate(["depth_db", "level_below_max_db", "left_s", "right_s", "gap_s"]):
        result[name] = {"auc_low_means_inner": float(roc_auc_score(y, -f[:, j])),
                        "mean_inner": float(f[y, j].mean()), "mean_between": float(f[~y, j].mean())}
    print(json.dumps(result, indent=1))
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
