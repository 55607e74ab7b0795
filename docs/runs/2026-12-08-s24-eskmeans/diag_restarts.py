"""Did any of the aligner's restarts find the map, or did none?  (session 24; labels score only)

For a finished run: the experiments' unsupervised aligner (selflearn + GW starts, the run's [align]) run
again on the run's speech types and English text space, keeping every restart's refined W (not only the
one with the best criterion); each scored on diag_groups.py's 20,000 held-out test segments (CSLS), with
the Spearman correlation of type and word counts (diag_frequency.py; added after the first run).

With BETA, every GW start's transport cost gets a fused term (Vayer et al. 2019's fused GW, written here as
a linear cost added to the GW gradient at every step): BETA × |log(i+1) − log(j+1)| / log(m) for source rank
i, target rank j (both spaces in frequency order), so frequent types are drawn to frequent words. BETA is
fixed before looking (1.0 puts it on the scale of the GW cost).

With GAMMA, self-learning's dictionary induction scores a pair by CSLS − GAMMA × the same rank term
(selflearn.induce_both_directions, copied here with that one line added), so frequency also holds during the
search; the refinement and the criterion stay as they are. GAMMA fixed before looking (0.2: a fifth of the
term's range against CSLS scores of about −1..1).

    PYTHONPATH=. python3 diag_restarts.py RUN_OUT_DIR OUT.json [BETA [GAMMA]]
"""
import dataclasses
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from core.alignment import AlignConfig, align, gromov, procrustes, selflearn
from core.pipeline import speech_eval as ev
from core.retrieval import chunk_rows, mutual_topk_mean, unit_tensor


def _load(name):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dc, df = _load("diag_criterion"), _load("diag_frequency")


def rank_term(n, m, dtype=torch.float64):
    """|log(i+1) − log(j+1)| / log(m) for source rank i < n, target rank j < m."""
    return (torch.log1p(torch.arange(n, dtype=dtype))[:, None]
            - torch.log1p(torch.arange(m, dtype=dtype))[None, :]).abs() / math.log(m)


def frequency_induction(gamma):
    """selflearn.induce_both_directions with CSLS − gamma × rank_term (the one added line marked)."""
    def induce(xw, ys, keep_prob, knn, gen, chunk=None, progress=None):
        xw = unit_tensor(xw)
        r_x, r_y = mutual_topk_mean(xw, ys, knn, chunk, progress)
        n, m = len(xw), len(ys)
        penalty = gamma * rank_term(n, m, xw.dtype).to(xw.device)
        fwd_val = torch.empty(n, device=xw.device)
        fwd_idx = torch.empty(n, dtype=torch.int64, device=xw.device)
        bwd_val = torch.full((m,), float("-inf"), device=xw.device)
        bwd_idx = torch.zeros(m, dtype=torch.int64, device=xw.device)
        step = chunk_rows(m, xw.device, chunk)
        for start in range(0, n, step):
            end = min(n, start + step)
            csls = xw[start:end] @ ys.T
            csls.mul_(2).sub_(r_y[None, :]).sub_(r_x[start:end, None])
            csls.sub_(penalty[start:end])  # the added line
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
    return induce


def fused_coupling(beta):
    """gromov.gw_coupling with the frequency-rank cost added to every step's linear cost."""
    def coupling(cx, cy, eps, outer=200, inner=1000, tol=1e-9, check=None):
        cx, cy = cx.double(), cy.double()
        n, m = len(cx), len(cy)
        rank_cost = rank_term(n, m, cx.dtype)
        p = torch.full((n,), 1.0 / n, dtype=cx.dtype)
        q = torch.full((m,), 1.0 / m, dtype=cx.dtype)
        const = (cx ** 2 @ p)[:, None] + (cy ** 2 @ q)[None, :] + beta * rank_cost
        t, g = p[:, None] * q[None, :], None
        for _ in range(outer):
            if check is not None:
                check()
            t_new, g = gromov.sinkhorn_log(const - 2.0 * cx @ t @ cy.T, eps, inner, g=g)
            if torch.linalg.norm(t_new - t) < tol:
                return t_new
            t = t_new
        return t
    return coupling


def main():
    out_dir, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    beta = float(sys.argv[3]) if len(sys.argv) > 3 else None
    gamma = float(sys.argv[4]) if len(sys.argv) > 4 else None
    seen = dc.run_diag_groups(out_dir, out_json.with_suffix(".groups.json"))
    kept = []
    real_refine = procrustes.refine

    def keep_refine(x, y, w, cfg, log, *a, **kw):
        out = real_refine(x, y, w, cfg, log, *a, **kw)
        kept.append((out[0].detach().clone(), float(out[1])))
        return out

    real_coupling, real_induce = gromov.gw_coupling, selflearn.induce_both_directions
    procrustes.refine = keep_refine
    if beta is not None:
        gromov.gw_coupling = fused_coupling(beta)
    if gamma is not None:
        selflearn.induce_both_directions = frequency_induction(gamma)
    try:
        res = align(seen["src"], seen["tgt"], AlignConfig(method="selflearn", gw_start=True))
    finally:
        procrustes.refine, gromov.gw_coupling = real_refine, real_coupling
        selflearn.induce_both_directions = real_induce
    rows = []
    for k, (w, crit) in enumerate(kept):
        mapping = dataclasses.replace(res.mapping, W=w.cpu().numpy().astype(np.float32))
        top = ev.retrieve(mapping, seen["queries"], seen["src"], seen["tgt"], 1, 10)
        rows.append({"restart": k + 1, "start": res.restarts[k]["start"], "criterion": crit,
                     **ev.classification_scores(top, seen["truth"], seen["tgt"]),
                     **df.frequency_agreement(mapping, seen["src"], seen["tgt"])})
        print(rows[-1], flush=True)
    out_json.write_text(json.dumps({"beta": beta, "gamma": gamma, "kept_criterion": float(res.criterion),
                                    "restarts": rows}, indent=1))


if __name__ == "__main__":
    main()
