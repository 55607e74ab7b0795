"""Train ▸ Build speech corpus…'s front end (issue 18): a reader without word labels defaults to the
speech embedding standardised over the corpus, with a note giving the measured numbers (MFCC when the
weights are not on this machine); a front end chosen by hand is kept; the request carries the front
end and `standardise` to `build_project_corpus`; the user's settings remember them (older forms
without them still load, as MFCC)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

import torch  # noqa: E402

from tests.test_feature_store import make_corpus  # noqa: E402
from tests.test_frontends import HAVE_OWW  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def window(empty_project_window):
    return empty_project_window


@pytest.fixture
def weights(monkeypatch):
    """`weights(missing)`: the dialog sees the speech-embedding weights as there ('') or missing (why)."""
    import app.corpus_dialog as corpus_dialog

    def set_missing(missing: str = ""):
        monkeypatch.setattr(corpus_dialog, "weights_missing", lambda: missing)

    set_missing("")
    return set_missing


@pytest.fixture
def messages(monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append((title, text)))
    return shown


def _pick(dialog, label: str) -> None:
    """Choose a front end as the user does (the combo's `activated`)."""
    i = dialog.frontend.findText(label)
    dialog.frontend.setCurrentIndex(i)
    dialog.frontend.activated.emit(i)


def test_a_reader_without_labels_defaults_to_the_standardised_speech_embedding(qtbot, window, weights, tmp_path,
                                                                                monkeypatch):
    import core.corpus.project_corpora as project_corpora
    from core.errors import WordbridgeError

    dialog = window.corpus_dialog()
    assert dialog.reader.currentText() == "textgrid"
    assert dialog.frontend.currentText() == "MFCC" and not dialog.standardise.isChecked()
    assert dialog.frontend_note.isHidden() and dialog.deltas.isEnabled()
    dialog.reader.setCurrentText("vad")
    assert dialog.frontend.currentText() == "Speech embedding" and dialog.standardise.isChecked()
    note = dialog.frontend_note.text()
    assert not dialog.frontend_note.isHidden() and "0.108" in note and "0.057" in note and "0.076" in note
    assert "not expected to align" in dialog.reader_help.text()  # the no-labels note stays
    assert not dialog.deltas.isEnabled() and not dialog.cmvn.isEnabled()
    dialog.source.setText(str(make_corpus(tmp_path / "tones")))
    request = dialog.request()
    assert request["frontend"] == "speech-embedding" and request["standardise"] is True
    # the build job gets them (the function the dialog runs, as the command line's corpus build)
    calls = []

    def recorded(project, **kwargs):
        calls.append(kwargs)
        raise WordbridgeError("recorded, not built")

    monkeypatch.setattr(project_corpora, "build_project_corpus", recorded)
    job = dialog.start()
    assert job is not None
    qtbot.waitUntil(lambda: job.state != "running", timeout=10000)
    assert job.state == "failed" and "recorded, not built" in job.status.text()
    assert calls and calls[0]["frontend"] == "speech-embedding" and calls[0]["standardise"] is True

    chunks = window.corpus_dialog()
    chunks.reader.setCurrentText("chunks")
    assert chunks.frontend.currentText() == "Speech embedding" and chunks.standardise.isChecked()
    chunks.reader.setCurrentText("textgrid")  # nothing chosen by hand: the labelled reader's MFCC again
    assert chunks.frontend.currentText() == "MFCC" and not chunks.standardise.isChecked()
    assert chunks.frontend_note.isHidden()


def test_a_front_end_chosen_by_hand_is_kept(qtbot, window, weights, tmp_path):
    dialog = window.corpus_dialog()
    dialog.reader.setCurrentText("vad")
    _pick(dialog, "log-mel")
    assert dialog.deltas.isEnabled()
    dialog.reader.setCurrentText("chunks")
    dialog.reader.setCurrentText("textgrid")
    assert dialog.frontend.currentText() == "log-mel" and dialog.standardise.isChecked()
    dialog.source.setText(str(make_corpus(tmp_path / "tones")))
    request = dialog.request()
    assert request["frontend"] == "mfcc" and request["config"].kind == "logmel" and request["standardise"] is True

    other = window.corpus_dialog()  # unticking Standardise by hand counts too
    other.reader.setCurrentText("vad")
    other.standardise.click()
    other.reader.setCurrentText("textgrid")
    other.reader.setCurrentText("chunks")
    assert other.frontend.currentText() == "Speech embedding" and not other.standardise.isChecked()


def test_without_the_weights_the_default_is_mfcc_and_build_says_why(qtbot, window, weights, tmp_path, messages):
    weights("speech_embedding weights not found: set $WORDBRIDGE_SPEECH_EMBEDDING")
    dialog = window.corpus_dialog()
    dialog.reader.setCurrentText("vad")
    assert dialog.frontend.currentText() == "MFCC" and not dialog.standardise.isChecked()
    assert "not on this machine" in dialog.frontend_note.text() and "0.108" in dialog.frontend_note.text()
    dialog.source.setText(str(make_corpus(tmp_path / "tones")))
    _pick(dialog, "Speech embedding")
    assert dialog.start() is None
    assert messages[-1] == ("Cannot build the corpus",
                            "speech_embedding weights not found: set $WORDBRIDGE_SPEECH_EMBEDDING")
    _pick(dialog, "ssl checkpoint…")  # no checkpoint chosen: one line too
    assert dialog.start() is None and "choose the ssl checkpoint" in messages[-1][1]
    dialog.ssl_path.setText(str(tmp_path / "missing.safetensors"))
    assert dialog.start() is None and "missing.safetensors: checkpoint not found" in messages[-1][1]


def test_the_remembered_form_keeps_the_front_end(qtbot, window, weights, app_settings, tmp_path):
    from app.corpus_dialog import SOURCES_KEY, remember_build, remembered_builds

    project = window.session.project
    source = make_corpus(tmp_path / "tones")
    dialog = window.corpus_dialog()
    dialog.reader.setCurrentText("vad")
    dialog.source.setText(str(source))
    remember_build(app_settings, project, dialog.request())
    form = remembered_builds(app_settings, project)["tones"]
    assert form["frontend"] == "speech-embedding" and form["standardise"] is True and form["reader"] == "vad"

    again = window.corpus_dialog()
    qtbot.keyClicks(again.name, "tones")  # a known store name fills the form
    assert again.reader.currentText() == "vad" and again.source.text() == str(source.resolve())
    assert again.frontend.currentText() == "Speech embedding" and again.standardise.isChecked()
    request = again.request()
    assert request["frontend"] == "speech-embedding" and request["standardise"] is True

    # a form saved before the front-end choice: it was built with MFCC, so it resumes with MFCC
    key = str(project.root.resolve())
    old = {"source": str(source.resolve()), "reader": "vad", "options": {},
           "features": {"kind": "mfcc", "deltas": True, "cmvn": True}}
    app_settings.update(lambda data: data.__setitem__(SOURCES_KEY, {key: {"old": old}}))
    third = window.corpus_dialog()
    qtbot.keyClicks(third.name, "old")
    assert third.reader.currentText() == "vad" and third.deltas.isChecked()
    assert third.frontend.currentText() == "MFCC" and not third.standardise.isChecked()
    third.reader.setCurrentText("chunks")  # a remembered form counts as chosen by hand
    assert third.frontend.currentText() == "MFCC"
    request = third.request()
    assert request["frontend"] == "mfcc" and request["standardise"] is False and request["config"].deltas


@pytest.mark.skipif(not HAVE_OWW, reason="openwakeword 0.4.0 / onnx not installed")
def test_the_dialog_builds_a_standardised_speech_embedding_store(qtbot, window, tmp_path, monkeypatch):
    from core.corpus.feature_store import FeatureStore
    from core.frontends import speech_embedding as se

    monkeypatch.setenv(se.ENV_VAR, str(se.convert_openwakeword(tmp_path / "speech_embedding.safetensors")))
    project = window.session.project
    dialog = window.corpus_dialog()
    dialog.source.setText(str(make_corpus(tmp_path / "tones", n_files=3)))
    dialog.reader.setCurrentText("chunks")
    job = dialog.start()
    assert job is not None
    qtbot.waitUntil(lambda: job.state != "running", timeout=60000)
    assert job.state == "done", job.log.toPlainText()
    header = FeatureStore.open(project.root / "corpora" / "tones").header
    assert header["frontend"]["name"] == "standardised"
    assert header["frontend"]["inner"]["name"] == "speech-embedding" and header["standardisation"]["recordings"]
    run = project.runs("corpus-build")[-1]
    assert run.config["frontend"] == "speech-embedding" and run.config["standardise"] is True


def test_the_unsegmented_readers_take_a_speaker_pattern(qtbot, window, weights, tmp_path, messages):
    """"Speaker from file name (regex)" (vad, energy, chunks) goes to the reader as `speaker_pattern`;
    empty = sub-folders; a bad pattern is core's one-line message."""
    dialog = window.corpus_dialog()
    assert "speaker_pattern" not in dialog.reader_options["textgrid"].widgets
    dialog.reader.setCurrentText("energy")
    field = dialog.reader_options["energy"].widgets["speaker_pattern"]
    assert "^([^_]+)_" in field.toolTip() and "empty = the sub-folder" in field.toolTip()
    dialog.source.setText(str(make_corpus(tmp_path / "tones")))
    assert dialog.request()["options"]["speaker_pattern"] is None
    field.setText(r"^utt(\d)$")
    assert dialog.request()["options"]["speaker_pattern"] == r"^utt(\d)$"
    field.setText("(")
    assert dialog.start() is None
    assert messages[-1] == ("Cannot build the corpus", "speaker pattern '(' is not a regular expression "
                                                       "(missing ), unterminated subpattern at position 0)")
