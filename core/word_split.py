"""Split a clip that holds several words into one piece per word, at the pauses between them.

The cue is the one the several-words warning uses (core.speech_runs.speech_runs, the `vad`
reader's pause detector): 10-ms frames quieter than `PAUSE_LEVEL` × the clip's loud level for
`MIN_PAUSE_S` (0.1 s) or more separate two words; stretches of speech under `MIN_RUN_S` (0.1 s:
clicks, breaths) are dropped. So the number of pieces is always the number of words the warning
gives. Each piece keeps up to `WORD_MARGIN_S` of the silence around its word, never past the middle
of the pause to the next word, so the recogniser's own trimming sees a whole word with a little
silence, as it was trained.

Limits, honestly:
- Words said without a pause between them (connected, fluent speech; "in the" said as one
  breath) are one piece: this finds pauses, it does not recognise word boundaries. A sentence read
  word by word splits well; a natural sentence often splits into phrases of a few words.
- A word with a pause inside it (a long stop closure, a hesitation longer than 0.1 s) can be cut
  in two; loud background noise in the pauses hides them, and nothing is split.
- A stretch of speech under 0.1 s is dropped (the recogniser widens a shorter word to 0.15 s
  around it, `core.audio.word_span`, instead of refusing it).

`split_recording` stores each piece of a project's recording as a clip of its own (its word
bounds as the clip's first segment, the recording's speaker and language copied, a label when the
recording's label has exactly one word per piece) and records where it came from in the table
`recording_splits` of `project.sqlite` (created on first split):
`recording_splits (recording_id PRIMARY KEY → recordings.id ON DELETE CASCADE (the piece),
parent_id INTEGER (the split recording), word INTEGER (1-based), start REAL, end REAL (the piece's
seconds in the parent))`. The split recording itself is kept; `undo_split` removes its pieces.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import WordbridgeError
from core.progress import Progress, ensure
from core.speech_runs import MIN_PAUSE_S, MIN_RUN_S, PAUSE_LEVEL, speech_runs

WORD_MARGIN_S = 0.15  # silence kept on each side of a word (at most half the pause to the next word)

_CREATE = """CREATE TABLE IF NOT EXISTS recording_splits (
    recording_id INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
    parent_id    INTEGER NOT NULL,
    word         INTEGER NOT NULL,
    start        REAL NOT NULL,
    end          REAL NOT NULL
)"""


@dataclass(frozen=True)
class WordSpan:
    """One word of a clip, in seconds from the clip's start: the piece to cut (`start`, `end`, with
    its margin of silence) and the stretch of speech inside it (`speech_start`, `speech_end`)."""

    start: float
    end: float
    speech_start: float
    speech_end: float


def split_words(samples: np.ndarray, sr: int, margin: float = WORD_MARGIN_S, min_pause: float = MIN_PAUSE_S,
                pause_level: float = PAUSE_LEVEL, min_word: float = MIN_RUN_S) -> list[WordSpan]:
    """The words of a clip, in order (one span for a single word, none for a silent or empty clip).

    Pauses of `min_pause` seconds or more at under `pause_level` × the clip's loud level separate
    words; stretches under `min_word` seconds are dropped. Each piece keeps `margin` seconds of the
    silence around its word, but never past the middle of a pause nor outside the clip."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if sr <= 0 or margin < 0:
        raise WordbridgeError(f"split_words: the sample rate must be positive and the margin not negative "
                              f"(got {sr}, {margin})")
    runs = speech_runs(samples, sr, min_pause=min_pause, pause_level=pause_level, min_run=min_word)
    duration = len(samples) / sr
    spans = []
    for i, (a, b) in enumerate(runs):
        left = 0.0 if i == 0 else (runs[i - 1][1] + a) / 2
        right = duration if i == len(runs) - 1 else (b + runs[i + 1][0]) / 2
        spans.append(WordSpan(max(left, a - margin), min(right, b + margin), a, b))
    return spans


def cut(samples: np.ndarray, sr: int, span: WordSpan) -> np.ndarray:
    """The samples of a span's piece."""
    return np.asarray(samples)[int(round(span.start * sr)):int(round(span.end * sr))]


# --- a project's recordings ---------------------------------------------------------------------

def _has_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'recording_splits'").fetchone() is not None


def split_links(project) -> dict[int, tuple[int, int, float, float]]:
    """{piece's recording id: (parent recording id, word number from 1, start s, end s in the parent)}."""
    with project.db.transaction(write=False) as conn:
        if not _has_table(conn):
            return {}
        return {int(r): (int(p), int(w), float(s), float(e)) for r, p, w, s, e in conn.execute(
            "SELECT recording_id, parent_id, word, start, end FROM recording_splits ORDER BY parent_id, word")}


def pieces_of(project, recording_id: int) -> list[int]:
    """The recording ids of the pieces a recording was split into (in word order; empty if not split)."""
    return [rid for rid, (parent, _w, _s, _e) in split_links(project).items() if parent == int(recording_id)]


def split_recording(project, recording_id: int, spans: list[WordSpan] | None = None,
                    progress: Progress | None = None) -> list[tuple[int, WordSpan, np.ndarray]]:
    """Store each word of a recording as a clip of its own; returns [(new recording id, its span in
    the recording, its samples)] in word order. The recording itself is kept, unchanged.

    Raises WordbridgeError (nothing stored) when it holds fewer than two words or was split already;
    if storing fails half-way, the pieces stored so far are removed again."""
    from core.recording_list import _upsert, recording_rows

    progress = ensure(progress)
    progress.set_stage("splitting into words")
    rec = project.db.recording(recording_id)
    name = Path(rec.wav_path).name
    if pieces_of(project, recording_id):
        raise WordbridgeError(f"{name} was split into words already; undo that split first")
    samples, sr = project.recording_audio(recording_id)
    spans = split_words(samples, sr) if spans is None else list(spans)
    if len(spans) < 2:
        raise WordbridgeError(f"{name}: {'no speech found' if not spans else 'one stretch of speech'}, "
                              "nothing to split (words said without a pause between them are not split)")
    language = next((r.language for r in recording_rows(project) if r.id == int(recording_id)), "")
    words = (rec.label or "").split()
    labels = words if len(words) == len(spans) else [None] * len(spans)
    made: list[tuple[int, WordSpan, np.ndarray]] = []
    try:
        for n, (span, label) in enumerate(zip(spans, labels), start=1):
            progress.update(n - 1, len(spans))
            piece = cut(samples, sr, span)
            rid = project.add_recording(
                piece, sr, source=rec.source, device=rec.device, label=label, speaker=rec.speaker,
                note=f"word {n} of {len(spans)} of {name} ({span.start:.2f}–{span.end:.2f} s)")
            made.append((rid, span, piece))
            bounds = (max(0.0, span.speech_start - span.start), min(len(piece) / sr, span.speech_end - span.start))
            with project.db.transaction() as conn:
                conn.execute(_CREATE)
                conn.execute("INSERT INTO recording_splits (recording_id, parent_id, word, start, end) "
                             "VALUES (?, ?, ?, ?, ?)", (rid, int(recording_id), n, span.start, span.end))
                if bounds[1] > bounds[0]:
                    conn.execute("INSERT INTO segments (recording_id, start, end, label) VALUES (?, ?, ?, ?)",
                                 (rid, bounds[0], bounds[1], label))
            if language:
                _upsert(project, rid, language=language)
    except BaseException:
        for rid, _span, _piece in made:
            try:
                project.delete_recording(rid)
            except (WordbridgeError, OSError):
                pass
        raise
    progress.update(len(spans), len(spans))
    return made


def undo_split(project, recording_id: int, progress: Progress | None = None) -> list[int]:
    """Remove the pieces of a split (given the split recording or any of its pieces); returns their
    ids. The split recording stays as it was."""
    links = split_links(project)
    parent = links[int(recording_id)][0] if int(recording_id) in links else int(recording_id)
    pieces = [rid for rid, (p, _w, _s, _e) in links.items() if p == parent]
    if not pieces:
        raise WordbridgeError(f"recording {recording_id} was not split into words")
    for rid in pieces:
        project.delete_recording(rid)
    return pieces
