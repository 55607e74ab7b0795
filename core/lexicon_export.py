"""Lexicon and label export for other tools: CSV, Praat TextGrid (long format), Audacity labels.

Every file is written atomically (core/atomic.py). TextGrid is written by hand rather than with
praatio so that exporting needs no optional dependency; tests read the files back with praatio.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

from core.atomic import write_text
from core.errors import WordbridgeError

CSV_COLUMNS = ("speech_type", "text_word", "language", "score", "confirmed")


@dataclass
class LexiconEntry:
    """One speech-type ↔ text-word pair: induced (score from retrieval) or confirmed by the user."""

    speech_type: str
    text_word: str
    language: str = ""
    score: float = float("nan")
    confirmed: bool = False


@dataclass
class Interval:
    """A labelled stretch of a recording, in seconds."""

    start: float
    end: float
    label: str


def write_lexicon_csv(path: str | os.PathLike, entries: list[LexiconEntry]) -> None:
    """Write `entries` as UTF-8 CSV with a header row (columns: CSV_COLUMNS)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        score = "" if e.score != e.score else f"{e.score:.6g}"  # NaN → empty cell
        writer.writerow([e.speech_type, e.text_word, e.language, score, "yes" if e.confirmed else "no"])
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


def _fill_gaps(intervals: list[Interval], duration: float) -> list[Interval]:
    """Praat interval tiers cover the whole file: add empty intervals between labelled ones."""
    filled, t = [], 0.0
    for iv in intervals:
        if iv.start > t + 1e-9:
            filled.append(Interval(t, iv.start, ""))
        filled.append(iv)
        t = iv.end
    if duration > t + 1e-9:
        filled.append(Interval(t, duration, ""))
    return filled


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def textgrid_text(tiers: dict[str, list[Interval]], duration: float) -> str:
    """The long-format ("ooTextFile") TextGrid text for interval `tiers` over 0–`duration` s."""
    if duration <= 0:
        raise WordbridgeError(f"TextGrid duration must be positive, got {duration}")
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "",
             "xmin = 0", f"xmax = {duration!r}", "tiers? <exists>", f"size = {len(tiers)}", "item []:"]
    for n, (name, intervals) in enumerate(tiers.items(), start=1):
        filled = _fill_gaps(_check_intervals(name, intervals, duration), duration)
        lines += [f"    item [{n}]:", '        class = "IntervalTier"', f"        name = {_quote(name)}",
                  "        xmin = 0", f"        xmax = {duration!r}", f"        intervals: size = {len(filled)}"]
        for i, iv in enumerate(filled, start=1):
            lines += [f"        intervals [{i}]:", f"            xmin = {float(iv.start)!r}",
                      f"            xmax = {float(iv.end)!r}", f"            text = {_quote(iv.label)}"]
    return "\n".join(lines) + "\n"


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
