"""Alignment settings scaled to the small test spaces (shared by the alignment test files)."""

from __future__ import annotations

from core.alignment import AlignConfig


def sized_config(n: int, **overrides) -> AlignConfig:
    """CPU / torch settings whose vocabulary limits all equal `n` (the test space's size), so that no
    limit is clipped with a warning; `overrides` replace any field."""
    base = dict(device="cpu", backend="torch", init_vocab=n, selflearn_vocab=n, refine_max_rank=n,
                criterion_words=n, dis_most_frequent=n)
    return AlignConfig(**{**base, **overrides})
