"""A fast writer (and a minimal word reader) for one-tier Praat TextGrids.

The output is Praat's long text format, byte-for-byte the layout praatio writes
(`save(format="long_textgrid", includeBlankSpaces=True)`): an IntervalTier named "words" whose
gaps between words are blank intervals. Building the text directly is about 5 times faster than
going through praatio's objects (0.15 ms against 0.8 ms per utterance); tests read
the files back with praatio.
"""

from __future__ import annotations

import re
from pathlib import Path

TIER_NAME = "words"
_TEXT_RE = re.compile(r'^\s*text = "(.*)" ?$', re.MULTILINE)
_DECIMALS = 6


def _number(x: float) -> str:
    """A time as Praat prints it: no trailing zeros, integers without a decimal point."""
    text = f"{x:.{_DECIMALS}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def textgrid_text(timings: list[tuple[str, float, float]], duration: float, tier: str = TIER_NAME) -> str:
    """The long-format TextGrid of word `timings` [(word, start_s, end_s)] over [0, duration],
    gaps filled with blank intervals. Times are rounded to 1 µs."""
    duration = round(duration, _DECIMALS)
    intervals: list[tuple[float, float, str]] = []
    cursor = 0.0
    for word, start, end in timings:
        start, end = round(start, _DECIMALS), round(min(end, duration), _DECIMALS)
        start = max(start, cursor)
        if end <= start:
            raise ValueError(f"word {word!r} has no duration after rounding ({start}..{end})")
        if start > cursor:
            intervals.append((cursor, start, ""))
        intervals.append((start, end, word))
        cursor = end
    if duration > cursor:
        intervals.append((cursor, duration, ""))
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        f"xmax = {_number(duration)} ",
        "tiers? <exists> ",
        "size = 1 ",
        "item []: ",
        "    item [1]:",
        '        class = "IntervalTier" ',
        f"        name = {_quoted(tier)} ",
        "        xmin = 0 ",
        f"        xmax = {_number(duration)} ",
        f"        intervals: size = {len(intervals)} ",
    ]
    for i, (start, end, text) in enumerate(intervals, 1):
        lines += [
            f"        intervals [{i}]:",
            f"            xmin = {_number(start)} ",
            f"            xmax = {_number(end)} ",
            f"            text = {_quoted(text)} ",
        ]
    return "\n".join(lines) + "\n"


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
