"""Reader (b): a folder of single-word clips, labelled by file name or by a CSV list.

`hello_003.wav` → "hello" with the default pattern; a CSV with columns file,label[,speaker]
(header optional, paths relative to the CSV's folder) overrides file names. Each clip is its own
utterance (position 0). With `trim=True` the segment is the word found by `trim_silence`
(Lingua Libre rules) instead of the whole clip.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from core.audio import MIN_WORD_SECONDS, load_audio, trim_silence
from core.corpus.report import ReadReport, find_audio_files, probe_duration, relative_id
from core.errors import InputFileError, WordbridgeError
from core.progress import Progress, ensure
from core.segments import Segment, SegmentTable

DEFAULT_LABEL_PATTERN = r"^(?P<label>.+?)(?:[_\-. ]\d+)?$"


def read_clips(source: str | os.PathLike, label_pattern: str = DEFAULT_LABEL_PATTERN,
               csv_path: str | os.PathLike | None = None, speaker_from_folder: bool = False,
               trim: bool = False, progress: Progress | None = None
               ) -> tuple[SegmentTable, ReadReport]:
    """Single-word clips → one segment each. `source` is a folder, or a CSV file (file,label[,speaker]).

    `label_pattern` is a regular expression applied to the file name without extension; its
    group `label` (or group 1) is the word. Clips that are missing, unreadable, empty, shorter
    than 0.05 s or (with `trim`) silent are skipped and reported.
    """
    progress = ensure(progress)
    progress.set_stage("reading clips")
    source = Path(source)
    report = ReadReport(reader="clips")
    if csv_path is None and source.is_file() and source.suffix.lower() in (".csv", ".tsv"):
        csv_path = source
    if csv_path is not None:
        entries, root = _entries_from_csv(Path(csv_path), report), Path(csv_path).parent
    else:
        try:
            pattern = re.compile(label_pattern)
        except re.error as exc:
            raise WordbridgeError(f"label pattern {label_pattern!r} is not a valid regular expression: {exc}") from None
        root = source
        entries = []
        for path in find_audio_files(source, report):
            label = _label_from_name(path.stem, pattern)
            if label is None:
                report.files_seen += 1
                report.skip("file name does not match label pattern", str(path))
                continue
            speaker = None
            if speaker_from_folder and path.parent != source:
                speaker = path.parent.relative_to(source).as_posix()
            entries.append((path, label, speaker))
    segments = []
    for k, (path, label, speaker) in enumerate(entries):
        progress.check()
        report.files_seen += 1
        duration = probe_duration(path, report, min_seconds=MIN_WORD_SECONDS)
        if duration is None:
            continue
        start, end = 0.0, duration
        if trim:
            span = _trimmed_span(path, report)
            if span is None:
                continue
            start, end = span
        segments.append(Segment(str(path), start, end, label, speaker, relative_id(path, root), 0))
        report.files_used += 1
        if k % 100 == 0:
            progress.update(k + 1, len(entries))
    progress.update(len(entries), len(entries))
    report.segments = len(segments)
    return SegmentTable.from_segments(segments), report


def _label_from_name(stem: str, pattern: re.Pattern) -> str | None:
    m = pattern.search(stem)
    if not m:
        return None
    if "label" in pattern.groupindex:
        label = m.group("label")
    else:
        label = m.group(1) if m.groups() else m.group(0)
    return (label or "").strip() or None


def _entries_from_csv(csv_path: Path, report: ReadReport) -> list[tuple[Path, str, str | None]]:
    if not csv_path.is_file():
        raise InputFileError(csv_path, "file not found")
    delimiter = "\t" if csv_path.suffix.lower() == ".tsv" else ","
    entries = []
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        for line_no, row in enumerate(csv.reader(fh, delimiter=delimiter), 1):
            if not row or not "".join(row).strip():
                continue
            if line_no == 1 and [c.strip().lower() for c in row[:2]] == ["file", "label"]:
                continue
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                report.files_seen += 1
                report.skip("bad CSV row", f"{csv_path}:{line_no}: expected file,label[,speaker]")
                continue
            path = Path(row[0].strip())
            path = path if path.is_absolute() else csv_path.parent / path
            speaker = (row[2].strip() or None) if len(row) > 2 else None
            entries.append((path, row[1].strip(), speaker))
    return entries


def _trimmed_span(path: Path, report: ReadReport) -> tuple[float, float] | None:
    try:
        samples, sr = load_audio(path)
    except InputFileError as exc:
        report.skip(getattr(exc, "reason", "unreadable audio"), str(exc))
        return None
    span = trim_silence(samples, sr)
    if span is None:
        report.skip("no word found (silent or too short after trimming)", str(path))
        return None
    return span[0] / sr, span[1] / sr
