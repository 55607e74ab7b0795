"""Scores of a word recogniser on a test set: top-1 / top-10 over a vocabulary, a closed set (digits),
baselines (chance and always the most frequent training word), and the same through a project's
alignment (type → its mapped text word) as the app shows it.
"""

from __future__ import annotations

import numpy as np

from core.retrieval import top_k_indices
from core.voices.prototypes import type_similarities

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def ranked_types(enc: np.ndarray, centroids: np.ndarray, k: int, allowed: np.ndarray | None = None,
                 batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """(rows [n, k], cosines [n, k]) of each clip's k nearest types (only `allowed` rows if given);
    `centroids` is [V, dim], or prototypes [P, V, dim] (core.voices.prototypes)."""
    n_types = centroids.shape[-2]
    cands = np.arange(n_types) if allowed is None else np.asarray(allowed)
    c = centroids[..., cands, :]
    k = min(k, len(cands))
    rows = np.zeros((len(enc), k), dtype=np.int64)
    sims = np.zeros((len(enc), k), dtype=np.float32)
    for s in range(0, len(enc), batch):
        block = type_similarities(enc[s:s + batch], c)
        top = top_k_indices(block, k)
        rows[s:s + batch] = cands[top]
        sims[s:s + batch] = np.take_along_axis(block, top, axis=1)
    return rows, sims


def hit_rates(rows: np.ndarray, truth: np.ndarray, ks=(1, 10)) -> dict:
    """Share of clips whose true row is among the first k, for each k (truth −1 never hits)."""
    out = {}
    for k in ks:
        hit = (rows[:, :k] == truth[:, None]).any(1) & (truth >= 0)
        out[f"top{k}"] = round(float(hit.mean()), 4) if len(truth) else None
    return out


def word_scores(enc: np.ndarray, labels: list[str], centroids: np.ndarray, vocabulary: list[str],
                train_counts: dict[str, int], allowed: np.ndarray | None = None) -> dict:
    """Top-1/top-10 of in-vocabulary clips, with the number scored, chance and the most-frequent baseline."""
    index = {w: i for i, w in enumerate(vocabulary)}
    truth = np.array([index.get(w, -1) for w in labels])
    inside = truth >= 0
    if allowed is not None:
        inside &= np.isin(truth, allowed)
    n_cands = len(vocabulary) if allowed is None else len(allowed)
    if not inside.any():
        return {"n": 0, "candidates": int(n_cands)}
    rows, _ = ranked_types(enc[inside], centroids, 10, allowed)
    scores = hit_rates(rows, truth[inside])
    cand_words = vocabulary if allowed is None else [vocabulary[i] for i in allowed]
    frequent = max(cand_words, key=lambda w: train_counts.get(w, 0))
    scores.update({"n": int(inside.sum()), "candidates": int(n_cands), "chance_top1": round(1.0 / n_cands, 5),
                   "most_frequent_word": frequent,
                   "most_frequent_top1": round(float(np.mean([labels[i] == frequent for i in np.flatnonzero(inside)])), 4),
                   "in_vocabulary_share": round(float((truth >= 0).mean()), 4)})
    return scores


def text_word_scores(enc: np.ndarray, labels: list[str], centroids: np.ndarray, type_text: list[str | None],
                     k: int = 10, m: int = 30) -> dict:
    """Top-1/top-10 of the right text word when each clip's m nearest types are read as their
    mapped text words (`type_text[row]`, None where a type maps nowhere), first occurrence kept."""
    rows, _ = ranked_types(enc, centroids, m)
    return text_word_hits(rows, labels, type_text, k)


def text_word_hits(rows: np.ndarray, labels: list[str], type_text: list[str | None], k: int = 10) -> dict:
    """`text_word_scores` of clips whose nearest types are already ranked (`rows` [n, m], nearest
    first; any ranking, e.g. two recognisers' fused scores): each row read as its mapped text words."""
    hits1 = hitsk = 0
    for r, truth in zip(rows, labels):
        words, seen = [], set()
        for t in r:
            w = type_text[t]
            if w is not None and w not in seen:
                seen.add(w)
                words.append(w)
            if len(words) == k:
                break
        hits1 += bool(words) and words[0] == truth
        hitsk += truth in words
    n = len(labels)
    return {"n": n, "top1": round(hits1 / n, 4) if n else None, f"top{k}": round(hitsk / n, 4) if n else None}
