"""A recording's waveform with its word as a draggable selection, the way Praat edits a boundary.

The word's span (its first segment in the project, core.recording_list.word_bounds) is a
pyqtgraph LinearRegionItem over the waveform: drag either edge (or the whole span) and, when the
drag ends, the new bounds are stored in the project's database, so they survive a restart, and
`bounds_saved` is emitted: the Recordings tab then has the new span classified again (in the
session's classify worker) and its row's results replaced.
Play selection (Tab, as in Praat) plays the span; Play all the whole recording; Auto trim puts back
the span found by the silence trimmer (core.audio.trim_silence).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app import audio_io
from app.waveform_view import envelope
from core.errors import WordbridgeError


class BoundaryEditor(QWidget):
    """Waveform + draggable word span of one recording; emits `bounds_saved(id, start, end)`."""

    bounds_saved = Signal(int, float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(120)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setYRange(-1, 1)
        self.plot.setLabel("bottom", "s")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.curve = self.plot.plot(pen=pg.mkPen("#2a6fdb", width=1))
        self.region = pg.LinearRegionItem(movable=True, brush=pg.mkBrush(80, 200, 120, 90))
        self.region.setZValue(10)
        self.region.setVisible(False)
        self.plot.addItem(self.region)
        self.info = QLabel("Select a clip to see its word's boundaries.")
        self.buttons = {name: QPushButton(name) for name in ("▶ Play selection", "Play all", "Auto trim")}
        for name, tip in (("▶ Play selection", "Play the selected span (Tab)"),
                          ("Play all", "Play the whole recording"),
                          ("Auto trim", "Put back the word span found by the silence trimmer, and store it")):
            self.buttons[name].setToolTip(tip)
        self.plot.setToolTip("Drag the shaded span's edges to set where the word starts and ends; "
                             "the bounds are saved when you let go")
        row = QHBoxLayout()
        for b in self.buttons.values():
            row.addWidget(b)
        row.addWidget(self.info, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        self.buttons["▶ Play selection"].clicked.connect(lambda: self.play_selection())
        self.buttons["Play all"].clicked.connect(lambda: self.play_all())
        self.buttons["Auto trim"].clicked.connect(lambda: self.auto_trim())
        self.region.sigRegionChanged.connect(lambda _r: self._describe())
        self.region.sigRegionChangeFinished.connect(lambda _r: self.save())
        QShortcut(QKeySequence("Tab"), self, activated=self.play_selection, context=Qt.WidgetWithChildrenShortcut)
        self.project, self.recording_id = None, None
        self.samples, self.sample_rate = np.zeros(0, np.float32), 16000
        self._set_enabled(False)
        self.apply_palette()

    def apply_palette(self) -> None:
        """Plot background and axes follow the widget palette (dark themes included)."""
        background, foreground = self.palette().color(QPalette.Base), self.palette().color(QPalette.Text)
        self.plot.setBackground(background)
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setPen(foreground)
            self.plot.getAxis(name).setTextPen(foreground)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.type() == QEvent.PaletteChange:
            self.apply_palette()
        super().changeEvent(event)

    def _set_enabled(self, on: bool) -> None:
        for b in self.buttons.values():
            b.setEnabled(on)
        self.region.setVisible(on)

    def show_recording(self, project, recording_id: int) -> bool:
        """Load a recording of `project` and its word span; False (with the reason shown) if it cannot be read."""
        from core.recording_list import word_bounds

        try:
            samples, sr = project.recording_audio(recording_id)
            bounds = word_bounds(project, recording_id)
        except (WordbridgeError, OSError) as exc:
            self.clear(f"Cannot show the clip: {exc}")
            return False
        self.project, self.recording_id = project, int(recording_id)
        self.samples, self.sample_rate = np.asarray(samples, np.float32), int(sr)
        duration = len(self.samples) / sr if sr else 0.0
        t, y = envelope(self.samples, sr)
        self.curve.setData(t, y)
        self.region.setBounds((0.0, duration))
        self.region.blockSignals(True)  # showing stored bounds is not an edit
        self.region.setRegion(bounds or (0.0, duration))
        self.region.blockSignals(False)
        self._set_enabled(True)
        self.plot.setXRange(0, max(duration, 0.1), padding=0.02)
        self._describe()
        return True

    def clear(self, text: str = "Select a clip to see its word's boundaries.") -> None:
        """Show nothing (no clip selected, or it could not be read)."""
        self.project, self.recording_id = None, None
        self.samples = np.zeros(0, np.float32)
        self.curve.setData([], [])
        self._set_enabled(False)
        self.info.setText(text)

    def bounds(self) -> tuple[float, float]:
        """The selected span in seconds."""
        start, end = self.region.getRegion()
        return float(start), float(end)

    def set_bounds(self, start: float, end: float) -> tuple[float, float] | None:
        """Move the span (as a drag would) and store it (once)."""
        self._move_quietly(start, end)
        return self.save()

    def _move_quietly(self, start: float, end: float) -> None:
        """Move the span without its change-finished signal (setRegion emits it: `save` would run twice,
        and the clip be classified twice)."""
        self.region.blockSignals(True)
        self.region.setRegion((start, end))
        self.region.blockSignals(False)

    def save(self) -> tuple[float, float] | None:
        """Store the span shown as the word's bounds in the project; returns them (None if not stored)."""
        from core.recording_list import set_word_bounds

        if self.project is None:
            return None
        try:
            start, end = set_word_bounds(self.project, self.recording_id, *self.bounds())
        except (WordbridgeError, OSError) as exc:
            self.info.setText(f"The bounds were not saved: {exc}")
            return None
        self._describe(saved=True)
        self.bounds_saved.emit(self.recording_id, start, end)
        return start, end

    def auto_trim(self) -> tuple[float, float] | None:
        """Put back the span the silence trimmer finds (the whole clip when it finds none) and store it."""
        from core.audio import trim_silence

        if self.project is None:
            return None
        trim = trim_silence(self.samples, self.sample_rate)
        span = (0, len(self.samples)) if trim is None else trim
        self._move_quietly(span[0] / self.sample_rate, span[1] / self.sample_rate)
        return self.save()

    def selection(self) -> np.ndarray:
        """The samples of the selected span."""
        start, end = self.bounds()
        return self.samples[int(round(start * self.sample_rate)):int(round(end * self.sample_rate))]

    def play_selection(self) -> str | None:
        """Play the selected span; returns a problem message, or None."""
        return self._play(self.selection())

    def play_all(self) -> str | None:
        """Play the whole recording; returns a problem message, or None."""
        return self._play(self.samples)

    def _play(self, samples) -> str | None:
        if self.project is None or len(samples) == 0:
            return "nothing to play"
        problem = audio_io.play(samples, self.sample_rate)
        if problem:
            self.info.setText(problem)
        return problem

    def _describe(self, saved: bool = False) -> None:
        start, end = self.bounds()
        self.info.setText(f"word {start:.3f}–{end:.3f} s ({end - start:.3f} s)" + (" · saved" if saved else ""))
