"""Lexicon ▸ play a speech type's example clips (cycling through them), and Project ▸ Import
annotated recording (TextGrid + WAV) in a worker; the clip then shows in the Recordings list."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


@pytest.fixture
def window(qtbot, app_settings, tmp_path):
    from app.main_window import MainWindow

    project = fixture.build_fixture_project(tmp_path / "proj", n_words=12, n_distractors=4)
    w = MainWindow(app_settings)
    qtbot.addWidget(w, before_close_func=lambda w: w.finish_workers())
    assert w.open_project(project.root)
    qtbot.waitUntil(lambda: w.session.classifier is not None, timeout=20000)
    return w


def test_play_a_speech_types_example_clips(qtbot, window, monkeypatch):
    from app import audio_io

    played = []
    monkeypatch.setattr(audio_io, "play", lambda samples, sr: played.append(len(samples)) and None)
    project = window.session.project
    project.add_recording(fixture.tone_clip(0), 16000, label="s000")
    rid = project.add_recording(fixture.tone_clip(0, seed=4), 16000)
    project.add_segments(rid, [(0.2, 0.5, "s000")])
    lex = window.lexicon
    qtbot.waitUntil(lambda: lex.model.rowCount() == 12, timeout=10000)
    row = next(r for r in range(lex.model.rowCount()) if lex.model.speech_type(r) == "s000")
    lex.table.selectRow(row)
    assert lex.buttons["▶ Examples"].toolTip()
    assert lex.play_examples() == 2 and "example 1 of 2" in lex.info.text()
    assert lex.play_examples() == 2 and "example 2 of 2" in lex.info.text()
    assert played == [int(0.3 * 16000), len(fixture.tone_clip(0))]
    assert lex.play_examples("s005") == 0 and "No clips" in lex.info.text()


def test_import_annotated_recording_from_the_menu(qtbot, settle, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: pytest.fail(text))
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    from core.audio import save_wav

    save_wav(tmp_path / "utt.wav", fixture.tone_clip(1, pad=0.5), 16000)
    tg = textgrid.Textgrid()
    tg.addTier(IntervalTier("words", [(0.1, 0.4, "fire"), (0.5, 0.9, "stone"), (1.0, 1.2, "ice cream")], 0, 1.4))
    tg.save(str(tmp_path / "utt.TextGrid"), format="short_textgrid", includeBlankSpaces=True)
    actions = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Import annotated recording…" in actions
    worker = window.import_annotated(str(tmp_path / "utt.TextGrid"))
    settle(worker, 10000)
    qtbot.waitUntil(lambda: window.recordings.model.rowCount() == 1, timeout=5000)
    rid = window.session.project.recordings()[0].id
    assert [s.label for s in window.session.project.segments(rid)] == ["fire", "stone"]
    # the corpus readers' label check: skipped and counted, and the count is on the status line
    qtbot.waitUntil(lambda: "with 2 words; 1 label skipped (label with spaces or line breaks: 1)"
                    in window.statusBar().currentMessage(), timeout=5000)
