"""Acoustic word embeddings learned from audio alone (step i of the unit-skipgram learner).

An encoder (1-D convolutions with mean+max pooling, or a bidirectional GRU) maps a segment's
frames to a fixed-size vector. It is trained contrastively (InfoNCE): two views of a segment
must be closer to each other than to the other segments of the batch. A view is the segment
cropped a little at both ends, read at a perturbed frame rate (time stretch by interpolation),
with a span of frames masked and Gaussian noise added. With `positives="labels"`
(configuration A, where the identities are given anyway) the second view comes from another
segment of the same word, which teaches speaker invariance directly.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from core.speech.batching import SegmentFrames, bucketed_batches


class ConvEncoder(nn.Module):
    """Three 1-D convolutions (kernel 5) with GELU, masked mean+max pooling, then a linear layer."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(in_dim if i == 0 else hidden, hidden, 5, padding=2)
                                    for i in range(3)])
        self.out = nn.Linear(2 * hidden, out_dim)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None])
        m = mask[:, None, :].to(x.dtype)
        h = x.transpose(1, 2)
        for conv in self.convs:
            h = F.gelu(conv(h * m))  # zero the padding so it never leaks into valid frames
        m = m.to(h.dtype)
        mean = (h * m).sum(-1) / m.sum(-1).clamp_min(1)
        peak = h.masked_fill(m == 0, float("-inf")).amax(-1)
        return self.out(torch.cat([mean, peak], dim=-1))


class GRUEncoder(nn.Module):
    """Bidirectional GRU; final states of both directions → linear."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int):
        super().__init__()
        self.rnn = nn.GRU(in_dim, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, out_dim)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h = self.rnn(packed)
        return self.out(torch.cat([h[0], h[1]], dim=-1))


class MeanPoolEncoder(nn.Module):
    """No parameters: a segment's embedding is the masked mean of its frames (the front end's own
    pooled vector; `out_dim` must equal `in_dim`). Why it is offered: on unlabelled Mboshi field
    recordings k-means on these (standardised speech embedding, energy segments) grouped words
    better than on the trained encoders' embeddings, NED 78.5 against 82.4 (docs/RESULTS.md,
    "Words without labels: the app's own path scored as term discovery (session 13)")."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int):
        super().__init__()
        if out_dim != in_dim:
            raise ValueError(f"the mean-pooling encoder keeps the frame width: out_dim {out_dim} != {in_dim}")

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        m = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]).to(x.dtype)
        return (x * m[:, :, None]).sum(1) / m.sum(1, keepdim=True).clamp_min(1)


ENCODERS = {"conv": ConvEncoder, "gru": GRUEncoder, "mean": MeanPoolEncoder}


def make_encoder(kind: str, in_dim: int, hidden: int, out_dim: int) -> nn.Module:
    """An acoustic encoder by name ("conv", "gru", or "mean": no parameters, mean-pooled frames)."""
    if kind not in ENCODERS:
        from core.errors import WordbridgeError

        raise WordbridgeError(f"unknown acoustic encoder {kind!r} (choose from {', '.join(ENCODERS)})")
    return ENCODERS[kind](in_dim, hidden, out_dim)


class ContrastiveAWE(nn.Module):
    """Encoder + projection head; `forward(batch)` is the symmetric InfoNCE loss of two views."""

    def __init__(self, feat_dim: int, kind: str = "conv", hidden: int = 256, dim: int = 128,
                 temperature: float = 0.1):
        super().__init__()
        self.feat_dim, self.kind, self.hidden, self.dim = feat_dim, kind, hidden, dim
        self.temperature = temperature
        self.encoder = make_encoder(kind, feat_dim, hidden, dim)
        self.head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def architecture(self) -> dict:
        """What is needed to rebuild the encoder (stored next to its weights)."""
        return {"kind": f"acoustic-{self.kind}", "feat_dim": self.feat_dim, "dim": self.dim,
                "hidden": self.hidden}

    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Acoustic word embeddings `[B, dim]` (before the projection head)."""
        return self.encoder(x, lengths)

    def forward(self, batch: dict) -> torch.Tensor:
        z1 = F.normalize(self.head(self.encode(batch["view1"], batch["len1"])).float(), dim=-1)
        z2 = F.normalize(self.head(self.encode(batch["view2"], batch["len2"])).float(), dim=-1)
        logits = z1 @ z2.T / self.temperature
        targets = batch["targets"]  # rows sum to 1: the positives of each row
        loss_a = -(targets * F.log_softmax(logits, dim=1)).sum(1).mean()
        loss_b = -(targets.T * F.log_softmax(logits.T, dim=1)).sum(1).mean()
        return (loss_a + loss_b) / 2


class AugmentSettings:
    """Strength of each augmentation (fractions of a segment, or a noise std)."""

    def __init__(self, time_mask: float = 0.2, stretch: float = 0.2, noise: float = 0.1, crop: float = 0.1,
                 max_frames: int = 120):
        self.time_mask, self.stretch, self.noise, self.crop = time_mask, stretch, noise, crop
        self.max_frames = max_frames


def augmented_view(frames: SegmentFrames, idx: np.ndarray, aug: AugmentSettings,
                   rng: np.random.Generator, noise_gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One random view of each segment in `idx`: crop, time stretch, time mask, additive noise."""
    seg_len = frames.lengths_np[idx].astype(np.float64)
    n = len(idx)
    cut_l = np.floor(rng.uniform(0, aug.crop, n) * seg_len)
    cut_r = np.floor(rng.uniform(0, aug.crop, n) * seg_len)
    kept = np.maximum(seg_len - cut_l - cut_r, 1)
    rate = rng.uniform(1 - aug.stretch, 1 + aug.stretch, n)
    out_len = np.clip(np.floor((kept - 1) / rate) + 1, 1, aug.max_frames).astype(np.int64)
    x, lengths = frames.pad_resampled(idx, cut_l, rate, out_len)
    # one masked span per segment; features are CMVN-normalised, so 0 is the mean
    span = np.floor(rng.uniform(0, aug.time_mask, n) * out_len).astype(np.int64)
    start = np.floor(rng.uniform(0, 1, n) * np.maximum(out_len - span, 1)).astype(np.int64)
    steps = np.arange(x.shape[1])[None, :]
    keep = ~((steps >= start[:, None]) & (steps < (start + span)[:, None]))
    x = x * torch.as_tensor(keep, dtype=x.dtype).to(x.device)[..., None]
    if aug.noise > 0:
        noise = torch.randn(x.shape, generator=noise_gen, device=noise_gen.device).to(x.device)
        valid = torch.as_tensor(steps < out_len[:, None], dtype=x.dtype).to(x.device)[..., None]
        x = x + aug.noise * noise * valid
    return x, lengths


class ContrastiveTask:
    """Feeds ContrastiveAWE: batches of segments and their two augmented views."""

    def __init__(self, model: ContrastiveAWE, frames: SegmentFrames, train_idx: np.ndarray,
                 aug: AugmentSettings, batch_size: int, bucket_batches: int, seed: int,
                 labels: np.ndarray | None = None):
        """`labels` (int per segment, -1 unknown) switches positives to other tokens of the same word."""
        self.model, self.frames, self.aug = model, frames, aug
        self.batch_size, self.bucket_batches, self.seed = batch_size, bucket_batches, seed
        self.labels = labels
        train_idx = np.asarray(train_idx)
        if labels is not None:
            train_idx = train_idx[labels[train_idx] >= 0]
            by_label = train_idx[np.argsort(labels[train_idx], kind="stable")]
            lab = labels[by_label]
            starts = np.searchsorted(lab, lab, side="left")
            ends = np.searchsorted(lab, lab, side="right")
            self._group_of = np.full(frames.n_segments, -1, dtype=np.int64)
            self._group_start = np.zeros(frames.n_segments, dtype=np.int64)
            self._group_size = np.zeros(frames.n_segments, dtype=np.int64)
            self._group_start[by_label] = starts
            self._group_size[by_label] = ends - starts
            self._by_label = by_label
        self.train_idx = train_idx

    def plan(self, epoch: int) -> list[np.ndarray]:
        """This epoch's batches of segments."""
        return bucketed_batches(self.train_idx, self.frames.lengths_np, self.batch_size,
                                self.bucket_batches, self.seed, epoch)

    def prepare(self, idx: np.ndarray, rng_seed: int) -> dict:
        """Two views per segment and the positives matrix; all randomness from `rng_seed`."""
        rng = np.random.default_rng(rng_seed)
        gen = torch.Generator(device=self.frames.device).manual_seed(int(rng_seed) % (2 ** 63))
        if self.labels is not None:
            partner = self._by_label[self._group_start[idx] +
                                     np.floor(rng.uniform(0, 1, len(idx)) * self._group_size[idx]).astype(np.int64)]
            lab = self.labels[idx]
            same = (lab[:, None] == lab[None, :]).astype(np.float32)
        else:
            partner = idx
            same = np.eye(len(idx), dtype=np.float32)
        view1, len1 = augmented_view(self.frames, idx, self.aug, rng, gen)
        view2, len2 = augmented_view(self.frames, partner, self.aug, rng, gen)
        targets = torch.as_tensor(same / same.sum(1, keepdims=True)).to(view1.device)
        return {"view1": view1, "len1": len1, "view2": view2, "len2": len2, "targets": targets}
