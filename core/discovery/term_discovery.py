"""A simple spoken-term-discovery baseline (issue 18 item 2): cut utterances into word-like
stretches at pauses and energy valleys, embed each stretch with a front end (mean-pooled frames,
each speaker's mean removed), and group the stretches with k-means. Word labels are never read.

Segmentation (`energy_segments`): frame log-energy (25-ms windows every 10 ms, smoothed over
50 ms); frames more than `silence_db` below the utterance's loudest frame are silence; speech
runs separated by at least `min_pause_s` of silence are cut apart; a run longer than `max_s` is
split at its deepest energy valley (a local minimum at least `valley_db` below the lower of the
highest points on either side, both parts at least `min_s` long), recursively. Valleys between
syllables are what remains: the result is syllable-to-word-sized stretches, not words.
"""

from __future__ import annotations

import numpy as np

SR = 16000
HOP = 160
WIN = 400


def log_energy(samples: np.ndarray) -> np.ndarray:
    """Frame log-energy in dB (25-ms windows every 10 ms), smoothed by a 5-frame moving average."""
    x = np.asarray(samples, np.float64)
    if len(x) < WIN:
        x = np.pad(x, (0, WIN - len(x)))
    n = 1 + (len(x) - WIN) // HOP
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    e = 10 * np.log10(np.mean(x[idx] ** 2, axis=1) + 1e-10)
    return np.convolve(np.pad(e, 2, mode="edge"), np.ones(5) / 5, mode="valid")


def _split(e: np.ndarray, a: int, b: int, min_f: int, max_f: int, valley_db: float, out: list) -> None:
    if b - a <= max_f:
        out.append((a, b))
        return
    best, best_depth = None, valley_db
    for t in range(a + min_f, b - min_f):
        if e[t] <= e[t - 1] and e[t] <= e[t + 1]:
            depth = min(e[a:t].max(), e[t + 1:b].max()) - e[t]
            if depth >= best_depth:
                best, best_depth = t, depth
    if best is None:
        out.append((a, b))
        return
    _split(e, a, best, min_f, max_f, valley_db, out)
    _split(e, best, b, min_f, max_f, valley_db, out)


def energy_segments(samples: np.ndarray, silence_db: float = 35.0, min_pause_s: float = 0.1,
                    min_s: float = 0.15, max_s: float = 0.5, valley_db: float = 1.0) -> list[tuple[float, float]]:
    """Word-like (start, end) spans in seconds of one utterance (see the module docstring)."""
    e = log_energy(samples)
    speech = e > e.max() - silence_db
    # runs of speech, bridging pauses shorter than min_pause_s
    runs, start, gap = [], None, 0
    min_pause = int(round(min_pause_s * SR / HOP))
    for t, s in enumerate(speech):
        if s:
            if start is None:
                start = t
            gap = 0
            end = t + 1
        elif start is not None:
            gap += 1
            if gap >= min_pause:
                runs.append((start, end))
                start = None
    if start is not None:
        runs.append((start, end))
    min_f, max_f = int(round(min_s * SR / HOP)), int(round(max_s * SR / HOP))
    spans: list = []
    for a, b in runs:
        if b - a < min_f // 2:
            continue  # clicks
        _split(e, a, b, min_f, max_f, valley_db, spans)
    # frame t covers [t*HOP, t*HOP + WIN): a span of frames [a, b) is [a*HOP, (b-1)*HOP + WIN)
    dur = len(samples) / SR
    return [(a * HOP / SR, min(dur, ((b - 1) * HOP + WIN) / SR)) for a, b in spans]


def speaker_centred(emb: np.ndarray, speakers) -> np.ndarray:
    """Unit rows with each speaker's mean removed, unit length again."""
    x = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    speakers = np.asarray(speakers, dtype=object).astype(str)
    for s in np.unique(speakers):
        x[speakers == s] -= x[speakers == s].mean(0)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def kmeans_clusters(emb: np.ndarray, k: int, seed: int = 0, iters: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """(cluster of each row, cosine distance of each row to its centroid) by k-means
    (`core.speech.clustering.kmeans`) on unit rows."""
    from core.speech.clustering import kmeans

    centroids, labels = kmeans(np.ascontiguousarray(emb, np.float32), k, iters=iters, seed=seed)
    labels = np.asarray(labels, np.int64)
    c = np.asarray(centroids, np.float64)
    c = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
    dist = 1.0 - np.einsum("ij,ij->i", emb, c[labels])
    return labels, dist


def clusters_from_labels(utterances, spans, labels, keep=None) -> list[list]:
    """Lists of (utterance, start, end) per cluster label (rows where `keep` is True)."""
    groups: dict = {}
    for i, (u, (s, e), c) in enumerate(zip(utterances, spans, labels)):
        if keep is None or keep[i]:
            groups.setdefault(int(c), []).append((u, float(s), float(e)))
    return [groups[c] for c in sorted(groups)]


def dtw_graph_clusters(emb: np.ndarray, frames: list, utterances, neighbours: int = 5,
                       keep_share: float = 0.25, max_group: int = 50) -> tuple[np.ndarray, dict]:
    """Clusters from a DTW-verified nearest-neighbour graph (the classic term-discovery recipe):
    each segment's `neighbours` most similar segments of *other* utterances by `emb` (unit rows),
    every such pair scored by length-normalised cosine DTW over `frames`, the cheapest
    `keep_share` of the pairs kept as edges, connected components as clusters; components larger
    than `max_group` (chains through frequent sounds) and unpaired segments get -1."""
    from core.discovery.same_different import dtw_distances
    from core.speech.pair_mining import pair_groups

    utt_codes = np.unique(np.asarray(utterances, dtype=object).astype(str), return_inverse=True)[1]
    sims = emb @ emb.T
    sims[utt_codes[:, None] == utt_codes[None, :]] = -3.0
    k = min(neighbours, len(emb) - 1)
    nearest = np.argpartition(-sims, k, axis=1)[:, :k]
    a = np.repeat(np.arange(len(emb)), k)
    b = nearest.reshape(-1)
    a, b = np.minimum(a, b), np.maximum(a, b)
    pairs = np.unique(np.stack([a, b], 1), axis=0)
    a, b = pairs[:, 0], pairs[:, 1]
    cost = dtw_distances(frames, a, b)
    keep = cost <= np.quantile(cost, keep_share)
    groups = pair_groups(len(emb), a[keep], b[keep], max_group=max_group)
    info = {"candidate_pairs": int(len(a)), "kept_pairs": int(keep.sum()),
            "grouped_segments": int((groups >= 0).sum()), "groups": int(len(np.unique(groups[groups >= 0])))}
    return groups, info
