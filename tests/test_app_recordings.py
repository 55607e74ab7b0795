"""The Recordings tab (offscreen): every clip a row with play, label, speaker, language, top results
and an empty confidence; batch import fills it in a worker; record from a word list, one prompt
after another, each file named by its word; the list and the word-list position survive a restart."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


@pytest.fixture
def project(tmp_path):
    return fixture.build_fixture_project(tmp_path / "proj", n_words=12, n_distractors=4)


def _column(panel, name):
    from app.recordings_panel import COLUMNS

    return [panel.model.data(panel.model.index(r, COLUMNS.index(name))) for r in range(panel.model.rowCount())]


def test_batch_import_fills_the_list_in_a_worker(qtbot, settle, open_window, project, tmp_path):
    from core.audio import save_wav

    w = open_window(project.root)
    panel = w.recordings
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())][-1] == "Recordings"
    paths = [str(save_wav(tmp_path / f"c{i}.wav", fixture.tone_clip(i, seed=5), 16000)) for i in (2, 4, 6)]
    worker = panel.import_files(paths)
    assert worker is not None
    settle(worker, 20000)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=5000)
    assert [t.split(" (")[0] for t in _column(panel, "Top results")] == [fixture.EN[i] for i in (2, 4, 6)]
    assert _column(panel, "Confidence") == ["", "", ""]  # the classification has none yet
    assert all(panel.buttons[n].toolTip() for n in panel.buttons)


def test_recorded_clip_is_listed_and_edits_survive_a_restart(qtbot, open_window, project):
    from app.recorder_widget import Clip
    from app.recordings_panel import COLUMNS

    w = open_window(project.root)
    clip = Clip(fixture.tone_clip(3), 16000, "microphone", "test mic", (0, len(fixture.tone_clip(3))), None)
    w.session.add_clip(clip)
    assert w.session.wait_classified()
    panel = w.recordings
    assert panel.model.rowCount() == 1 and _column(panel, "Top results")[0].startswith(fixture.EN[3])
    for col, value in (("Label", "tree"), ("Speaker", "Ana"), ("Language", "en")):
        assert panel.model.setData(panel.model.index(0, COLUMNS.index(col)), value)
    w.close()
    again = open_window(project.root)
    p2 = again.recordings
    assert (_column(p2, "Label"), _column(p2, "Speaker"), _column(p2, "Language")) == (["tree"], ["Ana"], ["en"])


def test_word_list_prompts_one_word_after_another_and_names_files_by_word(qtbot, open_window, project, tmp_path):
    w = open_window(project.root)
    dialog = w.recordings.word_list_dialog()
    words = tmp_path / "words.txt"
    words.write_text("# list\nwater\nfire\nstone\n")
    assert dialog.load_list(str(words)) == 3
    dialog.speaker.setText("Ana")
    dialog.language.setText("en")
    assert dialog.prompt.text() == "water" and dialog.position.text() == "word 1 of 3"
    assert dialog.take(fixture.tone_clip(0), 16000) is not None
    assert dialog.prompt.text() == "fire"
    assert dialog.take(fixture.tone_clip(1), 16000) is not None
    assert w.session.wait_classified()
    rows = w.recordings.model.rows
    assert [r.label for r in rows] == ["water", "fire"] and rows[0].file.startswith("water-")
    assert rows[1].speaker == "Ana" and rows[1].language == "en"
    assert rows[0].top and rows[0].top[0][0] == fixture.EN[0]
    dialog.reject()
    w.close()
    again = open_window(project.root)
    resumed = again.recordings.word_list_dialog()
    assert resumed.prompt.text() == "stone" and resumed.speaker.text() == "Ana"
