"""Candidate 2 (per-speaker feature normalisation at the encoder input): how far apart are the
voices' frame statistics after the feature store's per-recording CMVN? Per speaker: mean and std of
each MFCC dimension over the frames of its word segments (what the encoder sees). SYNTHETIC speech.

    PYTHONPATH=. .venv/bin/python docs/runs/2026-11-25-s5-cpu-b-speaker-adversary/speaker_frame_stats.py [STORE]
"""
import sys
import numpy as np
from core.corpus.feature_store import FeatureStore
from core.speech.batching import load_frames

store = FeatureStore.open(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bexp/run/stages/features-textgrid-8d492a639580/store")
frames = load_frames(store, 80, None)
x = frames.frames.numpy()
spk = np.repeat(np.asarray(store.speakers), frames.lengths_np)
names = sorted(set(store.speakers))
means = np.stack([x[spk == s].mean(0) for s in names])
stds = np.stack([x[spk == s].std(0) for s in names])
print(f"{len(names)} speakers, {x.shape[0]} frames, {x.shape[1]} dims; all frames: mean |mu| {np.abs(x.mean(0)).mean():.3f}, mean std {x.std(0).mean():.3f}")
print("per-speaker mean, per dim (rows: speakers):")
for s, m in zip(names, means):
    print(f"  {s:>12} " + " ".join(f"{v:+.2f}" for v in m))
print("per-speaker std, per dim:")
for s, m in zip(names, stds):
    print(f"  {s:>12} " + " ".join(f"{v:.2f}" for v in m))
between = means.std(0)
print(f"spread of the speaker means across speakers (std over speakers, per dim): mean {between.mean():.3f}, max {between.max():.3f}")
print(f"spread of the speaker stds across speakers: mean {stds.std(0).mean():.3f}; ratio of largest to smallest std per dim: median {np.median(stds.max(0) / stds.min(0)):.2f}")
