"""core.word_split: a clip of several words (the demo's own word recordings put one after another
with pauses) is split at the pauses into one piece per word, as many as the several-words warning
counts; a project's recording is stored as one clip per word and the split undone; `main.py classify
--split` prints each word with its time span."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"
needs_demo = pytest.mark.skipif(not (DEMO / "wordbridge.json").is_file(), reason="resources/demo is absent")
WORDS = ("lord", "shall", "unto")
SR = 16000
TOL = 0.05  # seconds: two 10-ms energy frames and then some, never a float's last bits


def _demo_words(words=WORDS, pause: float = 0.2):
    """The demo's recordings of `words` (each has ~0.15 s of silence around it) joined with `pause`
    seconds of silence after each; returns (samples, [(start, end) of each word's speech])."""
    from core.project import Project
    from core.speech_runs import speech_runs

    project = Project.open(DEMO, read_only=True)
    by_label = {}
    for r in project.recordings():
        by_label.setdefault(r.label, r.id)
    parts, expected, offset = [], [], 0.0
    for word in words:
        samples, sr = project.recording_audio(by_label[word])
        assert sr == SR
        (a, b), = speech_runs(samples, sr)  # each recording is one word
        expected.append((offset + a, offset + b))
        parts += [samples, np.zeros(int(pause * SR), np.float32)]
        offset += len(samples) / SR + pause
    return np.concatenate(parts).astype(np.float32), expected


@needs_demo
def test_three_words_with_pauses_are_three_pieces_at_the_right_times():
    from core.speech_runs import several_words_warning
    from core.word_split import cut, split_words

    samples, expected = _demo_words()
    spans = split_words(samples, SR)
    assert len(spans) == 3
    assert "3 words" in several_words_warning(samples, SR)  # the same cue, the same count
    for span, (a, b) in zip(spans, expected):
        assert abs(span.speech_start - a) < TOL and abs(span.speech_end - b) < TOL
        assert span.start <= span.speech_start < span.speech_end <= span.end  # the word is inside its piece
        assert span.speech_start - span.start <= 0.15 + 1e-9  # at most the margin of silence
    assert spans[0].start == 0.0 and spans[-1].end <= len(samples) / SR
    assert all(left.end <= right.start for left, right in zip(spans, spans[1:]))  # pieces never overlap
    for span in spans:
        assert len(cut(samples, SR, span)) == pytest.approx((span.end - span.start) * SR, abs=2)


@needs_demo
def test_a_short_pause_gets_at_most_half_of_it_on_each_side():
    from core.word_split import split_words

    samples, expected = _demo_words(pause=0.0)  # only the recordings' own ~0.15-s silences between words
    spans = split_words(samples, SR)
    assert len(spans) == 3
    for left, right in zip(spans, spans[1:]):
        gap_middle = (left.speech_end + right.speech_start) / 2
        assert left.end <= gap_middle + 1e-9 and right.start >= gap_middle - 1e-9


def test_one_word_silence_and_words_without_a_pause_are_not_split():
    from core.word_split import split_words

    assert len(split_words(fixture.tone_clip(3), SR)) == 1
    assert split_words(np.zeros(SR, np.float32), SR) == []
    assert split_words(np.zeros(0, np.float32), SR) == []
    # two "words" with a 50-ms dip between them (under the 0.1-s minimum pause): one piece, the documented limit
    joined = np.concatenate([fixture.tone_clip(2, pad=0.0), np.zeros(int(0.05 * SR), np.float32),
                             fixture.tone_clip(5, pad=0.0)])
    assert len(split_words(joined, SR)) == 1


@needs_demo
def test_a_recording_is_stored_as_one_clip_per_word_and_the_split_undone(tmp_path):
    from core.errors import WordbridgeError
    from core.project import Project
    from core.recording_list import recording_rows, set_row_fields, word_bounds
    from core.word_split import pieces_of, split_links, split_recording, undo_split

    samples, expected = _demo_words()
    project = Project.create(tmp_path / "p", "split test")
    rid = project.add_recording(samples, SR, source="import", label=" ".join(WORDS), speaker="Ana")
    set_row_fields(project, rid, language="en")
    single = project.add_recording(fixture.tone_clip(3), SR, source="microphone")
    made = split_recording(project, rid)
    assert [m[1].speech_start for m in made] == pytest.approx([a for a, _b in expected], abs=TOL)
    ids = [m[0] for m in made]
    assert pieces_of(project, rid) == ids and split_links(project)[ids[1]][:2] == (rid, 2)
    rows = {r.id: r for r in recording_rows(project)}
    assert [rows[i].label for i in ids] == list(WORDS)  # one word of the label per piece
    assert {rows[i].speaker for i in ids} == {"Ana"} and {rows[i].language for i in ids} == {"en"}
    assert all("of 3 of" in rows[i].note for i in ids)
    for (piece_id, span, piece), (a, b) in zip(made, expected):
        start, end = word_bounds(project, piece_id)  # the word's bounds inside its clip
        assert abs(span.start + start - a) < TOL and abs(span.start + end - b) < TOL
        stored, sr = project.recording_audio(piece_id)
        assert sr == SR and len(stored) == len(piece)
    with pytest.raises(WordbridgeError, match="split into words already"):
        split_recording(project, rid)
    with pytest.raises(WordbridgeError, match="one stretch of speech, nothing to split"):
        split_recording(project, single)
    assert undo_split(project, ids[2]) == ids  # from any piece, all of them go
    assert [r.id for r in project.recordings()] == [rid, single] and pieces_of(project, rid) == []
    assert (project.root / project.db.recording(rid).wav_path).is_file()  # the split recording is kept
    with pytest.raises(WordbridgeError, match="was not split"):
        undo_split(project, rid)


@needs_demo
def test_classify_cli_split_prints_each_word_with_its_time_span(tmp_path, capsys):
    import soundfile as sf

    from core.cli import main

    samples, expected = _demo_words()
    sentence = tmp_path / "sentence.wav"
    sf.write(sentence, samples, SR)
    sf.write(tmp_path / "word.wav", fixture.tone_clip(3), SR)
    assert main(["classify", str(DEMO), str(sentence), "--split", "--json", "-k", "5"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [o["split"]["word"] for o in out] == [1, 2, 3] and {o["split"]["of"] for o in out} == {3}
    for o, (a, b), word in zip(out, expected, WORDS):
        assert abs(o["split"]["start"] - a) < TOL and abs(o["split"]["end"] - b) < TOL
        assert word in [c["word"] for c in o["words"]["text-en"]]  # the demo's own voice: near the top
    assert main(["classify", str(DEMO), str(sentence), "--split"]) == 0
    text = capsys.readouterr().out
    assert "split into 3 words at the pauses" in text and text.count("  word ") == 3
    assert "word 2 of 3, " in text and " s:" in text
    assert main(["classify", str(DEMO), str(tmp_path / "word.wav"), "--split", "--json"]) == 0
    (single,) = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert "split" not in single and single["warning"] is None  # one word: as without --split


@needs_demo
def test_classify_cli_split_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    from core.cli import main

    (tmp_path / "noise.wav").write_bytes(b"not audio at all")
    assert main(["classify", str(DEMO), str(tmp_path / "missing.wav"), "--split"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "missing.wav" in err
    assert main(["classify", str(DEMO), str(tmp_path / "noise.wav"), "--split"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "noise.wav" in err
    assert main(["classify", str(DEMO), str(tmp_path / "noise.wav"), "--split", "-k", "0"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
