"""A start dictionary from entropic Gromov–Wasserstein transport (no mapping, no labels).

Gromov–Wasserstein (GW) matches two point clouds by their *internal* distances only: a coupling T
between the top words of each space is good when words it pairs are at similar distances to the
other words it pairs (Mémoli 2011). With an entropic term it is solved by projected mirror descent
(Peyré, Cuturi & Solomon, ICML 2016, Prop. 2 with step 1/ε): repeat T ← Sinkhorn(L ⊗ T, ε), where
for the square loss L ⊗ T = c(x) 1ᵀ + 1 c(y)ᵀ − 2 Cx T Cyᵀ. Alvarez-Melis & Jaakkola (EMNLP 2018)
used it to align word embedding spaces without supervision; here it only *starts* self-learning.

Why it is here: on configuration B's speech types (issue 18, session 21) the robust start of
similarity distributions lands in a wrong optimum even where the unsupervised criterion prefers
the right map; self-learning from the GW pairs finds it (docs/RESULTS.md). Which ε finds it
varies with the space (0.005 on one B space where 0.01 landed in a worse optimum, 0.01 on others),
and so does how many target words it should see (only 3,000 words, not 2,000, found the map of
session 22's CPU-encoder space), so the pipeline runs one start per ε in `AlignConfig.gw_epsilons`
and target size in `gw_target_words`, and the criterion picks. Cost: a
few dense n × m products per outer step; for 1,000 × 2,000 words about 1–6 min per ε on the 2-core
build CPU while other work ran (smaller ε takes longer; session 21's logs), and on the GPU machine
(scripts/bench_gromov.py, synthetic spaces) 0.75 / 1.7 s on an H100 against 6.2 / 9.6 s on its
16-core CPU for ε 0.01 / 0.005, with the same pairs (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import torch

from core.alignment.base import AlignConfig, RunLog


def sinkhorn_log(cost: torch.Tensor, eps: float, iters: int, tol: float = 1e-9,
                 g: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Entropic optimal transport with uniform marginals, in the log domain (stable for small ε).
    Returns (plan, g); `g`, the column potential of a previous call, warm-starts the iterations."""
    n, m = cost.shape
    log_a = -torch.log(torch.tensor(float(n), dtype=cost.dtype, device=cost.device))
    log_b = -torch.log(torch.tensor(float(m), dtype=cost.dtype, device=cost.device))
    g = torch.zeros(m, dtype=cost.dtype, device=cost.device) if g is None else g
    k = -cost / eps
    for _ in range(iters):
        f = eps * (log_a - torch.logsumexp(k + g[None, :] / eps, dim=1))
        g_new = eps * (log_b - torch.logsumexp(k + f[:, None] / eps, dim=0))
        done = torch.max(torch.abs(g_new - g)) < tol
        g = g_new
        if done:
            break
    return torch.exp(k + f[:, None] / eps + g[None, :] / eps), g


def gw_coupling(cx: torch.Tensor, cy: torch.Tensor, eps: float, outer: int = 200, inner: int = 1000,
                tol: float = 1e-9, check=None) -> torch.Tensor:
    """Entropic GW coupling [n, m] of distance matrices `cx` [n, n] and `cy` [m, m] (square loss,
    uniform marginals). `check()` is called every outer step (a Cancel)."""
    cx, cy = cx.double(), cy.double()
    n, m = len(cx), len(cy)
    p = torch.full((n,), 1.0 / n, dtype=cx.dtype, device=cx.device)
    q = torch.full((m,), 1.0 / m, dtype=cx.dtype, device=cx.device)
    const = (cx ** 2 @ p)[:, None] + (cy ** 2 @ q)[None, :]
    t, g = p[:, None] * q[None, :], None
    for _ in range(outer):
        if check is not None:
            check()
        # consecutive costs differ little, so the last potentials start the next Sinkhorn well
        t_new, g = sinkhorn_log(const - 2.0 * cx @ t @ cy.T, eps, inner, g=g)
        if torch.linalg.norm(t_new - t) < tol:
            return t_new
        t = t_new
    return t


def gromov_start(x: torch.Tensor, y: torch.Tensor, cfg: AlignConfig, log: RunLog, eps: float,
                 n_target: int | None = None) -> torch.Tensor:
    """Start pairs [n, 2] (source row, target row): each of the top `gw_source_words` source words
    paired with the target word (among the top `n_target`, default the first of `gw_target_words`)
    its GW coupling row (entropy `eps`) favours. `x`, `y`: preprocessed spaces (unit rows, frequency
    order)."""
    n_target = n_target or cfg.gw_starts()[0][1]
    n, m = min(cfg.gw_source_words, len(x)), min(n_target, len(y))
    xs, ys = x[:n].double(), y[:m].double()
    coupling = gw_coupling(1.0 - xs @ xs.T, 1.0 - ys @ ys.T, eps, check=log.check)
    best = coupling.argmax(dim=1)
    log(f"Gromov–Wasserstein start: {n} × {m} words, ε {eps:g}, {len(torch.unique(best))} distinct target words")
    return torch.stack([torch.arange(n, device=x.device), best.to(x.device)], 1)
