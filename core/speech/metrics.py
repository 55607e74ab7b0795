"""Speech-space metrics: same-different AP, cluster purity, isomorphism with a text space.

The text space appears here only as an evaluation reference; nothing on the speech side is ever
trained from it.
"""

from __future__ import annotations

import numpy as np

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.retrieval import top_k_indices
from core.vectors import unit_rows


def average_precision(scores: np.ndarray, positive: np.ndarray) -> float:
    """AP of ranking by descending `scores` with binary relevance `positive`."""
    order = np.argsort(-scores, kind="stable")
    hits = positive[order].astype(np.float64)
    n_pos = hits.sum()
    if n_pos == 0:
        return float("nan")
    precision_at_hit = np.cumsum(hits)[hits > 0] / (np.flatnonzero(hits) + 1)
    return float(precision_at_hit.sum() / n_pos)


def same_different_ap(emb: np.ndarray, labels: np.ndarray, max_segments: int = 4000, seed: int = 0) -> dict:
    """Same-different task: all pairs of (up to `max_segments`) labelled segments ranked by cosine.

    A pair is relevant when both segments carry the same label. Returns AP, the number of pairs
    and of same pairs, and the chance level (fraction of same pairs).
    """
    labels = np.asarray(labels)
    keep = np.flatnonzero(labels >= 0)
    if len(keep) > max_segments:
        keep = np.sort(np.random.default_rng(seed).choice(keep, max_segments, replace=False))
    if len(keep) < 2:
        raise WordbridgeError("same-different AP needs at least 2 labelled segments")
    x = unit_rows(emb[keep], np.float64)
    iu = np.triu_indices(len(keep), k=1)
    cos = (x @ x.T)[iu]
    same = (labels[keep][:, None] == labels[keep][None, :])[iu]
    return {"ap": average_precision(cos, same), "pairs": int(len(cos)), "same_pairs": int(same.sum()),
            "chance": float(same.mean()), "segments": int(len(keep))}


def cluster_purity(assign: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of labelled segments whose label is the majority label of their cluster."""
    ok = (np.asarray(labels) >= 0) & (np.asarray(assign) >= 0)
    if not ok.any():
        return float("nan")
    a, lab = np.asarray(assign)[ok], np.asarray(labels)[ok]
    pair = np.unique(np.stack([a, lab], 1), axis=0, return_counts=True)
    (clusters, _), counts = pair[0].T, pair[1]
    best = np.zeros(a.max() + 1, dtype=np.int64)
    np.maximum.at(best, clusters, counts)
    return float(best.sum() / len(a))


def majority_words(type_of: np.ndarray, labels: list, n_types: int) -> list[str | None]:
    """For each type, its most frequent label among its segments (None when it has none)."""
    votes: list[dict] = [dict() for _ in range(n_types)]
    for t, lab in zip(type_of, labels):
        if t >= 0 and lab:
            votes[t][lab] = votes[t].get(lab, 0) + 1
    return [max(v, key=lambda w: (v[w], w)) if v else None for v in votes]


def shared_word_vectors(speech: Embeddings, text: Embeddings, type_words: list[str | None] | None = None,
                        max_words: int = 2000) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Rows of both spaces for words they share, in speech frequency order.

    `type_words` names each speech type's word (for pseudo-word types: the majority label); a word
    is taken from its most frequent type only.
    """
    names = type_words if type_words is not None else speech.words
    seen, words, rows_s, rows_t = set(), [], [], []
    for i, w in enumerate(names):
        if w and w not in seen and w in text:
            seen.add(w)
            words.append(w)
            rows_s.append(i)
            rows_t.append(text.index[w])
            if len(words) >= max_words:
                break
    return words, speech.vectors[rows_s], text.vectors[rows_t]


def _cosines(x: np.ndarray) -> np.ndarray:
    x = unit_rows(x, np.float64)
    return x @ x.T


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def similarity_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman correlation of pairwise cosines of two row-aligned spaces (1 = same geometry)."""
    if len(x) < 3:
        raise WordbridgeError(f"isomorphism needs at least 3 shared words, found {len(x)}")
    iu = np.triu_indices(len(x), k=1)
    return _spearman(_cosines(x)[iu], _cosines(y)[iu])


def laplacian_eigen_similarity(x: np.ndarray, y: np.ndarray, k: int = 10, energy: float = 0.9) -> float:
    """Søgaard et al. (2018) eigenvector similarity: 0 for isomorphic k-NN graphs, larger = less alike.

    Build the symmetric k-nearest-neighbour graph (cosine) of each space, take the eigenvalues of
    its Laplacian, keep the smallest count m such that the m largest hold `energy` of the sum (the
    smaller m of the two spaces), and return the sum of squared differences of those m eigenvalues.
    """
    if len(x) <= k + 1:
        raise WordbridgeError(f"eigenvector similarity needs more than {k + 1} shared words, found {len(x)}")
    spectra = []
    for z in (x, y):
        cos = _cosines(z)
        np.fill_diagonal(cos, -np.inf)
        nn = top_k_indices(cos, k)
        adj = np.zeros_like(cos)
        np.put_along_axis(adj, nn, 1.0, axis=1)
        adj = np.maximum(adj, adj.T)
        lap = np.diag(adj.sum(1)) - adj
        spectra.append(np.sort(np.linalg.eigvalsh(lap))[::-1])
    def needed(ev):
        cum = np.cumsum(ev) / ev.sum()
        return int(np.searchsorted(cum, energy) + 1)
    m = min(needed(spectra[0]), needed(spectra[1]))
    return float(((spectra[0][:m] - spectra[1][:m]) ** 2).sum())


def isomorphism(speech: Embeddings, text: Embeddings, type_words: list[str | None] | None = None,
                max_words: int = 2000, eigen_words: int = 1000) -> dict:
    """Isomorphism of a speech type space with a text space over their shared (labelled) words."""
    words, xs, xt = shared_word_vectors(speech, text, type_words, max_words)
    out = {"shared_words": len(words)}
    if len(words) < 3:
        out["note"] = "fewer than 3 shared words"
        return out
    out["spearman_cosines"] = similarity_correlation(xs, xt)
    if len(words) > 12:
        n = min(eigen_words, len(words))
        out["eigen_similarity"] = laplacian_eigen_similarity(xs[:n], xt[:n])
    return out
