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

Speed: the restarts train side by side as one stack of maps and discriminators (batched matmuls),
both updates are plain SGD written out (autograd.grad + in-place steps), and nothing in an
iteration reads a value back to the host, so on CUDA one iteration of every restart is recorded
once as a CUDA graph and replayed (`recorded_iteration`); on the CPU it runs step by step.
"""

from __future__ import annotations

import time

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


class StackedDiscriminator:
    """`restarts` independent MUSE discriminators held as stacked weights, evaluated with batched
    matmuls: input dropout, `dis_layers` hidden layers of `dis_hidden_dim` with LeakyReLU(0.2), 1 logit.

    Why stacked: one restart's iteration is a few hundred small kernels that leave a GPU under-used,
    so R restarts side by side cost far less than R runs one after another (3 cost 1.5× one on an
    H100 with the TF32 step, docs/BENCHMARKS.md). Slice r never sees slice r' ≠ r.
    """

    def __init__(self, restarts: int, dim: int, cfg: AlignConfig, device: torch.device):
        widths = [dim] + [cfg.dis_hidden_dim] * cfg.dis_layers + [1]
        self.weights = [torch.empty(restarts, a, b, device=device) for a, b in zip(widths, widths[1:])]
        self.biases = [torch.empty(restarts, 1, b, device=device) for b in widths[1:]]
        self.dropout = cfg.dis_input_dropout
        self.reset()
        for p in self.parameters():
            p.requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        return self.weights + self.biases

    def reset(self, restart: int | None = None) -> None:
        """Fresh random weights (nn.Linear's initialisation: U(±1/√fan_in)) for one slice or all,
        written into the existing tensors so that a recorded graph stays valid."""
        with torch.no_grad():
            for w, b in zip(self.weights, self.biases):
                bound = 1.0 / w.shape[1] ** 0.5
                for p in (w, b):
                    (p if restart is None else p[restart]).uniform_(-bound, bound)

    def __call__(self, h: torch.Tensor, train: bool) -> torch.Tensor:
        """Logits [R, n] of the inputs `h` [R, n, dim]."""
        if train and self.dropout > 0:
            h = nn.functional.dropout(h, self.dropout)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = nn.functional.leaky_relu(h, 0.2)
        return h.squeeze(-1)


def orthogonalize(w: torch.Tensor, beta: float, tolerance: float = ORTHOGONAL_TOLERANCE) -> None:
    """W ← (1+β)W − β(WWᵀ)W in place; then up to `MAX_CORRECTIONS` β = ½ steps (Newton–Schulz steps
    to the polar factor), each applied only where W is still not close to orthogonal
    (max |WᵀW − I| > `tolerance`). `w` is one map [d, d] or a stack of maps [R, d, d].

    The test is a tensor mask, not a Python `if`: reading it on the host would stall the GPU at
    every mapping step. A correction that is not needed costs two small matmuls and changes nothing.
    """
    w.copy_((1 + beta) * w - beta * (w @ w.mT) @ w)
    eye = torch.eye(w.shape[-1], dtype=w.dtype, device=w.device)
    for _ in range(MAX_CORRECTIONS):
        far = (w.mT @ w - eye).abs().amax(dim=(-2, -1), keepdim=True) > tolerance
        w.copy_(torch.where(far, 1.5 * w - 0.5 * (w @ w.mT) @ w, w))


def _batch(x, y, n_src, n_tgt, bs, gen, w):
    """Mapped source and target vectors [R, bs, d], drawn independently for each of the R maps."""
    restarts = w.shape[0]
    src_ids = torch.randint(n_src, (restarts, bs), generator=gen, device=x.device)
    tgt_ids = torch.randint(n_tgt, (restarts, bs), generator=gen, device=x.device)
    return torch.bmm(x[src_ids], w.mT), y[tgt_ids]


def _losses(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of each restart [R]; their sum has each restart's own gradient."""
    return nn.functional.binary_cross_entropy_with_logits(
        logits, labels.expand_as(logits), reduction="none").mean(1)


def dis_step(dis, x, y, w, n_src, n_tgt, cfg, gen, labels) -> torch.Tensor:
    """One discriminator update of every restart (plain SGD, `dis_lr`) on a batch of mapped source
    and target vectors; returns the losses [R]. Gradients come from autograd.grad (no .grad buffers)."""
    with torch.no_grad():
        xs, ys = _batch(x, y, n_src, n_tgt, cfg.adv_batch_size, gen, w)
    losses = _losses(dis(torch.cat([xs, ys], 1), train=True), labels)
    params = dis.parameters()
    grads = torch.autograd.grad(losses.sum(), params)
    with torch.no_grad():
        torch._foreach_add_(params, grads, alpha=-cfg.dis_lr)
    return losses.detach()


def map_step(dis, w, x, y, n_src, n_tgt, cfg, gen, labels, lr: torch.Tensor) -> torch.Tensor:
    """One mapping update of every restart that tries to fool its discriminator, then
    re-orthogonalisation; returns the losses [R]. `lr` [R] lives on W's device, so that a recorded
    CUDA graph sees its changes."""
    w.requires_grad_(True)
    xs, ys = _batch(x, y, n_src, n_tgt, cfg.adv_batch_size, gen, w)
    losses = _losses(dis(torch.cat([xs, ys], 1), train=False), 1 - labels)
    (grad,) = torch.autograd.grad(losses.sum(), w)
    w.requires_grad_(False)
    with torch.no_grad():
        w.sub_(grad * lr[:, None, None])
        orthogonalize(w, cfg.map_beta)
    return losses.detach()


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
    exact = torch.backends.cuda.matmul.allow_tf32
    # The step's matrix products run on TF32 tensor cores: in full fp32 (SIMT kernels) they are
    # nearly all of the step's 1.2 ms on an H100 (profile in docs/BENCHMARKS.md), and a stochastic
    # discriminator needs no more precision. The graph keeps the kernels chosen while recording,
    # so the flag is restored at once: retrieval and the criterion stay exact.
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        with torch.cuda.stream(side):
            for _ in range(warmup):
                iteration()
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            outputs = iteration()
    finally:
        torch.backends.cuda.matmul.allow_tf32 = exact

    def replay():
        graph.replay()
        return outputs

    return replay


def _healthy(w: torch.Tensor, losses: list[torch.Tensor]) -> list[bool]:
    """Per restart: W and the losses are finite and W's singular values lie within [0.1, 10]."""
    finite = torch.isfinite(w).flatten(1).all(1)
    for loss in losses:
        finite &= torch.isfinite(loss)
    return [ok and not _drifted(w_r, 10.0) for ok, w_r in zip(finite.tolist(), w)]


def _drifted(w: torch.Tensor, tolerance: float) -> bool:
    """True when a singular value of W left [1/tolerance, tolerance] (W far from orthogonal)."""
    if not bool(torch.isfinite(w).all()):
        return True
    sv = torch.linalg.svdvals(w)
    return float(sv.max()) > tolerance or float(sv.min()) < 1.0 / tolerance


def nearest_orthogonal(w: torch.Tensor) -> torch.Tensor:
    """The orthogonal matrix closest to W (polar factor U Vᵀ)."""
    u, _, vt = torch.linalg.svd(w.double())
    return (u @ vt).to(w.dtype)


def train_adversarial(x: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, cfg: AlignConfig, log: RunLog,
                      seed: int, labels: list[str]) -> list[tuple[torch.Tensor, float, list[dict]]]:
    """Adversarial training of the R maps `w0` [R, d, d] side by side, each with its own
    discriminator, batches, learning rate, rollbacks and best epoch (`labels[r]` names restart r in
    the log). Returns per restart (W with the best criterion, that criterion, history)."""
    dev = x.device
    restarts = w0.shape[0]
    torch.manual_seed(seed)
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    n_src = clip_to_vocab("dis_most_frequent", cfg.dis_most_frequent, len(x), log)
    n_tgt = min(cfg.dis_most_frequent, len(y))
    if n_tgt < cfg.dis_most_frequent and n_src == len(x) and len(y) != len(x):
        log.warn(f"dis_most_frequent={cfg.dis_most_frequent} is larger than the target vocabulary "
                 f"({len(y)} words); clipped to {len(y)}")
    bs = cfg.adv_batch_size
    targets = torch.cat([torch.full((bs,), 1 - cfg.dis_smooth), torch.full((bs,), cfg.dis_smooth)]).to(dev)
    dis = StackedDiscriminator(restarts, x.shape[1], cfg, dev)
    w = w0.clone().to(dev)
    best_w = w.clone()
    best_crit = [criterion(x, y, w_r, cfg, log) for w_r in w]
    last_good = w.clone()
    lr = [cfg.map_lr] * restarts
    lr_now = torch.tensor(lr, dtype=w.dtype, device=dev)

    def iteration(generator=gen):
        d = None
        for _ in range(cfg.dis_steps):
            d = dis_step(dis, x, y, w, n_src, n_tgt, cfg, generator, targets)
        return d, map_step(dis, w, x, y, n_src, n_tgt, cfg, generator, targets, lr_now)

    step = iteration
    if dev.type == "cuda":
        try:  # the graph samples from the default CUDA generator (seeded above): a custom one cannot be recorded
            step = recorded_iteration(lambda: iteration(None), dev)
        except RuntimeError as exc:
            log.warn(f"adversarial: could not record the training step as a CUDA graph ({exc}); "
                     "running it step by step")
    histories = [[{"stage": labels[r], "epoch": 0, "criterion": best_crit[r]}] for r in range(restarts)]
    iters_per_epoch = max(1, cfg.adv_epoch_size // bs)
    drift_fixes = [0] * restarts
    started, estimated = time.perf_counter(), False
    for epoch in range(1, cfg.adv_epochs + 1):
        d_loss = m_loss = torch.zeros(restarts, device=dev)
        for it in range(iters_per_epoch):
            d_loss, m_loss = step()
            if (it + 1) % cfg.health_check_every == 0 or it + 1 == iters_per_epoch:
                log.check()
                for r, healthy in enumerate(_healthy(w, [d_loss, m_loss])):
                    if not healthy:
                        w[r].copy_(best_w[r] if torch.isfinite(torch.tensor(best_crit[r])) else last_good[r])
                        lr[r] = max(cfg.min_lr, lr[r] * cfg.lr_shrink)
                        dis.reset(r)
                        log.warn(f"{labels[r]} epoch {epoch} iteration {it + 1}: NaN or divergence; rolled "
                                 f"back to the best mapping, map learning rate now {lr[r]:g}")
                    elif _drifted(w[r], 1.5):
                        w[r].copy_(nearest_orthogonal(w[r]))
                        drift_fixes[r] += 1
                lr_now.copy_(torch.tensor(lr))
                last_good.copy_(w)
                log.update(epoch - 1 + (it + 1) / iters_per_epoch, cfg.adv_epochs,
                           dis_loss=float(d_loss.mean()), map_loss=float(m_loss.mean()))
                if not estimated:  # say early what the whole training will cost (hours on a CPU)
                    estimated = True
                    total = (time.perf_counter() - started) / (it + 1) * iters_per_epoch * cfg.adv_epochs
                    log(f"adversarial training ({restarts} run{'s' if restarts > 1 else ''}, {cfg.adv_epochs} × "
                        f"{iters_per_epoch} iterations) needs about "
                        + (f"{total:.0f} s" if total < 120 else f"{total / 60:.0f} min") + " at the speed so far")
        for r in range(restarts):
            crit = criterion(x, y, w[r], cfg, log)
            histories[r].append({"stage": labels[r], "epoch": epoch, "criterion": crit, "map_lr": lr[r],
                                 "dis_loss": float(d_loss[r]), "map_loss": float(m_loss[r])})
            log(f"{labels[r]} epoch {epoch}: criterion {crit:.4f}, discriminator loss {float(d_loss[r]):.4f}, "
                f"map lr {lr[r]:g}" + (f", W re-orthogonalised {drift_fixes[r]}×" if drift_fixes[r] else ""))
            drift_fixes[r] = 0
            if crit > best_crit[r]:
                best_w[r], best_crit[r] = w[r], crit
            elif cfg.lr_shrink < 1:
                lr[r] = max(cfg.min_lr, lr[r] * cfg.lr_shrink)
                log(f"{labels[r]} epoch {epoch}: criterion did not improve; map learning rate shrunk to {lr[r]:g}")
            lr[r] = max(cfg.min_lr, lr[r] * cfg.lr_decay)
        lr_now.copy_(torch.tensor(lr))
    return [(best_w[r].clone(), best_crit[r], histories[r]) for r in range(restarts)]
