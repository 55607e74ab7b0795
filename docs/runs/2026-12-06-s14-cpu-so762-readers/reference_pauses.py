"""Added after scoring (not in config.json): how often the reference words of each corpus are
separated by a pause, to read why the same reader defaults score higher on so762 than on Mboshi.
Per corpus: words per utterance, word duration, and the share of within-utterance word junctions
with a gap between one word's end and the next word's start (>= 0.1 s, the readers' min_pause; > 5 ms).
so762: build/so762/segments_test.tsv (forced alignment); Mboshi dev: the corpus's silver word times.
Writes the key "reference_pauses_added_after_scoring" into metrics.json.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python docs/runs/2026-12-06-s14-cpu-so762-readers/reference_pauses.py
"""
import sys, json
from pathlib import Path

import numpy as np
ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
from core.segments import SegmentTable
from core.corpus.readers import read_corpus
from core.discovery.zrc_eval import reference_from_table
out = {}
for name, table in (("so762_test", SegmentTable.load(ROOT / "build/so762/segments_test.tsv")),
                    ("mboshi_dev", read_corpus(ROOT.parent / "shared/data/speech/mboshi", "mboshi", split="dev")[0])):
    ref = reference_from_table(table)
    gaps = []; nw = []; dur = []
    for u, ws in ref.words.items():
        nw.append(len(ws))
        dur += [b - a for a, b, _ in ws]
        gaps += [ws[i + 1][0] - ws[i][1] for i in range(len(ws) - 1)]
    g = np.array(gaps)
    out[name] = {"utterances": len(ref.words), "words": int(sum(nw)), "words_per_utterance": round(float(np.mean(nw)), 2),
                 "word_s_mean": round(float(np.mean(dur)), 4), "word_s_median": round(float(np.median(dur)), 4),
                 "inner_word_junctions": len(g), "share_junctions_gap_ge_0.1s": round(float((g >= 0.1).mean()), 4),
                 "share_junctions_gap_gt_0": round(float((g > 0.005).mean()), 4)}
print(json.dumps(out, indent=1))
mfile = Path(__file__).resolve().parent / "metrics.json"
m = json.loads(mfile.read_text())
m["reference_pauses_added_after_scoring"] = out
mfile.write_text(json.dumps(m, indent=2) + "\n")
