"""Readers for audio with Praat TextGrid word tiers: plain folders and LibriSpeech-style trees.

(a) `read_textgrid_corpus`: every audio file with a TextGrid of the same name next to it (or in
a parallel `alignments` tree). (c) `read_librispeech`: speaker/chapter/utterance.flac with
Montreal-Forced-Aligner TextGrids next to the audio or in a parallel tree (MFA writes
speaker/utterance.TextGrid or mirrors the input tree). Silence and empty intervals are skipped;
TextGrids without the word tier, or reaching past the end of their audio, are skipped and reported.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from core.corpus.report import ReadReport, find_audio_files, folder_speaker, probe_duration, relative_id
from core.progress import Progress, ensure
from core.segments import Segment, SegmentTable

SKIP_LABELS = ("sil", "sp", "spn", "<eps>", "<sil>")
TIME_TOLERANCE = 0.05  # seconds a TextGrid may reach past its audio (rounding, MP3 padding)


def read_textgrid_corpus(source: str | os.PathLike, tier: str = "words",
                         alignments: str | os.PathLike | None = None,
                         skip_labels=SKIP_LABELS, lowercase: bool = False,
                         progress: Progress | None = None) -> tuple[SegmentTable, ReadReport]:
    """Word segments from audio files paired with TextGrids (same name, same folder or `alignments`).

    The utterance is the audio file (its path relative to `source`); the speaker is the audio's
    folder relative to `source` (None for files directly in it).
    """
    root = Path(source)
    report = ReadReport(reader="textgrid")

    table = _read_pairs(root, find_audio_files(root, report), lambda audio: folder_speaker(audio, root), tier, alignments, skip_labels,
                        lowercase, report, progress)
    if root.is_dir():
        for tg in sorted(p for p in root.rglob("*") if p.suffix.lower() == ".textgrid"):
            if not _has_audio(tg):
                report.skip("TextGrid without audio", str(tg))
    return table, report


def read_librispeech(source: str | os.PathLike, tier: str = "words",
                     alignments: str | os.PathLike | None = None,
                     skip_labels=SKIP_LABELS, lowercase: bool = False,
                     progress: Progress | None = None) -> tuple[SegmentTable, ReadReport]:
    """Word segments from a LibriSpeech-style tree (SPEAKER/CHAPTER/UTT.flac) with MFA TextGrids.

    The speaker is the first folder under `source`; the utterance is the audio file's name
    (e.g. 84-121123-0000). TextGrids are looked up next to the audio, then in `alignments` as
    SPEAKER/CHAPTER/UTT.TextGrid, SPEAKER/UTT.TextGrid and UTT.TextGrid.
    """
    root = Path(source)
    report = ReadReport(reader="librispeech")

    def speaker_of(audio: Path) -> str | None:
        parts = Path(relative_id(audio, root)).parts
        return parts[0] if len(parts) > 1 else None

    table = _read_pairs(root, find_audio_files(root, report), speaker_of, tier, alignments, skip_labels,
                        lowercase, report, progress, utterance_of=lambda a: a.stem)
    return table, report


LABEL_RULE = "one word per interval, no spaces or control characters"


def label_problem(label: str) -> str | None:
    """Why a (stripped) word label cannot be a word of a vocabulary, as a skip reason; None if it can.

    A vocabulary (.vec, dictionary, segment table) holds one word per line: no spaces or line breaks,
    no control characters. Every reader of word labels applies this one check (the corpus readers
    here, `core.label_export.read_annotation` for TextGrid/.eaf import into a project)."""
    if any(ch.isspace() for ch in label):
        return "label with spaces or line breaks"
    if any(unicodedata.category(ch) == "Cc" for ch in label):
        return "label with control characters"
    return None


def read_textgrid_words(textgrid: Path, duration: float, tier: str, skip_labels=SKIP_LABELS,
                        lowercase: bool = False, report: ReadReport | None = None
                        ) -> list[tuple[float, float, str]] | None:
    """(start, end, label) of the words on `tier`, or None (reason recorded in `report`).

    None when the file cannot be parsed, has no such interval tier, or ends more than
    TIME_TOLERANCE seconds after the audio's `duration`.
    """
    from praatio import textgrid as praat_textgrid

    report = report if report is not None else ReadReport()
    try:
        tg = praat_textgrid.openTextgrid(str(textgrid), includeEmptyIntervals=False,
                                         reportingMode="silence")
    except Exception as exc:  # noqa: BLE001 - praatio raises many kinds on malformed files
        report.skip("unreadable TextGrid", f"{textgrid}: {type(exc).__name__}: {str(exc)[:100]}")
        return None
    name = _find_tier(tg.tierNames, tier)
    if name is None:
        report.skip("tier missing", f"{textgrid}: no tier {tier!r} (tiers: {', '.join(tg.tierNames) or 'none'})")
        return None
    word_tier = tg.getTier(name)
    if type(word_tier).__name__ != "IntervalTier":
        report.skip("tier missing", f"{textgrid}: tier {name!r} is a point tier, not an interval tier")
        return None
    entries = list(word_tier.entries)
    last_end = max([float(tg.maxTimestamp)] + [float(e.end) for e in entries])
    if last_end > duration + TIME_TOLERANCE:
        report.skip("TextGrid longer than audio",
                    f"{textgrid}: ends at {last_end:.2f} s but the audio lasts {duration:.2f} s")
        return None
    skip = {s.lower() for s in skip_labels}
    words = []
    for e in entries:
        label = e.label.strip()
        if not label or label.lower() in skip or e.end <= e.start:
            continue
        problem = label_problem(label)
        if problem:
            report.skip(problem, f"{textgrid}: tier {name!r}: {label!r} at {float(e.start):.2f} s ({LABEL_RULE})")
            continue
        words.append((float(e.start), min(float(e.end), duration), label.lower() if lowercase else label))
    return words


def _read_pairs(root, audio_files, speaker_of, tier, alignments, skip_labels, lowercase, report,
                progress, utterance_of=None) -> SegmentTable:
    progress = ensure(progress)
    progress.set_stage("reading TextGrids")
    alignments = Path(alignments) if alignments else None
    segments: list[Segment] = []
    for k, audio in enumerate(audio_files):
        progress.check()
        report.files_seen += 1
        tg = _locate_textgrid(audio, root, alignments)
        if tg is None:
            report.skip("no TextGrid", str(audio))
            continue
        duration = probe_duration(audio, report)
        if duration is None:
            continue
        words = read_textgrid_words(tg, duration, tier, skip_labels, lowercase, report)
        if words is None:
            continue
        if not words:
            report.skip("no words on tier", str(tg))
            continue
        utterance = utterance_of(audio) if utterance_of else relative_id(audio, root)
        speaker = speaker_of(audio)
        for pos, (start, end, label) in enumerate(words):
            segments.append(Segment(str(audio), start, end, label, speaker, utterance, pos))
        report.files_used += 1
        if k % 50 == 0:
            progress.update(k + 1, len(audio_files))
    progress.update(len(audio_files), len(audio_files))
    report.segments = len(segments)
    return SegmentTable.from_segments(segments)


def _locate_textgrid(audio: Path, root: Path, alignments: Path | None) -> Path | None:
    candidates = [audio.with_suffix(".TextGrid"), audio.with_suffix(".textgrid")]
    if alignments is not None:
        rel = Path(relative_id(audio, root))
        for stem in (rel, Path(rel.parts[0]) / rel.name if len(rel.parts) > 1 else rel, Path(rel.name)):
            candidates += [alignments / (stem.as_posix() + ".TextGrid"),
                           alignments / (stem.as_posix() + ".textgrid")]
    return next((c for c in candidates if c.is_file()), None)


def _find_tier(names, wanted: str) -> str | None:
    if wanted in names:
        return wanted
    lowered = wanted.lower()
    for name in names:  # case differences, and MFA's multi-speaker "SPEAKER - words"
        if name.lower() == lowered or name.lower().endswith(f" - {lowered}"):
            return name
    return None


def _has_audio(textgrid: Path) -> bool:
    from core.corpus.report import AUDIO_EXTENSIONS

    return any(textgrid.with_suffix(ext).exists() for ext in AUDIO_EXTENSIONS)
