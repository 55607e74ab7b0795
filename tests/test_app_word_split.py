"""Split into words in the Recordings tab (offscreen): a clip of three words, after a confirmation,
becomes three word clips listed right after it, each classified on its own in the classify worker
(never the GUI thread) with its own top results; the split survives a restart and Undo split
removes the words again (the clip itself is kept throughout)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402

WORDS = (2, 4, 6)  # fixture word types: each tone_clip is 0.3 s silence, 0.4 s tone, 0.3 s silence


@pytest.fixture
def project(tmp_path):
    return fixture.build_fixture_project(tmp_path / "proj", n_words=12, n_distractors=4)


@pytest.fixture
def answers(monkeypatch):
    """QMessageBox.question answers Yes (or what the test appends first); the questions are kept."""
    from PySide6.QtWidgets import QMessageBox

    asked, replies = [], []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text, *a, **k: asked.append(text) or (replies.pop(0) if replies
                                                                                    else QMessageBox.Yes))
    return asked, replies


def _select(panel, row):
    panel.table.setCurrentIndex(panel.model.index(row, 1))


def test_split_into_words_lists_each_word_classified_in_the_worker_and_undo(qtbot, settle, open_window, project, answers):
    from PySide6.QtWidgets import QMessageBox

    from app.recorder_widget import Clip
    from app.recordings_panel import COLUMNS
    from core.audio import trim_silence

    asked, replies = answers
    sentence = np.concatenate([fixture.tone_clip(i) for i in WORDS])  # words at 0.3-0.7, 1.3-1.7, 2.3-2.7 s
    w = open_window(project.root)
    w.session.add_clip(Clip(sentence, 16000, "microphone", "mic", trim_silence(sentence, 16000)))
    assert w.session.wait_classified()
    assert "3 words" in w.session.latest.warning and "Split into words" in w.session.latest.warning
    panel = w.recordings
    rid = panel.model.rows[0].id
    _select(panel, 0)
    assert panel.buttons["Split into words"].isEnabled() and not panel.buttons["Undo split"].isEnabled()
    replies.append(QMessageBox.No)  # asked first: No splits nothing
    assert panel.split_selected() is None and len(project.recordings()) == 1
    assert "3 words" in asked[0] and "0.30–0.70" in asked[0]
    classifier = w.session.classifier
    threads, real = [], classifier.classify_clip
    classifier.classify_clip = lambda *a, **k: threads.append(threading.current_thread()) or real(*a, **k)
    worker = panel.split_selected()
    assert worker is not None and w.session.splitting()  # stored in a worker, then classified in another
    assert w.session.wait_classified()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 4 and all(r.top for r in panel.model.rows), timeout=10000)
    rows = panel.model.rows
    assert [r.id for r in rows][0] == rid and [r.part_of for r in rows] == [None, rid, rid, rid]
    assert [r.top[0][0] for r in rows[1:]] == [fixture.EN[i] for i in WORDS]  # each word its own results
    assert len(threads) == 3 and all(t is not threading.main_thread() for t in threads)
    assert panel.model.data(panel.model.index(0, COLUMNS.index("Top results"))) == "split into 3 words ↓"
    assert panel.model.data(panel.model.index(2, COLUMNS.index("File"))).startswith("↳ ")
    assert all(0.3 < r.duration < 1.0 for r in rows[1:])  # a word with some of the silence around it
    _select(panel, 0)
    assert not panel.buttons["Split into words"].isEnabled() and panel.buttons["Undo split"].isEnabled()
    assert "3 words" in w.statusBar().currentMessage() or "Split into 3 words" in w.statusBar().currentMessage()
    w.close()

    again = open_window(project.root)  # the split is in the project: a restart shows it
    p2 = again.recordings
    assert [r.part_of for r in p2.model.rows] == [None, rid, rid, rid]
    assert [r.top[0][0] for r in p2.model.rows[1:]] == [fixture.EN[i] for i in WORDS]
    _select(p2, 2)  # a word clip: Undo split removes all the words of its clip
    assert p2.buttons["Undo split"].isEnabled()
    worker = p2.undo_split_selected()
    assert worker is not None and "Remove the 3 word clips" in asked[-1]
    settle(worker, 10000)
    qtbot.waitUntil(lambda: p2.model.rowCount() == 1, timeout=5000)
    assert [r.id for r in project.recordings()] == [rid] and p2.model.rows[0].split_into == 0
    assert p2.model.rows[0].top  # the clip's own results are still there


def test_a_clip_of_one_word_is_not_split(qtbot, open_window, project, answers):
    from app.recorder_widget import Clip

    asked, _replies = answers
    w = open_window(project.root)
    w.session.add_clip(Clip(fixture.tone_clip(3), 16000, "microphone", "mic", None))
    assert w.session.wait_classified()
    _select(w.recordings, 0)
    assert w.recordings.split_selected() is None and asked == []  # nothing to ask about
    assert "nothing to split" in w.recordings.info.text() and len(project.recordings()) == 1


def test_the_results_offer_to_split_a_clip_of_several_words(qtbot, open_window, project, answers):
    from app.recorder_widget import Clip

    asked, _replies = answers
    w = open_window(project.root)
    w.session.add_clip(Clip(fixture.tone_clip(3), 16000, "microphone", "mic", None))
    assert w.session.wait_classified()
    assert w.results.split_button.isHidden()  # one word: nothing to offer
    sentence = np.concatenate([fixture.tone_clip(i) for i in WORDS])
    w.session.add_clip(Clip(sentence, 16000, "microphone", "mic", None))
    assert w.session.wait_classified()
    assert not w.results.split_button.isHidden() and w.results.split_button.toolTip()
    w.results.split_button.click()
    assert w.tabs.currentWidget() is w.recordings and "3 words" in asked[0]
    assert w.session.wait_classified()
    rid = w.session.latest.recording_id
    qtbot.waitUntil(lambda: w.recordings.model.rowCount() == 5, timeout=10000)
    parent = project.recordings()[1].id
    assert [r.part_of for r in w.recordings.model.rows] == [None, None, parent, parent, parent] and rid != parent
    assert w.results.split_button.isHidden()  # the last word's results are shown now
    assert w._split_clip(parent) is None  # the same clip again: split already, nothing asked or stored
    assert len(asked) == 1 and "split into 3 words already" in w.recordings.info.text()
