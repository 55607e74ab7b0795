"""`align(src, tgt, config)`: preprocessing, the chosen method with restarts, model selection by the
criterion, the auto fallback, and the induced dictionary.

Methods:
* ``adversarial``: MUSE — adversarial training, then Procrustes refinement; `restarts` runs
  (default 3) from different starting maps (on a GPU trained side by side), the best by the
  criterion wins.
* ``selflearn``: the robust start from similarity distributions, stochastic self-learning, then
  Procrustes refinement; `restarts` runs (default 3) from different start dictionaries, the best
  by the criterion wins. With `gw_start`, runs from Gromov–Wasserstein starts go first, one per
  entropy in `gw_epsilons` and target size in `gw_target_words` (`core.alignment.gromov`; what finds configuration B's map on its joined,
  voice-regressed speech types).
* ``supervised``: Procrustes on a seed dictionary (optionally refined).
* ``semisupervised``: seed dictionary + self-learning (seed pairs kept), then refinement.
* ``auto`` (default): the paper's adversarial pipeline guarded by the criterion. The robust method
  (which costs little next to adversarial training) runs too; when the refined adversarial map
  scores below `collapse_threshold` or below the robust start's first Procrustes map (+
  `collapse_margin`), adversarial training is judged collapsed; when it scores below the robust
  method, that one is better. Either way the result is the robust ``selflearn`` mapping, marked as
  a fallback with the reason. Both maps it weighed stay in the result's `candidates`, so the one
  not chosen can be inspected too.

Options for every method: `multistep` replaces the final orthogonal W by the AAAI-2018
multi-step map on the method's final dictionary (off by default: it did not help on textbench);
`criterion_min_count` keeps words seen fewer times out of the criterion when counts are known.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from core.alignment import adversarial, gromov, multistep, procrustes, selflearn
from core.alignment.base import AlignConfig, AlignmentResult, RunLog, random_orthogonal, seed_everything
from core.alignment.mapping import Mapping, preprocess_pair
from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.retrieval import resolve_device, topk_csls


def align(src: Embeddings, tgt: Embeddings, config: AlignConfig | None = None, *,
          seed_pairs: np.ndarray | None = None, progress=None) -> AlignmentResult:
    """Learn W mapping `src` into `tgt` with `config.method`; `seed_pairs` [n, 2] rows for (semi)supervised."""
    cfg = config or AlignConfig()
    cfg.validate()
    log = RunLog(progress)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if len(src) < 2 or len(tgt) < 2:
        raise WordbridgeError(f"each space needs at least 2 words (source {len(src)}, target {len(tgt)})")
    needs_seed = cfg.method in ("supervised", "semisupervised")
    if needs_seed and (seed_pairs is None or len(seed_pairs) == 0):
        raise WordbridgeError(f"method {cfg.method!r} needs a seed dictionary with at least one pair "
                              "found in both spaces (--seed-dict)")
    dev = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # keep retrieval exact and runs comparable
    log(f"method {cfg.method}, seed {cfg.seed}, device {dev}, source {len(src)}×{src.dim}, "
        f"target {len(tgt)}×{tgt.dim}, normalisation {cfg.normalize}")

    src_pre, tgt_pre, x_np, y_np = preprocess_pair(src.vectors, tgt.vectors, cfg.normalize, cfg.reduce_dim, log)
    x = torch.from_numpy(x_np).to(dev)
    y = torch.from_numpy(y_np).to(dev)
    seeds = None if seed_pairs is None else torch.as_tensor(np.asarray(seed_pairs), dtype=torch.int64).to(dev)
    timings["preprocess"] = time.perf_counter() - t0

    cfg = _with_frequent_criterion_words(cfg, src, tgt, log)
    runner = {"adversarial": _run_adversarial, "selflearn": _run_selflearn, "auto": _run_auto,
              "supervised": _run_supervised, "semisupervised": _run_semisupervised}[cfg.method]
    t1 = time.perf_counter()
    outcome = runner(x, y, cfg, log, seeds)
    if cfg.multistep:
        outcome = _final_multistep(x, y, cfg, log, seeds, outcome)
    timings["align"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    w = outcome["w"]
    dico, scores = induce_dictionary(x, y, w, cfg)
    timings["dictionary"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0

    def mapping_of(w_method: torch.Tensor, method_used: str, crit: float) -> Mapping:
        return Mapping(w_method.cpu().numpy().astype(np.float32), src_pre, tgt_pre,
                       {"method": cfg.method, "method_used": method_used, "seed": cfg.seed,
                        "criterion": crit, "src_dim": src.dim, "tgt_dim": tgt.dim})

    mapping = mapping_of(w, outcome["method_used"], outcome["criterion"])
    candidates = {name: {"mapping": mapping_of(c["w"], name, c["criterion"]), "criterion": c["criterion"],
                         "seconds": c["seconds"]} for name, c in outcome.get("candidates", {}).items()}
    log(f"done: {outcome['method_used']} with criterion {outcome['criterion']:.4f} in {timings['total']:.1f} s")
    return AlignmentResult(
        mapping=mapping, dictionary=dico, dictionary_scores=scores, criterion=outcome["criterion"],
        method=cfg.method, method_used=outcome["method_used"], fallback=outcome.get("fallback", False),
        fallback_reason=outcome.get("fallback_reason", ""), criterion_history=outcome["history"],
        restarts=outcome.get("restarts", []), candidates=candidates, log=log.lines, timings=timings,
        device=str(dev), seed=cfg.seed)


def frequent_rows(emb: Embeddings, min_count: int) -> int:
    """How many rows of `emb` were seen at least `min_count` times (all rows when counts are unknown)."""
    if emb.counts is None or min_count <= 1:
        return len(emb)
    return int((np.asarray(emb.counts) >= min_count).sum())


def _with_frequent_criterion_words(cfg: AlignConfig, src: Embeddings, tgt: Embeddings, log) -> AlignConfig:
    """`cfg` with `criterion_words` limited to words seen `criterion_min_count` times in both spaces."""
    n_src, n_tgt = frequent_rows(src, cfg.criterion_min_count), frequent_rows(tgt, cfg.criterion_min_count)
    limit = min(cfg.criterion_words, n_src, n_tgt)
    if limit >= min(cfg.criterion_words, len(src), len(tgt)):
        return cfg
    if limit < 2:
        log.warn(f"fewer than 2 words seen {cfg.criterion_min_count}+ times; the criterion uses every word")
        return cfg
    log(f"criterion over the top {limit} words (source {n_src}, target {n_tgt} words seen at least "
        f"{cfg.criterion_min_count} times)")
    return replace(cfg, criterion_words=limit)


def _final_multistep(x, y, cfg, log, seeds, outcome):
    """Replace the method's W by the multi-step map fitted on the method's final dictionary."""
    method = outcome["method_used"]
    if method == "supervised":
        pairs = seeds
    else:
        n = min(cfg.selflearn_vocab, len(x), len(y))
        _, pairs = selflearn.induce_both_directions(x[:n] @ outcome["w"].T, y[:n], 1.0, cfg.csls_knn, None)
        if method == "semisupervised":
            pairs = torch.cat([seeds.to(pairs.device), pairs])
    w = multistep.multistep_map(x, y, pairs, src_reweight=cfg.multistep_reweight)
    crit = procrustes.criterion(x, y, w, cfg, log)
    log(f"multi-step final map (whitening, re-weighting {cfg.multistep_reweight}, de-whitening) on "
        f"{len(pairs)} pairs: criterion {crit:.4f} (orthogonal map: {outcome['criterion']:.4f}; "
        "re-weighting raises this criterion by itself, so the two are not comparable)")
    history = outcome["history"] + [{"stage": "multistep", "step": 0, "criterion": crit}]
    return {**outcome, "w": w, "criterion": crit, "history": history}


def induce_dictionary(x, y, w, cfg: AlignConfig) -> tuple[np.ndarray, np.ndarray]:
    """CSLS translation of every source word (among all target words): pairs [n, 2] and scores."""
    scores, idx = topk_csls(x @ w.T, y, 1, cfg.csls_knn, backend=cfg.backend, device=x.device)
    pairs = np.stack([np.arange(len(x)), idx[:, 0].cpu().numpy()], 1).astype(np.int64)
    return pairs, scores[:, 0].cpu().numpy().astype(np.float32)


def _run_adversarial(x, y, cfg, log, _seeds):
    n = cfg.n_restarts("adversarial")
    seeds = [cfg.seed + 1000 * r for r in range(n)]
    # restart 1 starts from the identity, the others from random rotations; all train side by side
    w0 = torch.stack([torch.eye(x.shape[1]) if r == 0 else
                      random_orthogonal(x.shape[1], torch.Generator().manual_seed(seed))
                      for r, seed in enumerate(seeds)])
    # On a GPU one run's small kernels leave it under-used, so the runs train side by side (3 cost
    # 1.5× one on an H100, docs/BENCHMARKS.md); on a CPU stacking is slower per run: one at a time.
    group = n if x.device.type == "cuda" else 1
    trained = []
    for first in range(0, n, group):
        runs = range(first, min(n, first + group))
        log.stage(f"adversarial {runs[0] + 1}/{n}" if len(runs) == 1 else
                  f"adversarial runs {runs[0] + 1}–{runs[-1] + 1} of {n} side by side")
        trained += adversarial.train_adversarial(x, y, w0[first:first + group].to(x.device), cfg, log,
                                                 seeds[first], labels=[f"adversarial run {r + 1}" for r in runs])
    restarts, best = [], None
    for r, (w_adv, crit_adv, hist) in enumerate(trained):
        log.stage(f"refinement {r + 1}/{n}")
        w, crit, hist_ref = procrustes.refine(x, y, w_adv, cfg, log, label=f"refinement run {r + 1}")
        restarts.append({"restart": r + 1, "seed": seeds[r], "criterion_adversarial": crit_adv, "criterion": crit})
        log(f"adversarial run {r + 1}/{n}: criterion {crit_adv:.4f} → {crit:.4f} after refinement")
        if best is None or crit > best["criterion"]:
            best = {"w": w, "criterion": crit, "history": hist + hist_ref, "method_used": "adversarial"}
    best["restarts"] = restarts
    log(f"adversarial: kept run {1 + max(range(n), key=lambda i: restarts[i]['criterion'])} "
        f"(criterion {best['criterion']:.4f})")
    return best


def _run_selflearn(x, y, cfg, log, _seeds, start=None):
    restarts, best = [], None
    gw = cfg.gw_starts() if cfg.gw_start else []
    n = cfg.n_restarts("selflearn") + len(gw)
    for r in range(n):
        seed = cfg.seed + 1000 * r
        # with gw_start, the first runs start from Gromov-Wasserstein (one per entropy and target size),
        # then the robust ones
        robust_r = r - len(gw)
        log.stage(f"start {r + 1}/{n}" if n > 1 else "robust start")
        if robust_r < 0:
            init_pairs = gromov.gromov_start(x, y, cfg, log, *gw[r])
        else:
            init_pairs = selflearn.restart_start(x, y, cfg, log, robust_r, first=start)
        log.stage(f"self-learning {r + 1}/{n}" if n > 1 else "self-learning")
        w_sl, hist = selflearn.self_learning(x, y, init_pairs, cfg, log, seed)
        log.stage(f"refinement {r + 1}/{n}" if n > 1 else "refinement")
        w, crit, hist_ref = procrustes.refine(x, y, w_sl, cfg, log)
        restarts.append({"restart": r + 1, "seed": seed,
                         "start": f"gromov ε {gw[r][0]:g}, {gw[r][1]} words" if robust_r < 0 else "robust",
                         "start_pairs": int(len(init_pairs)), "criterion": crit})
        log(f"selflearn run {r + 1}/{n}: criterion {crit:.4f}")
        if best is None or crit > best["criterion"]:
            best = {"w": w, "criterion": crit, "history": hist + hist_ref, "method_used": "selflearn"}
        same = [q["restart"] for q in restarts[:-1]
                if cfg.restart_agreement > 0 and abs(q["criterion"] - crit) <= cfg.restart_agreement]
        # GW starts all run (two of them may agree and a later one still find the map): only the
        # robust restarts stop early
        if same and r + 1 < n and robust_r >= 0:
            log(f"selflearn: runs {same[0]} and {r + 1} reached the same optimum (criteria within "
                f"{cfg.restart_agreement:g}); the remaining {n - r - 1} restart(s) are skipped")
            break
    best["restarts"] = restarts
    if len(restarts) > 1:
        log(f"selflearn: kept run {1 + max(range(len(restarts)), key=lambda i: restarts[i]['criterion'])} "
            f"(criterion {best['criterion']:.4f})")
    return best


def _run_auto(x, y, cfg, log, seeds):
    log.stage("robust start")
    init_pairs = selflearn.robust_start(x, y, cfg, log)
    w_start = procrustes.procrustes_from_pairs(x, y, init_pairs)
    crit_start = procrustes.criterion(x, y, w_start, cfg, log)
    log(f"auto: robust start scores {crit_start:.4f} after one Procrustes step")
    t0 = time.perf_counter()
    adv = _run_adversarial(x, y, cfg, log, seeds)
    t1 = time.perf_counter()
    robust = _run_selflearn(x, y, cfg, log, seeds, start=init_pairs)
    candidates = {"adversarial": {"w": adv["w"], "criterion": adv["criterion"], "seconds": t1 - t0},
                  "selflearn": {"w": robust["w"], "criterion": robust["criterion"],
                                "seconds": time.perf_counter() - t1}}
    history = [{"stage": "robust start", "step": 0, "criterion": crit_start}] + adv["history"] + robust["history"]
    restarts = adv["restarts"] + robust["restarts"]
    reason = auto_verdict(adv["criterion"], robust["criterion"], crit_start, cfg)
    if not reason:
        log(f"auto: adversarial alignment kept (criterion {adv['criterion']:.4f} ≥ robust {robust['criterion']:.4f})")
        adv.update(history=history, restarts=restarts, candidates=candidates)
        return adv
    log.warn(f"auto: {reason}; using the robust self-learning mapping instead")
    robust.update(history=history, restarts=restarts, fallback=True, fallback_reason=reason, candidates=candidates)
    return robust


def auto_verdict(adversarial: float, robust: float, robust_start: float, cfg: AlignConfig) -> str:
    """Why `auto` sets the adversarial map aside for the robust one ("" when it keeps it), from
    the criteria of the refined adversarial map, the robust method and the robust start's map.

    "Collapsed" only where the criterion says so (below `collapse_threshold`, or no better than
    the robust start + `collapse_margin`); a map that merely scores a little lower than the robust
    one (textbench en_kjv→en_web: 0.8281 against 0.8283, both 85.4 % P@1) is not called collapsed.
    """
    collapse = []
    if adversarial < cfg.collapse_threshold:
        collapse.append(f"criterion {adversarial:.4f} below the threshold {cfg.collapse_threshold:.4f}")
    if adversarial < robust_start + cfg.collapse_margin:
        collapse.append(f"criterion {adversarial:.4f} below the robust start's {robust_start:.4f}")
    versus = [f"criterion {adversarial:.4f} below the robust method's {robust:.4f}"] if adversarial < robust else []
    if collapse:
        return "adversarial alignment judged collapsed: " + "; ".join(collapse + versus)
    return f"the robust method scored higher ({versus[0]})" if versus else ""


def _run_supervised(x, y, cfg, log, seeds):
    w, crit, hist = procrustes.supervised(x, y, seeds, cfg, log)
    return {"w": w, "criterion": crit, "history": hist, "method_used": "supervised"}


def _run_semisupervised(x, y, cfg, log, seeds):
    log.stage("semi-supervised self-learning")
    w_sl, hist = selflearn.self_learning(x, y, seeds, cfg, log, cfg.seed, seed_pairs=seeds, keep_prob=1.0,
                                         max_iterations=cfg.semi_iterations, label="semi-supervised")
    log.stage("refinement")
    w, crit, hist_ref = procrustes.refine(x, y, w_sl, cfg, log)
    return {"w": w, "criterion": crit, "history": hist + hist_ref, "method_used": "semisupervised"}
