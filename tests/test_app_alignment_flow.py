"""Text ▸ Add text space (train from a corpus / import vectors, in a worker with Cancel), Align as a
form with a confirmation before a map is replaced, Revert, stale layouts after alignment, and a
Refine whose criterion drops asking before it keeps the map (offscreen)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402

MAP = "speech-en__text-en"


@pytest.fixture
def project(tmp_path):
    project = fixture.build_fixture_project(tmp_path / "proj", n_words=12, n_distractors=4)
    from core.projection import compute_joint_projection

    compute_joint_projection(project, "pca", aligned=True)
    return project


@pytest.fixture
def window(qtbot, app_settings, project):
    from app.main_window import MainWindow

    w = MainWindow(app_settings)
    qtbot.addWidget(w, before_close_func=lambda w: w.finish_workers())
    assert w.open_project(project.root)
    qtbot.waitUntil(lambda: w.session.classifier is not None, timeout=20000)
    return w


@pytest.fixture
def answers(monkeypatch):
    """QMessageBox.question answers from this list (recorded questions in .asked)."""
    from PySide6.QtWidgets import QMessageBox

    class Answers(list):
        asked: list = []

    replies = Answers()

    def question(parent, title, text, *a, **k):
        replies.asked.append(title)
        return replies.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: replies.asked.append(text))
    return replies


def _corpus(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    vocab = [f"w{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(30)]
    path = tmp_path / "mbo.txt"
    path.write_text("\n".join(" ".join(rng.choice(vocab, 10)) for _ in range(200)))
    return path


def test_text_menu_trains_a_text_space_from_a_corpus_file(qtbot, window, tmp_path):
    titles = [a.text() for a in window.menuBar().actions()]
    assert "Te&xt" in titles
    dialog = window.text_space_dialog()
    assert dialog.dim.value() == 50 and dialog.window.value() == 5  # the paper's settings
    assert all(w.toolTip() for w in (dialog.mode, dialog.path, dialog.language, dialog.dim, dialog.window))
    dialog.path.setText(str(_corpus(tmp_path)))
    dialog.language.setText("mbo")
    assert dialog.space_id.text() == "text-mbo"
    job = dialog.start()
    assert job is not None and job.progress is not None
    qtbot.waitUntil(lambda: job.state != "running", timeout=30000)
    assert job.state == "done", job.log.toPlainText()
    entry = window.session.project.space_entry("text-mbo")
    assert entry.kind == "text" and entry.dim == 50 and entry.language == "mbo"


def test_text_space_import_and_bad_file_message(qtbot, window, tmp_path, answers):
    from core.vectors import save_vectors

    save_vectors(window.session.project.space("text-fr"), tmp_path / "fr.vec")
    dialog = window.text_space_dialog()
    dialog.mode.setCurrentIndex(1)
    assert not dialog.dim.isEnabled() and dialog.max_rows.isEnabled()
    dialog.path.setText(str(tmp_path / "missing.vec"))
    assert dialog.start() is None and "choose an existing file" in answers.asked[-1]
    dialog.path.setText(str(tmp_path / "fr.vec"))
    dialog.language.setText("fr")
    job = dialog.start()
    qtbot.waitUntil(lambda: job.state != "running", timeout=20000)
    assert job.state == "done", job.log.toPlainText()
    assert window.session.project.space_entry("text-fr-2").n_words == 12


def test_align_form_asks_before_replacing_then_revert_restores(qtbot, window, answers):
    project = window.session.project
    before = project.mapping(MAP).W.copy()
    dialog = window.align_dialog()
    assert dialog.text.currentData() == "text-en" and "Replaces the current map" in dialog.current.text()
    assert all(w.toolTip() for w in (dialog.text, dialog.method, dialog.seed, dialog.restarts, dialog.knn))
    from PySide6.QtWidgets import QMessageBox

    answers.append(QMessageBox.No)
    assert dialog.start() is None and answers.asked == ["Replace the map?"]
    assert np.array_equal(project.mapping(MAP).W, before)
    answers.append(QMessageBox.Yes)
    dialog.method.setCurrentText("selflearn")
    dialog.restarts.setValue(1)
    dialog.device.setCurrentText("cpu")
    job = dialog.start()
    qtbot.waitUntil(lambda: job.state != "running", timeout=60000)
    assert job.state == "done", job.log.toPlainText()
    assert "joint-pca-after" in project.settings["stale_layouts"]
    window.joint.method_box.setCurrentText("pca")
    qtbot.waitUntil(lambda: "stale" in window.joint.info.text(), timeout=20000)
    assert window.revert_alignment()
    assert np.array_equal(project.mapping(MAP).W, before)


def test_refine_whose_criterion_drops_asks_and_no_puts_the_old_map_back(qtbot, settle, window, monkeypatch):
    import core.refine_pairs as refine_pairs
    from core.refine_pairs import RefineResult

    project = window.session.project
    before = project.mapping(MAP).W.copy()

    def worse_refine(project, mapping_id, progress=None):
        e = project.mapping_entry(mapping_id)
        project.add_mapping(mapping_id, e.source, e.target, np.eye(before.shape[0], dtype=np.float32), "worse",
                            replace=True)
        return RefineResult(mapping_id, 0.8422, 0.8421, 3)

    monkeypatch.setattr(refine_pairs, "refine_with_pairs", worse_refine)
    asked = []
    monkeypatch.setattr(window.lexicon, "ask_keep_worse", lambda result: asked.append(result) or False)
    worker = window.lexicon.refine()
    settle(worker, 20000)
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    assert np.array_equal(project.mapping(MAP).W, before)
    assert "put back" in window.lexicon.criterion.text()


def test_align_form_starts_from_gromov_wasserstein_for_a_voice_free_speech_space(qtbot, window):
    project = window.session.project
    dialog = window.align_dialog()
    assert not dialog.gw_start.isChecked() and dialog.gw_start.toolTip()
    dialog.method.setCurrentText("default")
    request = dialog.request()
    assert request["gw_start"] is False and request["method"] == "default"
    # as train_project_speech_space records a space trained with voice-free word types
    project._update_manifest(lambda m: next(s for s in m.spaces if s.kind == "speech").provenance.update(voice_free=True))
    dialog = window.align_dialog()
    assert dialog.gw_start.isChecked()
    dialog.method.setCurrentText("default")
    request = dialog.request()
    assert request["gw_start"] is True and request["method"] == "selflearn"  # GW starts are selflearn starts
    dialog.method.setCurrentText("adversarial")
    assert dialog.request()["method"] == "adversarial"  # a method chosen by hand is kept


def test_align_form_maps_one_text_space_onto_another_for_translation_through_it(qtbot, window, answers):
    """A text → text map (the pivot core.classify translates a clip's words through)."""
    from PySide6.QtWidgets import QMessageBox

    from core.errors import WordbridgeError

    project = window.session.project
    dialog = window.align_dialog()
    assert dialog.source.currentData() is None and dialog.source.toolTip()  # default: the speech space
    dialog.source.setCurrentIndex(dialog.source.findData("text-en"))
    assert not dialog.gw_start.isEnabled() and not dialog.gw_start.isChecked()
    dialog.text.setCurrentIndex(dialog.text.findData("text-en"))
    with pytest.raises(WordbridgeError, match="needs another text space of the project"):
        dialog.request()
    dialog.text.setCurrentIndex(dialog.text.findData("text-fr"))
    assert dialog.mapping_id() == "text-en__text-fr" and "Replaces the current map" in dialog.current.text()
    dialog.method.setCurrentText("selflearn")
    dialog.restarts.setValue(1)
    dialog.device.setCurrentText("cpu")
    request = dialog.request()
    assert request["source_id"] == "text-en" and request["text_id"] == "text-fr" and request["gw_start"] is False
    answers.append(QMessageBox.Yes)
    job = dialog.start()
    qtbot.waitUntil(lambda: job.state != "running", timeout=60000)
    assert job.state == "done", job.log.toPlainText()
    entry = next(m for m in project.manifest.mappings if m.id == "text-en__text-fr")
    assert (entry.source, entry.target, entry.method) == ("text-en", "text-fr", "selflearn")
    assert MAP in {m.id for m in project.manifest.mappings}  # the speech map is untouched
