"""Procrustes from a dictionary, CSLS dictionary induction, and MUSE-style iterative refinement.

Refinement (Conneau et al. 2018, section 3.4): build a dictionary of mutual CSLS nearest
neighbours among the `max_rank` most frequent words of both spaces, solve orthogonal Procrustes
on it, repeat `n_steps` times; the criterion picks the best step (the starting map included).
"""

from __future__ import annotations

import torch

from core.alignment.base import AlignConfig, RunLog, clip_to_vocab, procrustes
from core.alignment.criterion import mean_csls_cosine
from core.errors import WordbridgeError
from core.retrieval import csls_penalties, topk_csls


def procrustes_from_pairs(x: torch.Tensor, y: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Orthogonal W fitted on the rows `pairs[:, 0]` of x and `pairs[:, 1]` of y."""
    if len(pairs) == 0:
        raise WordbridgeError("cannot fit a mapping: the dictionary is empty")
    pairs = pairs.to(x.device)
    return procrustes(x[pairs[:, 0]], y[pairs[:, 1]])


def csls_mutual_dictionary(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, *, max_rank: int,
                           knn: int = 10, backend: str = "auto", progress=None) -> torch.Tensor:
    """Pairs (src row, tgt row) that are each other's CSLS nearest neighbour among the top `max_rank`."""
    xs = x[:max_rank] @ w.T
    ys = y[:max_rank]
    r_x, r_y = csls_penalties(xs, ys, knn, backend=backend, device=xs.device, progress=progress)
    _, fwd = topk_csls(xs, ys, 1, knn, backend=backend, device=xs.device, penalties=(r_x, r_y), progress=progress)
    _, bwd = topk_csls(ys, xs, 1, knn, backend=backend, device=xs.device, penalties=(r_y, r_x), progress=progress)
    fwd, bwd = fwd[:, 0].cpu(), bwd[:, 0].cpu()
    src = torch.arange(len(fwd))
    mutual = bwd[fwd] == src
    return torch.stack([src[mutual], fwd[mutual]], 1)


def refine(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, cfg: AlignConfig, log: RunLog,
           label: str = "refinement", n_steps: int | None = None) -> tuple[torch.Tensor, float, list[dict]]:
    """MUSE refinement from `w`; returns (best W by the criterion, its criterion, history)."""
    n_steps = cfg.n_refinement if n_steps is None else n_steps
    max_rank = clip_to_vocab("refine_max_rank", cfg.refine_max_rank, min(len(x), len(y)), log) \
        if n_steps > 0 else cfg.refine_max_rank
    crit = criterion(x, y, w, cfg, log)
    best_w, best_crit = w, crit
    history = [{"stage": label, "step": 0, "criterion": crit}]
    log(f"{label}: start criterion {crit:.4f}")
    previous = None
    for step in range(1, n_steps + 1):
        log.check()
        pairs = csls_mutual_dictionary(x, y, w, max_rank=max_rank, knn=cfg.csls_knn, backend=cfg.backend,
                                       progress=log.progress)
        if len(pairs) < 2:
            log.warn(f"{label} step {step}: only {len(pairs)} mutual pairs; stopping refinement")
            break
        if previous is not None and torch.equal(previous, pairs):
            log(f"{label} step {step}: dictionary unchanged ({len(pairs)} pairs); converged")
            break
        previous = pairs
        w = procrustes_from_pairs(x, y, pairs)
        crit = criterion(x, y, w, cfg, log)
        history.append({"stage": label, "step": step, "criterion": crit, "pairs": int(len(pairs))})
        log(f"{label} step {step}: {len(pairs)} mutual CSLS pairs, criterion {crit:.4f}")
        log.update(step, n_steps, criterion=crit)
        if crit > best_crit:
            best_w, best_crit = w, crit
    return best_w, best_crit, history


def criterion(x, y, w, cfg: AlignConfig, log: RunLog | None = None) -> float:
    """The model-selection criterion with the run's settings (words clipped to the vocabularies)."""
    n = min(cfg.criterion_words, len(x), len(y))
    return mean_csls_cosine(x, y, w, n_words=n, knn=cfg.csls_knn, backend=cfg.backend,
                            progress=None if log is None else log.progress)


def supervised(x, y, seed_pairs: torch.Tensor, cfg: AlignConfig, log: RunLog):
    """Procrustes on the seed dictionary, then `cfg.supervised_refinement` refinement steps."""
    w = procrustes_from_pairs(x, y, seed_pairs)
    log(f"supervised Procrustes on {len(seed_pairs)} seed pairs")
    if cfg.supervised_refinement > 0:
        return refine(x, y, w, cfg, log, n_steps=cfg.supervised_refinement)
    crit = criterion(x, y, w, cfg, log)
    log(f"supervised: criterion {crit:.4f}")
    return w, crit, [{"stage": "supervised", "step": 0, "criterion": crit}]
