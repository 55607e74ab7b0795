"""Positives for the acoustic encoder from the audio alone: cross-speaker pairs verified by DTW.

Configurations B, VAD and F have no word identities, and an encoder trained only on augmented
views of each segment separates words poorly across speakers (held-out same-different AP 0.38 at
the demo's scale, against ~0.9 when identities drive it in A). Spoken-term discovery supplies what
is missing: two stretches of speech by different speakers that match frame by frame are very
likely the same word. Each round (`mine_pair_groups`):

1. embed the training segments and centre each speaker's embeddings;
2. take every segment's `NEIGHBOURS` nearest segments of *other* speakers (same-word share of
   these candidates: 0.28);
3. score each candidate pair by length-normalised DTW over speaker-normalised feature frames and
   keep the lowest-cost `KEEP_SHARE` (same word: 0.88, covering 41 % of the segments);
4. join the kept pairs into groups (union-find) and drop groups larger than `MAX_GROUP` (chains
   through a frequent word).

The encoder then trains further with "another member of my group" as the positive, exactly as A
does with identities. Measured at the demo's scale (50k tokens, 10 voices, SYNTHETIC), two rounds:
held-out AP 0.381 → 0.491 → 0.614, held-out k-means purity 0.48 → 0.67 → 0.73
(docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/). Word labels are never read here.
"""

from __future__ import annotations

import numpy as np
import torch

from core.speech.batching import SegmentFrames
from core.vectors import unit_rows

NEIGHBOURS = 5
KEEP_SHARE = 0.25
MAX_GROUP = 100


def pairing_groups(speakers, utterance_ids) -> tuple[np.ndarray, int]:
    """(one group id per segment, how many segments had no speaker): the segment's speaker, or,
    for a segment whose store gives none (e.g. a flat folder read by the vad reader), its own
    recording ("recording:N") — so normalisation is per recording and pairs are mined across
    recordings, which still pairs a word said twice by one speaker in two recordings."""
    groups = np.array([f"speaker:{s}" if s is not None else f"recording:{u}"
                       for s, u in zip(speakers, np.asarray(utterance_ids))], dtype=str)
    return groups, sum(1 for s in speakers if s is None)


def speaker_centred(emb: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """Unit rows with each speaker's mean removed, then unit length again."""
    e = unit_rows(emb).copy()
    for s in np.unique(speakers):
        rows = speakers == s
        e[rows] -= e[rows].mean(0)
    return unit_rows(e)


def cross_speaker_neighbours(emb: np.ndarray, speakers: np.ndarray, k: int = NEIGHBOURS,
                             chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a, b), a < b, where b is among a's `k` most similar rows of another speaker (or a
    among b's); memory O(chunk × n)."""
    x = torch.from_numpy(np.ascontiguousarray(emb, dtype=np.float32))
    codes = torch.from_numpy(np.unique(speakers, return_inverse=True)[1])
    n = len(x)
    k = min(k, n - 1)
    if k < 1:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    nearest = torch.empty(n, k, dtype=torch.long)
    for start in range(0, n, chunk):
        sims = x[start:start + chunk] @ x.T
        sims[codes[start:start + chunk, None] == codes[None, :]] = -3.0  # never the same speaker
        nearest[start:start + chunk] = sims.topk(k, dim=1).indices
    a = np.repeat(np.arange(n), k)
    b = nearest.reshape(-1).numpy()
    other = codes.numpy()[a] != codes.numpy()[b]  # a speaker with fewer than k rivals' rows
    a, b = np.minimum(a, b)[other], np.maximum(a, b)[other]
    pairs = np.unique(np.stack([a, b], 1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def speaker_normalised(frames: SegmentFrames, speakers: np.ndarray) -> SegmentFrames:
    """The same segments with each speaker's frames scaled to zero mean, unit variance per
    dimension (the usual first step of term discovery: it removes much of a voice's timbre)."""
    normed = frames.frames.clone()
    frame_speaker = np.repeat(np.asarray(speakers), frames.lengths_np)
    for s in np.unique(frame_speaker):
        rows = torch.from_numpy(frame_speaker == s).to(normed.device)
        part = normed[rows]
        normed[rows] = (part - part.mean(0)) / (part.std(0) + 1e-5)
    return SegmentFrames(normed, frames.offsets, frames.lengths, frames.lengths_np)


def dtw_costs(frames: SegmentFrames, a: np.ndarray, b: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Length-normalised DTW cost of the segment pairs (a[i], b[i]): the cheapest monotone
    alignment of their frames under cosine distance, divided by the two lengths' sum."""
    out = np.empty(len(a), dtype=np.float32)
    for start in range(0, len(a), chunk):
        xa, la = frames.pad(a[start:start + chunk])
        xb, lb = frames.pad(b[start:start + chunk])
        cost = 1 - torch.nn.functional.normalize(xa, dim=-1) @ torch.nn.functional.normalize(xb, dim=-1).mT
        p, ta, tb = cost.shape
        acc = torch.full((p, ta + 1, tb + 1), float("inf"), device=cost.device)
        acc[:, 0, 0] = 0
        # one anti-diagonal (i + j = d) at a time: every cell on it depends only on earlier ones
        for d in range(2, ta + tb + 1):
            i = torch.arange(max(1, d - tb), min(ta, d - 1) + 1, device=cost.device)
            j = d - i
            prev = torch.minimum(torch.minimum(acc[:, i - 1, j], acc[:, i, j - 1]), acc[:, i - 1, j - 1])
            acc[:, i, j] = cost[:, i - 1, j - 1] + prev
        la_t, lb_t = la.to(cost.device), lb.to(cost.device)
        end = acc[torch.arange(p, device=cost.device), la_t, lb_t]
        out[start:start + chunk] = (end / (la_t + lb_t)).cpu().numpy()
    return out


def pair_groups(n: int, a: np.ndarray, b: np.ndarray, max_group: int = MAX_GROUP) -> np.ndarray:
    """Union-find over the pairs: a group id per row (-1: in no pair, or in a group larger than
    `max_group`)."""
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(a.tolist(), b.tolist()):
        parent[root(i)] = root(j)
    groups = np.array([root(i) for i in range(n)])
    paired = np.zeros(n, dtype=bool)
    paired[a] = paired[b] = True
    groups[~paired] = -1
    ids, sizes = np.unique(groups[paired], return_counts=True)
    groups[np.isin(groups, ids[sizes > max_group])] = -1
    return groups


def mine_pair_groups(seg_emb: np.ndarray, dtw_frames: SegmentFrames, train_idx: np.ndarray,
                     speakers: np.ndarray, n_segments: int) -> tuple[np.ndarray, dict]:
    """One round: pseudo-labels for every segment (-1 outside a group; only `train_idx` get one)
    from DTW-verified cross-speaker neighbours of `seg_emb` (rows = train_idx), and a summary."""
    train_idx = np.asarray(train_idx)
    spk = np.asarray(speakers)[train_idx]
    a, b = cross_speaker_neighbours(speaker_centred(seg_emb, spk), spk)
    labels = np.full(n_segments, -1, dtype=np.int64)
    if len(a) == 0:
        return labels, {"candidates": 0, "kept": 0, "groups": 0, "grouped_segments": 0}
    cost = dtw_costs(dtw_frames, train_idx[a], train_idx[b])
    keep = cost <= np.quantile(cost, KEEP_SHARE)
    groups = pair_groups(len(train_idx), a[keep], b[keep])
    labels[train_idx] = groups
    grouped = groups >= 0
    return labels, {"candidates": int(len(a)), "kept": int(keep.sum()),
                    "groups": int(len(np.unique(groups[grouped]))), "grouped_segments": int(grouped.sum())}
