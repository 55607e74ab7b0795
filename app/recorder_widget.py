"""Record or import a spoken word: device picker, Record/Stop (R, Space, Escape), level meter,
clipping warning, waveform + spectrogram, automatic silence trimming, playback, drag and drop.

Every finished clip is emitted as `clip_ready(Clip)`; the main window stores it in the project
and classifies it. sounddevice is imported only when the device list or a stream is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from app import audio_io
from app.waveform_view import WaveformView
from core.errors import WordbridgeError

AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.mp3 *.aiff *.aif);;All files (*)"
CLIP_LEVEL = 0.99
LIVE_SECONDS = 3.0  # the live waveform shows this much of the recording


@dataclass
class Clip:
    """A recorded or imported clip; `trim` = (start, end) samples of the word, None if none found."""

    samples: np.ndarray
    sample_rate: int
    source: str  # "microphone" or "file"
    name: str  # device name or file path
    trim: tuple[int, int] | None
    problem: str | None = None  # e.g. the device vanished mid-recording

    @property
    def word(self) -> np.ndarray:
        """The trimmed word (the whole clip when trimming found nothing)."""
        return self.samples if self.trim is None else self.samples[self.trim[0]:self.trim[1]]


class RecorderWidget(QWidget):
    """The recording panel; emits `clip_ready` once per finished recording or imported file."""

    clip_ready = Signal(object)
    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.device_box = QComboBox()
        self.record_button = QPushButton("● Record (R)")
        self.play_button = QPushButton("▶ Play (Space)")
        self.import_button = QPushButton("Import audio…")
        self.meter = QProgressBar()
        self.meter.setRange(0, 100)
        self.meter.setTextVisible(False)
        self.meter.setMaximumHeight(10)
        self.clip_label = QLabel("")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.view = WaveformView()
        for widget, tip in ((self.device_box, "Microphone to record from"),
                            (self.record_button, "Start or stop recording a word (R; Escape stops)"),
                            (self.play_button, "Play the last clip's word (Space)"),
                            (self.import_button, "Classify audio files and add them to the project "
                                                 "(or drop files here)"),
                            (self.meter, "Input level; red means the recording clipped"),
                            (self.view, "Waveform above spectrogram; the shaded span is the word found")):
            widget.setToolTip(tip)
        top = QHBoxLayout()
        top.addWidget(QLabel("Input:"))
        top.addWidget(self.device_box, 1)
        for b in (self.record_button, self.play_button, self.import_button):
            top.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        meter_row = QHBoxLayout()
        meter_row.addWidget(self.meter, 1)
        meter_row.addWidget(self.clip_label)
        layout.addLayout(meter_row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.recorder: audio_io.InputRecorder | None = None
        self.last_clip: Clip | None = None
        self._timer = QTimer(self, interval=50, timeout=self._tick)
        self.record_button.clicked.connect(self.toggle_record)
        self.play_button.clicked.connect(self.toggle_play)
        self.import_button.clicked.connect(self.import_dialog)
        for key, slot in (("R", self.toggle_record), ("Space", self.space), ("Escape", self.stop)):
            QShortcut(QKeySequence(key), self, activated=slot, context=Qt.WindowShortcut)
        self._playing = False
        self.refresh_devices()

    def refresh_devices(self) -> None:
        """Fill the device picker; with no microphone the widget says why and disables Record."""
        devices, problem = audio_io.input_devices()
        self.device_box.clear()
        for index, name in devices:
            self.device_box.addItem(name, index)
        self.record_button.setEnabled(not problem)
        self.device_box.setEnabled(not problem)
        if problem:
            self.device_box.addItem("(no input device)")
            self.show_status(problem)

    def show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if error else "")
        if text:
            self.message.emit(text)

    # recording
    @property
    def recording(self) -> bool:
        return self.recorder is not None

    def toggle_record(self) -> None:
        """Start recording, or stop when already recording (R)."""
        self.stop() if self.recording else self.start_recording()

    def start_recording(self) -> None:
        if not self.record_button.isEnabled():
            return
        audio_io.stop_playback()
        recorder = audio_io.InputRecorder(self.device_box.currentData())
        try:
            recorder.start()
        except RuntimeError as exc:
            self.show_status(str(exc), error=True)
            return
        self.recorder = recorder
        self.record_button.setText("■ Stop (Space/Esc)")
        self.show_status("Recording…")
        self._timer.start()

    def _tick(self) -> None:
        rec = self.recorder
        if rec is None:
            return
        self._show_level(rec.peak)
        tail, total = rec.tail(int(LIVE_SECONDS * rec.sample_rate))  # each tick copies 3 s, not everything
        self.view.show_live(tail, rec.sample_rate, total, LIVE_SECONDS)
        self.clip_label.setText(f"{total / rec.sample_rate:.1f} s")
        if rec.problem and not rec.active:  # device lost: keep what we have
            self.stop()

    def _show_level(self, peak: float) -> None:
        db = 20 * np.log10(max(peak, 1e-5))
        self.meter.setValue(int(np.clip((db + 60) / 60 * 100, 0, 100)))
        clipped = peak >= CLIP_LEVEL
        self.meter.setStyleSheet("QProgressBar::chunk { background: %s; }" % ("#d32f2f" if clipped else "#43a047"))
        if clipped:
            self.status.setText("Clipping! Move away from the microphone or lower the input gain.")
            self.status.setStyleSheet("color: #b00020;")

    def stop(self) -> None:
        """Stop recording (keeping the audio) or playback (Escape)."""
        if self.recorder is None:
            self._stop_playback()
            return
        rec, self.recorder = self.recorder, None
        self._timer.stop()
        samples = rec.stop()
        self.record_button.setText("● Record (R)")
        self._show_level(0.0)
        name = self.device_box.currentText()
        if len(samples) == 0:
            self.show_status(rec.problem or "Nothing was recorded.", error=True)
            return
        self.accept_clip(samples, rec.sample_rate, "microphone", name, problem=rec.problem,
                         clipped=rec.max_peak >= CLIP_LEVEL)

    def space(self) -> None:
        """Space stops a recording, otherwise plays or stops the last clip."""
        self.stop() if self.recording else self.toggle_play()

    # clips
    def accept_clip(self, samples: np.ndarray, sr: int, source: str, name: str,
                    problem: str | None = None, clipped: bool = False) -> Clip | None:
        """Trim silence, show the clip and emit it (None, with a message, for empty or NaN samples)."""
        from core.audio import trim_silence

        samples = np.asarray(samples, dtype=np.float32)
        if samples.size == 0 or not np.all(np.isfinite(samples)):
            self.show_status(f"{Path(name).name if source == 'file' else 'The recording'}: "
                             + ("no samples" if samples.size == 0 else "contains NaN or infinite samples")
                             + "; it is not kept.", error=True)
            return None
        trim = trim_silence(samples, sr)
        clip = Clip(samples, sr, source, name, trim, problem)
        self.last_clip = clip
        self.view.show_clip(samples, sr, trim)
        self.clip_label.setText(f"{len(clip.word) / sr:.2f} s")
        notes = [problem] if problem else []
        if trim is None:
            notes.append("No word found (silent, or shorter than 0.15 s): the whole clip is kept.")
        if clipped:
            notes.append("The recording clipped; results may be poor.")
        self.show_status(" ".join(notes) or f"{Path(name).name if source == 'file' else 'Recorded'}: "
                         f"{len(samples) / sr:.2f} s, word {len(clip.word) / sr:.2f} s",
                         error=bool(problem or trim is None or clipped))
        self.clip_ready.emit(clip)
        return clip

    def import_files(self, paths: list[str]) -> list[Clip]:
        """Load each audio file and emit it as a clip; a bad file shows its one-line error."""
        from core.audio import load_audio

        clips = []
        for path in paths:
            try:
                samples, sr = load_audio(path)
            except WordbridgeError as exc:
                self.show_status(str(exc), error=True)
                continue
            clip = self.accept_clip(samples, sr, "file", str(path))
            if clip is not None:
                clips.append(clip)
        return clips

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import audio", "", AUDIO_FILTER)
        if paths:
            self.import_files(paths)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.import_files(paths)

    # playback
    def toggle_play(self) -> None:
        if self._playing:
            self._stop_playback()
        elif self.last_clip is not None:
            problem = audio_io.play(self.last_clip.word, self.last_clip.sample_rate)
            if problem:
                self.show_status(problem, error=True)
                return
            self._playing = True
            self.play_button.setText("■ Stop (Space)")
            QTimer.singleShot(int(1000 * len(self.last_clip.word) / self.last_clip.sample_rate) + 100,
                              self._playback_ended)

    def _playback_ended(self) -> None:
        self._playing = False
        self.play_button.setText("▶ Play (Space)")

    def _stop_playback(self) -> None:
        if self._playing:
            audio_io.stop_playback()
            self._playback_ended()
