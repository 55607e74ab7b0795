"""What a corpus reader (or the feature-store build) used and what it skipped, and why.

Broken files never stop a corpus from being read: each is skipped and counted under a short
reason ("no TextGrid", "unreadable audio", ...), with a few example paths kept per reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.audio import audio_duration
from core.errors import InputFileError

EXAMPLES_PER_REASON = 3
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".au")


@dataclass
class ReadReport:
    """Counts of files seen / used, segments produced, and skips per reason with examples."""

    reader: str = ""
    files_seen: int = 0
    files_used: int = 0
    segments: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)

    def warn(self, reason: str) -> None:
        """Count something worth knowing that did not cause a skip (e.g. clipped audio)."""
        self.warnings[reason] = self.warnings.get(reason, 0) + 1

    def skip(self, reason: str, example: str, count: int = 1) -> None:
        """Count `count` skipped items (files for readers, segments for the build) under `reason`."""
        self.skipped[reason] = self.skipped.get(reason, 0) + count
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(example)

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    def merge(self, other: "ReadReport") -> None:
        """Add another report's counts into this one."""
        self.files_seen += other.files_seen
        self.files_used += other.files_used
        self.segments += other.segments
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count
            shown = self.examples.setdefault(reason, [])
            shown.extend(other.examples.get(reason, [])[:EXAMPLES_PER_REASON - len(shown)])
        for reason, count in other.warnings.items():
            self.warnings[reason] = self.warnings.get(reason, 0) + count

    def summary(self) -> str:
        """Human-readable lines: totals, then one line per skip reason with examples."""
        head = (f"{self.reader or 'corpus'}: {self.segments} segments from {self.files_used} of "
                f"{self.files_seen} files")
        lines = [head + (f"; skipped {self.n_skipped}" if self.skipped else "; nothing skipped")]
        for reason, count in sorted(self.skipped.items(), key=lambda kv: -kv[1]):
            lines.append(f"  skipped {count} × {reason}: e.g. {'; '.join(self.examples.get(reason, []))}")
        for reason, count in sorted(self.warnings.items()):
            lines.append(f"  warning: {count} × {reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"reader": self.reader, "files_seen": self.files_seen, "files_used": self.files_used,
                "segments": self.segments, "skipped": dict(self.skipped),
                "examples": {k: list(v) for k, v in self.examples.items()},
                "warnings": dict(self.warnings)}

    @classmethod
    def from_dict(cls, d: dict) -> "ReadReport":
        """Inverse of `to_dict`."""
        return cls(d.get("reader", ""), int(d.get("files_seen", 0)), int(d.get("files_used", 0)),
                   int(d.get("segments", 0)), dict(d.get("skipped", {})),
                   {k: list(v) for k, v in d.get("examples", {}).items()}, dict(d.get("warnings", {})))


def find_audio_files(source: str | os.PathLike, report: ReadReport | None = None) -> list[Path]:
    """Audio files under a folder (recursively, sorted), or [source] when it is one file.

    A file whose path is not valid UTF-8 (a name from another system's encoding) cannot be stored in
    the segment table or a project: it is left out, counted in `report` as "file name not UTF-8"."""
    source = Path(source)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise InputFileError(source, "folder not found")
    found = sorted(p for p in source.rglob("*")
                   if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file() and not p.name.startswith("."))
    usable = []
    for path in found:
        if utf8_name(path):
            usable.append(path)
        elif report is not None:
            report.files_seen += 1
            report.skip("file name not UTF-8", ascii(str(path)))
    return usable


def utf8_name(path: str | os.PathLike) -> bool:
    """Whether `path` is valid UTF-8 (Python keeps undecodable bytes as lone surrogates)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def probe_duration(path: Path, report: ReadReport, min_seconds: float = 0.0) -> float | None:
    """The audio file's duration from its header, or None after recording why it is unusable."""
    try:
        duration = audio_duration(path)
    except InputFileError as exc:
        report.skip(getattr(exc, "reason", "unreadable audio"), str(exc))
        return None
    if duration <= 0:
        report.skip("empty audio", f"{path}: audio is empty (0 samples)")
        return None
    if duration < min_seconds:
        report.skip("too short", f"{path}: {duration:.3f} s (< {min_seconds:.2f} s)")
        return None
    return duration


def folder_speaker(path: Path, root: Path) -> str | None:
    """The speaker of a file: its folder relative to the corpus root (None for files in the root)."""
    parent = Path(relative_id(path, root)).parent
    return parent.as_posix() if parent != Path(".") else None


def relative_id(path: Path, root: Path) -> str:
    """`path` relative to `root` without its extension, with '/' separators (an utterance id)."""
    try:
        rel = path.relative_to(root) if root.is_dir() else Path(path.name)
    except ValueError:
        rel = Path(path.name)
    return rel.with_suffix("").as_posix()
