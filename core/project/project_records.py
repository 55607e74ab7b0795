"""Recordings, word segments, confirmed pairs and runs of a project: `ProjectRecords`.

`ProjectRecords` is the part of `core.project.Project` backed by `project.sqlite`
(core.project.database) and the WAV files under `recordings/` (core.project.recordings). It uses
the attributes `Project.__init__` sets (root, db).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

import numpy as np

from core.project import items
from core.project.database import ConfirmedPair, Recording, Run, Segment
from core.project.paths import LocalPaths, inside, portable
from core.project.recordings import RECORDINGS_DIR, new_wav_name, read_audio, write_wav


class ProjectRecords:
    """Recordings, segments, confirmed pairs and runs (a part of `Project`)."""

    # --- recordings ---------------------------------------------------------------------------

    def add_recording(self, samples: np.ndarray, sample_rate: int, source: str = "microphone", device: str = "",
                      note: str = "", label: str | None = None, speaker: str | None = None) -> int:
        """Write the samples as a mono 16-bit WAV and add its row, in one step; returns the recording id.

        The row is committed only after the WAV is safely on disk; if anything fails, neither stays.
        A crash between the two leaves only a WAV without a row (see `orphan_recordings`).
        """
        wav_name = new_wav_name()
        wav_path = inside(self.root, wav_name, "recording")  # recordings/ may be a link out of the project
        try:
            with self.db.transaction() as conn:
                duration = write_wav(wav_path, samples, sample_rate)
                return self.db.insert_recording(conn, wav_name, sample_rate, duration, source, device, note,
                                                label, speaker)
        except BaseException:
            wav_path.unlink(missing_ok=True)
            raise

    def import_recording(self, audio_path: str | os.PathLike, note: str = "", label: str | None = None,
                         speaker: str | None = None) -> int:
        """Copy an audio file (any format soundfile reads) into the project as mono 16-bit WAV; returns its id."""
        samples, rate = read_audio(audio_path)
        # the file's name only: a local folder (/home/...) must not travel with a shared project
        return self.add_recording(samples, rate, source="import", device="",
                                  note=note or f"imported from {Path(audio_path).name}",
                                  label=label, speaker=speaker)

    def recordings(self) -> list[Recording]:
        """All recordings, oldest first."""
        return self.db.recordings()

    def recording_audio(self, recording_id: int) -> tuple[np.ndarray, int]:
        """A recording's samples (float32 mono) and sample rate."""
        return read_audio(inside(self.root, self.db.recording(recording_id).wav_path, "recording"))

    def delete_recording(self, recording_id: int) -> None:
        """Remove a recording, its segments and its WAV file."""
        inside(self.root, self.db.recording(recording_id).wav_path, "recording")  # refused before the row goes
        with self.db.transaction() as conn:
            wav_name = self.db.delete_recording_row(conn, recording_id)
        inside(self.root, wav_name, "recording").unlink(missing_ok=True)

    def orphan_recordings(self) -> list[Path]:
        """WAV files under recordings/ that no row refers to (left by a crash between WAV and row)."""
        folder = self.root / RECORDINGS_DIR
        if not folder.is_dir():
            return []
        known = {r.wav_path for r in self.db.recordings()}
        return sorted(p for p in folder.glob("*.wav") if f"{RECORDINGS_DIR}/{p.name}" not in known)

    def add_segments(self, recording_id: int, segments: list[tuple[float, float, str | None]]) -> list[int]:
        """Add (start s, end s, label or None) word segments of a recording; returns their ids."""
        return self.db.add_segments(recording_id, segments)

    def segments(self, recording_id: int | None = None) -> list[Segment]:
        """Segments of one recording, or of all."""
        return self.db.segments(recording_id)

    # --- confirmed pairs and runs -------------------------------------------------------------

    def confirm_pair(self, speech_ref: str | int, text_word: str, language: str, status: str = "confirmed",
                     speech_kind: str = "word") -> int:
        """Record the user's decision ("confirmed", "corrected", "rejected") on speech item ↔ text word;
        it replaces any earlier decision on the same item and language (the latest wins)."""
        return self.db.confirm_pair(speech_ref, text_word, language, status, speech_kind)

    def clear_pair(self, speech_ref: str | int, language: str, speech_kind: str = "word") -> None:
        """Forget the decision on a speech item in `language` (it is unreviewed again)."""
        self.db.clear_pair(speech_ref, language, speech_kind)

    def confirmed_pairs(self, status: str | None = None, language: str | None = None) -> list[ConfirmedPair]:
        """The user's decisions, optionally filtered."""
        return self.db.confirmed_pairs(status, language)

    def record_run(self, kind: str, config: dict, status: str = "running", metrics: dict | None = None,
                   run_dir: str | os.PathLike | None = None) -> int:
        """Note a pipeline run; returns its id. Its folder, and any path in its config and metrics, is
        stored relative to the project when inside it, else by its name (`_portable`: no local path)."""
        return self.db.record_run(kind, self._portable(items.plain_json(config)), status,
                                  self._portable(items.plain_json(metrics or {})),
                                  None if run_dir is None else self._relative(run_dir))

    @contextlib.contextmanager
    def recorded_run(self, kind: str, config: dict, run_dir: str | os.PathLike | None = None):
        """`with project.recorded_run(...) as run:` notes a run; it ends "cancelled" on Cancelled,
        "failed" (with the error) on any other exception, else "finished" with `run.metrics`."""
        from core.errors import Cancelled

        run = RecordedRun(self.record_run(kind, config, run_dir=run_dir))
        try:
            yield run
        except Cancelled:
            self.update_run(run.id, "cancelled")
            raise
        except Exception as exc:
            self.update_run(run.id, "failed", {"error": str(exc)})  # its paths made portable there
            raise
        self.update_run(run.id, "finished", run.metrics)

    def update_run(self, run_id: int, status: str | None = None, metrics: dict | None = None) -> None:
        """Update a run's status and metrics (a final status stamps `finished`)."""
        self.db.update_run(run_id, status, None if metrics is None else self._portable(items.plain_json(metrics)))

    def runs(self, kind: str | None = None) -> list[Run]:
        """Recorded runs, oldest first."""
        return self.db.runs(kind)

    def _portable(self, value):
        """A run's config or metrics as stored: every absolute path in its text (a message's included)
        relative to the project when inside it, else its file name (issue 17: no local path travels)."""
        return LocalPaths(self.root, []).value(value)

    def _relative(self, path: str | os.PathLike) -> str:
        """A run folder as stored: relative to the project, or its name when outside (no local path)."""
        return portable(self.root, path)


@dataclasses.dataclass
class RecordedRun:
    """The run a `recorded_run` block notes: its id, and the metrics stored when it finishes."""

    id: int
    metrics: dict = dataclasses.field(default_factory=dict)
