"""The app's main flow, offscreen: open a project → import a clip → results → joint view →
lexicon confirm → refine in the background; plus the start screen and project menu."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


@pytest.fixture
def project(tmp_path):
    project = fixture.build_fixture_project(tmp_path / "proj", n_words=24, n_distractors=10, mapping_error=0.6)
    from core.projection import compute_joint_projection

    compute_joint_projection(project, "pca", aligned=True)
    return project


def _open(qtbot, window, project):
    assert window.open_project(project.root)
    qtbot.waitUntil(lambda: window.session.classifier is not None and bool(window.joint.rows), timeout=20000)


def test_start_screen_without_project(window):
    assert window.stack.currentWidget() is window.start
    assert "New project" in window.start.new_button.text()
    assert not window.banner.isVisible()


def test_open_shows_synthetic_banner_and_remembers_project(qtbot, window, project, app_settings):
    _open(qtbot, window, project)
    window.show()
    assert window.banner.isVisible()
    assert "Synthetic speech" in window.banner.text()
    assert app_settings.recent_projects == [str(project.root.resolve())]


def test_import_clip_shows_results_and_is_stored(qtbot, window, project, tmp_path):
    from core.audio import save_wav

    _open(qtbot, window, project)
    wav = save_wav(tmp_path / "tree.wav", fixture.tone_clip(3, seed=7), 16000)
    clips = window.recorder.import_files([str(wav)])
    assert window.session.wait_classified()  # classified in a worker, never on the GUI thread
    assert len(clips) == 1 and clips[0].trim is not None
    # the trimmed word is the 0.4 s tone plus 0.25 s margins, not the 1.0 s file
    assert 0.7 < len(clips[0].word) / 16000 < 0.95
    assert window.results.words("text-en")[0] == fixture.EN[3]
    assert window.results.words("text-fr")[0] == fixture.FR[3]
    assert window.session.latest.latency_s < 0.1
    recordings = project.recordings()
    assert len(recordings) == 1 and recordings[0].source == "import"
    assert len(project.segments(recordings[0].id)) == 1
    # NN/CSLS switch re-ranks the same clip
    window.results.nn_button.click()
    assert window.session.latest.classification.method == "nn"
    assert window.results.words("text-en")[0] == fixture.EN[3]
    # the clip appears in the joint view with lines to its nearest words
    assert window.joint.clip_position is not None
    assert np.all(np.isfinite(window.joint.clip_position))


def test_bad_audio_file_shows_one_line_error(qtbot, window, project, tmp_path):
    _open(qtbot, window, project)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    assert window.recorder.import_files([str(bad)]) == []
    assert "bad.wav" in window.recorder.status.text()
    assert project.recordings() == []


def _select(lex, speech_type):
    row = next(r for r in range(lex.model.rowCount()) if lex.model.speech_type(r) == speech_type)
    lex.table.selectRow(row)
    return row


def test_lexicon_confirm_correct_and_refine(qtbot, settle, window, project):
    _open(qtbot, window, project)
    lex = window.lexicon
    qtbot.waitUntil(lambda: lex.model.rowCount() == 24, timeout=5000)
    assert lex.counts.text() == "reviewed 0 of 24 · 24 speech types"
    # confirm the first 8 rows with their true words (a correction where the induced word differs)
    for r in range(8):
        lex.model.setData(lex.model.index(r, 1), fixture.EN[r])
        lex.table.selectRow(r)
        assert lex.decide_selected("confirmed") == 1
    pairs = project.confirmed_pairs()
    assert len(pairs) == 8 and {p.text_word for p in pairs} == set(fixture.EN[:8])
    worker = lex.refine()
    settle(worker, 30000)
    result = lex.last_refine
    assert result is not None, lex.criterion.text()
    assert result.n_pairs == 8
    assert result.criterion_after > result.criterion_before
    assert "→" in lex.criterion.text()
    qtbot.waitUntil(lambda: window.session.classifier is not None, timeout=20000)


def test_lexicon_decision_survives_reopening_and_undo(qtbot, window, project, tmp_path):
    _open(qtbot, window, project)
    lex = window.lexicon
    qtbot.waitUntil(lambda: lex.model.rowCount() == 24, timeout=5000)
    induced = lex.model.data(lex.model.index(_select(lex, "s000"), 1))
    assert lex.decide_selected("confirmed") == 1
    row = _select(lex, "s000")
    assert lex.model.setData(lex.model.index(row, 1), fixture.EN[7])  # correct it afterwards
    assert [(p.speech_ref, p.text_word, p.status) for p in project.confirmed_pairs()] == [
        ("s000", fixture.EN[7], "corrected")]
    _select(lex, "s001")
    lex.decide_selected("rejected")
    assert lex.counts.text().startswith("reviewed 2 of 24")
    lex.status_filter.setCurrentText("rejected")
    assert [lex.model.speech_type(r) for r in range(lex.model.rowCount())] == ["s001"]
    lex.status_filter.setCurrentText("all")
    lex.search.setText(fixture.EN[7])
    assert "s000" in [lex.model.speech_type(r) for r in range(lex.model.rowCount())]
    lex.search.setText("")
    lex.table.sortByColumn(2, Qt.DescendingOrder)  # by score
    scores = [float(lex.model.data(lex.model.index(r, 2))) for r in range(lex.model.rowCount())]
    assert scores == sorted(scores, reverse=True)
    assert lex.undo() == "s001" and lex.buttons["Redo"].isEnabled()
    # reopen: the correction is shown, the undone rejection is gone
    assert window.open_project(project.root)
    qtbot.waitUntil(lambda: lex.model.rowCount() == 24, timeout=20000)
    row = _select(lex, "s000")
    assert lex.model.data(lex.model.index(row, 1)) == fixture.EN[7]
    assert lex.model.data(lex.model.index(row, 3)) == "corrected"
    assert lex.model.data(lex.model.index(row, 1), Qt.ToolTipRole) == f"induced: {induced}"
    assert lex.model.data(lex.model.index(_select(lex, "s001"), 3)) == "unreviewed"


def test_lexicon_exports(qtbot, window, project, tmp_path):
    from core.audio import save_wav

    _open(qtbot, window, project)
    qtbot.waitUntil(lambda: window.lexicon.model.rowCount() > 0, timeout=5000)
    window.recorder.import_files([str(save_wav(tmp_path / "a.wav", fixture.tone_clip(5), 16000))])
    window.lexicon.export_csv(str(tmp_path / "lex.csv"))
    assert str(tmp_path / "lex.csv") in window.statusBar().currentMessage()
    lines = (tmp_path / "lex.csv").read_text().splitlines()
    assert lines[0] == "speech_type,text_word,language,score,status,induced_word" and len(lines) == 25
    out = tmp_path / "labels"
    out.mkdir()
    assert window.lexicon.export_labels(str(out)) == 1
    qtbot.waitUntil(lambda: str(out) in window.statusBar().currentMessage(), timeout=5000)
    grid = (out / "a.TextGrid").read_text()
    assert 'name = "words"' in grid and f'text = "{fixture.EN[5]}"' in grid
    assert (out / "a.wav").is_file() and (out / "a.eaf").is_file()
    assert (out / "a.txt").read_text().strip().endswith(fixture.EN[5])


def test_project_menu_new_and_save_as(qtbot, window, project, tmp_path, app_settings):
    _open(qtbot, window, project)
    assert window.save_as(str(tmp_path / "copy"))
    assert window.session.project.root == tmp_path / "copy"
    assert window.new_project(str(tmp_path / "fresh"), name="Fresh")
    assert window.session.project.name == "Fresh"
    assert app_settings.recent_projects[0] == str((tmp_path / "fresh").resolve())
    # an empty project has no classifier: the results panel says why instead of failing
    qtbot.waitUntil(lambda: window.session.classifier_problem not in (None, "loading…"), timeout=5000)
    assert "speech space" in window.results.summary.text()
