"""Speech2Vec (Chung & Glass, Interspeech 2018), as in PAPER.md.

Encoder: 1-layer bidirectional LSTM over a word segment's MFCC frames; the final states of both
directions → linear → the `dim`-dimensional embedding. Decoder: 1-layer LSTM conditioned on the
embedding (its initial state is a projection of the embedding and the embedding is its input at
every step) that reconstructs the MFCCs of a neighbouring word segment; loss = MSE over the
target's valid frames. Skip-gram: center → each context within `window` words of the same
utterance. CBOW (option): the context segments are encoded, averaged, and decode the center.

Batching detail (same objective as the paper's shuffled pairs): a batch is a set of center
segments; each center is encoded once and all its (center, context) pairs are decoded. The loss is
the mean over all valid target frames of the batch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from core.speech.batching import SegmentFrames, bucketed_batches, context_matrix


class BiLSTMEncoder(nn.Module):
    """Frames `[B, T, in_dim]` + lengths → `[B, out_dim]` from the final states of a BiLSTM."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int):
        super().__init__()
        self.rnn = nn.LSTM(in_dim, hidden, num_layers=1, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, out_dim)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Encode padded frames; `lengths` is a host tensor (packing needs it on the CPU)."""
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.rnn(packed)
        return self.out(torch.cat([h[0], h[1]], dim=-1))


class Speech2Vec(nn.Module):
    """The Speech2Vec encoder-decoder; `forward(batch)` returns the reconstruction loss."""

    def __init__(self, feat_dim: int, dim: int = 50, hidden: int = 256, mode: str = "skipgram"):
        super().__init__()
        self.feat_dim, self.dim, self.hidden, self.mode = feat_dim, dim, hidden, mode
        self.encoder = BiLSTMEncoder(feat_dim, hidden, dim)
        self.dec_init = nn.Linear(dim, hidden)
        self.decoder = nn.LSTM(dim, hidden, num_layers=1, batch_first=True)
        self.dec_out = nn.Linear(hidden, feat_dim)

    def architecture(self) -> dict:
        """What is needed to rebuild this model (stored next to its weights)."""
        return {"kind": "speech2vec", "feat_dim": self.feat_dim, "dim": self.dim,
                "hidden": self.hidden, "mode": self.mode}

    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Segment embeddings `[B, dim]`."""
        return self.encoder(x, lengths)

    def decode(self, emb: torch.Tensor, steps: int) -> torch.Tensor:
        """Reconstructed frames `[B, steps, feat_dim]` from embeddings."""
        h0 = torch.tanh(self.dec_init(emb)).unsqueeze(0)
        inputs = emb.unsqueeze(1).expand(-1, steps, -1)
        out, _ = self.decoder(inputs, (h0, torch.zeros_like(h0)))
        return self.dec_out(out)

    def forward(self, batch: dict) -> torch.Tensor:
        """Mean squared reconstruction error over the valid frames of the batch's targets."""
        emb = self.encode(batch["src"], batch["src_len"])
        if self.mode == "cbow":
            # average the context embeddings of each center
            summed = torch.zeros(batch["n_targets"], emb.shape[1], device=emb.device, dtype=emb.dtype)
            summed.index_add_(0, batch["pair_target"], emb)
            emb = summed / batch["pair_count"][:, None].to(emb.dtype)
        else:
            emb = emb[batch["pair_source"]]
        pred = self.decode(emb, batch["tgt"].shape[1]).float()
        mask = batch["tgt_mask"]
        err = ((pred - batch["tgt"]) ** 2).sum(-1) * mask
        return err.sum() / (mask.sum() * self.feat_dim).clamp_min(1)


class Speech2VecTask:
    """Feeds Speech2Vec: batch plans over center segments and the padded tensors of each batch."""

    def __init__(self, model: Speech2Vec, frames: SegmentFrames, train_idx: np.ndarray,
                 utterance_ids: np.ndarray, window: int, batch_size: int, bucket_batches: int, seed: int):
        self.model, self.frames = model, frames
        usable = np.zeros(frames.n_segments, dtype=bool)
        usable[train_idx] = True
        self.contexts = context_matrix(utterance_ids, window, usable)
        # centers without any context teach nothing
        self.train_idx = np.asarray(train_idx)[(self.contexts[train_idx] >= 0).any(1)]
        self.batch_size, self.bucket_batches, self.seed = batch_size, bucket_batches, seed

    @property
    def n_pairs(self) -> int:
        """(center, context) pairs per epoch."""
        return int((self.contexts[self.train_idx] >= 0).sum())

    def plan(self, epoch: int) -> list[np.ndarray]:
        """This epoch's batches of center segments."""
        return bucketed_batches(self.train_idx, self.frames.lengths_np, self.batch_size,
                                self.bucket_batches, self.seed, epoch)

    def prepare(self, centers: np.ndarray, rng_seed: int) -> dict:
        """Padded source and target frames for one batch of centers (no randomness needed)."""
        ctx = self.contexts[centers]
        row, col = np.nonzero(ctx >= 0)
        context_ids = ctx[row, col]
        if self.model.mode == "cbow":
            src, src_len = self.frames.pad(context_ids)
            tgt, tgt_len = self.frames.pad(centers)
            extra = {"pair_target": torch.as_tensor(row).to(src.device),
                     "pair_count": torch.as_tensor(np.bincount(row, minlength=len(centers))).to(src.device),
                     "n_targets": len(centers)}
        else:
            src, src_len = self.frames.pad(centers)
            tgt, tgt_len = self.frames.pad(context_ids)
            extra = {"pair_source": torch.as_tensor(row).to(src.device)}
        steps = torch.arange(tgt.shape[1], device=tgt.device)
        mask = (steps[None, :] < tgt_len.to(tgt.device)[:, None]).float()
        return {"src": src, "src_len": src_len, "tgt": tgt, "tgt_mask": mask, **extra}


@torch.no_grad()
def embed_segments(encode, frames: SegmentFrames, indices: np.ndarray | None = None,
                   batch_size: int = 4096, device=None, autocast_dtype=None) -> np.ndarray:
    """Embed segments with `encode(x, lengths)` in length-sorted batches; rows follow `indices`."""
    indices = np.arange(frames.n_segments) if indices is None else np.asarray(indices)
    order = np.argsort(frames.lengths_np[indices], kind="stable")
    out = None
    dev = torch.device(device) if device is not None else frames.device
    for a in range(0, len(order), batch_size):
        pick = indices[order[a:a + batch_size]]
        x, lengths = frames.pad(pick)
        with torch.autocast(dev.type, dtype=autocast_dtype or torch.bfloat16, enabled=autocast_dtype is not None):
            e = encode(x.to(dev), lengths).float().cpu().numpy()
        if out is None:
            out = np.empty((len(indices), e.shape[1]), dtype=np.float32)
        out[order[a:a + batch_size]] = e
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
