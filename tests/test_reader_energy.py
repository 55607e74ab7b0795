"""The energy reader (issue 18): unsegmented recordings cut at pauses and, inside long stretches, at
energy valleys (the term-discovery baseline's segmentation); unlabelled, configuration VAD."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core.cli import main as cli_main
from core.corpus.readers import read_corpus
from core.errors import WordbridgeError
from core.speech.project_space import allowed_configurations

SR = 16000


def _syllable(seconds: float, rng) -> np.ndarray:
    """A loud noise burst with a smooth rise and fall (one 'syllable')."""
    n = int(seconds * SR)
    return (0.3 * np.hanning(n) * rng.normal(size=n)).astype(np.float32)


def _recording(rng) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """0.4 s quiet, a 0.3-s word, 0.4 s quiet, then three 0.3-s syllables run together (0.9 s with two
    dips), 0.4 s quiet; and the expected stretches in seconds."""
    quiet = lambda s: (1e-4 * rng.normal(size=int(s * SR))).astype(np.float32)  # noqa: E731
    parts = [quiet(0.4), _syllable(0.3, rng), quiet(0.4), _syllable(0.3, rng), _syllable(0.3, rng),
             _syllable(0.3, rng), quiet(0.4)]
    return np.concatenate(parts), [(0.4, 0.7), (1.1, 2.0)]


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "field"
    for speaker, name in (("anna", "u1"), ("ben", "u2")):
        (folder / speaker).mkdir(parents=True)
        sf.write(folder / speaker / f"{name}.wav", _recording(rng)[0], SR)
    sf.write(folder / "silent.wav", np.zeros(SR, np.float32), SR)
    return folder


def test_cuts_at_pauses_and_splits_long_stretches_at_energy_valleys(corpus):
    table, report = read_corpus(corpus, "energy")
    assert report.files_used == 2 and report.files_seen == 3  # the silent file is reported, not used
    assert set(table.speaker) == {"anna", "ben"} and set(table.label) == {None}
    for speaker in ("anna", "ben"):
        rows = [i for i in range(len(table.speaker)) if table.speaker[i] == speaker]
        spans = sorted((table.start[i], table.end[i]) for i in rows)
        first, rest = spans[0], spans[1:]
        assert abs(first[0] - 0.4) < 0.06 and abs(first[1] - 0.7) < 0.06  # the lone word, whole
        # the 0.9-s run is longer than the longest word (0.5 s): cut into 2-3 parts inside it
        assert 2 <= len(rest) <= 3
        assert rest[0][0] > 1.0 and rest[-1][1] < 2.1 and all(b - a >= 0.14 for a, b in rest)
        assert [table.position[i] for i in sorted(rows, key=lambda i: table.start[i])] == list(range(len(rows)))


def test_bad_options_are_one_line_errors(corpus):
    with pytest.raises(WordbridgeError, match="shortest and longest word"):
        read_corpus(corpus, "energy", min_word=0.6, max_word=0.5)
    with pytest.raises(WordbridgeError, match="pause length and silence level must be positive"):
        read_corpus(corpus, "energy", min_pause=0.0)


def test_an_energy_store_trains_in_configuration_vad_only():
    allowed = allowed_configurations({"metadata": {"reader": "energy"}, "n_labelled": 0})
    assert allowed["VAD"] is None and allowed["B"] is not None and allowed["A"] is not None


def test_cli_builds_an_energy_store(corpus, tmp_path, capsys):
    import json

    out = tmp_path / "store"
    assert cli_main(["corpus", "build", str(corpus), "--reader", "energy", "--out", str(out), "--workers", "0",
                     "--quiet"]) == 0
    header = json.loads((out / "header.json").read_text())
    assert header["n_labelled"] == 0 and header["n_segments"] >= 6
    assert header["build_settings"]["reader"] == "energy"
    capsys.readouterr()
    # configuration VAD trains on it; with no word labels there is no AP to print (it said "nan")
    assert cli_main(["train-speech", str(out), "--out", str(tmp_path / "run"), "--learner", "unit-skipgram",
                     "--config", "VAD", "--clusters", "3", "--epochs", "1", "--sg-epochs", "1", "--device", "cpu",
                     "--batch-size", "8", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "same-different AP: not measured (no word labels in the store)" in printed and "nan" not in printed
