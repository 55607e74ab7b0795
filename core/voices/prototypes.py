"""Several prototypes per speech type: a clip is as near a type as it is to the nearest of them.

One centroid per type averages every source it was trained on. When the sources sound unlike each
other — synthetic words said alone against real words cut out of read sentences — the average lies
between two clusters and neither kind of clip is near it: with one averaged centroid the session-10
recogniser put unseen synthetic voices' 30 most frequent words first 33 % of the time and real test
speakers' words 40.8 %; with the per-source prototypes beside the centroid, 42 % and 42.8 %
(docs/RESULTS.md, "People's voices", session 10; the variant was chosen on calibration speakers). A recogniser stores its per-source prototypes
as `assign_prototypes` [S, types, dim] in float16 (half the size; cosines move by ~1e-3) beside
`assign_centroids`; a type without clips of one source has a zero row there, whose cosine (0)
never beats a real match.
"""

from __future__ import annotations

import numpy as np


def type_prototypes(enc: np.ndarray, labels: list[str], sources: list[str],
                    vocabulary: list[str]) -> tuple[np.ndarray, list[str]]:
    """(prototypes [S, V, dim] unit rows or zero, their source names): for each source (sorted by
    name) the mean unit encoding of that source's clips of each word. The source-averaged centroid
    (core.voices.recognizer.type_centroids) is the recogniser's `assign_centroids`; `stack` joins
    the two for scoring."""
    from core.voices.recognizer import type_centroids

    names = sorted(set(sources))
    protos = []
    for name in names:
        rows = [i for i, s in enumerate(sources) if s == name]
        c, _ = type_centroids(enc[rows], [labels[i] for i in rows], [name] * len(rows), vocabulary)
        protos.append(c)
    return np.stack(protos).astype(np.float32), names


def stack(centroids: np.ndarray, prototypes: np.ndarray | None) -> np.ndarray:
    """The source-averaged centroids [V, dim] and per-source prototypes [S, V, dim] as one
    float32 [1 + S, V, dim] (just the centroids when there are no prototypes)."""
    c = np.asarray(centroids, dtype=np.float32)
    if prototypes is None:
        return c
    return np.concatenate([c[None], np.asarray(prototypes, dtype=np.float32)])


def type_similarities(enc: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Cosines [n, V] of unit encodings `enc` [n, dim] to each type: the largest over the type's
    prototypes ([P, V, dim]), or plain centroids ([V, dim])."""
    prototypes = np.asarray(prototypes)
    if prototypes.ndim == 2:
        return enc @ prototypes.T
    sims = enc @ prototypes[0].T
    for p in prototypes[1:]:
        np.maximum(sims, enc @ p.T, out=sims)
    return sims


def check_prototypes(prototypes: np.ndarray, n_types: int, dim: int) -> str | None:
    """Why stored prototypes cannot be used (None when they can): shape, finite values."""
    p = np.asarray(prototypes)
    if p.ndim != 3 or p.shape[1] != n_types or p.shape[2] != dim:
        return f"prototypes of shape {tuple(p.shape)}, expected [P, {n_types}, {dim}]"
    if not np.isfinite(p).all():
        return "prototypes hold NaN or infinite values"
    return None
