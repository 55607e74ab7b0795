"""The unsupervised model-selection criterion (Conneau et al. 2018, section 3.5).

Translate the most frequent source words (default 10,000) with CSLS among the most frequent target
words (same count) and average the cosine between each mapped source word and its translation.
Higher is better; it needs no dictionary, so it picks epochs, refinement steps and restarts.
"""

from __future__ import annotations

import torch

from core.retrieval import topk_csls, unit_tensor


def mean_csls_cosine(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, *, n_words: int = 10_000,
                     knn: int = 10, backend: str = "auto", progress=None) -> float:
    """Mean cosine between W·x and its CSLS translation, over the top `n_words` of each space.

    `x` and `y` have unit rows (frequency order) and live on the same device as `w`.
    """
    xs = x[:n_words] @ w.T
    ys = y[:n_words]
    if not torch.isfinite(xs).all():
        return float("-inf")
    _, idx = topk_csls(xs, ys, k=1, knn=knn, backend=backend, device=xs.device, progress=progress)
    idx = idx[:, 0].to(xs.device)
    return float((unit_tensor(xs) * ys[idx]).sum(1).mean())
