"""Word segments: where a (possibly unlabelled) word lies in which recording.

A `Segment` is a span of an audio file. `utterance` names the sentence / recording it belongs to
and `position` is its index among the words of that utterance, so skip-gram models can find a
word's neighbours. A `SegmentTable` holds many segments as columns and saves them as JSON lines
(`.jsonl`, exact) or tab-separated values (`.tsv`, for spreadsheets; None is written as "").
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from core.atomic import atomic_open
from core.errors import InputFileError

COLUMNS = ("audio", "start", "end", "label", "speaker", "utterance", "position")


@dataclass(frozen=True)
class Segment:
    """A word (or word-like unit) spanning [start, end) seconds of the file `audio`."""

    audio: str
    start: float
    end: float
    label: str | None
    speaker: str | None
    utterance: str
    position: int

    @property
    def duration(self) -> float:
        return self.end - self.start


class SegmentTable:
    """Many segments stored column-wise (numpy arrays for numbers, lists for strings)."""

    def __init__(self, audio: list[str], start, end, label: list, speaker: list,
                 utterance: list[str], position):
        self.audio = list(audio)
        self.start = np.asarray(start, dtype=np.float64).reshape(-1)
        self.end = np.asarray(end, dtype=np.float64).reshape(-1)
        self.label = list(label)
        self.speaker = list(speaker)
        self.utterance = list(utterance)
        self.position = np.asarray(position, dtype=np.int64).reshape(-1)
        n = len(self.audio)
        sizes = {len(c) for c in (self.start, self.end, self.label, self.speaker, self.utterance, self.position)}
        if sizes - {n}:
            raise ValueError(f"segment table columns differ in length: {sizes | {n}}")

    @classmethod
    def from_segments(cls, segments: Iterable[Segment]) -> "SegmentTable":
        """Build a table from Segment objects."""
        segs = list(segments)
        return cls([s.audio for s in segs], [s.start for s in segs], [s.end for s in segs],
                   [s.label for s in segs], [s.speaker for s in segs],
                   [s.utterance for s in segs], [s.position for s in segs])

    @classmethod
    def empty(cls) -> "SegmentTable":
        """A table with no segments."""
        return cls.from_segments([])

    def __len__(self) -> int:
        return len(self.audio)

    def __getitem__(self, i: int) -> Segment:
        return Segment(self.audio[i], float(self.start[i]), float(self.end[i]), self.label[i],
                       self.speaker[i], self.utterance[i], int(self.position[i]))

    def __iter__(self) -> Iterator[Segment]:
        return (self[i] for i in range(len(self)))

    def subset(self, indices) -> "SegmentTable":
        """The segments at `indices`, in that order."""
        idx = [int(i) for i in indices]
        return SegmentTable([self.audio[i] for i in idx], self.start[idx], self.end[idx],
                            [self.label[i] for i in idx], [self.speaker[i] for i in idx],
                            [self.utterance[i] for i in idx], self.position[idx])

    def concat(self, other: "SegmentTable") -> "SegmentTable":
        """This table followed by `other`."""
        return SegmentTable(self.audio + other.audio, np.concatenate([self.start, other.start]),
                            np.concatenate([self.end, other.end]), self.label + other.label,
                            self.speaker + other.speaker, self.utterance + other.utterance,
                            np.concatenate([self.position, other.position]))

    def utterance_ids(self) -> np.ndarray:
        """Contiguous integer ids (0, 1, ...) of the utterances, numbered by first appearance."""
        ids: dict[str, int] = {}
        return np.array([ids.setdefault(u, len(ids)) for u in self.utterance], dtype=np.int64)

    def audio_files(self) -> list[str]:
        """Distinct audio files in order of first appearance."""
        return list(dict.fromkeys(self.audio))

    def indices_by_audio(self) -> dict[str, list[int]]:
        """Audio file → indices of its segments (in table order)."""
        groups: dict[str, list[int]] = {}
        for i, a in enumerate(self.audio):
            groups.setdefault(a, []).append(i)
        return groups

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically as JSON lines (.jsonl / .json) or tab-separated values (.tsv)."""
        path = Path(path)
        if path.suffix.lower() == ".tsv":
            with atomic_open(path, "w") as fh:
                writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
                writer.writerow(COLUMNS)
                for s in self:
                    writer.writerow([s.audio, repr(s.start), repr(s.end), s.label or "",
                                     s.speaker or "", s.utterance, s.position])
        else:
            dumps = json.JSONEncoder(ensure_ascii=False).encode
            with atomic_open(path, "w") as fh:
                for i in range(len(self)):
                    fh.write(dumps({"audio": self.audio[i], "start": float(self.start[i]),
                                    "end": float(self.end[i]), "label": self.label[i],
                                    "speaker": self.speaker[i], "utterance": self.utterance[i],
                                    "position": int(self.position[i])}) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SegmentTable":
        """Read a table written by `save`; a malformed line raises InputFileError with its number."""
        path = Path(path)
        if not path.exists():
            raise InputFileError(path, "file not found")
        rows = _read_tsv(path) if path.suffix.lower() == ".tsv" else _read_jsonl(path)
        return cls.from_segments(rows)


def _read_jsonl(path: Path) -> list[Segment]:
    rows = []
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise InputFileError(path, "not UTF-8 text (damaged segment table)", line) from None
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if not isinstance(d, dict):
                raise TypeError("not a JSON object")
            for key in ("label", "speaker"):
                if d.get(key) is not None and not isinstance(d[key], str):
                    raise TypeError(f"{key} must be text or null")
            segment = Segment(str(d["audio"]), float(d["start"]), float(d["end"]), d.get("label"),
                              d.get("speaker"), str(d["utterance"]), int(d["position"]))
            if not (math.isfinite(segment.start) and math.isfinite(segment.end)) or segment.end < segment.start:
                raise ValueError(f"times {segment.start}..{segment.end} are not a span")
            if not 0 <= segment.position < 2**63:
                raise ValueError(f"position {segment.position} is out of range")
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            raise InputFileError(path, f"bad segment line ({_why(exc)})", line_no) from None
        rows.append(segment)
    return rows


def _read_tsv(path: Path) -> list[Segment]:
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header is None or tuple(header) != COLUMNS:
            raise InputFileError(path, f"header must be {' '.join(COLUMNS)}", 1)
        for line_no, r in enumerate(reader, 2):
            if not r:
                continue
            try:
                audio, start, end, label, speaker, utt, pos = r
                rows.append(Segment(audio, float(start), float(end), label or None,
                                    speaker or None, utt, int(pos)))
            except ValueError as exc:
                raise InputFileError(path, f"bad segment row ({_why(exc)})", line_no) from None
    return rows


def _why(exc: Exception) -> str:
    return f"missing field {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0][:120]
