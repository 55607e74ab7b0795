"""The multi-step mapping framework (Artetxe, Labaka, Agirre, AAAI 2018) as an optional final step.

Given a dictionary (rows A of the source, B of the target), the map is built in four steps:

1. whitening of each side on the dictionary rows: A ← A (AᵀA)^{-1/2}, B ← B (BᵀB)^{-1/2};
2. orthogonal mapping of the whitened sides: (A Wa)ᵀ(B Wb) = U S Vᵀ, source → U, target → V;
3. re-weighting by the singular values: the source side is multiplied by S^a (a = `src_reweight`),
   which stresses the directions on which the two sides agree most;
4. de-whitening of each side with its own whitening matrix, expressed in the mapped coordinates
   (source: Uᵀ Wa⁻¹ U), which gives back each side's original variances.

The target side is only re-weighted with exponent 0 here, so after de-whitening it is just rotated
by V, which preserves its cosines; the rotation is moved to the source side. The result is a
single (not orthogonal) d × d matrix applied to the source only, so it fits `Mapping` unchanged.
With a = 0 the map is the orthogonal U Vᵀ of the whitened problem.
"""

from __future__ import annotations

import torch

from core.errors import WordbridgeError


def _inverse_sqrt_and_sqrt(cov: torch.Tensor, ridge: float) -> tuple[torch.Tensor, torch.Tensor]:
    vals, vecs = torch.linalg.eigh(cov)
    vals = vals.clamp_min(0) + ridge * vals.clamp_min(0).mean().clamp_min(1e-12)
    return (vecs * vals.rsqrt()) @ vecs.T, (vecs * vals.sqrt()) @ vecs.T


def multistep_map(x: torch.Tensor, y: torch.Tensor, pairs: torch.Tensor, *, src_reweight: float = 0.5,
                  whiten: bool = True, ridge: float = 1e-6) -> torch.Tensor:
    """W (target ≈ source @ W.T) from whitening, orthogonal mapping, source re-weighting and de-whitening.

    `pairs` [n, 2] holds (source row, target row); `ridge` (relative to the mean eigenvalue) keeps
    the whitening defined when the dictionary spans fewer directions than the dimension.
    """
    if len(pairs) == 0:
        raise WordbridgeError("cannot fit a mapping: the dictionary is empty")
    pairs = pairs.to(x.device)
    a = x[pairs[:, 0]].double()
    b = y[pairs[:, 1]].double()
    d = a.shape[1]
    if whiten:
        wa, wa_inv = _inverse_sqrt_and_sqrt(a.T @ a, ridge)
        wb, _ = _inverse_sqrt_and_sqrt(b.T @ b, ridge)
    else:
        wa = wa_inv = wb = torch.eye(d, dtype=torch.float64, device=x.device)
    u, s, vt = torch.linalg.svd((a @ wa).T @ (b @ wb))
    # rows: x → x Wa U S^a Uᵀ Wa⁻¹ U, then the target's rotation V is undone on the source side (· Vᵀ)
    reweight = (s.clamp_min(0) ** src_reweight) if src_reweight else torch.ones_like(s)
    row_map = wa @ (u * reweight) @ u.T @ wa_inv @ u @ vt
    return row_map.T.contiguous().to(torch.float32)
