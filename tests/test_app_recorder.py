"""Recorder widget offscreen, with a fake input stream: R / Space / Escape, level meter, clipping
warning, device lost mid-recording, no microphone, trimming, drag and drop of files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


class FakeRecorder:
    """Stands in for app.audio_io.InputRecorder: delivers a fixed clip in 50 ms blocks."""

    clip = fixture.tone_clip(2)
    lose_device_after = None  # blocks delivered before the device "vanishes"

    def __init__(self, device=None, sample_rate=16000):
        self.sample_rate, self.blocks, self.problem, self.stopped = sample_rate, 0, None, False
        self.peak = self.max_peak = 0.0

    def start(self):
        pass

    @property
    def active(self):
        return self.problem is None

    def samples(self):
        self.blocks += 1
        if self.lose_device_after is not None and self.blocks >= self.lose_device_after:
            self.problem = "the input device stopped (unplugged?); the audio so far was kept"
        n = min(len(self.clip), self.blocks * 800)
        self.peak = float(np.abs(self.clip[max(0, n - 800):n]).max()) if n else 0.0
        self.max_peak = max(self.max_peak, self.peak)
        return self.clip[:n]

    def tail(self, n):
        got = self.samples()
        return got[-n:], len(got)

    def stop(self):
        self.stopped = True
        return self.clip[:min(len(self.clip), self.blocks * 800)]


@pytest.fixture
def recorder(qtbot, monkeypatch):
    from app import audio_io
    from app.recorder_widget import RecorderWidget

    monkeypatch.setattr(audio_io, "input_devices", lambda: ([(0, "fake mic")], None))
    monkeypatch.setattr(audio_io, "InputRecorder", FakeRecorder)
    FakeRecorder.lose_device_after = None
    w = RecorderWidget()
    qtbot.addWidget(w)
    w.show()
    return w


def test_r_records_space_stops_and_clip_is_trimmed(qtbot, recorder):
    from PySide6.QtCore import Qt

    clips = []
    recorder.clip_ready.connect(clips.append)
    qtbot.keyClick(recorder, Qt.Key_R)
    assert recorder.recording and "Stop" in recorder.record_button.text()
    levels = []

    def done():
        levels.append(recorder.meter.value())
        return recorder.recorder.blocks * 800 >= len(FakeRecorder.clip)

    qtbot.waitUntil(done, timeout=5000)
    assert max(levels) > 80  # the 0.5-amplitude tone drives the meter near the top
    qtbot.keyClick(recorder, Qt.Key_Space)
    assert not recorder.recording
    assert len(clips) == 1
    clip = clips[0]
    assert clip.source == "microphone" and clip.name == "fake mic"
    assert clip.trim is not None and 0.7 < len(clip.word) / 16000 < 0.95
    assert recorder.view.trim_region.isVisible()


def test_escape_stops_recording(qtbot, recorder):
    from PySide6.QtCore import Qt

    clips = []
    recorder.clip_ready.connect(clips.append)
    recorder.start_recording()
    qtbot.waitUntil(lambda: recorder.recorder.blocks > 3, timeout=5000)
    qtbot.keyClick(recorder, Qt.Key_Escape)
    assert not recorder.recording and len(clips) == 1


def test_level_meter_and_clipping_warning(qtbot, recorder):
    recorder._show_level(0.5)
    assert 80 < recorder.meter.value() < 100 and "Clipping" not in recorder.status.text()
    recorder._show_level(1.0)
    assert recorder.meter.value() == 100 and "Clipping" in recorder.status.text()


def test_device_lost_keeps_what_was_recorded(qtbot, recorder):
    FakeRecorder.lose_device_after = 10
    clips = []
    recorder.clip_ready.connect(clips.append)
    recorder.start_recording()
    qtbot.waitUntil(lambda: not recorder.recording, timeout=5000)
    assert len(clips) == 1
    assert len(clips[0].samples) == 10 * 800
    assert "unplugged" in recorder.status.text()


def test_no_microphone_message_and_import_still_works(qtbot, monkeypatch, tmp_path):
    from app import audio_io
    from app.recorder_widget import RecorderWidget
    from core.audio import save_wav

    monkeypatch.setattr(audio_io, "input_devices", lambda: ([], "No microphone found. Importing audio files "
                                                                 "(button or drag and drop) still works."))
    w = RecorderWidget()
    qtbot.addWidget(w)
    assert not w.record_button.isEnabled()
    assert "No microphone" in w.status.text()
    w.toggle_record()  # R does nothing harmful
    assert not w.recording
    clips = w.import_files([str(save_wav(tmp_path / "a.wav", fixture.tone_clip(1), 16000))])
    assert len(clips) == 1 and clips[0].source == "file"


def test_real_device_query_never_raises(qtbot):
    from app import audio_io

    devices, problem = audio_io.input_devices()
    assert devices or problem  # either real microphones or a message saying why there are none


def test_drag_and_drop_imports(qtbot, recorder, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    from core.audio import save_wav

    path = save_wav(tmp_path / "dropped.wav", fixture.tone_clip(4), 16000)
    clips = []
    recorder.clip_ready.connect(clips.append)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    recorder.dropEvent(event)
    assert len(clips) == 1 and clips[0].name == str(path)


def test_silent_clip_is_kept_whole_with_a_warning(qtbot, recorder):
    clips = []
    recorder.clip_ready.connect(clips.append)
    recorder.accept_clip(np.zeros(16000, np.float32), 16000, "file", "silence.wav")
    assert clips[0].trim is None and len(clips[0].word) == 16000
    assert "No word found" in recorder.status.text()
