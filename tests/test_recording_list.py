"""The recordings list in the project database (core, no Qt): word-named clips, results and
confidence per clip, label/speaker/language edits, batch import with classification; all of it
read back after reopening the project."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402

from core.project.project import Project  # noqa: E402
from core.recording_list import (add_word_recording, import_and_classify, read_word_list,  # noqa: E402
                                 recording_rows, set_row_fields, store_result)


@pytest.fixture
def project(tmp_path):
    return fixture.build_fixture_project(tmp_path / "proj", n_words=12, n_distractors=4)


def test_word_list_clips_are_named_by_their_word_and_survive_reopening(project, tmp_path):
    rid = add_word_recording(project, fixture.tone_clip(2), 16000, "ngá mbó", speaker="A. Speaker", language="mbo")
    row = recording_rows(project)[0]
    assert row.file.startswith("ngá_mbó-") and row.file.endswith(".wav")
    assert (row.label, row.speaker, row.language, row.top, row.confidence) == ("ngá mbó", "A. Speaker", "mbo", [],
                                                                               None)
    set_row_fields(project, rid, label="mbó", language="fr")
    again = recording_rows(Project.open(project.root))[0]
    assert (again.label, again.language) == ("mbó", "fr")


def test_results_and_confidence_stored_per_clip(project):
    from core.classify import Candidate, Classification

    rid = project.add_recording(fixture.tone_clip(1), 16000)
    c = Classification("csls", {"text-en": [Candidate("fire", 0.9), Candidate("stone", 0.5)]}, [], {}, set())
    store_result(project, rid, c)
    row = recording_rows(Project.open(project.root))[0]
    assert row.top == [("fire", 0.9), ("stone", 0.5)] and row.confidence is None
    c.confidence = {"best": 0.8, "margin": 0.1, "probability": 0.75, "no_match": False}  # core.speech.encode's
    store_result(project, rid, c)
    assert recording_rows(project)[0].confidence == 0.75
    c.confidence = {"best": 0.8, "margin": 0.1, "probability": None, "no_match": False}  # not calibrated
    store_result(project, rid, c)
    assert recording_rows(project)[0].confidence is None


def test_batch_import_classifies_each_file_and_lists_bad_ones(project, tmp_path):
    from core.audio import save_wav
    from core.classify import ClipClassifier, clip_embedder

    paths = [save_wav(tmp_path / f"w{i}.wav", fixture.tone_clip(i, seed=3), 16000) for i in (3, 5)]
    (tmp_path / "bad.wav").write_bytes(b"no audio")
    classifier = ClipClassifier.load(project, embed=clip_embedder(project))
    result = import_and_classify(project, [*paths, tmp_path / "bad.wav"], classifier, language="en")
    assert len(result["added"]) == 2 and "bad.wav" in result["problems"][0]
    rows = recording_rows(Project.open(project.root))
    assert [r.top[0][0] for r in rows] == [fixture.EN[3], fixture.EN[5]]
    assert all(r.language == "en" for r in rows)


def test_read_word_list(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("# Mboshi\nmbá\n\nngá\nmbá\n")
    assert read_word_list(path) == ["mbá", "ngá"]


def test_example_clips_of_a_speech_type(project):
    from core.classify import Candidate, Classification
    from core.recording_list import clip_audio, example_clips

    a = project.add_recording(fixture.tone_clip(1), 16000, label="s001")
    b = project.add_recording(fixture.tone_clip(2), 16000)
    project.add_segments(b, [(0.1, 0.3, "s001")])
    c = project.add_recording(fixture.tone_clip(1), 16000)
    store_result(project, c, Classification("csls", {}, [Candidate("s001", 0.9)], {}, set()))
    assert example_clips(project, "s001") == [(b, 0.1, 0.3), (a, None, None), (c, None, None)]
    assert example_clips(project, "nothing") == []
    samples, sr = clip_audio(project, b, 0.1, 0.3)
    assert len(samples) == int(0.2 * sr)
