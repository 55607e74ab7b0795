"""SYNTHETIC test spaces for checking the aligners: a random structured space and a noisy rotation.

An isotropic Gaussian cloud looks the same under every rotation, so no unsupervised method can
(or should) recover a rotation from it. Real embedding spaces are clustered and anisotropic; the
synthetic space imitates that: points around random cluster centres of different sizes and
spreads, with a steeply decaying spectrum over the dimensions. Words are named "w0", "w1", ... and
are identical on both sides, so the gold dictionary is the identity.

Why these shapes (measured, adversarial training needs both): cluster sizes follow 1/√rank, so
many clusters carry real mass (Zipf(1.6) sizes put 99.6 % of 3,000 points in one cluster: a
single Gaussian, whose axis sign flips no distribution-matching method can tell apart); the
standard deviation of dimension i falls as 1/(1 + i/4) (with 1/√(1 + i/4) the spectrum's tail is
nearly flat and adversarial training found no rotation in 4,000 steps on 3,000 × 50).
"""

from __future__ import annotations

import numpy as np

from core.embeddings import Embeddings


def structured_space(n: int, dim: int, seed: int = 0, n_clusters: int | None = None) -> Embeddings:
    """SYNTHETIC: `n` × `dim` clustered, anisotropic random vectors (rows in 'frequency' order)."""
    rng = np.random.default_rng(seed)
    k = n_clusters or max(8, n // 60)
    spectrum = 1.0 / (1.0 + np.arange(dim) / 4.0)
    centres = rng.standard_normal((k, dim)) * spectrum
    sizes = rng.permutation(1.0 / np.sqrt(1.0 + np.arange(k)))
    labels = rng.choice(k, size=n, p=sizes / sizes.sum())
    spread = rng.uniform(0.3, 0.9, k)[labels][:, None]
    vectors = centres[labels] + spread * rng.standard_normal((n, dim)) * spectrum
    words = [f"w{i}" for i in range(n)]
    return Embeddings(words, vectors.astype(np.float32), language="synthetic")


def noisy_rotation(emb: Embeddings, noise: float = 0.05, seed: int = 1) -> tuple[Embeddings, np.ndarray]:
    """SYNTHETIC: `emb` rotated by a random orthogonal R plus Gaussian noise of `noise` × the mean
    row norm; returns (rotated space, R) with rotated ≈ emb.vectors @ R.T."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((emb.dim, emb.dim)))
    rot = q * np.sign(np.diag(r))
    x = emb.vectors.astype(np.float64)
    scale = noise * np.linalg.norm(x, axis=1).mean() / np.sqrt(emb.dim)
    y = x @ rot.T + scale * rng.standard_normal(x.shape)
    return Embeddings(list(emb.words), y.astype(np.float32), language="synthetic-rotated"), rot
