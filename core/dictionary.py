"""Bilingual dictionary files in the MUSE format: "source target" per line, UTF-8.

Words are separated by whitespace (a space or a tab). An optional third column holds a score
(written by `save_dictionary(..., scores=...)`, e.g. CSLS similarities of induced pairs) and
is ignored on loading. When a dictionary is matched against two spaces, pairs with a word
missing from either space are dropped, the MUSE and VecMap convention; the stats say how many.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from core.atomic import atomic_open
from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError
from core.text.corpus import numbered_lines


def load_dictionary(path: str | os.PathLike) -> list[tuple[str, str]]:
    """Read (source, target) pairs in file order; exact repeats of a pair are kept once."""
    path = Path(path)
    pairs: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for line_no, text in numbered_lines(path):
        fields = text.split()
        if not fields:
            continue
        if len(fields) not in (2, 3) or (len(fields) == 3 and not _is_number(fields[2])):
            raise InputFileError(path, f"expected 'source target' (and an optional score), "
                                       f"got {len(fields)} fields: {text.strip()[:60]!r}",
                                 line_no)
        pair = (fields[0], fields[1])
        if pair not in seen:
            seen.add(pair)
            pairs.append(pair)
    if not pairs:
        raise InputFileError(path, "no word pairs in this dictionary file")
    return pairs


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def save_dictionary(pairs: Iterable[tuple[str, str]], path: str | os.PathLike,
                    scores: Sequence[float] | np.ndarray | None = None) -> None:
    """Atomically write pairs as "source target" lines, with a third score column if given."""
    pairs = list(pairs)
    if scores is not None and len(scores) != len(pairs):
        raise WordbridgeError(f"{path}: {len(pairs)} pairs but {len(scores)} scores")
    for pair in pairs:
        if len(pair) != 2 or any(not w or any(c.isspace() for c in w) for w in pair):
            raise WordbridgeError(f"{path}: cannot save the pair {pair!r}: a dictionary entry "
                                  "is two words without whitespace")
    with atomic_open(path, "w") as fh:
        if scores is None:
            for src, tgt in pairs:
                fh.write(f"{src} {tgt}\n")
        else:
            for (src, tgt), score in zip(pairs, scores):
                fh.write(f"{src} {tgt} {float(score):.6f}\n")


def dictionary_to_indices(pairs: Iterable[tuple[str, str]], src_emb: Embeddings,
                          tgt_emb: Embeddings) -> tuple[np.ndarray, dict]:
    """Map word pairs to row indices in the two spaces, dropping pairs with a missing word.

    Returns an int64 array of shape [n, 2] (source row, target row) in dictionary order, and
    stats: pairs_total, pairs_found, src_words_total, src_words_found and coverage (the
    fraction of distinct source words that kept at least one pair).
    """
    src_index, tgt_index = src_emb.index, tgt_emb.index
    rows: list[tuple[int, int]] = []
    src_words: set[str] = set()
    src_found: set[str] = set()
    total = 0
    for src, tgt in pairs:
        total += 1
        src_words.add(src)
        i, j = src_index.get(src), tgt_index.get(tgt)
        if i is not None and j is not None:
            rows.append((i, j))
            src_found.add(src)
    indices = np.array(rows, dtype=np.int64).reshape(-1, 2)
    stats = {
        "pairs_total": total,
        "pairs_found": len(rows),
        "src_words_total": len(src_words),
        "src_words_found": len(src_found),
        "coverage": len(src_found) / len(src_words) if src_words else 0.0,
    }
    return indices, stats
