"""The project database and audio: recordings, segments, confirmed pairs, runs."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import soundfile

from core.errors import InputFileError, WordbridgeError
from core.project import Project
from core.project import database as database_module


@pytest.fixture
def project(tmp_path) -> Project:
    return Project.create(tmp_path / "proj", "db")


def tone(seconds: float = 0.5, rate: int = 16000, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_database_is_wal_and_versioned(project):
    with sqlite3.connect(project.root / "project.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == database_module.DB_SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"recordings", "segments", "confirmed_pairs", "runs"} <= tables


def test_recording_round_trip_as_16_bit_mono_wav(project):
    samples = tone()
    rid = project.add_recording(samples, 16000, source="microphone", device="pulse", note="take 1",
                                label="bonjour", speaker="spk1")
    (rec,) = Project.open(project.root).recordings()
    assert (rec.id, rec.source, rec.device, rec.note, rec.label, rec.speaker) == (
        rid, "microphone", "pulse", "take 1", "bonjour", "spk1")
    assert rec.sample_rate == 16000 and rec.duration == pytest.approx(0.5)
    assert rec.wav_path.startswith("recordings/") and rec.wav_path.endswith(".wav")
    info = soundfile.info(str(project.root / rec.wav_path))
    assert (info.channels, info.subtype, info.format) == (1, "PCM_16", "WAV")
    audio, rate = project.recording_audio(rid)
    assert rate == 16000
    np.testing.assert_allclose(audio, samples, atol=1 / 32768 + 1e-6)


def test_recording_accepts_int16_and_stereo(project):
    stereo = np.stack([tone(), -tone()], axis=1)  # averages to silence
    rid = project.add_recording(stereo, 8000)
    assert np.max(np.abs(project.recording_audio(rid)[0])) < 1e-4
    ints = (tone() * 32767).astype(np.int16)
    rid = project.add_recording(ints, 16000)
    np.testing.assert_allclose(project.recording_audio(rid)[0], tone(), atol=2e-4)
    with pytest.raises(WordbridgeError, match="non-empty"):
        project.add_recording(np.zeros(0, np.float32), 16000)
    with pytest.raises(WordbridgeError, match="source must be one of microphone, import"):
        project.add_recording(tone(), 16000, source="radio")
    assert len(project.recordings()) == 2
    assert len(list((project.root / "recordings").glob("*.wav"))) == 2  # the refused ones left no file


def test_import_converts_to_mono_16_bit(project, tmp_path):
    source = tmp_path / "clip.flac"
    soundfile.write(str(source), np.stack([tone(rate=22050), tone(rate=22050)], axis=1), 22050, format="FLAC")
    rid = project.import_recording(source, label="chat")
    rec = project.db.recording(rid)
    assert (rec.source, rec.sample_rate, rec.label) == ("import", 22050, "chat")
    assert "clip.flac" in rec.note
    assert soundfile.info(str(project.root / rec.wav_path)).subtype == "PCM_16"
    bad = tmp_path / "noise.wav"
    bad.write_bytes(b"RIFF nonsense")
    with pytest.raises(InputFileError, match="noise.wav: cannot read audio"):
        project.import_recording(bad)
    with pytest.raises(InputFileError, match="audio file is missing"):
        project.import_recording(tmp_path / "none.wav")


def test_failed_wav_write_leaves_no_row_and_no_file(project, monkeypatch):
    def broken_write(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(soundfile, "write", broken_write)
    with pytest.raises(WordbridgeError, match="disk full"):
        project.add_recording(tone(), 16000)
    assert project.recordings() == []
    assert not list((project.root / "recordings").glob("*"))


def test_failed_row_insert_removes_the_wav(project, monkeypatch):
    def broken_insert(self, conn, *args, **kwargs):
        raise sqlite3.OperationalError("simulated crash before commit")

    monkeypatch.setattr(database_module.ProjectDatabase, "insert_recording", broken_insert)
    with pytest.raises(WordbridgeError, match="simulated crash"):
        project.add_recording(tone(), 16000)
    monkeypatch.undo()
    assert project.recordings() == []
    assert not list((project.root / "recordings").glob("*.wav"))


def test_orphan_wav_is_reported(project):
    rid = project.add_recording(tone(), 16000)
    orphan = project.root / "recordings" / "20240101-000000-deadbeef.wav"
    soundfile.write(str(orphan), tone(), 16000, subtype="PCM_16")  # as if a crash hit before the row
    assert project.orphan_recordings() == [orphan]
    project.delete_recording(rid)
    assert project.recordings() == [] and project.orphan_recordings() == [orphan]
    with pytest.raises(WordbridgeError, match="no recording with id 99"):
        project.recording_audio(99)


def test_segments_and_recording_updates(project):
    rid = project.add_recording(tone(1.0), 16000)
    ids = project.add_segments(rid, [(0.5, 0.9, None), (0.1, 0.4, "le")])
    segs = project.segments(rid)
    assert [(s.start, s.end, s.label) for s in segs] == [(0.1, 0.4, "le"), (0.5, 0.9, None)]
    assert sorted(ids) == sorted(s.id for s in segs)
    with pytest.raises(WordbridgeError, match="needs 0 <= start < end"):
        project.add_segments(rid, [(0.2, 0.3, "ok"), (0.9, 0.5, "backwards")])
    assert len(project.segments()) == 2  # the whole batch was rolled back
    with pytest.raises(WordbridgeError, match="no recording with id 42"):
        project.add_segments(42, [(0.0, 0.1, None)])
    project.db.update_recording(rid, label="le chat", speaker="A")
    assert project.db.recording(rid).label == "le chat"
    with pytest.raises(WordbridgeError, match="cannot change recording field"):
        project.db.update_recording(rid, sample_rate=8000)
    project.delete_recording(rid)
    assert project.segments() == []  # cascaded


def test_confirmed_pairs_keep_only_the_latest_decision_per_speech_item(project):
    first = project.confirm_pair("s3", "chat", "fr")
    project.confirm_pair("s3", "chien", "fr", status="rejected")
    again = project.confirm_pair("s3", "eau", "fr", status="corrected")
    project.confirm_pair(7, "chat", "fr", speech_kind="segment")
    project.confirm_pair("s3", "water", "en")  # another language is another decision
    assert again == first
    pairs = Project.open(project.root).confirmed_pairs()
    assert [(p.speech_kind, p.speech_ref, p.text_word, p.language, p.status) for p in pairs] == [
        ("word", "s3", "eau", "fr", "corrected"), ("segment", "7", "chat", "fr", "confirmed"),
        ("word", "s3", "water", "en", "confirmed")]
    assert project.confirmed_pairs(status="rejected") == []
    assert project.confirmed_pairs(language="de") == []
    with pytest.raises(WordbridgeError, match="status must be one of confirmed, corrected, rejected"):
        project.confirm_pair("s3", "chat", "fr", status="maybe")
    project.clear_pair("s3", "en")
    project.db.delete_pair(first)
    assert [p.speech_ref for p in project.confirmed_pairs()] == ["7"]


def test_schema_1_database_keeps_the_latest_decision_per_item(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(database_module._SCHEMA_V1)
    rows = [("word", "s1", "and", "en", "confirmed", "2024-01-01T00:00:00Z"),
            ("word", "s1", "water", "en", "corrected", "2024-01-02T00:00:00Z"),
            ("word", "s2", "tree", "en", "rejected", "2024-01-01T00:00:00Z")]
    conn.executemany("INSERT INTO confirmed_pairs (speech_kind, speech_ref, text_word, language, status, created)"
                     " VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    db = database_module.ProjectDatabase(path)
    assert [(p.speech_ref, p.text_word, p.status) for p in db.confirmed_pairs()] == [
        ("s1", "water", "corrected"), ("s2", "tree", "rejected")]
    db.confirm_pair("s2", "leaf", "en", "corrected")
    assert len(db.confirmed_pairs()) == 2


def test_runs(project):
    run_dir = project.root / "runs" / "align-1"
    rid = project.record_run("align", {"method": "adversarial", "epochs": np.int64(5)}, run_dir=run_dir)
    (run,) = project.runs()
    assert (run.kind, run.status, run.finished, run.run_dir) == ("align", "running", None, "runs/align-1")
    assert run.config == {"method": "adversarial", "epochs": 5}
    project.update_run(rid, status="finished", metrics={"p_at_1": np.float32(0.5)})
    (run,) = Project.open(project.root).runs(kind="align")
    assert run.status == "finished" and run.finished is not None and run.metrics == {"p_at_1": 0.5}
    assert project.runs(kind="projection") == []
    outside = project.record_run("projection", {}, status="failed", run_dir="/elsewhere/run")
    # a folder outside the project is stored by its name: no local path travels with the project
    assert project.runs()[-1].run_dir == "run" and outside != rid
    with pytest.raises(WordbridgeError, match="run status must be one of"):
        project.update_run(rid, status="exploded")
    with pytest.raises(WordbridgeError, match="no run with id 99"):
        project.update_run(99, status="failed")
    with pytest.raises(WordbridgeError, match="JSON-serialisable"):
        project.record_run("align", {"bad": object()})


def test_read_only_project_opens_for_viewing_and_refuses_changes(tmp_path):
    import os
    import stat

    project = Project.create(tmp_path / "ro", "ro")
    project.confirm_pair("s1", "water", "en")
    folder = project.root
    modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
    try:
        for p in modes:
            p.chmod(stat.S_IMODE(modes[p]) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        viewer = Project.open(folder)
        assert viewer.read_only
        assert [p.text_word for p in viewer.confirmed_pairs()] == ["water"]
        with pytest.raises(WordbridgeError, match="read-only"):
            viewer.confirm_pair("s2", "tree", "en")
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def test_read_only_open_writes_nothing(tmp_path):
    project = Project.create(tmp_path / "demo", "demo")
    project.confirm_pair("s1", "water", "en")
    before = {p.name: p.read_bytes() for p in project.root.iterdir() if p.is_file()}
    viewer = Project.open(project.root, read_only=True)
    assert viewer.read_only and len(viewer.confirmed_pairs()) == 1
    with pytest.raises(WordbridgeError, match="read-only"):
        viewer.add_recording(np.zeros(1600, np.float32), 16000)
    with pytest.raises(WordbridgeError, match="read-only"):
        viewer.update_settings(x=1)
    copy = viewer.save_as(tmp_path / "copy")
    assert not copy.read_only and len(copy.confirmed_pairs()) == 1
    after = {p.name: p.read_bytes() for p in project.root.iterdir() if p.is_file()}
    assert after == before
