"""Word boundaries in the Recordings tab, Praat-style: the selected clip's waveform with its word as a
draggable span; letting go stores the bounds in the project's database (they survive a restart);
Play selection plays just the span; Auto trim puts back the trimmer's span."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


@pytest.fixture
def project(tmp_path):
    return fixture.build_fixture_project(tmp_path / "proj", n_words=12, n_distractors=4)


def _select(panel, row):
    panel.table.setCurrentIndex(panel.model.index(row, 1))


def test_dragged_bounds_are_stored_played_and_survive_a_restart(qtbot, open_window, project, monkeypatch):
    from app import audio_io
    from app.recorder_widget import Clip
    from core.audio import trim_silence
    from core.recording_list import word_bounds

    samples = fixture.tone_clip(3)  # 0.3 s silence, 0.4 s tone, 0.3 s silence
    w = open_window(project.root)
    w.session.add_clip(Clip(samples, 16000, "microphone", "mic", trim_silence(samples, 16000)))
    assert w.session.wait_classified()
    panel = w.recordings
    _select(panel, 0)
    editor = panel.editor
    assert editor.recording_id == project.recordings()[0].id and editor.region.isVisible()
    trim = trim_silence(samples, 16000)
    assert editor.bounds() == pytest.approx((trim[0] / 16000, trim[1] / 16000), abs=1e-6)
    # a drag: the span moves, and the release (sigRegionChangeFinished) stores it
    editor.region.setRegion((0.28, 0.74))
    editor.region.sigRegionChangeFinished.emit(editor.region)
    assert word_bounds(project, editor.recording_id) == pytest.approx((0.28, 0.74))
    assert "saved" in editor.info.text()
    played = []
    monkeypatch.setattr(audio_io, "play", lambda x, sr: played.append((len(x), sr)))
    editor.buttons["▶ Play selection"].click()
    assert played == [(round(0.46 * 16000), 16000)]
    w.close()
    again = open_window(project.root)
    _select(again.recordings, 0)
    assert again.recordings.editor.bounds() == pytest.approx((0.28, 0.74))
    assert again.recordings.editor.auto_trim() == pytest.approx((trim[0] / 16000, trim[1] / 16000))


def test_bounds_are_clipped_to_the_recording_and_must_be_in_order(project):
    from core.errors import WordbridgeError
    from core.recording_list import set_word_bounds, word_bounds

    rid = project.add_recording(np.zeros(8000, np.float32) + 0.1, 16000, source="import")
    assert word_bounds(project, rid) is None
    assert set_word_bounds(project, rid, -1.0, 9.0) == (0.0, 0.5)  # a segment is made when there is none
    assert word_bounds(project, rid) == (0.0, 0.5) and len(project.segments(rid)) == 1
    with pytest.raises(WordbridgeError, match="end must come after the start"):
        set_word_bounds(project, rid, 0.3, 0.2)
    with pytest.raises(WordbridgeError, match="no recording with id 999"):
        set_word_bounds(project, 999, 0.0, 0.1)


def test_new_bounds_are_classified_again_in_the_worker_and_the_row_keeps_the_results(qtbot, open_window, project):
    import threading

    from app.recorder_widget import Clip
    from core.recording_list import recording_rows

    samples = np.concatenate([fixture.tone_clip(3), fixture.tone_clip(5)])  # word 3 at 0.3-0.7 s, word 5 at 1.3-1.7 s
    w = open_window(project.root)
    w.session.add_clip(Clip(samples, 16000, "microphone", "mic", (int(0.3 * 16000), int(0.7 * 16000))))
    assert w.session.wait_classified()
    panel = w.recordings
    rid = project.recordings()[0].id
    assert panel.model.rows[0].top[0][0] == fixture.EN[3]
    _select(panel, 0)
    classifier = w.session.classifier
    calls, real = [], classifier.classify_clip
    classifier.classify_clip = lambda x, *a, **k: calls.append((threading.current_thread(), len(x))) or real(x, *a, **k)
    editor = panel.editor
    editor.region.setRegion((1.2, 1.8))  # drag the span onto the second word (ends with sigRegionChangeFinished)
    assert w.session.wait_classified()
    qtbot.waitUntil(lambda: panel.model.rows[0].top[0][0] == fixture.EN[5], timeout=10000)
    assert calls == [(calls[0][0], round(0.6 * 16000))] and calls[0][0] is not threading.main_thread()
    shown = panel.model.data(panel.model.index(0, 4))
    assert shown.startswith(fixture.EN[5])  # the row's top results
    assert panel.model.rows[0].confidence == recording_rows(project)[0].confidence  # and its confidence
    assert editor.recording_id == rid and panel.table.currentIndex().row() == 0  # the clip stays selected
    w.close()
    again = open_window(project.root)  # stored: a restart reads the new results
    assert again.recordings.model.rows[0].top[0][0] == fixture.EN[5]
