"""Adversarial alignment (Conneau, Lample, Ranzato, Denoyer, Jégou, ICLR 2018, arXiv 1710.04087).

A discriminator learns to tell mapped source vectors W·x from target vectors y (both drawn
from the `dis_most_frequent` most frequent words); W is trained to fool it, with the labels
flipped, and kept close to orthogonal after every step with W ← (1+β)W − β(WWᵀ)W (plus β = ½
steps whenever that leaves max |WᵀW − I| above `ORTHOGONAL_TOLERANCE`). Labels are
smoothed (source 1 − s, target s). After each epoch the unsupervised criterion decides whether
W is the best so far; when the criterion drops the map's learning rate is shrunk.

Safety: every `health_check_every` iterations W and the losses are checked. When W's singular
values drift out of [1/1.5, 1.5] (β = 0.001 cannot hold W orthogonal against strong gradients) W
is replaced by its nearest orthogonal matrix. NaN/inf, or singular values out of [0.1, 10]
(divergence), rolls back to the best (or last healthy) W, shrinks the learning
rate and resets the discriminator. A run never ends with a NaN mapping.

Speed: both updates are plain SGD written out (autograd.grad + in-place steps), and nothing in an
iteration reads a value back to the host, so on CUDA one iteration is recorded once as a CUDA graph
and replayed (`recorded_iteration`); on the CPU it runs step by step.
"""

from __future__ import annotations

import torch
from torch import nn

from core.alignment.base import AlignConfig, RunLog, clip_to_vocab
from core.alignment.procrustes import criterion

# The paper's small β keeps W orthogonal for 300-d word vectors, but in low dimensions (or on
# strongly structured spaces) one SGD step moves W's singular values by more than β can pull them
# back: they drift to [0.01, 1.7] and W degenerates (measured on the synthetic rotation). W is
# therefore also held within this distance of orthogonal; when β suffices nothing changes.
ORTHOGONAL_TOLERANCE = 1e-2
# Newton–Schulz converges quadratically (max |WᵀW − I| 0.5 → 0.2 → 0.03 → 1e-3), so a few steps
# bring back even a W that one SGD step pushed far off.
MAX_CORRECTIONS = 4


def build_discriminator(dim: int, cfg: AlignConfig) -> nn.Module:
    """MLP: input dropout, `dis_layers` hidden layers of `dis_hidden_dim` with LeakyReLU(0.2), 1 logit."""
    layers: list[nn.Module] = [nn.Dropout(cfg.dis_input_dropout)]
    width = dim
    for _ in range(cfg.dis_layers):
        layers += [nn.Linear(width, cfg.dis_hidden_dim), nn.LeakyReLU(0.2)]
        width = cfg.dis_hidden_dim
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def orthogonalize(w: torch.Tensor, beta: float, tolerance: float = ORTHOGONAL_TOLERANCE) -> None:
    """W ← (1+β)W − β(WWᵀ)W in place; then up to `MAX_CORRECTIONS` β = ½ steps (Newton–Schulz steps
    to the polar factor), each applied only where W is still not close to orthogonal
    (max |WᵀW − I| > `tolerance`).

    The test is a tensor mask, not a Python `if`: reading it on the host would stall the GPU at
    every mapping step. A correction that is not needed costs two small matmuls and changes nothing.
    """
    w.copy_((1 + beta) * w - beta * (w @ w.T) @ w)
    eye = torch.eye(w.shape[1], dtype=w.dtype, device=w.device)
    for _ in range(MAX_CORRECTIONS):
        far = (w.T @ w - eye).abs().amax() > tolerance
        w.copy_(torch.where(far, 1.5 * w - 0.5 * (w @ w.T) @ w, w))


def _batch(x, y, n_src, n_tgt, bs, gen, w):
    src_ids = torch.randint(n_src, (bs,), generator=gen, device=x.device)
    tgt_ids = torch.randint(n_tgt, (bs,), generator=gen, device=x.device)
    return x[src_ids] @ w.T, y[tgt_ids]


def dis_step(dis, x, y, w, n_src, n_tgt, cfg, gen, labels) -> torch.Tensor:
    """One discriminator update (plain SGD, `dis_lr`) on a batch of mapped source and target
    vectors; returns the loss. Gradients are taken with autograd.grad (no .grad buffers to zero)."""
    dis.train()
    with torch.no_grad():
        xs, ys = _batch(x, y, n_src, n_tgt, cfg.adv_batch_size, gen, w)
    logits = dis(torch.cat([xs, ys])).squeeze(1)
    loss = nn.functional.binary_cross_entropy_with_logits(logits, labels)
    params = list(dis.parameters())
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.add_(g, alpha=-cfg.dis_lr)
    return loss.detach()


def map_step(dis, w, x, y, n_src, n_tgt, cfg, gen, labels, lr: torch.Tensor) -> torch.Tensor:
    """One mapping update that tries to fool the discriminator, then re-orthogonalisation.
    `lr` is a 0-d tensor on W's device, so that a recorded CUDA graph sees its changes."""
    dis.eval()
    w.requires_grad_(True)
    xs, ys = _batch(x, y, n_src, n_tgt, cfg.adv_batch_size, gen, w)
    logits = dis(torch.cat([xs, ys])).squeeze(1)
    loss = nn.functional.binary_cross_entropy_with_logits(logits, 1 - labels)
    (grad,) = torch.autograd.grad(loss, w)
    w.requires_grad_(False)
    with torch.no_grad():
        w.sub_(grad * lr)
        orthogonalize(w, cfg.map_beta)
    return loss.detach()


def reset_discriminator(dis: nn.Module) -> None:
    """Fresh random weights, written into the existing parameter tensors (a recorded graph stays valid)."""
    for module in dis.modules():
        if isinstance(module, nn.Linear):
            module.reset_parameters()


def recorded_iteration(iteration, device: torch.device, warmup: int = 3):
    """`iteration` (one discriminator + mapping round, no host syncs) recorded once as a CUDA graph.

    Why: an iteration is a few hundred tiny kernels, and launching them one by one from Python
    costs 11–15 ms per iteration on an H100 (the MUSE defaults then take about 1.4 h per pair);
    replaying a graph launches them all at once. The `warmup` iterations (run eagerly on a side
    stream, as CUDA graph capture requires) are real training iterations. Returns a callable that
    runs one more iteration (a replay) and returns its outputs (the same tensors, rewritten).
    """
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(warmup):
            iteration()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        outputs = iteration()

    def replay():
        graph.replay()
        return outputs

    return replay


def _finite(w: torch.Tensor, losses: list[torch.Tensor]) -> bool:
    return bool(torch.isfinite(w).all()) and all(bool(torch.isfinite(loss)) for loss in losses)


def _drifted(w: torch.Tensor, tolerance: float) -> bool:
    """True when a singular value of W left [1/tolerance, tolerance] (W far from orthogonal)."""
    sv = torch.linalg.svdvals(w)
    return float(sv.max()) > tolerance or float(sv.min()) < 1.0 / tolerance


def nearest_orthogonal(w: torch.Tensor) -> torch.Tensor:
    """The orthogonal matrix closest to W (polar factor U Vᵀ)."""
    u, _, vt = torch.linalg.svd(w.double())
    return (u @ vt).to(w.dtype)


def train_adversarial(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, cfg: AlignConfig, log: RunLog,
                      seed: int, label: str = "adversarial") -> tuple[torch.Tensor, float, list[dict]]:
    """Adversarial training from `w0`; returns (W with the best criterion, that criterion, history)."""
    dev = x.device
    torch.manual_seed(seed)
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    n_src = clip_to_vocab("dis_most_frequent", cfg.dis_most_frequent, len(x), log)
    n_tgt = min(cfg.dis_most_frequent, len(y))
    if n_tgt < cfg.dis_most_frequent and n_src == len(x) and len(y) != len(x):
        log.warn(f"dis_most_frequent={cfg.dis_most_frequent} is larger than the target vocabulary "
                 f"({len(y)} words); clipped to {len(y)}")
    bs = cfg.adv_batch_size
    labels = torch.cat([torch.full((bs,), 1 - cfg.dis_smooth), torch.full((bs,), cfg.dis_smooth)]).to(dev)
    dis = build_discriminator(x.shape[1], cfg).to(dev)
    w = w0.clone().to(dev)
    best_w, best_crit = w.clone(), criterion(x, y, w, cfg, log)
    last_good = w.clone()
    lr = cfg.map_lr
    lr_now = torch.tensor(lr, dtype=w.dtype, device=dev)

    def iteration(generator=gen):
        d = None
        for _ in range(cfg.dis_steps):
            d = dis_step(dis, x, y, w, n_src, n_tgt, cfg, generator, labels)
        return d, map_step(dis, w, x, y, n_src, n_tgt, cfg, generator, labels, lr_now)

    step = iteration
    if dev.type == "cuda":
        try:  # the graph samples from the default CUDA generator (seeded above): a custom one cannot be recorded
            step = recorded_iteration(lambda: iteration(None), dev)
        except RuntimeError as exc:
            log.warn(f"{label}: could not record the training step as a CUDA graph ({exc}); running it step by step")
    history = [{"stage": label, "epoch": 0, "criterion": best_crit}]
    iters_per_epoch = max(1, cfg.adv_epoch_size // bs)
    drift_fixes = 0
    for epoch in range(1, cfg.adv_epochs + 1):
        d_loss = m_loss = torch.zeros((), device=dev)
        for it in range(iters_per_epoch):
            d_loss, m_loss = step()
            if (it + 1) % cfg.health_check_every == 0 or it + 1 == iters_per_epoch:
                log.check()
                if not _finite(w, [d_loss, m_loss]) or _drifted(w, 10.0):
                    w.copy_(best_w if torch.isfinite(torch.tensor(best_crit)) else last_good)
                    lr = max(cfg.min_lr, lr * cfg.lr_shrink)
                    lr_now.fill_(lr)
                    reset_discriminator(dis)
                    log.warn(f"{label} epoch {epoch} iteration {it + 1}: NaN or divergence; rolled back "
                             f"to the best mapping, map learning rate now {lr:g}")
                    continue
                if _drifted(w, 1.5):
                    w.copy_(nearest_orthogonal(w))
                    drift_fixes += 1
                last_good = w.clone()
                log.update(epoch - 1 + (it + 1) / iters_per_epoch, cfg.adv_epochs,
                           dis_loss=float(d_loss), map_loss=float(m_loss))
        crit = criterion(x, y, w, cfg, log)
        history.append({"stage": label, "epoch": epoch, "criterion": crit, "map_lr": lr,
                        "dis_loss": float(d_loss), "map_loss": float(m_loss)})
        log(f"{label} epoch {epoch}: criterion {crit:.4f}, discriminator loss {float(d_loss):.4f}, "
            f"map lr {lr:g}" + (f", W re-orthogonalised {drift_fixes}×" if drift_fixes else ""))
        drift_fixes = 0
        if crit > best_crit:
            best_w, best_crit = w.clone(), crit
        elif cfg.lr_shrink < 1:
            lr = max(cfg.min_lr, lr * cfg.lr_shrink)
            log(f"{label} epoch {epoch}: criterion did not improve; map learning rate shrunk to {lr:g}")
        lr = max(cfg.min_lr, lr * cfg.lr_decay)
        lr_now.fill_(lr)
    return best_w, best_crit, history
