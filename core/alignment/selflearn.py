"""Robust unsupervised start and stochastic self-learning (Artetxe, Labaka, Agirre, ACL 2018).

Start: words that translate each other have similar *distributions* of similarities to the rest of
their own space. For the `init_vocab` most frequent words of each space take M = sqrt(X Xᵀ)
(the matrix square root, U S Uᵀ from the SVD X = U S Vᵀ), sort every row, normalise the rows
(unit, center, unit) and match the two sets of sorted rows with CSLS in both directions. This
needs no mapping and no randomness.

Restarts (`restart_start`): every restart begins from a different start dictionary (the robust
start over fewer top words, or a random half of it) and uses its own dropout seed; the pipeline
keeps the one the unsupervised criterion prefers.

Self-learning: repeat {orthogonal Procrustes on the dictionary; new dictionary = CSLS nearest
neighbours in both directions among the `selflearn_vocab` most frequent words}. Every candidate
pair is kept only with probability p (here: dropped candidates are removed from the argmax), p
starts at 0.1 and doubles each time the objective (mean CSLS score of the chosen pairs) stops
improving, and the loop ends when it stalls at p = 1. Semi-supervised mode starts from a seed
dictionary with p = 1 and keeps the seed pairs in every dictionary.
"""

from __future__ import annotations

import torch

from core.alignment.base import AlignConfig, RunLog, clip_to_vocab
from core.alignment.procrustes import procrustes_from_pairs
from core.retrieval import chunk_rows, mutual_topk_mean, topk_csls, unit_tensor


def sorted_similarity_profile(a: torch.Tensor) -> torch.Tensor:
    """Rows of sqrt(A Aᵀ) sorted and normalised (unit, center, unit): the word's similarity profile."""
    u, s, _ = torch.linalg.svd(a.double(), full_matrices=False)
    m = (u * s) @ u.T
    m = m.sort(dim=1).values.float()
    m = unit_tensor(m)
    m = m - m.mean(0, keepdim=True)
    return unit_tensor(m)


def robust_start(x: torch.Tensor, y: torch.Tensor, cfg: AlignConfig, log: RunLog,
                 n_words: int | None = None) -> torch.Tensor:
    """Initial dictionary from within-space similarity distributions: pairs [n, 2] (src, tgt).

    Uses the top `n_words` of each space (default `cfg.init_vocab`, clipped to the vocabularies).
    """
    n = clip_to_vocab("init_vocab", cfg.init_vocab if n_words is None else n_words, min(len(x), len(y)), log)
    px, py = sorted_similarity_profile(x[:n]), sorted_similarity_profile(y[:n])
    _, fwd = topk_csls(px, py, 1, cfg.csls_knn, backend="torch", device=px.device)
    _, bwd = topk_csls(py, px, 1, cfg.csls_knn, backend="torch", device=px.device)
    ar = torch.arange(n, device=px.device)
    pairs = torch.cat([torch.stack([ar, fwd[:, 0]], 1), torch.stack([bwd[:, 0], ar], 1)])
    log(f"robust start: {len(pairs)} pairs from the similarity distributions of the top {n} words")
    return pairs


def restart_start(x: torch.Tensor, y: torch.Tensor, cfg: AlignConfig, log: RunLog, restart: int,
                  first: torch.Tensor | None = None) -> torch.Tensor:
    """The start dictionary of self-learning restart `restart` (0-based).

    Restarts that only change the dropout seed fall into the same optimum on real pairs, so each
    restart starts elsewhere: the robust start over a fraction of the `init_vocab` top words
    (`cfg.start_vocab_fractions`, cycling) and, from the second cycle on, a seeded random half of
    that start's pairs. `first` (restart 0's start, when already computed) is reused.
    """
    fractions = cfg.start_vocab_fractions
    fraction = fractions[restart % len(fractions)]
    if restart == 0 and first is not None and fraction == 1.0:
        return first
    # a fraction of the words actually available, so that restarts differ on small vocabularies too
    n = None if fraction == 1.0 else max(2, round(fraction * min(cfg.init_vocab, len(x), len(y))))
    pairs = robust_start(x, y, cfg, log, n_words=n)
    if restart >= len(fractions):
        gen = torch.Generator().manual_seed(cfg.seed + 7919 * restart)
        keep = (torch.rand(len(pairs), generator=gen) < 0.5).to(pairs.device)
        pairs = pairs[keep] if int(keep.sum()) >= 2 else pairs
        log(f"restart {restart + 1}: kept a random half ({len(pairs)} pairs) of that start")
    return pairs


def induce_both_directions(xw: torch.Tensor, ys: torch.Tensor, keep_prob: float, knn: int,
                           gen: torch.Generator | None, chunk: int | None = None, progress=None):
    """CSLS nearest neighbours src→tgt and tgt→src with candidate dropout.

    Returns (objective = mean CSLS score of the chosen pairs over both directions, pairs [n+m, 2]).
    """
    xw = unit_tensor(xw)
    r_x, r_y = mutual_topk_mean(xw, ys, knn, chunk, progress)
    n, m = len(xw), len(ys)
    fwd_val = torch.empty(n, device=xw.device)
    fwd_idx = torch.empty(n, dtype=torch.int64, device=xw.device)
    bwd_val = torch.full((m,), float("-inf"), device=xw.device)
    bwd_idx = torch.zeros(m, dtype=torch.int64, device=xw.device)
    step = chunk_rows(m, xw.device, chunk)
    for start in range(0, n, step):
        if progress is not None:
            progress.check()
        end = min(n, start + step)
        csls = xw[start:end] @ ys.T
        csls.mul_(2).sub_(r_y[None, :]).sub_(r_x[start:end, None])
        if keep_prob < 1.0:
            drop = torch.rand(csls.shape, generator=gen, device=csls.device) >= keep_prob
            csls.masked_fill_(drop, float("-inf"))
        fwd_val[start:end], fwd_idx[start:end] = csls.max(dim=1)
        col_val, col_arg = csls.max(dim=0)
        better = col_val > bwd_val
        bwd_val = torch.where(better, col_val, bwd_val)
        bwd_idx = torch.where(better, col_arg + start, bwd_idx)
    finite = torch.cat([fwd_val, bwd_val])
    finite = finite[torch.isfinite(finite)]
    objective = float(finite.mean()) if len(finite) else float("-inf")
    pairs = torch.cat([torch.stack([torch.arange(n, device=xw.device), fwd_idx], 1),
                       torch.stack([bwd_idx, torch.arange(m, device=xw.device)], 1)])
    keep = torch.cat([torch.isfinite(fwd_val), torch.isfinite(bwd_val)])
    return objective, pairs[keep]


def self_learning(x: torch.Tensor, y: torch.Tensor, init_pairs: torch.Tensor, cfg: AlignConfig, log: RunLog,
                  seed: int, seed_pairs: torch.Tensor | None = None, keep_prob: float | None = None,
                  max_iterations: int | None = None, label: str = "self-learning"):
    """Iterate Procrustes ↔ dictionary induction; return (W, history)."""
    n = clip_to_vocab("selflearn_vocab", cfg.selflearn_vocab, min(len(x), len(y)), log)
    keep = cfg.keep_prob_start if keep_prob is None else keep_prob
    max_it = cfg.max_selflearn_iterations if max_iterations is None else max_iterations
    gen = torch.Generator(device=x.device)
    gen.manual_seed(seed)
    pairs = init_pairs
    best_obj, last_improvement, history = float("-inf"), 0, []
    w = procrustes_from_pairs(x, y, pairs)
    for it in range(1, max_it + 1):
        log.check()
        finishing = False
        if it - last_improvement > cfg.stall_iterations:
            if keep >= 1.0:
                finishing = True
            else:
                keep = min(1.0, keep * cfg.keep_prob_factor)
                last_improvement = it
                log(f"{label}: objective stalled; keep probability now {keep:.2f}")
        w = procrustes_from_pairs(x, y, pairs)
        if finishing:
            break
        objective, pairs = induce_both_directions(x[:n] @ w.T, y[:n], keep, cfg.csls_knn, gen,
                                                  progress=log.progress)
        if seed_pairs is not None:
            pairs = torch.cat([seed_pairs.to(pairs.device), pairs])
        if objective - best_obj >= cfg.stall_threshold:
            best_obj, last_improvement = objective, it
        history.append({"stage": label, "step": it, "objective": objective, "keep_prob": keep})
        log.update(it, max_it, objective=objective, keep_prob=keep)
        if it == 1 or it % 5 == 0:
            log(f"{label} iteration {it}: objective {objective:.4f}, keep probability {keep:.2f}")
    else:
        log(f"{label}: stopped after the maximum of {max_it} iterations (keep probability {keep:.2f})")
        w = procrustes_from_pairs(x, y, pairs)
    return w, history
