"""Train ▸ Build speech corpus… keeps the corpus folder outside the project (issue 17): the store and
the runs table name it without its absolute path, the user's settings remember it, and a build
killed midway is offered again with its form filled in, so Build resumes it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

import torch  # noqa: E402

from tests.test_feature_store import make_corpus  # noqa: E402
from tests.test_project_corpus_paths import assert_no_local_path  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def window(empty_project_window):
    return empty_project_window


def _start(qtbot, dialog):
    job = dialog.start()
    assert job is not None
    qtbot.waitUntil(lambda: job.state != "running", timeout=15000)
    return job


def test_a_killed_build_is_offered_again_and_resumes(qtbot, window, app_settings, tmp_path, monkeypatch):
    import core.corpus.build as build
    from app.corpus_dialog import SOURCES_KEY, remembered_builds

    source = make_corpus(tmp_path / "data" / "tones")
    project = window.session.project

    class Killed(Exception):
        pass

    def killed(*_args, **_kwargs):
        raise Killed("killed before the store was written")

    dialog = window.corpus_dialog()
    assert dialog.resume_note.isHidden()  # nothing to resume yet
    dialog.source.setText(str(source))
    dialog.reader_options["textgrid"].widgets["lowercase"].setChecked(True)
    dialog.deltas.setChecked(True)
    with monkeypatch.context() as patch:
        patch.setattr(build, "_finalize", killed)  # every shard done, then the build dies
        job = _start(qtbot, dialog)
    assert job.state != "done"
    store = project.root / "corpora" / "tones"
    assert (store / ".build" / "plan.json").is_file() and not (store / "header.json").exists()
    # the folder is remembered outside the project, never inside it
    form = remembered_builds(app_settings, project)["tones"]
    assert form["source"] == str(source.resolve()) and form["options"]["lowercase"] is True
    assert str(project.root.resolve()) in app_settings.get(SOURCES_KEY)
    assert_no_local_path(project.root, tmp_path, source)

    again = window.corpus_dialog()  # the unfinished build's form, filled in
    assert not again.resume_note.isHidden() and "tones" in again.resume_note.text()
    assert again.source.text() == str(source.resolve()) and again.name.text() == "tones"
    assert again.reader_options["textgrid"].widgets["lowercase"].isChecked() and again.deltas.isChecked()
    job = _start(qtbot, again)
    assert job.state == "done", job.log.toPlainText()
    assert "resumed: 1 of 1 shards were already done" in job.log.toPlainText()
    assert (store / "header.json").is_file()
    assert_no_local_path(project.root, tmp_path, source)

    # a finished build is not offered on opening, but typing its name fills in its folder
    third = window.corpus_dialog()
    assert third.resume_note.isHidden() and third.source.text() == ""
    qtbot.keyClicks(third.name, "tones")
    assert third.source.text() == str(source.resolve()) and third.deltas.isChecked()
    job = _start(qtbot, third)
    assert job.state == "done" and "nothing to do" in job.log.toPlainText()
    assert Path(window.last_corpus) == store
