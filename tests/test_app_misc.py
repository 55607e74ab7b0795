"""Settings (per user, under tmp_path in tests), the training dialog, and which project opens at start."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui


def test_settings_live_under_the_override_and_survive_damage(app_settings, tmp_path):
    from app.settings import MAX_RECENT, Settings

    assert app_settings.path == tmp_path / "config" / "settings.json"
    folders = []
    for i in range(MAX_RECENT + 2):
        folder = tmp_path / f"p{i}"
        folder.mkdir()
        folders.append(folder)
        app_settings.add_recent(folder)
    again = Settings()
    assert again.recent_projects[0] == str(folders[-1].resolve())
    assert len(again.recent_projects) == MAX_RECENT
    assert again.last_project == str(folders[-1].resolve())
    again.path.write_text("{ not json")
    assert Settings().recent_projects == []


def test_settings_are_saved_on_the_gui_thread_without_fsync(app_settings, tmp_path, monkeypatch):
    """Opening a project adds it to the recent list on the GUI thread: core.atomic's fsync of the
    folder took ~100 ms there on a loaded disk (docs/BENCHMARKS.md, session 10). A rename, no fsync."""
    import os

    from app.settings import Settings

    monkeypatch.setattr(os, "fsync", lambda fd: pytest.fail("fsync on the GUI thread"))
    app_settings.add_recent(tmp_path)
    assert Settings().last_project == str(tmp_path.resolve())
    # no temporary file left (the cross-process lock's file stays, as filelock leaves it)
    assert sorted(p.name for p in app_settings.path.parent.iterdir()) == [".settings.json.lock", "settings.json"]


def test_settings_default_folder_comes_from_platformdirs(monkeypatch):
    from app.settings import settings_dir

    monkeypatch.delenv("WORDBRIDGE_CONFIG_DIR", raising=False)
    assert settings_dir().name == "wordbridge"


def test_initial_project_order(app_settings, tmp_path, monkeypatch):
    from app import main_window

    monkeypatch.setattr(main_window, "demo_available", lambda: False)
    assert main_window.initial_project("given", app_settings) == "given"
    assert main_window.initial_project(None, app_settings) is None
    (tmp_path / "last").mkdir()
    app_settings.add_recent(tmp_path / "last")
    assert main_window.initial_project(None, app_settings) == str((tmp_path / "last").resolve())


def _fake_training(steps=30, progress=None):
    for step in range(steps):
        progress.check()
        progress.update(step + 1, steps, loss=1.0 / (step + 1), criterion=0.1 * step)
        progress.log(f"step {step}") if step == 0 else None
        time.sleep(0.01)
    return {"steps": steps}


def test_training_dialog_plots_metrics_and_finishes(qtbot):
    from app.training_dialog import TrainingDialog

    dialog = TrainingDialog("Train", _fake_training, 20)
    qtbot.addWidget(dialog)
    assert dialog.device.text().startswith("Compute device: ")
    with qtbot.waitSignal(dialog.worker.done, timeout=10000):
        dialog.start()
    qtbot.waitUntil(lambda: len(dialog.series.get("loss", [])) == 20, timeout=5000)
    assert dialog.series["criterion"][-1] == pytest.approx(1.9)
    assert dialog.result == {"steps": 20}
    assert "step 0" in dialog.log.toPlainText() and "done" in dialog.log.toPlainText()
    assert dialog.close_box.isEnabled()


def test_training_dialog_cancel(qtbot):
    from app.training_dialog import TrainingDialog

    dialog = TrainingDialog("Train", _fake_training, 10000)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(lambda: len(dialog.series.get("loss", [])) > 2, timeout=5000)
    with qtbot.waitSignal(dialog.worker.cancelled, timeout=5000):
        dialog.progress.cancel_button.click()
    assert "cancelled" in dialog.log.toPlainText()


def test_worker_reports_user_errors_as_one_line(qtbot):
    from app.workers import Worker
    from core.errors import WordbridgeError

    def fails(progress=None):
        raise WordbridgeError("spaces/x.safetensors: file is missing")

    worker = Worker(fails)
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["spaces/x.safetensors: file is missing"]
    worker.wait()
