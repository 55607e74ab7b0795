"""Segment frames in one flat tensor, padded batches cut from it, and length-bucketed batch plans.

All segments' MFCC frames live in one `[total_frames, dim]` tensor (on the GPU when it fits), with
per-segment offsets and lengths, so a padded batch is one gather with no Python per segment.
Batch plans are a pure function of (seed, epoch): resuming a run in the middle of an epoch
replays the same plan and skips the batches already done.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.errors import WordbridgeError
from core.progress import Progress, ensure


@dataclass
class SegmentFrames:
    """Every segment's frames concatenated: `frames[offsets[i] : offsets[i] + lengths[i]]`."""

    frames: torch.Tensor  # [total_frames, dim] float32
    offsets: torch.Tensor  # [n] int64, on the same device as frames
    lengths: torch.Tensor  # [n] int64, on the same device as frames
    lengths_np: np.ndarray  # the same lengths on the host (no device sync to size a batch)

    @property
    def n_segments(self) -> int:
        return int(self.lengths_np.shape[0])

    @property
    def dim(self) -> int:
        return int(self.frames.shape[1])

    @property
    def device(self) -> torch.device:
        return self.frames.device

    def to(self, device) -> "SegmentFrames":
        """The same frames on another device."""
        return SegmentFrames(self.frames.to(device), self.offsets.to(device), self.lengths.to(device),
                             self.lengths_np)

    def max_len(self, idx: np.ndarray) -> int:
        """Longest segment among `idx` (host-side, no sync)."""
        return int(self.lengths_np[idx].max()) if len(idx) else 1

    def pad(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded frames `[B, T, dim]` (zeros after each segment's end) and lengths `[B]` (host)."""
        max_len = self.max_len(idx)
        idx_t = torch.as_tensor(idx, dtype=torch.long).to(self.device, non_blocking=True)
        lengths = self.lengths[idx_t]
        steps = torch.arange(max_len, device=self.device)
        valid = steps[None, :] < lengths[:, None]
        pos = self.offsets[idx_t, None] + torch.where(valid, steps[None, :], 0)
        x = self.frames[pos] * valid[..., None]
        return x, torch.as_tensor(self.lengths_np[idx], dtype=torch.long)

    def pad_resampled(self, idx: np.ndarray, start: np.ndarray, rate: np.ndarray,
                      out_len: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames read at fractional positions `start + t * rate` (linear interpolation).

        One gather does a crop (`start`, `out_len`) and a frame-rate change (`rate` > 1 is faster
        speech). `out_len` must keep the last position inside the segment.
        """
        max_len = int(out_len.max()) if len(out_len) else 1
        dev = self.device
        idx_t = torch.as_tensor(idx, dtype=torch.long).to(dev)
        seg_len = self.lengths[idx_t]
        steps = torch.arange(max_len, device=dev, dtype=torch.float32)
        pos = torch.as_tensor(start, dtype=torch.float32).to(dev)[:, None] + \
            steps[None, :] * torch.as_tensor(rate, dtype=torch.float32).to(dev)[:, None]
        lo = pos.floor()
        weight = (pos - lo)[..., None]
        last = (seg_len - 1)[:, None]
        lo_i = torch.minimum(lo.long().clamp_min(0), last)
        hi_i = torch.minimum(lo_i + 1, last)
        base = self.offsets[idx_t, None]
        x = self.frames[base + lo_i] * (1 - weight) + self.frames[base + hi_i] * weight
        out_len_t = torch.as_tensor(out_len, dtype=torch.long)
        valid = torch.arange(max_len)[None, :] < out_len_t[:, None]
        return x * valid.to(dev)[..., None], out_len_t


def load_frames(store, max_frames: int, progress: Progress | None = None) -> SegmentFrames:
    """Read every segment of a feature store into one flat CPU tensor (segments cut at `max_frames`)."""
    progress = ensure(progress)
    n = int(store.n_segments)
    if n == 0:
        raise WordbridgeError("feature store: no segments")
    lengths = np.minimum(np.asarray(store.lengths, dtype=np.int64), max_frames)
    if (lengths < 1).any():
        bad = int(np.flatnonzero(lengths < 1)[0])
        raise WordbridgeError(f"feature store: segment {bad} has no frames")
    offsets = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    frames = np.empty((int(lengths.sum()), int(store.dim)), dtype=np.float32)
    progress.set_stage("loading frames")
    flat = getattr(store, "frames", None)
    src_offsets = getattr(store, "offsets", None)
    if isinstance(flat, np.ndarray) and src_offsets is not None:
        _gather_flat(flat, np.asarray(src_offsets, dtype=np.int64), lengths, offsets, frames, progress)
        n = 0  # done: skip the per-segment loop
    for i in range(n):
        f = store.features(i)
        if f.ndim != 2 or f.shape[1] != store.dim:
            raise WordbridgeError(f"feature store: segment {i} has frames of shape {f.shape}, "
                                  f"expected [T, {store.dim}]")
        frames[offsets[i]:offsets[i] + lengths[i]] = f[:lengths[i]]
        if i % 20000 == 0:
            progress.check()
            progress.update(i, n)
    progress.update(n, n)
    if not np.isfinite(frames).all():
        raise WordbridgeError("feature store: frames contain NaN or infinite values")
    return SegmentFrames(torch.from_numpy(frames), torch.from_numpy(offsets), torch.from_numpy(lengths),
                         lengths)


def _gather_flat(flat: np.ndarray, src_offsets: np.ndarray, lengths: np.ndarray, offsets: np.ndarray,
                 out: np.ndarray, progress: Progress, chunk: int = 50000) -> None:
    """Copy capped segments from a store's flat (possibly memory-mapped float16) frame array."""
    if flat.ndim != 2 or flat.shape[1] != out.shape[1]:
        raise WordbridgeError(f"feature store: frames of shape {flat.shape}, expected [N, {out.shape[1]}]")
    n = len(lengths)
    for a in range(0, n, chunk):
        progress.check()
        b = min(a + chunk, n)
        lens = lengths[a:b]
        within = np.arange(int(lens.sum())) - np.repeat(offsets[a:b] - offsets[a], lens)
        rows = np.repeat(src_offsets[a:b], lens) + within
        if rows.size and rows.max() >= flat.shape[0]:
            raise WordbridgeError("feature store: segment offsets point past the frames")
        out[offsets[a]:offsets[a] + len(rows)] = flat[rows]
        progress.update(b, n)


def context_matrix(utterance_ids: np.ndarray, window: int, usable: np.ndarray | None = None) -> np.ndarray:
    """`[n, 2*window]` indices of each segment's neighbours in its utterance (-1 where none).

    Segments of one utterance are stored consecutively in spoken order, so the neighbours of `i`
    are `i-window .. i+window` (without `i`) that share its utterance id. `usable` (bool [n])
    removes segments that may not take part (held-out speakers).
    """
    utt = np.asarray(utterance_ids, dtype=np.int64)
    n = utt.shape[0]
    offsets = [d for d in range(-window, window + 1) if d != 0]
    out = np.full((n, len(offsets)), -1, dtype=np.int64)
    base = np.arange(n)
    for col, d in enumerate(offsets):
        j = base + d
        inside = (j >= 0) & (j < n)
        ok = np.zeros(n, dtype=bool)
        ok[inside] = utt[j[inside]] == utt[inside]
        if usable is not None:
            ok[inside] &= usable[j[inside]] & usable[inside]
        out[ok, col] = j[ok]
    return out


def bucketed_batches(indices: np.ndarray, lengths: np.ndarray, batch_size: int, bucket_batches: int,
                     seed: int, epoch: int) -> list[np.ndarray]:
    """Batches of `indices` for one epoch: shuffled, sorted by length inside buckets, batch order shuffled.

    Deterministic in (seed, epoch). Sorting inside buckets of `bucket_batches` batches keeps
    padding small while the shuffle keeps batches varied from epoch to epoch.
    """
    rng = np.random.default_rng([seed, epoch, 7])
    perm = rng.permutation(np.asarray(indices, dtype=np.int64))
    bucket = batch_size * bucket_batches
    batches = []
    for a in range(0, len(perm), bucket):
        chunk = perm[a:a + bucket]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[b:b + batch_size] for b in range(0, len(chunk), batch_size))
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def shard_plan(plan: list, rank: int, world: int) -> list:
    """This rank's share of an epoch's batches; every rank gets the same number of batches."""
    if world <= 1:
        return plan
    usable = len(plan) - len(plan) % world
    if usable == 0:
        raise WordbridgeError(f"only {len(plan)} batches per epoch for {world} processes: "
                              "lower the batch size or use fewer processes")
    return plan[:usable][rank::world]
