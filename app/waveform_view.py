"""Waveform above spectrogram (Praat/Audacity layout), with the trimmed region shaded."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from core.spectrogram import spectrogram_db

MAX_WAVE_POINTS = 4000  # envelope decimation keeps long clips fast to draw


class WaveformView(pg.GraphicsLayoutWidget):
    """Two linked plots: the waveform (top) and a dB spectrogram (ImageItem, bottom)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(180)
        self.wave_plot = self.addPlot(row=0, col=0)
        self.wave_plot.setMouseEnabled(x=True, y=False)
        self.wave_plot.hideAxis("bottom")
        self.wave_plot.setYRange(-1, 1)
        self.wave_plot.setLabel("left", "amplitude")
        self.wave_curve = self.wave_plot.plot(pen=pg.mkPen("#2a6fdb", width=1))
        self.trim_region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(80, 200, 120, 50))
        self.trim_region.setVisible(False)
        self.wave_plot.addItem(self.trim_region)
        self.spec_plot = self.addPlot(row=1, col=0)
        self.spec_plot.setLabel("left", "Hz")
        self.spec_plot.setLabel("bottom", "s")
        for side in ("left", "bottom"):  # "Hz", "s": no "(x0.001)" rescaling of the tick labels
            self.spec_plot.getAxis(side).enableAutoSIPrefix(False)
        self.spec_plot.setXLink(self.wave_plot)
        self.spec_plot.setYRange(0, 8000, padding=0)  # before the first clip: 0-8 kHz, 0-1 s
        self.wave_plot.setXRange(0, 1, padding=0)
        self.spec_image = pg.ImageItem(axisOrder="row-major")
        self.spec_image.setColorMap(pg.colormap.get("inferno"))
        self.spec_plot.addItem(self.spec_image)
        self.duration = 0.0

    def show_clip(self, samples: np.ndarray, sr: int, trim: tuple[int, int] | None = None) -> None:
        """Draw `samples` (mono float) and shade the kept region `trim` (sample indices)."""
        samples = np.asarray(samples, dtype=np.float32)
        self.duration = len(samples) / sr if sr else 0.0
        t, y = envelope(samples, sr)
        self.wave_curve.setData(t, y)
        if len(samples):
            image, sec_per_frame, hz_per_bin = spectrogram_db(samples, sr)
            self.spec_image.setImage(image.T, levels=(-80, 0))  # rows = frequency, cols = time
            self.spec_image.setRect(0, 0, image.shape[0] * sec_per_frame, image.shape[1] * hz_per_bin)
            self.spec_plot.setYRange(0, image.shape[1] * hz_per_bin, padding=0)
        else:
            self.spec_image.clear()
        if trim is not None and len(samples):
            self.trim_region.setRegion((trim[0] / sr, trim[1] / sr))
            self.trim_region.setVisible(True)
        else:
            self.trim_region.setVisible(False)
        self.wave_plot.setXRange(0, max(self.duration, 0.1), padding=0)

    def show_live(self, tail: np.ndarray, sr: int, total: int, seconds: float = 3.0) -> None:
        """Draw the waveform of the last `seconds` (`tail`) of `total` samples recorded so far."""
        tail = np.asarray(tail[-int(seconds * sr):], dtype=np.float32)
        start = max(0.0, total / sr - seconds)
        t, y = envelope(tail, sr)
        self.wave_curve.setData(t + start, y)
        self.trim_region.setVisible(False)
        self.wave_plot.setXRange(start, start + seconds, padding=0)


def envelope(samples: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_WAVE_POINTS points: min/max pairs per bucket, so peaks stay visible."""
    n = len(samples)
    if n <= MAX_WAVE_POINTS:
        return np.arange(n) / max(sr, 1), samples
    buckets = MAX_WAVE_POINTS // 2
    size = n // buckets
    body = samples[:buckets * size].reshape(buckets, size)
    y = np.empty(2 * buckets, dtype=np.float32)
    y[0::2], y[1::2] = body.min(axis=1), body.max(axis=1)
    t = np.repeat(np.arange(buckets) * size / sr, 2)
    return t, y
