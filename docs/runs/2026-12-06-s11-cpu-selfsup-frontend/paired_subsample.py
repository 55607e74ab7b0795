"""Spread of the DTW AP difference ssl − mfcc on Mboshi dev: 200 random halves of the segments
(pairs with both segments in the half), the same halves for both front ends. Halves make the
spread wider than that of the full sample (about √2 in standard deviation): a conservative check.

    OMP_NUM_THREADS=1 .venv/bin/python docs/runs/2026-12-06-s11-cpu-selfsup-frontend/paired_subsample.py
"""

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from core.corpus.readers import read_corpus  # noqa: E402
from core.discovery.same_different import (average_precision, cross_speaker_pairs, dtw_distances,  # noqa: E402
                                           same_pairs)
from core.discovery.segments_io import cached_frames, sample_cross_speaker  # noqa: E402

cache = ROOT / "build" / "discovery"
full, _ = read_corpus(ROOT.parent / "shared" / "data" / "speech" / "mboshi", "mboshi", split="dev")
table = sample_cross_speaker(full, 2000, seed=0)
labels, speakers = list(table.label), list(table.speaker)
keys = {"ssl@L4": "mboshi_n2000_s0_ssl-mboshi_s11-f28e5b440b-L4", "mfcc": "mboshi_n2000_s0_mfcc"}
a, b = cross_speaker_pairs(speakers)
same = same_pairs(labels, a, b)
dist = {}
for name, key in keys.items():
    frames = cached_frames(cache, key, None)
    assert all(len(f) for f in frames) and len(frames) == len(labels)
    dist[name] = dtw_distances(frames, a, b)
full_ap = {n: average_precision(d, same) for n, d in dist.items()}
rng = np.random.default_rng(0)
diffs = []
for _ in range(200):
    keep = np.zeros(len(labels), bool)
    keep[rng.choice(len(labels), len(labels) // 2, replace=False)] = True
    m = keep[a] & keep[b]
    diffs.append(average_precision(dist["ssl@L4"][m], same[m]) - average_precision(dist["mfcc"][m], same[m]))
diffs = np.array(diffs)
out = {"ap_dtw_full": full_ap, "diff_full": full_ap["ssl@L4"] - full_ap["mfcc"],
       "halves": 200, "diff_mean": float(diffs.mean()), "diff_p2_5": float(np.percentile(diffs, 2.5)),
       "diff_p97_5": float(np.percentile(diffs, 97.5)), "share_ssl_above": float((diffs > 0).mean())}
print(json.dumps(out, indent=2))
(Path(__file__).parent / "paired_subsample.json").write_text(json.dumps(out, indent=2) + "\n")
