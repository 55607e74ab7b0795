"""The window stays responsive: clips are classified in a worker (never on the GUI thread), the
joint scatter is filled a chunk of points per event-loop turn, the heavy libraries are loaded
with torch's shared libraries preloaded outside the GIL and then frozen for the collector, and a clip
with several words is flagged in the results panel and the status bar (core.speech_runs).
scripts/bench_ui_stall.py measures the stalls themselves."""

from __future__ import annotations

import gc
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


@pytest.fixture
def project(pca_project):  # conftest: the 20-word project with its PCA layout
    return pca_project


def _open(qtbot, window, project):
    assert window.open_project(project.root)
    qtbot.waitUntil(lambda: window.session.classifier is not None and bool(window.joint.rows), timeout=20000)


def test_a_clip_is_classified_in_a_worker_thread(qtbot, window, project):
    from app.recorder_widget import Clip

    _open(qtbot, window, project)
    classifier = window.session.classifier
    threads, real = [], classifier.classify_clip
    classifier.classify_clip = lambda *a, **k: threads.append(threading.current_thread()) or real(*a, **k)
    result = window.session.add_clip(Clip(fixture.tone_clip(3), 16000, "microphone", "mic", None))
    assert result.classification is None  # not yet: the GUI thread went on
    assert window.session.wait_classified()
    assert threads and threads[0] is not threading.main_thread()
    assert result.classification is not None and window.results.words("text-en")[0] == fixture.EN[3]
    assert window.session.project.recordings()[0].id == result.recording_id  # stored, results too
    from core.recording_list import recording_rows

    assert recording_rows(window.session.project)[0].top[0][0] == fixture.EN[3]


def test_joint_points_are_added_a_chunk_per_event_loop_turn(qtbot, window, project, monkeypatch):
    import app.joint_view as joint_view

    monkeypatch.setattr(joint_view, "DRAW_CHUNK", 8)
    _open(qtbot, window, project)
    view = window.joint
    qtbot.waitUntil(lambda: not view.drawing, timeout=10000)
    view.redraw()
    scatter = [i for i in view.plot.getPlotItem().items if isinstance(i, joint_view.pg.ScatterPlotItem)
               and i.name()]
    assert view.drawing and sum(len(i.data) for i in scatter) == 0  # nothing drawn in redraw itself
    qtbot.waitUntil(lambda: not view.drawing, timeout=10000)
    assert sum(len(i.data) for i in scatter) == len(view.rows) == 70


def test_heavy_libraries_load_with_torch_preloaded_and_are_frozen():
    from app import library_loader

    library_loader.import_heavy_libraries()
    assert "torch" in sys.modules and "pyqtgraph" in sys.modules
    assert gc.get_freeze_count() > 0  # Worker.start's gc.collect no longer walks torch's objects
    assert library_loader.preload_torch_libraries() == []  # torch is loaded: nothing more to do


def test_a_clip_of_several_words_is_flagged_in_results_and_status(qtbot, window, project, tmp_path):
    from core.audio import save_wav

    _open(qtbot, window, project)
    window.show()
    sentence = np.concatenate([fixture.tone_clip(i, seconds=0.3, pad=0.1, seed=i) for i in range(5)])
    window.recorder.import_files([str(save_wav(tmp_path / "sentence.wav", sentence, 16000))])
    assert window.session.wait_classified()
    assert window.session.latest.warning and "5 words" in window.session.latest.warning
    assert "5 words" in window.results.summary.text()
    assert "5 words" in window.statusBar().currentMessage()
    window.recorder.import_files([str(save_wav(tmp_path / "word.wav", fixture.tone_clip(2), 16000))])
    assert window.session.wait_classified()
    assert window.session.latest.warning is None and "words (" not in window.results.summary.text()
