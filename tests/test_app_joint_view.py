"""Joint-space view offscreen: cached layouts, search, click → neighbours, isolate/clear, before/after,
recompute in the background with Cancel, export PNG and CSV."""

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
def view(qtbot, pca_project, app_settings):
    from app.joint_view import JointSpaceView
    from app.session import ProjectSession

    project = pca_project
    session = ProjectSession(app_settings)
    v = JointSpaceView(session)
    qtbot.addWidget(v)
    session.set_project(project)
    qtbot.waitUntil(lambda: session.classifier is not None and bool(v.rows), timeout=20000)
    return v


def test_cached_pca_layout_is_shown_with_variance(view):
    assert view.method_box.currentText() == "pca"
    assert len(view.rows) == 20 + 30 + 20  # speech types, English words, French words
    assert "PC1" in view.info.text() and "%" in view.info.text()
    assert "sampled" not in view.info.text()
    legend_names = [label.text for _item, label in view.legend.items]
    assert any("speech" in n for n in legend_names) and any("text-fr" in n for n in legend_names)


def test_click_lists_neighbours_in_original_space(view):
    row = view.rows.index(("speech-en", "s004"))
    view.select_row(row)
    words = view.neighbours.words()
    assert len(words) == 10
    # after alignment the speech type's nearest point is its own English word
    assert words[0] == fixture.EN[4]
    dists = [float(view.neighbours.table.item(r, 2).text()) for r in range(10)]
    assert dists == sorted(dists)


def test_regex_search_isolate_and_clear(view):
    view.search.setText("^(water|eau)$")
    assert view.apply_search() == 2
    view.isolate()
    assert view.visible.sum() == 2
    view.clear_selection()
    assert view.visible.all() and not view.selection
    view.search.setText("([")
    assert view.apply_search() == 0 and "bad regex" in view.info.text()


def test_before_alignment_needs_recompute_then_shows(qtbot, view):
    view.stage_box.setCurrentIndex(1)
    assert "Recompute" in view.info.text() and not view.rows
    worker = view.recompute()
    with qtbot.waitSignal(view.loaded, timeout=20000):
        pass
    assert len(view.rows) == 70
    # before alignment the speech type is not next to its word
    view.select_row(view.rows.index(("speech-en", "s004")))
    assert view.neighbours.words()[0] != fixture.EN[4]


def test_recompute_can_be_cancelled(qtbot, view, monkeypatch):
    from app.workers import Worker
    from core import projection as proj

    def slow_layout(vectors, method="umap", progress=None, **options):
        for i in range(200):
            progress.update(i, 200)
            progress.check()
            import time

            time.sleep(0.01)
        raise AssertionError("was not cancelled")

    monkeypatch.setattr(proj, "compute_layout", slow_layout)
    worker: Worker = view.recompute()
    assert view.progress.isVisibleTo(view)
    qtbot.waitUntil(lambda: view.progress.bar.maximum() == 1000, timeout=5000)
    with qtbot.waitSignal(worker.cancelled, timeout=5000):
        view.progress.cancel_button.click()
    assert "cancelled" in view.info.text()


def test_exports(view, tmp_path):
    view.export_png(str(tmp_path / "plot.png"))
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    view.export_csv(str(tmp_path / "coords.csv"))
    lines = (tmp_path / "coords.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "space,modality,language,word,x,y" and len(lines) == 71
    assert any(line.startswith("text-fr,text,fr,eau,") for line in lines)


def test_live_clip_is_placed_near_its_word(view):
    from app.recorder_widget import Clip
    from app.session import ClipResult

    clip = Clip(fixture.tone_clip(6), 16000, "file", "x.wav", None)
    result = ClipResult(clip, None, view.session.classifier.classify_clip(clip.samples, 16000))
    view.show_clip(result)
    word_xy = view.coords[view.rows.index(("text-en", fixture.EN[6]))]
    spread = np.ptp(view.coords, axis=0).max()
    assert np.linalg.norm(view.clip_position - word_xy) < 0.25 * spread
    xs, _ys = view._clip_lines.getData()
    assert xs is not None and len(xs) >= 2
