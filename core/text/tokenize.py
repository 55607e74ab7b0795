"""The tokenizer shared by text spaces and the textbench benchmark.

A token is a maximal run of Unicode letters after lowercasing: digits, "_", apostrophes,
hyphens, punctuation and whitespace all separate tokens (`l'Éternel` → `l`, `éternel`). No
Unicode normalisation is applied. This is exactly the rule of shared/bench/textbench, so spaces
trained here are comparable with the benchmark's.
"""

from __future__ import annotations

import re

TOKEN_PATTERN = re.compile(r"[^\W\d_]+")


def tokenize(text: str) -> list[str]:
    """Split `text` into lowercase word tokens (maximal runs of Unicode letters)."""
    return TOKEN_PATTERN.findall(text.lower())
