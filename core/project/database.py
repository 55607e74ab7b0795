"""`project.sqlite`: recordings, their word segments, the user's confirmed pairs, and runs.

Standard-library sqlite3 in WAL mode (readers never block the writer). The schema version lives in
`PRAGMA user_version`; the tables are created on first open; a file that is not SQLite, or that a
newer Wordbridge wrote, is refused with one line naming it. Each public method is one transaction
and opens its own short-lived connection, so the app's worker threads can use one `ProjectDatabase`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from core.errors import InputFileError, WordbridgeError
from core.project.manifest import now

DB_NAME = "project.sqlite"
DB_SCHEMA_VERSION = 2

RECORDING_SOURCES = ("microphone", "import")
PAIR_STATUSES = ("confirmed", "corrected", "rejected")
SPEECH_KINDS = ("word", "segment", "recording")
RUN_STATUSES = ("running", "finished", "failed", "cancelled")

_SCHEMA_V1 = """
CREATE TABLE recordings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created     TEXT NOT NULL,
    wav_path    TEXT NOT NULL UNIQUE,          -- relative to the project folder
    sample_rate INTEGER NOT NULL,
    duration    REAL NOT NULL,                 -- seconds
    source      TEXT NOT NULL CHECK (source IN ('microphone', 'import')),
    device      TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    label       TEXT,                          -- transcript or word label, if known
    speaker     TEXT
);
CREATE TABLE segments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    start        REAL NOT NULL,
    end          REAL NOT NULL,
    label        TEXT,
    CHECK (end > start AND start >= 0)
);
CREATE INDEX segments_by_recording ON segments(recording_id, start);
CREATE TABLE confirmed_pairs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    speech_kind TEXT NOT NULL CHECK (speech_kind IN ('word', 'segment', 'recording')),
    speech_ref  TEXT NOT NULL,                 -- a speech-space word, or a segment/recording id
    text_word   TEXT NOT NULL,
    language    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('confirmed', 'corrected', 'rejected')),
    created     TEXT NOT NULL,
    UNIQUE (speech_kind, speech_ref, text_word, language)  -- schema 2: UNIQUE (speech_kind, speech_ref, language)
);
CREATE TABLE runs (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT NOT NULL,                    -- "align", "speech-space", "projection", ...
    started  TEXT NOT NULL,
    finished TEXT,
    status   TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'cancelled')),
    config   TEXT NOT NULL DEFAULT '{}',       -- JSON
    metrics  TEXT NOT NULL DEFAULT '{}',       -- JSON
    run_dir  TEXT                              -- relative to the project folder when inside it
);
"""

# user_version n → SQL that upgrades a database of version n to n + 1.
DB_MIGRATIONS: dict[int, str] = {
    # 1 → 2: one decision per speech item and language (the latest wins), so a pair confirmed and
    # then corrected is stored once, shown as corrected after reopening, and used once by Refine.
    1: """
CREATE TABLE confirmed_pairs_v2 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    speech_kind TEXT NOT NULL CHECK (speech_kind IN ('word', 'segment', 'recording')),
    speech_ref  TEXT NOT NULL,
    text_word   TEXT NOT NULL,
    language    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('confirmed', 'corrected', 'rejected')),
    created     TEXT NOT NULL,
    UNIQUE (speech_kind, speech_ref, language)
);
INSERT INTO confirmed_pairs_v2 (id, speech_kind, speech_ref, text_word, language, status, created)
    SELECT id, speech_kind, speech_ref, text_word, language, status, created FROM confirmed_pairs AS p
    WHERE p.id = (SELECT q.id FROM confirmed_pairs AS q WHERE q.speech_kind = p.speech_kind
                  AND q.speech_ref = p.speech_ref AND q.language = p.language
                  ORDER BY q.created DESC, q.id DESC LIMIT 1);
DROP TABLE confirmed_pairs;
ALTER TABLE confirmed_pairs_v2 RENAME TO confirmed_pairs
""",
}


@dataclass(frozen=True)
class Recording:
    """One row of `recordings`; `wav_path` is relative to the project folder."""

    id: int
    created: str
    wav_path: str
    sample_rate: int
    duration: float
    source: str
    device: str
    note: str
    label: str | None
    speaker: str | None


@dataclass(frozen=True)
class Segment:
    """A stretch [start, end) seconds of a recording, with an optional word label."""

    id: int
    recording_id: int
    start: float
    end: float
    label: str | None


@dataclass(frozen=True)
class ConfirmedPair:
    """A user's decision about a speech item ↔ text word pair."""

    id: int
    speech_kind: str
    speech_ref: str
    text_word: str
    language: str
    status: str
    created: str


@dataclass(frozen=True)
class Run:
    """A pipeline run recorded in the project (config and metrics decoded from JSON)."""

    id: int
    kind: str
    started: str
    finished: str | None
    status: str
    config: dict
    metrics: dict
    run_dir: str | None


class ProjectDatabase:
    """The project's SQLite file; `ProjectDatabase(path)` creates or upgrades it and checks it."""

    def __init__(self, path: str | Path, read_only: bool = False, create: bool = True):
        """`read_only`: open the file as immutable (nothing is written, no side files are made), for a
        project in a folder that is not writable or that must not change (the bundled demo).
        `create=False` (opening a project): a missing file is an error, never silently recreated empty."""
        self.path = Path(path)
        self.read_only = bool(read_only)
        if not create and not self.path.exists():
            raise InputFileError(self.path, "the project's database is missing (deleted?): its recordings, "
                                            "segments, reviewed pairs and runs cannot be read; restore the file "
                                            "from a copy of the project")
        self._prepare()

    @contextlib.contextmanager
    def transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction: committed when the block ends, rolled back on error.

        `write=False` starts a deferred (read) transaction, which works on a read-only project too.
        """
        if write and self.read_only:
            raise WordbridgeError(f"{self.path.parent}: the project is open read-only; save a copy to change it")
        try:
            if self.read_only:
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True, timeout=10.0,
                                       isolation_level=None)
            else:
                conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise InputFileError(self.path, f"cannot open the database ({exc})") from None
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from None
        finally:
            conn.close()

    def _damaged(self, exc: sqlite3.DatabaseError) -> WordbridgeError:
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            return InputFileError(self.path, f"not a SQLite database or damaged ({text})")
        if isinstance(exc, sqlite3.IntegrityError):
            return WordbridgeError(f"{self.path}: rejected by the database ({text})")
        return InputFileError(self.path, f"database error ({text})")

    def _prepare(self) -> None:
        """Check the file; create the tables on first open; upgrade an older schema."""
        if self.path.exists() and not self.path.is_file():
            raise InputFileError(self.path, "is not a file")
        if self.read_only:  # read as it is: an older schema's tables read the same way
            if not self.path.is_file():
                raise InputFileError(self.path, "the project's database is missing")
            with self.transaction(write=False) as conn:
                self._checked_version(conn)
            return
        with self.transaction(write=False) as conn:
            version = self._checked_version(conn)
            journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if version < DB_SCHEMA_VERSION:
            with self.transaction() as conn:
                version = self._checked_version(conn)  # another process may have done it meanwhile
                statements = []
                if version == 0:
                    statements, version = _statements(_SCHEMA_V1), 1
                while version < DB_SCHEMA_VERSION:
                    statements += _statements(DB_MIGRATIONS[version])
                    version += 1
                for statement in statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {int(version)}")
        if journal.lower() != "wal":
            # Cannot change inside a transaction; once set, the mode is stored in the file.
            conn = sqlite3.connect(self.path, timeout=10.0)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.DatabaseError as exc:
                raise self._damaged(exc) from None
            finally:
                conn.close()

    def _checked_version(self, conn: sqlite3.Connection) -> int:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > DB_SCHEMA_VERSION:
            raise WordbridgeError(f"{self.path} was written by a newer Wordbridge (database schema "
                                  f"{version} > {DB_SCHEMA_VERSION}); update Wordbridge to open it")
        if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise InputFileError(self.path, "is a SQLite database but not a Wordbridge one")
        return version

    # --- recordings -------------------------------------------------------------------------

    def insert_recording(self, conn: sqlite3.Connection, wav_path: str, sample_rate: int, duration: float,
                         source: str, device: str = "", note: str = "", label: str | None = None,
                         speaker: str | None = None, created: str | None = None) -> int:
        """Insert a recording row inside the caller's transaction; returns its id."""
        if source not in RECORDING_SOURCES:
            raise WordbridgeError(f"recording source must be one of {', '.join(RECORDING_SOURCES)}, not {source!r}")
        cursor = conn.execute(
            "INSERT INTO recordings (created, wav_path, sample_rate, duration, source, device, note, label, speaker)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (created or now(), wav_path, int(sample_rate), float(duration), source, device, note, label, speaker))
        return int(cursor.lastrowid)

    def recordings(self) -> list[Recording]:
        """All recordings, oldest first."""
        with self.transaction(write=False) as conn:
            rows = conn.execute("SELECT id, created, wav_path, sample_rate, duration, source, device, note, "
                                "label, speaker FROM recordings ORDER BY id").fetchall()
        return [Recording(*row) for row in rows]

    def recording(self, recording_id: int) -> Recording:
        """One recording by id; an unknown id is a user error."""
        with self.transaction(write=False) as conn:
            row = conn.execute("SELECT id, created, wav_path, sample_rate, duration, source, device, note, "
                               "label, speaker FROM recordings WHERE id = ?", (int(recording_id),)).fetchone()
        if row is None:
            raise WordbridgeError(f"no recording with id {recording_id} in this project")
        return Recording(*row)

    def update_recording(self, recording_id: int, **fields) -> None:
        """Change `label`, `speaker` or `note` of a recording."""
        allowed = {"label", "speaker", "note"}
        unknown = set(fields) - allowed
        if unknown:
            raise WordbridgeError(f"cannot change recording field(s): {', '.join(sorted(unknown))}")
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction() as conn:
            cursor = conn.execute(f"UPDATE recordings SET {assignments} WHERE id = ?",
                                  (*fields.values(), int(recording_id)))
            if cursor.rowcount == 0:
                raise WordbridgeError(f"no recording with id {recording_id} in this project")

    def delete_recording_row(self, conn: sqlite3.Connection, recording_id: int) -> str:
        """Delete a recording row (and its segments) inside the caller's transaction; returns its wav path."""
        row = conn.execute("SELECT wav_path FROM recordings WHERE id = ?", (int(recording_id),)).fetchone()
        if row is None:
            raise WordbridgeError(f"no recording with id {recording_id} in this project")
        conn.execute("DELETE FROM recordings WHERE id = ?", (int(recording_id),))
        return row[0]

    # --- segments ---------------------------------------------------------------------------

    def add_segments(self, recording_id: int, segments: list[tuple[float, float, str | None]]) -> list[int]:
        """Add (start, end, label) segments of a recording in one transaction; returns their ids."""
        ids = []
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM recordings WHERE id = ?", (int(recording_id),)).fetchone() is None:
                raise WordbridgeError(f"no recording with id {recording_id} in this project")
            for start, end, label in segments:
                if not (0 <= float(start) < float(end)):
                    raise WordbridgeError(f"segment [{start}, {end}) of recording {recording_id}: "
                                          "needs 0 <= start < end")
                cursor = conn.execute("INSERT INTO segments (recording_id, start, end, label) VALUES (?, ?, ?, ?)",
                                      (int(recording_id), float(start), float(end), label))
                ids.append(int(cursor.lastrowid))
        return ids

    def segments(self, recording_id: int | None = None) -> list[Segment]:
        """Segments of one recording (or of all), in recording and time order."""
        query = "SELECT id, recording_id, start, end, label FROM segments"
        params: tuple = ()
        if recording_id is not None:
            query += " WHERE recording_id = ?"
            params = (int(recording_id),)
        with self.transaction(write=False) as conn:
            rows = conn.execute(query + " ORDER BY recording_id, start, id", params).fetchall()
        return [Segment(*row) for row in rows]

    # --- confirmed pairs --------------------------------------------------------------------

    def confirm_pair(self, speech_ref: str | int, text_word: str, language: str, status: str = "confirmed",
                     speech_kind: str = "word") -> int:
        """Record the user's decision on a speech item in `language`, replacing any earlier one (one
        decision per item and language: the latest wins); returns the pair id (kept across changes)."""
        if status not in PAIR_STATUSES:
            raise WordbridgeError(f"pair status must be one of {', '.join(PAIR_STATUSES)}, not {status!r}")
        if speech_kind not in SPEECH_KINDS:
            raise WordbridgeError(f"speech kind must be one of {', '.join(SPEECH_KINDS)}, not {speech_kind!r}")
        if not text_word:
            raise WordbridgeError("a confirmed pair needs a text word")
        key = (speech_kind, str(speech_ref), language)
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO confirmed_pairs (speech_kind, speech_ref, language, text_word, status, created)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (speech_kind, speech_ref, language)"
                " DO UPDATE SET text_word = excluded.text_word, status = excluded.status, created = excluded.created",
                (*key, text_word, status, now()))
            row = conn.execute("SELECT id FROM confirmed_pairs WHERE speech_kind = ? AND speech_ref = ? "
                               "AND language = ?", key).fetchone()
        return int(row[0])

    def clear_pair(self, speech_ref: str | int, language: str, speech_kind: str = "word") -> None:
        """Forget the decision on a speech item in `language` (it becomes unreviewed again)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM confirmed_pairs WHERE speech_kind = ? AND speech_ref = ? AND language = ?",
                         (speech_kind, str(speech_ref), language))

    def confirmed_pairs(self, status: str | None = None, language: str | None = None) -> list[ConfirmedPair]:
        """Pairs in the order they were first decided, optionally only one status / language."""
        clauses, params = [], []
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if language is not None:
            clauses.append("language = ?")
            params.append(language)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.transaction(write=False) as conn:
            rows = conn.execute("SELECT id, speech_kind, speech_ref, text_word, language, status, created "
                                f"FROM confirmed_pairs{where} ORDER BY id", params).fetchall()
        return [ConfirmedPair(*row) for row in rows]

    def delete_pair(self, pair_id: int) -> None:
        """Forget a decision."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM confirmed_pairs WHERE id = ?", (int(pair_id),))

    # --- runs -------------------------------------------------------------------------------

    def record_run(self, kind: str, config: dict, status: str = "running", metrics: dict | None = None,
                   run_dir: str | None = None, started: str | None = None, finished: str | None = None) -> int:
        """Add a run; returns its id. Config and metrics must be JSON-serialisable."""
        _check_run_status(status)
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (kind, started, finished, status, config, metrics, run_dir) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (kind, started or now(), finished, status, _to_json(config), _to_json(metrics or {}), run_dir))
            run_id = int(cursor.lastrowid)
        return run_id

    def update_run(self, run_id: int, status: str | None = None, metrics: dict | None = None,
                   finished: str | None = None) -> None:
        """Set a run's status/metrics; a final status without `finished` stamps the current time."""
        fields: dict = {}
        if status is not None:
            _check_run_status(status)
            fields["status"] = status
            if status != "running" and finished is None:
                finished = now()
        if metrics is not None:
            fields["metrics"] = _to_json(metrics)
        if finished is not None:
            fields["finished"] = finished
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction() as conn:
            cursor = conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", (*fields.values(), int(run_id)))
            if cursor.rowcount == 0:
                raise WordbridgeError(f"no run with id {run_id} in this project")

    def runs(self, kind: str | None = None) -> list[Run]:
        """Runs, oldest first, optionally of one kind."""
        query = "SELECT id, kind, started, finished, status, config, metrics, run_dir FROM runs"
        params: tuple = ()
        if kind is not None:
            query += " WHERE kind = ?"
            params = (kind,)
        with self.transaction(write=False) as conn:
            rows = conn.execute(query + " ORDER BY id", params).fetchall()
        return [Run(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6]), r[7]) for r in rows]

    # --- whole database ---------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Number of rows per table."""
        with self.transaction(write=False) as conn:
            return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    for table in ("recordings", "segments", "confirmed_pairs", "runs")}

    def backup_to(self, target: str | Path) -> None:
        """Write a consistent copy of the database (WAL included) to `target`."""
        if self.read_only:
            source = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True, timeout=10.0)
        else:
            source = sqlite3.connect(self.path, timeout=10.0)
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                raise OSError(errno.ENOSPC, f"{target}: {exc}") from None  # the copy's disk, not this database
            raise self._damaged(exc) from None
        finally:
            destination.close()
            source.close()


def _check_run_status(status: str) -> None:
    if status not in RUN_STATUSES:
        raise WordbridgeError(f"run status must be one of {', '.join(RUN_STATUSES)}, not {status!r}")


def _to_json(value: dict) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise WordbridgeError(f"run config/metrics must be JSON-serialisable ({exc})") from None


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (executescript would commit the open transaction)."""
    return [s.strip() for s in script.split(";") if s.strip()]
