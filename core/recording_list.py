"""The project's recordings as a list, the way Lingua Libre keeps a word list: one row per clip with
its label, speaker, language, top results and confidence, all in the project's database so the
list survives a restart.

Top results and language live in the table `recording_results` of `project.sqlite` (created on
first write; a database without it reads as "no results yet"):
`recording_results (recording_id PRIMARY KEY → recordings.id ON DELETE CASCADE, language TEXT,
method TEXT, top TEXT (JSON [[word, score], ...]), confidence REAL NULL, speech_type TEXT NULL (the
nearest speech type, so a type's example clips can be played), updated TEXT)`.
Confidence stays NULL while the classification has none. Clips recorded from a word list are
stored as `recordings/<word>-<time>-<rand>.wav` with the word as their label.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import WordbridgeError
from core.progress import Progress, ensure

TOP_N = 3
_CREATE = """CREATE TABLE IF NOT EXISTS recording_results (
    recording_id INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
    language     TEXT NOT NULL DEFAULT '',
    method       TEXT NOT NULL DEFAULT '',
    top          TEXT NOT NULL DEFAULT '[]',
    confidence   REAL,
    speech_type  TEXT,
    updated      TEXT NOT NULL
)"""


@dataclass(frozen=True)
class RecordingRow:
    """One clip as the list shows it; `top` is [(word, score)], `confidence` None when unknown."""

    id: int
    file: str
    duration: float
    source: str
    label: str
    speaker: str
    language: str
    top: list
    confidence: float | None
    note: str
    split_into: int = 0  # this clip was split into that many word clips (core.word_split)
    part_of: int | None = None  # this clip is a word of that recording, split from it


def _has_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'recording_results'").fetchone() is not None


def recording_rows(project) -> list[RecordingRow]:
    """Every recording of the project with its stored results, oldest first; the word clips split
    from a recording (core.word_split) come right after it, in word order."""
    from core.word_split import split_links

    links = split_links(project)
    results = {}
    with project.db.transaction(write=False) as conn:
        if _has_table(conn):
            for rid, language, top, confidence in conn.execute(
                    "SELECT recording_id, language, top, confidence FROM recording_results"):
                results[rid] = (language, [tuple(t) for t in json.loads(top)], confidence)
    rows = []
    parts: dict[int, int] = {}
    for parent, *_rest in links.values():
        parts[parent] = parts.get(parent, 0) + 1
    for r in project.recordings():
        language, top, confidence = results.get(r.id, ("", [], None))
        rows.append(RecordingRow(r.id, Path(r.wav_path).name, r.duration, r.source, r.label or "", r.speaker or "",
                                 language, top, confidence, r.note, parts.get(r.id, 0),
                                 links[r.id][0] if r.id in links else None))
    if not links:
        return rows
    known = {row.id for row in rows}
    order = {row.id: (row.part_of, links[row.id][1]) if row.part_of in known else (row.id, 0) for row in rows}
    return sorted(rows, key=lambda row: order[row.id])


def _upsert(project, recording_id: int, **fields) -> None:
    from core.project.manifest import now

    with project.db.transaction() as conn:
        conn.execute(_CREATE)
        conn.execute("INSERT OR IGNORE INTO recording_results (recording_id, updated) VALUES (?, ?)",
                     (int(recording_id), now()))
        sets = ", ".join(f"{k} = ?" for k in fields)
        conn.execute(f"UPDATE recording_results SET {sets}, updated = ? WHERE recording_id = ?",
                     (*fields.values(), now(), int(recording_id)))


def top_of(classification, n: int = TOP_N) -> list[tuple[str, float]]:
    """The first `n` words of the classification's first text-space list, with their scores."""
    if classification is None or not classification.by_space:
        return []
    first = next(iter(classification.by_space.values()))
    return [(c.word, round(float(c.score), 4)) for c in first[:n]]


def confidence_of(classification) -> float | None:
    """The classification's calibrated probability that its first answer is right (None when it has none:
    core.speech.encode gives {"best", "margin", "probability", "no_match"} or None)."""
    confidence = getattr(classification, "confidence", None)
    if isinstance(confidence, dict):
        confidence = confidence.get("probability")
    return None if confidence is None else float(confidence)


def store_result(project, recording_id: int, classification, language: str | None = None) -> None:
    """Remember a clip's top results (and the classification's confidence, when it has one)."""
    confidence = confidence_of(classification)
    fields = {"top": json.dumps(top_of(classification)), "method": getattr(classification, "method", "") or "",
              "confidence": confidence,
              "speech_type": classification.speech_types[0].word if getattr(classification, "speech_types", None)
              else None}
    if language is not None:
        fields["language"] = language
    _upsert(project, recording_id, **fields)


def set_row_fields(project, recording_id: int, label: str | None = None, speaker: str | None = None,
                   language: str | None = None) -> None:
    """Change a clip's label, speaker (in `recordings`) or language (in `recording_results`)."""
    fields = {k: v for k, v in (("label", label), ("speaker", speaker)) if v is not None}
    if fields:
        project.db.update_recording(recording_id, **fields)
    if language is not None:
        _upsert(project, recording_id, language=language)


def word_file_name(word: str) -> str:
    """recordings/<word>-<UTC time>-<random>.wav, the word kept readable (Lingua Libre names files by word)."""
    from core.project.recordings import new_wav_name

    slug = re.sub(r"[^\w-]+", "_", word.strip(), flags=re.UNICODE).strip("_")[:60] or "word"
    folder, name = new_wav_name().split("/", 1)
    return f"{folder}/{slug}-{name}"


def add_word_recording(project, samples: np.ndarray, sample_rate: int, word: str, speaker: str = "",
                       language: str = "", source: str = "microphone", device: str = "") -> int:
    """Store a clip of `word` (file named by the word, label = the word) and its language; returns its id."""
    from core.project.recordings import write_wav

    if not word.strip():
        raise WordbridgeError("a word-list clip needs its word")
    wav_name = word_file_name(word)
    wav_path = project.root / wav_name
    wav_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with project.db.transaction() as conn:
            duration = write_wav(wav_path, samples, sample_rate)
            rid = project.db.insert_recording(conn, wav_name, sample_rate, duration, source, device,
                                              f"word list: {word}", word.strip(), speaker or None)
    except BaseException:
        wav_path.unlink(missing_ok=True)
        raise
    if language:
        _upsert(project, rid, language=language)
    return rid


def read_word_list(path: str | Path) -> list[str]:
    """Words to record, one per line (blank lines and lines starting with # skipped, order kept, no repeats)."""
    from core.errors import InputFileError

    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read the word list ({exc})") from None
    words = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return list(dict.fromkeys(words))


def import_and_classify(project, paths: list, classifier=None, method: str = "csls", language: str = "",
                        progress: Progress | None = None) -> dict:
    """Import audio files as recordings, trim each word, classify it (when a classifier with an
    embedder is given) and store its results; a bad file is listed, not fatal. Cancel stops between files."""
    from core.audio import load_audio, trim_silence

    progress = ensure(progress)
    progress.set_stage("importing recordings")
    added, problems = [], []
    for n, path in enumerate(paths):
        progress.check()
        progress.update(n, len(paths))
        try:
            samples, sr = load_audio(path)
            rid = project.add_recording(samples, sr, source="import", note=f"imported from {Path(path).name}")
        except (WordbridgeError, OSError) as exc:
            problems.append(str(exc))
            continue
        trim = trim_silence(samples, sr)
        if trim is not None:
            project.add_segments(rid, [(trim[0] / sr, trim[1] / sr, None)])
        word = samples if trim is None else samples[trim[0]:trim[1]]
        classification = None
        if classifier is not None and getattr(classifier, "embed", None) is not None:
            try:
                classification = classifier.classify_clip(word, sr, 10, method)
            except WordbridgeError as exc:
                problems.append(f"{Path(path).name}: no results ({exc})")
        store_result(project, rid, classification, language or None)
        added.append(rid)
    progress.update(len(paths), len(paths))
    return {"added": added, "problems": problems}


def example_clips(project, speech_type: str, limit: int = 5) -> list[tuple[int, float | None, float | None]]:
    """Clips of a speech type as (recording id, start, end) seconds (None: the whole recording):
    segments labelled with it, recordings labelled with it, then clips whose nearest type it was."""
    found: list[tuple[int, float | None, float | None]] = []
    for seg in project.segments():
        if seg.label == speech_type and len(found) < limit:
            found.append((seg.recording_id, seg.start, seg.end))
    seen = {f[0] for f in found}
    for rec in project.recordings():
        if rec.label == speech_type and rec.id not in seen and len(found) < limit:
            found.append((rec.id, None, None))
            seen.add(rec.id)
    with project.db.transaction(write=False) as conn:
        if _has_table(conn) and len(found) < limit:
            for (rid,) in conn.execute("SELECT recording_id FROM recording_results WHERE speech_type = ? "
                                       "ORDER BY recording_id", (speech_type,)):
                if rid not in seen and len(found) < limit:
                    found.append((rid, None, None))
                    seen.add(rid)
    return found


def clip_audio(project, recording_id: int, start: float | None = None, end: float | None = None):
    """The samples of a recording, or of [start, end) seconds of it, and the sample rate."""
    samples, sr = project.recording_audio(recording_id)
    if start is None:
        return samples, sr
    return samples[int(start * sr):int(end * sr) if end is not None else None], sr


def word_bounds(project, recording_id: int) -> tuple[float, float] | None:
    """The word's (start, end) seconds in a recording: its first segment (the trimmed word, or the
    bounds the user dragged), None when it has none."""
    segments = project.segments(recording_id)
    return (segments[0].start, segments[0].end) if segments else None


def set_word_bounds(project, recording_id: int, start: float, end: float) -> tuple[float, float]:
    """Store new bounds of a recording's word (its first segment, created when it has none); returns
    them, clipped to the recording. Praat's convention: seconds from the start of the file, start < end."""
    durations = {r.id: r.duration for r in project.recordings()}
    if int(recording_id) not in durations:
        raise WordbridgeError(f"no recording with id {recording_id} in this project")
    duration = durations[int(recording_id)]
    start, end = max(0.0, float(start)), min(float(duration), float(end))
    if not (np.isfinite(start) and np.isfinite(end)) or end - start <= 0:
        raise WordbridgeError(f"word bounds [{start:.3f}, {end:.3f}] s of recording {recording_id}: "
                              "the end must come after the start")
    with project.db.transaction() as conn:
        first = conn.execute("SELECT id FROM segments WHERE recording_id = ? ORDER BY start, id LIMIT 1",
                             (int(recording_id),)).fetchone()
        if first is None:
            conn.execute("INSERT INTO segments (recording_id, start, end, label) VALUES (?, ?, ?, NULL)",
                         (int(recording_id), start, end))
        else:
            conn.execute("UPDATE segments SET start = ?, end = ? WHERE id = ?", (start, end, int(first[0])))
    return start, end
