"""Offline probe for configuration B: are cross-speaker neighbour pairs that DTW also finds close
(frame-level, on the features) more often the same word? If so, DTW-verified pairs are positives
that B could train on (spoken-term-discovery style) without any word identity.

    PYTHONPATH=. .venv/bin/python docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/dtw_verified_pairs.py STORE

Trains B's view-only encoder (3 epochs, as cross_speaker_pairs.py round 0), takes every training
segment's 5 nearest segments of OTHER speakers (speaker-centred embeddings), scores each pair by
length-normalised DTW over per-speaker mean/variance-normalised feature frames (cosine distance),
and prints the share of same-word pairs at DTW-cost quantiles. Word labels only score. SYNTHETIC speech.
"""
import json
import sys

import numpy as np
import torch

from core.corpus.feature_store import FeatureStore
from core.speech.acoustic import AugmentSettings, ContrastiveAWE, ContrastiveTask
from core.speech.batching import load_frames
from core.speech.clustering import label_ids
from core.speech.runner import split_segments
from core.speech.speech2vec import embed_segments
from core.speech.training import LoopSettings, train

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cross_speaker_pairs import centred  # noqa: E402


def dtw_costs(frames, a, b, chunk=4096):
    """Length-normalised DTW cost (cosine distance per frame pair) of segment pairs (a[i], b[i])."""
    out = np.empty(len(a), dtype=np.float32)
    for s in range(0, len(a), chunk):
        xa, la = frames.pad(a[s:s + chunk])
        xb, lb = frames.pad(b[s:s + chunk])
        xa, xb = torch.nn.functional.normalize(xa, dim=-1), torch.nn.functional.normalize(xb, dim=-1)
        cost = 1 - xa @ xb.transpose(1, 2)                      # [P, Ta, Tb]
        la, lb = torch.as_tensor(la), torch.as_tensor(lb)
        P, Ta, Tb = cost.shape
        D = torch.full((P, Ta + 1, Tb + 1), float("inf"))
        D[:, 0, 0] = 0
        for d in range(2, Ta + Tb + 1):                          # anti-diagonals i + j = d (1-based)
            i = torch.arange(max(1, d - Tb), min(Ta, d - 1) + 1)
            j = d - i
            best = torch.minimum(torch.minimum(D[:, i - 1, j], D[:, i, j - 1]), D[:, i - 1, j - 1])
            D[:, i, j] = cost[:, i - 1, j - 1] + best
        end = D[torch.arange(P), la, lb]
        out[s:s + chunk] = (end / (la + lb)).numpy()
    return out


def speaker_normalised_frames(frames, speakers):
    """Frames with each speaker's mean/variance normalised (a standard step in term discovery)."""
    normed = frames.frames.clone()
    seg_speaker = np.repeat(speakers, frames.lengths_np)
    for s in np.unique(speakers):
        m = torch.from_numpy(seg_speaker == s)
        normed[m] = (normed[m] - normed[m].mean(0)) / (normed[m].std(0) + 1e-5)
    return type(frames)(normed, frames.offsets, frames.lengths, frames.lengths_np)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    store = FeatureStore.open(sys.argv[1])
    frames = load_frames(store, 80, None)
    train_idx, _ = split_segments(store, True)
    labels, speakers = label_ids(store.labels), np.asarray(store.speakers)
    dtw_frames = speaker_normalised_frames(frames, speakers)
    model = ContrastiveAWE(store.dim, "conv", 128, 64, 0.1)
    task = ContrastiveTask(model, frames, train_idx, AugmentSettings(0.2, 0.2, 0.1, 0.1, 80), 256, 50, 0)
    train(task, LoopSettings(epochs=3, optimizer="adam", lr=1e-3, device="cpu", seed=0, checkpoints=False,
                             name="views"), "/tmp/unused-checkpoints")
    model.eval()
    emb = embed_segments(model.encode, frames, batch_size=4096, device=torch.device("cpu"))
    e = torch.from_numpy(centred(emb[train_idx], speakers[train_idx]))
    codes = torch.from_numpy(np.unique(speakers[train_idx], return_inverse=True)[1])
    k, n = 5, len(e)
    nbr = torch.empty(n, k, dtype=torch.long)
    for i in range(0, n, 2048):
        sims = e[i:i + 2048] @ e.T
        sims[codes[i:i + 2048, None] == codes[None, :]] = -2
        nbr[i:i + 2048] = sims.topk(k, dim=1).indices
    a = np.repeat(np.arange(n), k)
    b = nbr.reshape(-1).numpy()
    keep = a < b
    a, b = a[keep], b[keep]
    lab = labels[train_idx]
    same = lab[a] == lab[b]
    cost = dtw_costs(dtw_frames, train_idx[a], train_idx[b])
    report = {"store": sys.argv[1], "pairs": int(len(a)), "precision_all": float(same.mean()), "by_dtw_quantile": []}
    print(f"{len(a)} cross-speaker top-{k} pairs, same word {same.mean():.3f}")
    for q in (0.5, 0.25, 0.1, 0.05, 0.02):
        t = np.quantile(cost, q)
        m = cost <= t
        covered = len(np.unique(np.concatenate([a[m], b[m]]))) / n
        row = {"dtw_quantile": q, "pairs": int(m.sum()), "precision": float(same[m].mean()),
               "segments_covered": covered}
        report["by_dtw_quantile"].append(row)
        print(json.dumps(row), flush=True)
    with open("/tmp/dtw_pairs.json", "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
