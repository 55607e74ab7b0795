"""Skip-gram with negative sampling over a stream of pseudo-word tokens (step iii of unit-skipgram).

The corpus is rewritten as sentences of type ids (one utterance = one sentence) and word2vec's
skip-gram runs over it with `train_skipgram`: the same trainer as the text spaces
(core.text.skipgram: gensim, or word2vec re-implemented in torch for GPU boxes without gensim),
so speech and text spaces differ only in their input. It sees type ids only, never text vectors.
The vectors (word2vec's input vectors) are returned in the types' order, i.e. frequency order.

`SkipGramNS` / `SkipGramTask` are the older torch path through the generic training loop (Adam
on dense embeddings): much noisier than word2vec (Spearman of pairwise cosines between two seeds
0.71 vs 0.98 on 120k KJV tokens); kept while callers move to `train_skipgram`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.embeddings import Embeddings
from core.progress import Progress
from core.text.skipgram import TORCH_BATCH, SkipGramParams, word2vec_ids


def token_stream(type_of: np.ndarray, utterance_ids: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tokens (type ids) and their sentence ids, in corpus order, for member segments with a type."""
    keep = np.zeros(len(type_of), dtype=bool)
    keep[members] = True
    keep &= type_of >= 0
    return type_of[keep].astype(np.int64), np.asarray(utterance_ids, dtype=np.int64)[keep]


class SkipGramNS(nn.Module):
    """Input and output embeddings; `forward(batch)` is the negative-sampling loss (older path)."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.vocab, self.dim = vocab, dim
        self.inp = nn.Embedding(vocab, dim)
        self.out = nn.Embedding(vocab, dim)
        nn.init.uniform_(self.inp.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.out.weight)

    def forward(self, batch: dict) -> torch.Tensor:
        u = self.inp(batch["center"]).float()
        v = self.out(batch["context"]).float()
        n = self.out(batch["negatives"]).float()
        pos = F.logsigmoid((u * v).sum(-1))
        neg = F.logsigmoid(-(n @ u.unsqueeze(-1)).squeeze(-1)).sum(-1)
        return -(pos + neg).mean()


class SkipGramTask:
    """Feeds SkipGramNS in the generic loop (older, noisy path; prefer `train_skipgram`)."""

    def __init__(self, model: SkipGramNS, tokens: np.ndarray, sentences: np.ndarray, counts: np.ndarray,
                 window: int, negatives: int, subsample: float, batch_size: int, seed: int):
        self.model, self.tokens, self.sentences = model, tokens, sentences
        self.window, self.negatives, self.subsample = window, negatives, subsample
        self.batch_size, self.seed = batch_size, seed
        freq = counts / max(counts.sum(), 1)
        self.keep_prob = np.ones(len(counts)) if subsample <= 0 else \
            np.minimum((np.sqrt(freq / subsample) + 1) * subsample / np.maximum(freq, 1e-12), 1.0)
        noise = counts.astype(np.float64) ** 0.75
        self.noise_cdf = np.cumsum(noise / noise.sum())
        self._epoch, self._pairs = None, None

    def _epoch_pairs(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        if self._epoch != epoch:
            rng = np.random.default_rng([self.seed, epoch, 11])
            keep = rng.uniform(size=len(self.tokens)) < self.keep_prob[self.tokens]
            tok, sent = self.tokens[keep], self.sentences[keep]
            reach = rng.integers(1, self.window + 1, size=len(tok))
            centers, contexts = [], []
            for d in range(1, self.window + 1):
                same = sent[d:] == sent[:-d]
                left = np.flatnonzero(same & (reach[:-d] >= d))  # center i, context i+d
                right = np.flatnonzero(same & (reach[d:] >= d))  # center i+d, context i
                centers += [tok[left], tok[right + d]]
                contexts += [tok[left + d], tok[right]]
            c, x = np.concatenate(centers), np.concatenate(contexts)
            perm = rng.permutation(len(c))
            self._epoch, self._pairs = epoch, (c[perm], x[perm])
        return self._pairs

    def plan(self, epoch: int) -> list[tuple[int, int, int]]:
        """This epoch's batches as (epoch, start, end) slices of its shuffled pair list."""
        n = len(self._epoch_pairs(epoch)[0])
        return [(epoch, a, min(a + self.batch_size, n)) for a in range(0, n, self.batch_size)]

    def prepare(self, spec: tuple[int, int, int], rng_seed: int) -> dict:
        """Center, context and `negatives` noise words per pair."""
        epoch, a, b = spec
        c, x = self._epoch_pairs(epoch)
        rng = np.random.default_rng(rng_seed)
        neg = np.searchsorted(self.noise_cdf, rng.uniform(size=(b - a, self.negatives)))
        neg = np.minimum(neg, len(self.noise_cdf) - 1)
        dev = self.model.inp.weight.device
        return {"center": torch.as_tensor(c[a:b]).to(dev), "context": torch.as_tensor(x[a:b]).to(dev),
                "negatives": torch.as_tensor(neg).to(dev)}


def train_skipgram(tokens: np.ndarray, sentences: np.ndarray, names: list[str], counts: np.ndarray,
                   dim: int = 50, window: int = 5, negatives: int = 10, subsample: float = 1e-4,
                   epochs: int = 10, seed: int = 0, backend: str = "auto", device: str = "auto",
                   batch_size: int = TORCH_BATCH, alpha: float = 0.025, min_alpha: float = 0.0001,
                   progress: Progress | None = None) -> Embeddings:
    """word2vec skip-gram over type-id `tokens` (sentence ids `sentences`) → a speech type space.

    `names` and `counts` describe the types 0..len(names)-1 (frequency order); every type is kept
    (no min_count). `backend`: "gensim", "torch" or "auto" (gensim when installed); `device` and
    `batch_size` concern torch only. A type with no token keeps a zero (gensim) or small random
    (torch) vector.
    """
    params = SkipGramParams(dim=dim, window=window, min_count=1, negative=negatives, epochs=epochs,
                            sample=subsample, seed=seed, workers=1, alpha=alpha, min_alpha=min_alpha)
    vectors = word2vec_ids(tokens, sentences, len(names), params, backend, device, batch_size, progress)
    return Embeddings(list(names), vectors, np.asarray(counts).copy(), modality="speech")


def train_gensim(tokens: np.ndarray, sentences: np.ndarray, names: list[str], counts: np.ndarray, dim: int,
                 window: int, negatives: int, subsample: float, epochs: int, seed: int) -> Embeddings:
    """`train_skipgram` with gensim (CPU, one worker so runs repeat exactly)."""
    return train_skipgram(tokens, sentences, names, counts, dim, window, negatives, subsample, epochs, seed,
                          backend="gensim")


def skipgram_embeddings(model: SkipGramNS, names: list[str], counts: np.ndarray) -> Embeddings:
    """The trained input vectors as a speech type space in frequency order."""
    return Embeddings(list(names), model.inp.weight.detach().float().cpu().numpy(), counts.copy(),
                      modality="speech")
