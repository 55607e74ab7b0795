"""Cross-speaker same-different evaluation of word segments (the standard acoustic-word-embedding
test: Carlin et al. 2011; Kamper et al. 2016).

Every pair of segments of a sample by *different* speakers is scored by a distance; a pair is
"same" when the two segments carry the same word label. The measure is the average precision
(AP) of the ranking by increasing distance (area under the precision-recall curve, computed as the
mean precision at the rank of every same pair); chance is the share of same pairs.

Distances:
- `dtw`: frame-level, cosine distance between frames, the cheapest monotone alignment with the
  symmetric (1, 1, 1) step pattern, divided by the sum of the two lengths (as
  `core.speech.pair_mining.dtw_costs`). Batched in torch over pairs with a *skewed* layout (one
  anti-diagonal of the cost matrix per row), so each step is a slice, not a gather.
- `mean`: cosine distance between the mean frames of the two segments.
"""

from __future__ import annotations

import numpy as np
import torch

from core.errors import WordbridgeError


def cross_speaker_pairs(speakers) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i, j), i < j, of rows whose speakers differ."""
    codes = np.unique(np.asarray(speakers, dtype=object).astype(str), return_inverse=True)[1]
    i, j = np.triu_indices(len(codes), k=1)
    keep = codes[i] != codes[j]
    return i[keep], j[keep]


def same_pairs(labels, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True where the pair (a[k], b[k]) has the same label."""
    codes = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)[1]
    return codes[a] == codes[b]


def half_pair_masks(n_segments: int, a: np.ndarray, b: np.ndarray, halves: int, seed: int) -> list[np.ndarray]:
    """For each of `halves` random halves of the segments (numpy default_rng(`seed`), drawn in turn),
    a mask over the pairs (a[k], b[k]) whose two segments are both in it: the paired-spread samples of
    the same-different scripts (one segment sample, many subsets)."""
    rng = np.random.default_rng(seed)
    masks = []
    for _ in range(halves):
        keep = np.zeros(n_segments, bool)
        keep[rng.choice(n_segments, n_segments // 2, replace=False)] = True
        masks.append(keep[a] & keep[b])
    return masks


def average_precision(distances: np.ndarray, same: np.ndarray) -> float:
    """AP of ranking pairs by increasing distance: mean over same pairs of the precision at their
    rank (ties broken by input order, a stable sort). NaN when there is no same pair."""
    distances = np.asarray(distances, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    if distances.shape != same.shape or distances.ndim != 1:
        raise WordbridgeError(f"distances {distances.shape} and same {same.shape} must be equal 1-D shapes")
    if np.isnan(distances).any():
        raise WordbridgeError("distances contain NaN")
    n_same = int(same.sum())
    if n_same == 0:
        return float("nan")
    ranked = same[np.argsort(distances, kind="stable")]
    hits = np.cumsum(ranked)
    ranks = np.arange(1, len(ranked) + 1)
    return float((hits[ranked] / ranks[ranked]).sum() / n_same)


def mean_pooled(frames: list[np.ndarray]) -> np.ndarray:
    """The mean frame of each segment, unit length: [n, dim]."""
    x = np.stack([f.mean(0) for f in frames]).astype(np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cosine_distances(emb: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 − cos(emb[a], emb[b]) for unit rows."""
    return 1.0 - np.einsum("ij,ij->i", emb[a], emb[b])


def _skew(cost: torch.Tensor) -> torch.Tensor:
    """[P, A, B] → [P, A+B-1, A] with S[:, d, i] = cost[:, i, d-i] (inf outside the matrix)."""
    p, la, lb = cost.shape
    d = torch.arange(la + lb - 1)[:, None]
    i = torch.arange(la)[None, :]
    j = d - i
    valid = (j >= 0) & (j < lb)
    flat = (i * lb + j.clamp(0, lb - 1)).reshape(-1)
    s = cost.reshape(p, la * lb)[:, flat].reshape(p, la + lb - 1, la)
    return s.masked_fill(~valid[None], float("inf"))


def dtw_batch(xa: torch.Tensor, la: torch.Tensor, xb: torch.Tensor, lb: torch.Tensor) -> torch.Tensor:
    """Length-normalised cosine DTW cost of padded batches xa [P, A, D] (lengths la) and
    xb [P, B, D] (lengths lb): [P]."""
    na = torch.nn.functional.normalize(xa, dim=-1)
    nb = torch.nn.functional.normalize(xb, dim=-1)
    cost = 1.0 - na @ nb.mT
    s = _skew(cost)
    p, n_diag, width = s.shape
    inf = torch.full((p, 1), float("inf"), dtype=s.dtype)
    acc_prev2 = torch.full((p, width), float("inf"), dtype=s.dtype)
    acc_prev = s[:, 0].clone()  # d = 0: only cell (0, 0)
    end_d = (la + lb - 2).long()
    end_i = (la - 1).long()
    out = torch.empty(p, dtype=s.dtype)
    rows = torch.arange(p)
    hit = end_d == 0
    out[hit] = acc_prev[rows[hit], end_i[hit]]
    for d in range(1, n_diag):
        up = torch.cat([inf, acc_prev[:, :-1]], 1)      # (i-1, j): diagonal d-1, row i-1
        left = acc_prev                                  # (i, j-1): diagonal d-1, row i
        diag = torch.cat([inf, acc_prev2[:, :-1]], 1)   # (i-1, j-1): diagonal d-2, row i-1
        acc = s[:, d] + torch.minimum(torch.minimum(up, left), diag)
        hit = end_d == d
        if hit.any():
            out[hit] = acc[rows[hit], end_i[hit]]
        acc_prev2, acc_prev = acc_prev, acc
    return out / (la + lb).to(out.dtype)


def dtw_distances(frames: list[np.ndarray], a: np.ndarray, b: np.ndarray,
                  max_cells: int = 6_000_000, progress=None) -> np.ndarray:
    """Length-normalised cosine DTW cost of every pair (frames[a[k]], frames[b[k]]).

    Pairs are sorted by their lengths and cut into batches of at most `max_cells` cost-matrix
    cells (padding included), so little is wasted on padding."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    lengths = np.array([len(f) for f in frames], dtype=np.int64)
    if (lengths[np.concatenate([a, b])] < 1).any() if len(a) else False:
        raise WordbridgeError("a segment with no frames cannot be compared by DTW")
    # the longer segment first in each pair: fewer anti-diagonal rows wasted
    swap = lengths[a] < lengths[b]
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    order = np.lexsort((lengths[b], lengths[a]))[::-1]  # longest first: a batch's first pair is its largest
    out = np.empty(len(a), dtype=np.float64)
    dim = frames[0].shape[1] if frames else 0
    start = 0
    while start < len(order):
        la_max = lengths[a[order[start]]]
        # batch size from its first (largest) pair; lb <= la
        size = max(1, int(max_cells // (la_max * la_max)))
        rows = order[start:start + size]
        ia, ib = a[rows], b[rows]
        la_, lb_ = lengths[ia], lengths[ib]
        xa = np.zeros((len(rows), la_.max(), dim), np.float32)
        xb = np.zeros((len(rows), lb_.max(), dim), np.float32)
        for k, (u, v) in enumerate(zip(ia, ib)):
            xa[k, :la_[k]] = frames[u]
            xb[k, :lb_[k]] = frames[v]
        out[rows] = dtw_batch(torch.from_numpy(xa), torch.from_numpy(la_), torch.from_numpy(xb),
                              torch.from_numpy(lb_)).double().numpy()
        start += len(rows)
        if progress is not None:
            progress(start, len(order))
    return out


def same_different(frames: list[np.ndarray], labels, speakers, methods=("dtw", "mean"),
                   progress=None) -> dict:
    """Cross-speaker same-different AP of the segments' frames for each method, with the counts
    and chance (share of same pairs)."""
    if not (len(frames) == len(labels) == len(speakers)):
        raise WordbridgeError(f"frames ({len(frames)}), labels ({len(labels)}) and speakers "
                              f"({len(speakers)}) must be equally long")
    a, b = cross_speaker_pairs(speakers)
    same = same_pairs(labels, a, b)
    result = {"segments": len(frames), "speakers": len(set(map(str, speakers))),
              "word_types": len(set(map(str, labels))), "pairs": int(len(a)),
              "same_pairs": int(same.sum()), "chance": float(same.mean()) if len(a) else float("nan")}
    for method in methods:
        if method == "mean":
            dist = cosine_distances(mean_pooled(frames), a, b)
        elif method == "dtw":
            dist = dtw_distances(frames, a, b, progress=progress)
        else:
            raise WordbridgeError(f"unknown same-different method {method!r} (dtw, mean)")
        result[f"ap_{method}"] = average_precision(dist, same)
    return result
