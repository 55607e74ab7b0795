"""core.speech_runs: a clip holding several words (stretches of speech between pauses) is flagged,
a single word is not; `main.py classify` prints the warning."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"


def _five_words() -> np.ndarray:
    return np.concatenate([fixture.tone_clip(i, seconds=0.3, pad=0.1, seed=i) for i in range(5)])


def test_five_words_are_five_runs_and_warned_about():
    from core.speech_runs import several_words_warning, speech_runs

    runs = speech_runs(_five_words(), 16000)
    assert len(runs) == 5
    assert all(0.25 < end - start < 0.4 for start, end in runs)
    warning = several_words_warning(_five_words(), 16000)
    assert warning is not None and "5 words" in warning


@pytest.mark.parametrize("samples", [fixture.tone_clip(3), fixture.tone_clip(3, seconds=1.5)])
def test_one_word_is_one_run_without_warning(samples):
    from core.speech_runs import several_words_warning, speech_runs

    assert len(speech_runs(samples, 16000)) == 1
    assert several_words_warning(samples, 16000) is None


def test_silence_and_empty_clips_have_no_runs():
    from core.speech_runs import speech_runs

    assert speech_runs(np.zeros(16000, np.float32), 16000) == []
    assert speech_runs(np.zeros(0, np.float32), 16000) == []


@pytest.mark.skipif(not (DEMO / "wordbridge.json").is_file(), reason="resources/demo is absent")
def test_classify_cli_warns_about_a_clip_of_several_spoken_words(tmp_path, capsys):
    import soundfile as sf

    from core.cli import main
    from core.synth.synthesize import synthesize_utterance
    from core.synth.voices import voice_for_speaker

    voice = voice_for_speaker("en", 47)
    words = [synthesize_utterance(w, voice, pad_s=0.15)[0] for w in ("in", "the", "beginning", "god", "created")]
    sf.write(tmp_path / "sentence.wav", np.concatenate(words), 16000)
    sf.write(tmp_path / "word.wav", synthesize_utterance("water", voice, pad_s=0.3)[0], 16000)
    assert main(["classify", str(DEMO), str(tmp_path / "sentence.wav"), str(tmp_path / "word.wav"), "--json"]) == 0
    sentence, word = (json.loads(line) for line in capsys.readouterr().out.strip().splitlines())
    assert sentence["warning"] and "5 words" in sentence["warning"]
    assert word["warning"] is None
    assert main(["classify", str(DEMO), str(tmp_path / "sentence.wav")]) == 0
    assert "warning: this clip seems to hold 5 words" in capsys.readouterr().out
