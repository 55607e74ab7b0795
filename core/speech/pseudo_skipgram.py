"""Skip-gram with negative sampling over a stream of pseudo-word tokens (step iii of unit-skipgram).

The corpus is rewritten as sentences of type ids (one utterance = one sentence) and word2vec's
skip-gram runs over it with `train_skipgram`: the same trainer as the text spaces
(core.text.skipgram: gensim, or word2vec re-implemented in torch for GPU boxes without gensim),
so speech and text spaces differ only in their input. It sees type ids only, never text vectors.
The vectors (word2vec's input vectors) are returned in the types' order, i.e. frequency order.
"""

from __future__ import annotations

import numpy as np

from core.embeddings import Embeddings
from core.progress import Progress
from core.text.skipgram import TORCH_BATCH, SkipGramParams, word2vec_ids


def token_stream(type_of: np.ndarray, utterance_ids: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tokens (type ids) and their sentence ids, in corpus order, for member segments with a type."""
    keep = np.zeros(len(type_of), dtype=bool)
    keep[members] = True
    keep &= type_of >= 0
    return type_of[keep].astype(np.int64), np.asarray(utterance_ids, dtype=np.int64)[keep]


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

