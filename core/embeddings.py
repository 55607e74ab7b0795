"""The in-memory word-embedding space shared by every part of core.

Rows are kept in frequency order (row 0 = most frequent word), the convention of word2vec files,
MUSE and VecMap: "the 10k most frequent words" is simply `emb.vectors[:10000]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.errors import WordbridgeError


@dataclass
class Embeddings:
    """A vocabulary (`words`, frequency order) and its `vectors` (float32, one row per word)."""

    words: list[str]
    vectors: np.ndarray
    counts: np.ndarray | None = None  # corpus counts in row order, when known
    language: str = ""
    modality: str = "text"  # "text" or "speech"
    _index: dict[str, int] = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise WordbridgeError(
                f"embeddings: {len(self.words)} words but vectors of shape {self.vectors.shape}")

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> dict[str, int]:
        """Word → row."""
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def vector(self, word: str) -> np.ndarray:
        """The vector of `word`; a missing word is a user error naming it."""
        try:
            return self.vectors[self.index[word]]
        except KeyError:
            raise WordbridgeError(f"word not in the {self.language or self.modality} space: {word!r}") from None

    def subset(self, n: int) -> "Embeddings":
        """The `n` most frequent words."""
        return Embeddings(self.words[:n], self.vectors[:n],
                          None if self.counts is None else self.counts[:n], self.language, self.modality)
