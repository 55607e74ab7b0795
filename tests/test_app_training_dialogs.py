"""Train menu dialogs, offscreen: build a speech corpus → train a speech space (live loss) → the
project gains the space and its encoder; Cancel mid-training and continue; bad input gets a message
box with the error's text; the lexicon's induction and label export run in worker threads.

The corpus is a tiny real one written here: tone "words" in WAV files with Praat TextGrids
(synthetic, and marked so in its corpus.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

import torch  # noqa: E402

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
SR = 16000
WORDS = ["one", "two", "three", "four"]
TINY = {"ac_hidden": 32, "ac_dim": 16, "max_frames": 60}  # settings file: a model that trains in a blink


def make_corpus(root: Path, n_files: int = 6) -> Path:
    """n_files tone recordings with a 3-word TextGrid each, plus one WAV without a TextGrid (skipped)."""
    import soundfile as sf
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    t = np.arange(int(1.5 * SR)) / SR
    for i in range(n_files + 1):
        wave = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t) + 0.02 * rng.standard_normal(len(t))
        sf.write(root / f"utt{i}.wav", wave.astype(np.float32), SR)
        if i == n_files:
            break  # the last file has no TextGrid
        tg = textgrid.Textgrid()
        words = [WORDS[(i + k) % 4] for k in range(3)]
        tg.addTier(IntervalTier("words", [(0.1, 0.4, words[0]), (0.5, 0.8, words[1]), (0.9, 1.41, words[2])],
                                0, 1.5))
        tg.save(str(root / f"utt{i}.TextGrid"), format="short_textgrid", includeBlankSpaces=True)
    (root / "corpus.json").write_text(json.dumps({"synthetic": True, "note": "test tones, not speech"}))
    return root


@pytest.fixture
def window(empty_project_window):
    return empty_project_window


@pytest.fixture
def project(window):
    """The project the window has open (the dialogs change this object)."""
    return window.session.project


@pytest.fixture
def messages(monkeypatch):
    """Message boxes are recorded instead of shown: [(title, text)]."""
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append((title, text)))
    return shown


@pytest.fixture
def tiny_settings(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    return path


def _build(qtbot, window, source: Path):
    dialog = window.corpus_dialog()
    dialog.source.setText(str(source))
    assert dialog.name.text() == source.name  # suggested from the folder's name
    job = dialog.start()
    assert job is not None
    qtbot.waitUntil(lambda: job.state != "running", timeout=15000)
    return dialog, job


def _train(qtbot, window, settings: Path, epochs: int = 2, batch: int = 4, wait: bool = True):
    dialog = window.train_speech_dialog()
    dialog.settings_file.setText(str(settings))
    dialog.epochs.setValue(epochs)
    dialog.sg_epochs.setValue(2)
    dialog.batch.setValue(batch)
    dialog.dim.setValue(8)
    dialog.device.setCurrentText("cpu")
    job = dialog.start()
    assert job is not None
    if wait:
        qtbot.waitUntil(lambda: job.state != "running", timeout=20000)
    return dialog, job


def test_build_corpus_then_train_adds_speech_space(qtbot, window, project, tmp_path, tiny_settings):
    from core.speech.encode import clip_embedder

    corpus = make_corpus(tmp_path / "tones")
    dialog, job = _build(qtbot, window, corpus)
    assert job.state == "done", job.log.toPlainText()
    store = project.root / "corpora" / "tones"
    assert (store / "header.json").is_file()
    log = job.log.toPlainText()
    assert "18 segments from 6 of 7 files" in log and "skipped 1 × no TextGrid" in log
    assert window.last_corpus == str(store)
    assert project.runs("corpus-build")[-1].status == "finished"

    train, job = _train(qtbot, window, tiny_settings)
    assert train.store_path() == str(store)  # the store just built is the default
    assert train.learner.currentText() == "unit-skipgram" and train.grouping.currentText() == "A"
    assert train.space_id.text() == "speech-en"
    assert job.state == "done", job.log.toPlainText()
    assert job.device.text() == "Compute device: cpu"
    assert len(job.series["loss"]) >= 2 and all(np.isfinite(job.series["loss"]))  # one point per epoch
    assert "epoch" not in job.series  # counters are not plotted
    assert "4 speech types" in job.log.toPlainText()
    # type exemplars are chosen on held-out utterances: 6 recordings are too few to hold any out
    assert "type exemplars: none (6 training utterances are too few to hold some out and choose them on)" \
        in job.log.toPlainText()
    assert json.loads((project.root / "speech-runs" / "speech-en" / "type_exemplars.json").read_text())["stored"] is False
    space = project.space_entry("speech-en")
    assert (space.kind, space.language, space.dim, space.n_words, space.synthetic) == ("speech", "en", 8, 4, True)
    assert [e.id for e in project.manifest.encoders] == ["speech-en-encoder"]
    assert project.manifest.synthetic_speech  # the corpus said synthetic
    # the stored encoder embeds a new clip into the new space (what the classifier does)
    weights, config = project.encoder("speech-en-encoder")
    t = np.arange(int(0.8 * SR)) / SR
    clip = np.concatenate([np.zeros(4000), 0.3 * np.sin(2 * np.pi * 250 * t), np.zeros(4000)]).astype(np.float32)
    vector = clip_embedder(weights, config)(clip, SR)
    assert vector.shape == (8,)
    assert project.runs("train-speech")[-1].status == "finished"


def test_cancel_mid_training_then_continue(qtbot, window, project, tmp_path, tiny_settings):
    from PySide6.QtCore import Qt

    from core.corpus.project_corpora import build_project_corpus

    window.last_corpus = str(build_project_corpus(project, make_corpus(tmp_path / "tones"), "tones").path)
    dialog = window.train_speech_dialog()
    dialog.settings_file.setText(str(tiny_settings))
    dialog.epochs.setValue(3)
    dialog.sg_epochs.setValue(2)
    dialog.batch.setValue(4)
    dialog.dim.setValue(8)
    job = dialog.start()
    # cancel on the worker thread at the first loss report (end of epoch 1), so the cut is exact
    job.worker.progressed.connect(lambda stage, done, total, m: "loss" in m and job.worker.cancel(),
                                  Qt.DirectConnection)
    qtbot.waitUntil(lambda: job.state != "running", timeout=20000)
    assert job.state == "cancelled", job.log.toPlainText()
    assert "train again with the same settings" in job.status.text()
    assert project.manifest.spaces == [] and project.manifest.encoders == []
    assert project.runs("train-speech")[-1].status == "cancelled"
    first_loss = job.series["loss"][0]
    assert not (project.root / "speech-runs" / "speech-en").exists()  # unfinished: built aside
    checkpoint = json.loads((project.root / "speech-runs" / ".speech-en.partial" / "checkpoints" / "acoustic"
                             / "checkpoint.json").read_text())
    assert checkpoint["epoch"] == 1 and checkpoint["step"] == 5  # 18 segments, 4 per step

    again, job2 = _train(qtbot, window, tiny_settings, epochs=3, batch=4)
    assert job2.state == "done", job2.log.toPlainText()
    history = job2.result["loss_history"]
    assert [h[1] for h in history] == [0, 1, 2]  # epoch 1 came from the checkpoint
    assert history[0][2] == pytest.approx(first_loss)
    assert job2.result["encoder_steps"] == 15
    assert project.space_entry("speech-en").kind == "speech"
    assert (project.root / "speech-runs" / "speech-en" / "metrics.json").is_file()
    assert not (project.root / "speech-runs" / ".speech-en.partial").exists()


def test_bad_input_gets_a_message_not_a_traceback(qtbot, window, project, tmp_path, messages):
    from core.corpus.project_corpora import build_project_corpus

    dialog = window.corpus_dialog()
    assert dialog.start() is None  # no folder chosen
    assert "choose the folder" in messages[-1][1]
    (tmp_path / "empty").mkdir()
    dialog.source.setText(str(tmp_path / "empty"))
    assert dialog.start() is None and "the folder is empty" in messages[-1][1]
    dialog.source.setText(str(tmp_path / "nowhere"))
    assert dialog.start() is None and "corpus folder not found" in messages[-1][1]
    # a folder with no usable audio fails inside the job: its state and message say so
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no audio here")
    dialog.source.setText(str(tmp_path / "notes"))
    job = dialog.start()
    qtbot.waitUntil(lambda: job.state != "running", timeout=10000)
    assert job.state == "failed" and "no segments found" in job.status.text()

    # an unlabelled store (chunks reader): configuration A is disabled, and refused with the reason
    build_project_corpus(project, make_corpus(tmp_path / "tones"), "chunks", reader="chunks")
    train = window.train_speech_dialog()
    model = train.grouping.model()
    enabled = {g: model.item(i).isEnabled() for i, g in enumerate(["A", "B", "VAD", "F"])}
    assert enabled == {"A": False, "B": False, "VAD": False, "F": True}
    assert train.grouping.currentText() == "F"
    train.grouping.setCurrentText("A")
    assert train.start() is None
    assert messages[-1][0] == "Cannot train" and "configuration A needs word labels" in messages[-1][1]
    train.grouping.setCurrentText("F")
    train.settings_file.setText(str(tmp_path / "missing.toml"))
    assert train.start() is None and "missing.toml" in messages[-1][1]


def test_lexicon_induces_pairs_and_exports_labels_in_workers(qtbot, app_settings, tmp_path):
    import make_fixture_project as fixture

    from app.main_window import MainWindow
    from core.audio import save_wav

    project = fixture.build_fixture_project(tmp_path / "proj", n_words=12, n_distractors=4)
    window = MainWindow(app_settings)
    qtbot.addWidget(window, before_close_func=lambda w: w.finish_workers())
    assert window.open_project(project.root)
    lex = window.lexicon
    qtbot.waitUntil(lambda: window.session.classifier is not None, timeout=20000)
    worker = lex.reload()
    assert worker is not None and lex.info.text() == "Inducing pairs…"
    qtbot.waitUntil(lambda: lex.model.rowCount() == 12, timeout=10000)
    window.recorder.import_files([str(save_wav(tmp_path / "a.wav", fixture.tone_clip(5), 16000))])
    out = tmp_path / "labels"
    out.mkdir()
    export = lex.start_export_labels(str(out))
    assert export is not None and not lex.buttons["Export labels…"].isEnabled()
    assert lex.refine() is None  # one background job at a time
    qtbot.waitUntil(lambda: lex.buttons["Export labels…"].isEnabled(), timeout=10000)
    assert "Labels for 1 recordings" in lex.info.text()
    assert f'text = "{fixture.EN[5]}"' in next(out.glob("*.TextGrid")).read_text()


def test_training_replaces_the_speech_space_and_what_only_fit_the_old_one(qtbot, app_settings, tmp_path,
                                                                         messages, tiny_settings):
    import make_fixture_project as fixture

    from app.main_window import MainWindow
    from core.corpus.project_corpora import build_project_corpus

    fixture.build_fixture_project(tmp_path / "proj", n_words=12, n_distractors=4)
    window = MainWindow(app_settings)
    qtbot.addWidget(window, before_close_func=lambda w: w.finish_workers())
    assert window.open_project(tmp_path / "proj")
    project = window.session.project
    build_project_corpus(project, make_corpus(tmp_path / "tones"), "tones")
    train = window.train_speech_dialog()
    assert train.space_id.text() == "speech-en" and train.dim.value() == project.space_entry("text-en").dim
    train.settings_file.setText(str(tiny_settings))
    train.epochs.setValue(1)
    train.sg_epochs.setValue(2)
    assert train.start() is None and "tick “replace”" in messages[-1][1]
    train.replace.setChecked(True)
    job = train.start()
    qtbot.waitUntil(lambda: job.state != "running", timeout=20000)
    assert job.state == "done", job.log.toPlainText()
    assert sorted(job.result["removed"]) == ["encoder fixture-band-energy", "mapping speech-en__text-en"]
    assert [m.id for m in project.manifest.mappings] == ["text-en__text-fr"]
    assert [e.id for e in project.manifest.encoders] == ["speech-en-encoder"]
    assert project.space_entry("speech-en").n_words == 4


def test_cancel_button_keeps_a_checkpoint_and_training_again_resumes(qtbot, window, project, tmp_path, settle):
    """Issue 17, through the GUI: Train ▸ Train speech space… on the tone corpus, a real training; the
    training dialog's Cancel button is clicked (as a user does) after a few steps → the dialog says
    cancelled, the run's checkpoint holds every step done, the project gains no space; training again
    from the form logs "resumed from step N" and finishes."""
    import re

    from PySide6.QtCore import Qt

    from core.corpus.project_corpora import build_project_corpus
    from core.project.project import Project

    epochs, per_epoch = 20, 5  # 18 segments, 4 per step: long enough that the click lands mid-training
    window.last_corpus = str(build_project_corpus(project, make_corpus(tmp_path / "tones"), "tones").path)
    settings = tmp_path / "every-step.json"
    settings.write_text(json.dumps({**TINY, "log_every": 1}))  # a loss point per step
    _, job = _train(qtbot, window, settings, epochs=epochs, wait=False)
    qtbot.waitUntil(lambda: len(job.series.get("loss", [])) >= 3, timeout=20000)  # a few steps have run
    assert job.state == "running" and job.progress.cancel_button.isEnabled()
    qtbot.mouseClick(job.progress.cancel_button, Qt.LeftButton)
    assert job.progress.label.text() == "cancelling…" and not job.progress.cancel_button.isEnabled()
    settle(job.worker)
    assert job.state == "cancelled", job.log.toPlainText()
    assert job.status.text().startswith("Cancelled.") and "train again with the same settings" in job.status.text()
    found = re.search(r"acoustic: cancelled; checkpoint at step (\d+)", job.log.toPlainText())
    assert found, job.log.toPlainText()
    step = int(found.group(1))
    assert 3 <= step < epochs * per_epoch  # stopped mid-way, every step done kept
    checkpoints = project.root / "speech-runs" / ".speech-en.partial" / "checkpoints" / "acoustic"
    info = json.loads((checkpoints / "checkpoint.json").read_text())
    assert info["step"] == step and not info["finished"] and (checkpoints / info["weights"]).is_file()
    assert project.manifest.spaces == [] and project.manifest.encoders == []
    on_disk = Project.open(project.root, read_only=True).manifest
    assert on_disk.spaces == [] and on_disk.encoders == []  # nor on disk
    assert project.runs("train-speech")[-1].status == "cancelled"

    _, job2 = _train(qtbot, window, settings, epochs=epochs, wait=False)  # the same form, the same settings
    settle(job2.worker, 40000)
    assert job2.state == "done", job2.log.toPlainText()
    assert f"acoustic: resumed from step {step} " in job2.log.toPlainText(), job2.log.toPlainText()
    assert job2.result["encoder_steps"] == epochs * per_epoch
    assert project.space_entry("speech-en").kind == "speech"
    assert project.runs("train-speech")[-1].status == "finished"
