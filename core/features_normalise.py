"""Mean and variance normalisation of frames over groups of utterances (issue 18: words without
labels should not be split by voice).

`core.features` normalises every utterance on its own (CMVN per utterance). Here the statistics
are pooled over a *group* of utterances instead: every utterance of one speaker (speaker known),
or of one voice cluster found without labels (`voice_clusters`: k-means on each utterance's
mean and standard deviation of frames, k chosen by silhouette). With one group per utterance,
`group_normalise` is exactly the per-utterance CMVN of `core.features`.

Frames in, frames out: a list of float arrays [T_i, dim] and one group id per array; no audio,
no front end, no Qt.
"""

from __future__ import annotations

import numpy as np

from core.errors import WordbridgeError

STD_FLOOR = 1e-5  # as core.features: a constant dimension is divided by this, not by 0


def _check(frames, groups) -> tuple[list[np.ndarray], np.ndarray]:
    frames = [np.asarray(f) for f in frames]
    groups = np.asarray(groups, dtype=object).astype(str)
    if groups.ndim != 1 or len(groups) != len(frames):
        raise WordbridgeError(f"{len(frames)} frame arrays but {groups.size} group ids: one group id per array")
    dims = {f.shape[1] for f in frames if f.ndim == 2}
    if any(f.ndim != 2 for f in frames) or len(dims) > 1:
        raise WordbridgeError("frames must be 2-D arrays [T, dim] of one width")
    return frames, groups


def group_stats(frames, groups) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per group: (mean, std) of every dimension over all frames of the group's arrays (float64;
    std with the 1/N rule). A group with no frames at all is a WordbridgeError."""
    frames, groups = _check(frames, groups)
    stats = {}
    for g in np.unique(groups):
        rows = [frames[i] for i in np.flatnonzero(groups == g)]
        x = np.concatenate(rows).astype(np.float64)
        if len(x) == 0:
            raise WordbridgeError(f"group {g!r} has no frames")
        stats[str(g)] = (x.mean(0), x.std(0))
    return stats


def group_normalise(frames, groups, variance: bool = True) -> list[np.ndarray]:
    """Frames with their group's mean removed (and divided by the group's std when `variance`),
    in input order, float32. `groups[i]` is the group of `frames[i]` (any hashable; compared as str)."""
    frames, groups = _check(frames, groups)
    stats = group_stats(frames, groups)
    out = []
    for f, g in zip(frames, groups):
        mean, std = stats[g]
        x = f.astype(np.float64) - mean
        if variance:
            x = x / np.maximum(std, STD_FLOOR)
        out.append(x.astype(np.float32))
    return out


def utterance_summary(frames) -> np.ndarray:
    """One row per utterance: its frames' mean and std per dimension, [n, 2·dim] (float64)."""
    frames, _ = _check(frames, np.zeros(len(frames)))
    if any(len(f) == 0 for f in frames):
        raise WordbridgeError("an utterance with no frames has no summary")
    return np.stack([np.concatenate([f.mean(0), f.std(0)]) for f in frames]).astype(np.float64)


def voice_clusters(frames, ks=(2, 3, 4), seed: int = 0, n_init: int = 10) -> tuple[np.ndarray, dict]:
    """Voice clusters of utterances found without labels.

    Each utterance is summarised by `utterance_summary` (mean and std of its frames), every
    summary dimension z-scored over the utterances; k-means (`n_init` restarts, `seed`) for each k
    in `ks`; the k with the highest mean silhouette (Euclidean, same z-scored space) is kept.
    Returns (cluster id per utterance, {"k": chosen k, "silhouette": {k: score}}).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = utterance_summary(frames)
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 2 or max(ks) >= len(x):
        raise WordbridgeError(f"cluster counts {ks} must lie in 2..{len(x) - 1} for {len(x)} utterances")
    z = (x - x.mean(0)) / np.maximum(x.std(0), STD_FLOOR)
    labels, scores = {}, {}
    for k in ks:
        labels[k] = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(z)
        scores[k] = float(silhouette_score(z, labels[k]))
    best = max(ks, key=lambda k: (scores[k], -k))  # ties: fewer clusters
    return labels[best], {"k": best, "silhouette": scores}
