"""One-tier word TextGrids of the synthetic corpus: writing (through core.lexicon_export) and reading.

The output is Praat's long text format, byte-for-byte the layout praatio writes
(`save(format="long_textgrid", includeBlankSpaces=True)`): an IntervalTier named "words" whose
gaps between words are blank intervals; tests read the files back with praatio.
"""

from __future__ import annotations

import re
from pathlib import Path

TIER_NAME = "words"
_TEXT_RE = re.compile(r'^\s*text = "(.*)" ?$', re.MULTILINE)


def textgrid_text(timings: list[tuple[str, float, float]], duration: float, tier: str = TIER_NAME) -> str:
    """The long-format TextGrid of word `timings` [(word, start_s, end_s)] over [0, duration],
    gaps filled with blank intervals. Times are rounded to 1 µs; a word that overlaps the one
    before starts where it ends, and none reaches past `duration`."""
    from core.lexicon_export import Interval, praat_textgrid

    return praat_textgrid({tier: [Interval(start, end, word) for word, start, end in timings]}, duration)


def read_words(path: str | Path) -> list[str] | None:
    """The non-blank interval labels of a TextGrid this module wrote, in order; None when the
    file is missing or not such a TextGrid (used to decide whether a file must be remade)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith('File type = "ooTextFile"') or f'name = "{TIER_NAME}"' not in text:
        return None
    if not text.endswith("\n") or "intervals: size = " not in text:
        return None
    return [m.replace('""', '"') for m in _TEXT_RE.findall(text) if m]
