"""Pseudo-word groups from the voices' shared space: the positives of the encoder's voice-groups
round. No word labels.

Why (issue 18, sessions 19–20, SYNTHETIC voices): the DTW-verified pairs the encoder's pair rounds
train on cover few segments (13 % at 500k tokens), and an encoder trained on them still splits
words by voice. In the voices' shared space (normalise.py) a fine k-means joined by average linkage
gives groups that are far purer across voices: at 500k tokens, 1,828 groups over 49 % of the
training segments, purity 0.86, and 94 % of different-voice group-mate pairs the same word. An
encoder trained on them (instead of on the DTW pairs) links words across voices by itself (voice
pair precision 0.43 → 0.66) and makes types that can be joined into an alignable inventory
(core.speech.type_join): configuration B then classifies 47.0 % (GPU-sized encoder) / 42.8 % (CPU-sized)
of held-out voices' word segments at 500k tokens, every step by the runner (docs/RESULTS.md session 22).

Steps: k-means (`n_clusters`) over the shared-space rows → average linkage (cosine) of the
centroids cut at `n_groups` → a segment keeps its group only if it lies in the `inner` share of the
group nearest its mean and the group holds at least two voices.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from core.speech.clustering import kmeans
from core.vectors import unit_rows


def join_centroids(centroids: np.ndarray, n_groups: int) -> np.ndarray:
    """Group 0..m-1 (m ≤ n_groups) of each centroid: average linkage on cosine distance, cut at
    `n_groups` clusters."""
    if len(centroids) <= n_groups:
        return np.arange(len(centroids))
    tree = linkage(unit_rows(centroids, np.float64), "average", metric="cosine")
    return np.unique(fcluster(tree, n_groups, "maxclust") - 1, return_inverse=True)[1]


def inner_members(shared: np.ndarray, group: np.ndarray, inner: float) -> np.ndarray:
    """Mask of the rows among the `inner` share of their group (rounded up) most similar (cosine)
    to the group's mean; the others are a group's margin, where voices and words mix most."""
    if inner >= 1.0:
        return np.ones(len(group), dtype=bool)
    m = int(group.max()) + 1
    mean = np.zeros((m, shared.shape[1]))
    np.add.at(mean, group, shared)
    cos = (shared * unit_rows(mean)[group]).sum(1)
    order = np.lexsort((-cos, group))   # by group, most central first
    size = np.bincount(group, minlength=m)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - start[group[order]]
    return rank < np.ceil(inner * size[group])


def shared_space_groups(shared: np.ndarray, voice: np.ndarray, n_clusters: int, n_groups: int, inner: float,
                        iters: int = 25, seed: int = 0, backend: str = "auto", device="cpu") -> np.ndarray:
    """A group id (-1: none) for each row of `shared` (unit rows in the voices' shared space, one
    voice id per row in `voice`)."""
    k = min(n_clusters, len(shared))
    centroids, assign = kmeans(shared, k, iters, seed, backend, device)
    group = join_centroids(np.asarray(centroids), n_groups)[np.asarray(assign)]
    voices = np.unique(np.asarray(voice), return_inverse=True)[1]
    pairs = np.unique(np.stack([group, voices]), axis=1)        # (group, voice) cells present
    n_voices = np.bincount(pairs[0], minlength=int(group.max()) + 1)
    keep = inner_members(shared, group, inner) & (n_voices[group] >= 2)
    return np.where(keep, group, -1)
