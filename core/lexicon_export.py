"""Lexicon and label export for other tools: CSV, Praat TextGrid (long format), Audacity labels.

Every file is written atomically (core/atomic.py). TextGrid is written by hand rather than with
praatio so that exporting needs no optional dependency; tests read the files back with praatio.
`praat_textgrid` is the one TextGrid writer of Wordbridge (the synthetic corpus builder uses it too).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

from core.atomic import write_text
from core.errors import WordbridgeError

CSV_COLUMNS = ("speech_type", "text_word", "language", "score", "status", "induced_word")
TEXTGRID_DECIMALS = 6  # times in TextGrids are written to 1 µs


@dataclass
class LexiconEntry:
    """One speech-type ↔ text-word pair: induced (score from retrieval) and the user's review status
    ("confirmed", "corrected", "rejected" or "unreviewed"; core.lexicon_review)."""

    speech_type: str
    text_word: str
    language: str = ""
    score: float = float("nan")
    status: str = "unreviewed"
    induced_word: str = ""  # the word retrieval proposed ("" when it is `text_word`)

    @property
    def confirmed(self) -> bool:
        """True when the user confirmed or corrected the pair (the pairs Refine uses)."""
        return self.status in ("confirmed", "corrected")


@dataclass
class Interval:
    """A labelled stretch of a recording, in seconds."""

    start: float
    end: float
    label: str


def write_lexicon_csv(path: str | os.PathLike, entries: list[LexiconEntry]) -> None:
    """Write `entries` as UTF-8 CSV with a header row (columns: CSV_COLUMNS); "status" tells rejected
    pairs from unreviewed ones, "induced_word" is what retrieval proposed before a correction."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        score = "" if e.score != e.score else f"{e.score:.6g}"  # NaN → empty cell
        writer.writerow([e.speech_type, e.text_word, e.language, score, e.status, e.induced_word or e.text_word])
    write_text(path, buf.getvalue())


def _check_intervals(tier: str, intervals: list[Interval], duration: float) -> list[Interval]:
    ordered = sorted(intervals, key=lambda iv: iv.start)
    previous_end = 0.0
    for iv in ordered:
        if not (0.0 <= iv.start < iv.end <= duration + 1e-9):
            raise WordbridgeError(
                f"tier {tier!r}: interval {iv.start:.3f}–{iv.end:.3f} s is empty or outside 0–{duration:.3f} s")
        if iv.start < previous_end - 1e-9:
            raise WordbridgeError(f"tier {tier!r}: intervals overlap at {iv.start:.3f} s")
        previous_end = iv.end
    return ordered


def _number(x: float) -> str:
    """A time as Praat prints it: no trailing zeros, integers without a decimal point."""
    text = f"{x:.{TEXTGRID_DECIMALS}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _rounded_and_filled(tier: str, intervals: list[Interval], duration: float) -> list[Interval]:
    """Times rounded to 1 µs, each start moved up to the previous end, ends cut at `duration`, and
    blank intervals in the gaps (Praat interval tiers cover the whole file)."""
    filled: list[Interval] = []
    cursor = 0.0
    for iv in intervals:
        start = max(round(iv.start, TEXTGRID_DECIMALS), cursor)
        end = round(min(iv.end, duration), TEXTGRID_DECIMALS)
        if end <= start:
            raise WordbridgeError(f"tier {tier!r}: interval {iv.label!r} has no duration after rounding "
                                  f"({start}..{end})")
        if start > cursor:
            filled.append(Interval(cursor, start, ""))
        filled.append(Interval(start, end, iv.label))
        cursor = end
    if duration > cursor:
        filled.append(Interval(cursor, duration, ""))
    return filled


def praat_textgrid(tiers: dict[str, list[Interval]], duration: float) -> str:
    """Long-format TextGrid text of interval `tiers` (intervals in time order) over 0–`duration` s.

    Byte for byte the layout praatio writes (`save(format="long_textgrid", includeBlankSpaces=True)`),
    about 5 times faster than going through praatio's objects. Intervals are not checked (a start
    before the previous end is moved to it; an end past `duration` is cut): `textgrid_text` checks.
    """
    duration = round(duration, TEXTGRID_DECIMALS)
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "",
             "xmin = 0 ", f"xmax = {_number(duration)} ", "tiers? <exists> ", f"size = {len(tiers)} ", "item []: "]
    for n, (name, intervals) in enumerate(tiers.items(), start=1):
        filled = _rounded_and_filled(name, intervals, duration)
        lines += [f"    item [{n}]:", '        class = "IntervalTier" ', f"        name = {_quote(name)} ",
                  "        xmin = 0 ", f"        xmax = {_number(duration)} ",
                  f"        intervals: size = {len(filled)} "]
        for i, iv in enumerate(filled, start=1):
            lines += [f"        intervals [{i}]:", f"            xmin = {_number(iv.start)} ",
                      f"            xmax = {_number(iv.end)} ", f"            text = {_quote(iv.label)} "]
    return "\n".join(lines) + "\n"


def textgrid_text(tiers: dict[str, list[Interval]], duration: float) -> str:
    """The long-format TextGrid text for interval `tiers` over 0–`duration` s, after checking that
    every tier's intervals lie inside 0–`duration` and do not overlap (one-line errors)."""
    if duration <= 0:
        raise WordbridgeError(f"TextGrid duration must be positive, got {duration}")
    return praat_textgrid({name: _check_intervals(name, intervals, duration) for name, intervals in tiers.items()},
                          duration)


def write_textgrid(path: str | os.PathLike, tiers: dict[str, list[Interval]], duration: float) -> None:
    """Write a Praat TextGrid (long text format) with one interval tier per entry of `tiers`."""
    write_text(path, textgrid_text(tiers, duration))


def write_audacity_labels(path: str | os.PathLike, intervals: list[Interval]) -> None:
    """Write an Audacity label track: one `start<TAB>end<TAB>label` line per interval."""
    rows = []
    for iv in sorted(intervals, key=lambda iv: iv.start):
        if iv.end < iv.start:
            raise WordbridgeError(f"label {iv.label!r}: ends ({iv.end}) before it starts ({iv.start})")
        label = iv.label.replace("\t", " ").replace("\n", " ")
        rows.append(f"{iv.start:.6f}\t{iv.end:.6f}\t{label}")
    write_text(path, "\n".join(rows) + ("\n" if rows else ""))
