"""Every voice's segment embeddings moved into one space shared by all voices. No word labels:
speaker ids are the only metadata used.

Why (issue 18, sessions 17–18): an encoder trained without labels still places one word said by
two voices in different parts of its space, so k-means cuts words by voice. Per voice, three
label-free steps line the voices up (docs/runs/2026-12-06-s18-gpu-encoder-merge, SYNTHETIC voices):

1. centre and ZCA-whiten the voice's embeddings with its own mean and covariance (every voice gets
   the same first and second moments);
2. k-means the voice's segments into clusters (its share of `clusters_total`);
3. generalised Procrustes: each round, rotate every voice so that its whitened clusters land on the
   mean of their mutual-nearest partners in all other voices (Gower 1975; the same alternating
   Procrustes the paper's refinement uses, here voice to voice).

Measured on the 20 training voices of kjv_500k_bvad (CPU encoder after one DTW pair round): the
share of a voice's clusters whose nearest cluster of another voice is the same word, 0.43 → 0.68.
"""

from __future__ import annotations

import numpy as np
import torch

from core.speech.clustering import kmeans
from core.vectors import unit_rows

GPA_ROUNDS = 15          # session 18's setting; the rotations have settled well before
MIN_CLUSTERS = 20        # per voice, as session 15's per-voice clustering


def zca_whitening(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and ZCA whitening matrix of the rows `x` (eigenvalues floored at 1e-6 of the largest,
    so a rank-deficient voice does not blow up)."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(0)
    e, u = np.linalg.eigh(np.cov(x - mu, rowvar=False))
    return mu, u @ np.diag(1 / np.sqrt(np.maximum(e, 1e-6 * e.max()))) @ u.T


def orthogonal_procrustes(target: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The orthogonal R minimising |source R − target| over matched rows (Schönemann 1966)."""
    u, _, vt = np.linalg.svd(source.T @ target)
    return u @ vt


def mutual_nearest(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows i of `a` and j of `b` that are each other's most similar (dot product): (i, j)."""
    sims = a @ b.T
    forward, backward = sims.argmax(1), sims.argmax(0)
    i = torch.nonzero(backward[forward] == torch.arange(len(a)), as_tuple=True)[0]
    return i, forward[i]


def partner_mean(a: torch.Tensor, others: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """(mask of the rows of `a` with a mutual-nearest row in at least one of `others`, the mean of
    those partners for each): the target a voice is rotated onto."""
    total, n = torch.zeros_like(a), torch.zeros(len(a), dtype=a.dtype)
    for b in others:
        i, j = mutual_nearest(a, b)
        total[i] += b[j]
        n[i] += 1
    keep = n > 0
    return keep.numpy(), (total[keep] / n[keep, None]).numpy()


def generalised_procrustes(points: list[np.ndarray], rounds: int = GPA_ROUNDS) -> list[np.ndarray]:
    """One rotation per point set (voice) so that the sets line up: each round every set is rotated
    onto the mean of its rows' mutual-nearest partners in the other sets (sets as they were at the
    start of the round)."""
    rot = [np.eye(p.shape[1]) for p in points]
    as_torch = [torch.from_numpy(np.ascontiguousarray(p, dtype=np.float32)) for p in points]
    for _ in range(rounds):
        cur = [p @ torch.from_numpy(r.astype(np.float32)) for p, r in zip(as_torch, rot)]
        for v in range(len(points)):
            keep, target = partner_mean(cur[v], cur[:v] + cur[v + 1:])
            if keep.sum() >= points[v].shape[1]:  # enough matched rows to fix a rotation
                rot[v] = orthogonal_procrustes(target, points[v][keep])
    return rot


def shared_voice_space(emb: np.ndarray, voice: np.ndarray, clusters_total: int, iters: int = 25, seed: int = 0,
                       backend: str = "auto", device="cpu", rounds: int = GPA_ROUNDS) -> np.ndarray:
    """`emb` [n, d] (one voice id per row in `voice`) in the voices' shared space: unit rows, float32.

    Each voice is whitened with its own statistics and k-means'd into max(20, its share of
    `clusters_total`) clusters; generalised Procrustes on those clusters gives its rotation.
    Every voice needs more rows than dimensions (the caller leaves smaller voices out)."""
    emb = unit_rows(emb)  # cosine geometry, as every k-means of segments here
    voices, code = np.unique(np.asarray(voice), return_inverse=True)
    white, clusters = [], []
    for v in range(len(voices)):
        rows = emb[code == v]
        if len(rows) <= emb.shape[1]:
            raise ValueError(f"voice {voices[v]} has {len(rows)} rows; whitening needs more than {emb.shape[1]}")
        mu, z = zca_whitening(rows)
        k = min(len(rows), max(MIN_CLUSTERS, int(round(clusters_total * len(rows) / len(emb)))))
        centroids, _ = kmeans(rows, k, iters, seed, backend, device)
        white.append((mu, z))
        clusters.append(unit_rows((unit_rows(np.asarray(centroids)) - mu) @ z, np.float64))
    rot = generalised_procrustes(clusters, rounds)
    out = np.empty_like(emb)
    for v, ((mu, z), r) in enumerate(zip(white, rot)):
        rows = code == v
        out[rows] = unit_rows(((emb[rows] - mu) @ z @ r).astype(np.float32))
    return out
