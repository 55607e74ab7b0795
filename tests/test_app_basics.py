"""Solid basics, offscreen: closing while a worker runs, the view range after a zoom, silent / NaN
clips, the demo opened read-only with recordings going to a copy, window layout, About, tooltips,
dark plots."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


@pytest.fixture
def project(pca_project):  # conftest: the 20-word project with its PCA layout, and the unaligned one
    from core.projection import compute_joint_projection

    compute_joint_projection(pca_project, "pca", aligned=False)
    return pca_project


def _open(qtbot, window, project):
    assert window.open_project(project.root)
    qtbot.waitUntil(lambda: window.session.classifier is not None and bool(window.joint.rows), timeout=20000)


def test_close_while_the_classifier_loads_waits_for_the_thread(qtbot, window, project, monkeypatch):
    from core import classify

    real_load = classify.ClipClassifier.load

    def slow_load(*args, **kwargs):  # CSLS terms cannot stop halfway: a load that ignores Cancel
        time.sleep(3.5)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(classify.ClipClassifier, "load", slow_load)
    window.show()
    assert window.open_project(project.root)
    worker = window.session._worker
    assert worker.is_running()
    accepted = window.close()
    # the window may only go away once no worker thread runs (a running QThread destroyed aborts)
    assert not accepted or not worker.is_running()
    qtbot.waitUntil(lambda: not worker.is_running(), timeout=20000)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert window.running_workers() == []


def test_zoom_then_switching_layout_shows_the_points(qtbot, window, project, tmp_path):
    _open(qtbot, window, project)
    view = window.joint
    view.plot.getPlotItem().getViewBox().setRange(xRange=(1e4, 1e4 + 1), yRange=(1e4, 1e4 + 1))  # as a wheel zoom
    with qtbot.waitSignal(view.loaded, timeout=20000):
        view.stage_box.setCurrentText("before alignment")
    (x0, x1), (y0, y1) = view.plot.getPlotItem().viewRange()
    inside = (view.coords[:, 0] >= x0) & (view.coords[:, 0] <= x1) & (view.coords[:, 1] >= y0) & (
        view.coords[:, 1] <= y1)
    assert inside.all()
    window.resize(900, 700)
    window.show()
    view.export_png(str(tmp_path / "plot.png"))
    from PySide6.QtGui import QImage

    image = QImage(str(tmp_path / "plot.png"))
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 3  # not a blank picture
    assert str(tmp_path / "plot.png") in window.statusBar().currentMessage()


@pytest.mark.parametrize("kind", ["silent", "short"])
def test_silent_or_short_clip_is_stored_and_clears_the_previous_words(qtbot, window, project, tmp_path, kind):
    from core.audio import save_wav

    _open(qtbot, window, project)
    window.recorder.import_files([str(save_wav(tmp_path / "word.wav", fixture.tone_clip(3), 16000))])
    assert window.session.wait_classified()
    assert window.results.words("text-en")
    samples = np.zeros(16000, np.float32) if kind == "silent" else fixture.tone_clip(3, seconds=0.05, pad=0.0)
    clips = window.recorder.import_files([str(save_wav(tmp_path / "odd.wav", samples, 16000))])
    assert window.session.wait_classified()
    assert len(clips) == 1
    if clips[0].trim is None:
        assert "whole clip is kept" in window.recorder.status.text()
    assert len(project.recordings()) == 2  # the status tells the truth: it is kept
    if window.session.latest.classification is None:
        assert window.results.words("text-en") == []  # the previous clip's words are gone
        assert "No results" in window.results.summary.text()


def test_nan_clip_is_refused_with_a_message_not_an_exception(qtbot, window, project):
    _open(qtbot, window, project)
    samples = fixture.tone_clip(3)
    samples[100:200] = np.nan
    assert window.recorder.accept_clip(samples, 16000, "microphone", "mic") is None
    assert "NaN" in window.recorder.status.text() and "not kept" in window.recorder.status.text()
    assert project.recordings() == []


def test_demo_opens_read_only_and_recordings_go_to_a_user_copy(qtbot, window, project, tmp_path, monkeypatch):
    from app import main_window
    from core.audio import save_wav

    monkeypatch.setattr(main_window, "DEMO_PROJECT", project.root)
    before = {p.name: p.read_bytes() for p in project.root.iterdir() if p.is_file()}
    _open(qtbot, window, project)
    assert window.session.project.read_only
    window.recorder.import_files([str(save_wav(tmp_path / "w.wav", fixture.tone_clip(3), 16000))])
    copy = window.session.project
    assert copy.root == tmp_path / "data" / "projects" / "proj-copy" and not copy.read_only
    assert len(copy.recordings()) == 1 and "copy" in window.statusBar().currentMessage()
    assert {p.name: p.read_bytes() for p in project.root.iterdir() if p.is_file()} == before
    assert not (project.root / "recordings").exists()


def test_window_layout_is_remembered(qtbot, app_settings, project):
    from app.main_window import MainWindow
    from app.window_state import window_settings

    first = MainWindow(app_settings)
    qtbot.addWidget(first, before_close_func=lambda w: w.finish_workers())
    first.show()
    first.open_project(project.root)
    first.resize(first.width(), 500)
    splitter_state = first.workspace.saveState()
    first.close()
    assert window_settings().value("window/workspace") == splitter_state
    second = MainWindow(app_settings)
    qtbot.addWidget(second, before_close_func=lambda w: w.finish_workers())
    assert second.height() == 500  # the default is 800


def test_about_has_the_honesty_notes_and_controls_have_tooltips(qtbot, window, project):
    _open(qtbot, window, project)
    box = window.about()
    assert "synthetic" in box.text() and "Speech2Vec" in box.text()
    box.close()
    from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QComboBox, QLineEdit, QTabBar

    controls = [w for cls in (QAbstractButton, QComboBox, QLineEdit) for w in window.findChildren(cls)
                if w.isVisibleTo(window) and not isinstance(w.parent(), (QTabBar, QAbstractItemView))]
    missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r} in {type(w.parent()).__name__}"
               for w in controls if not w.toolTip()]
    assert missing == []


def test_plots_follow_a_dark_palette(qtbot, app_settings):
    from PySide6.QtGui import QColor, QPalette

    from app.joint_view import JointSpaceView
    from app.session import ProjectSession

    view = JointSpaceView(ProjectSession(app_settings))
    qtbot.addWidget(view)
    dark = QPalette()
    dark.setColor(QPalette.Base, QColor("#202020"))
    dark.setColor(QPalette.Text, QColor("#e0e0e0"))
    view.setPalette(dark)
    assert view.plot.backgroundBrush().color().lightness() < 60
    assert view.plot.getPlotItem().getAxis("left").textPen().color().lightness() > 180
