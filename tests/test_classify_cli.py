"""`main.py classify`: recorded words → nearest text words on the command line, bad clips in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.cli import main

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"
pytestmark = pytest.mark.skipif(not (DEMO / "wordbridge.json").is_file(), reason="resources/demo is absent")


def _spoken(path: Path, word: str, sr: int) -> Path:
    from core.audio import resample
    from core.synth.synthesize import synthesize_utterance
    from core.synth.voices import voice_for_speaker

    audio, _ = synthesize_utterance(word, voice_for_speaker("en", 47), pad_s=0.3)
    sf.write(path, resample(audio, 16000, sr) if sr != 16000 else audio, sr)
    return path


def test_classify_lists_words_per_text_space_and_reports_bad_clips(tmp_path, capsys):
    clip = _spoken(tmp_path / "word.wav", "water", 44100)
    sf.write(tmp_path / "silent.wav", np.zeros(8000, np.float32), 16000)
    code = main(["classify", str(DEMO), str(clip), str(tmp_path / "silent.wav"), str(tmp_path / "gone.wav"),
                 "-k", "3", "--json"])
    out, err = capsys.readouterr()
    assert code == 2  # two clips failed, the good one was still classified
    result = json.loads(out.strip().splitlines()[0])
    assert set(result["words"]) == {"text-en", "text-fr", "text-es"}
    assert all(len(words) == 3 for words in result["words"].values())
    scores = [w["score"] for w in result["words"]["text-en"]]
    assert scores == sorted(scores, reverse=True)
    assert set(result["confidence"]) == {"best", "margin", "probability", "no_match"}
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "silent.wav: no speech found" in lines[0] and "gone.wav: file not found" in lines[1]
    assert lines[1].count("gone.wav") == 1


def test_classify_refuses_a_folder_that_is_not_a_project(tmp_path, capsys):
    assert main(["classify", str(tmp_path), str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
