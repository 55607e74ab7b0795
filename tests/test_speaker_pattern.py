"""Speakers from file names (`speaker_pattern`) for the unsegmented readers (vad, energy, chunks): a
regular expression on each file's stem, its first group (or whole match) the speaker; it wins over
sub-folders; a bad pattern, one matching no file, or a file it does not match is a one-line error
before any work; `corpus build --speaker-pattern` records it in the store's build settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from core.cli import main as cli_main
from core.corpus.readers import read_corpus
from core.corpus.speakers import check_speaker_pattern
from core.errors import InputFileError, WordbridgeError
from tests.test_reader_energy import _recording

SR = 16000
MBOSHI = "^([^_]+)_"
NAMES = ("abiayi_2015-09-08-11-07-56_samsung-SM-T530_mdw_elicit_Dico18_14",
         "abiayi_2015-09-08-11-07-56_samsung-SM-T530_mdw_elicit_Dico18_15",
         "kouarata_2015-09-09-10-01-02_samsung-SM-T530_mdw_elicit_Dico19_3")


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.fixture
def flat(tmp_path):
    """A flat folder of three Mboshi-named 1.2-s recordings (no speaker sub-folders)."""
    folder = tmp_path / "flat"
    folder.mkdir()
    for name in NAMES:
        sf.write(folder / f"{name}.wav", _tone(1.2), SR)
    return folder


def test_speakers_from_the_pattern_group_or_whole_match(flat):
    table, _ = read_corpus(flat, "chunks")
    assert set(table.speaker) == {None}  # a flat folder: no speakers from sub-folders
    table, report = read_corpus(flat, "chunks", speaker_pattern=MBOSHI)
    assert report.files_used == 3
    assert sorted(set(table.speaker)) == ["abiayi", "kouarata"]
    assert list(table.speaker).count("abiayi") == 2 * list(table.speaker).count("kouarata")
    table, _ = read_corpus(flat, "chunks", speaker_pattern="^[a-z]+")  # no group: the whole match
    assert sorted(set(table.speaker)) == ["abiayi", "kouarata"]


def test_the_pattern_wins_over_sub_folders_in_the_energy_reader(tmp_path):
    rng = np.random.default_rng(0)
    for folder, name in (("session1", "anna_u1"), ("session1", "ben_u2"), ("session2", "anna_u3")):
        (tmp_path / "c" / folder).mkdir(parents=True, exist_ok=True)
        sf.write(tmp_path / "c" / folder / f"{name}.wav", _recording(rng)[0], SR)
    table, _ = read_corpus(tmp_path / "c", "energy")
    assert set(table.speaker) == {"session1", "session2"}
    table, _ = read_corpus(tmp_path / "c", "energy", speaker_pattern=MBOSHI)
    assert set(table.speaker) == {"anna", "ben"} and len(set(table.utterance)) == 3


def test_bad_patterns_are_one_line_errors(flat):
    with pytest.raises(WordbridgeError, match=r"speaker pattern '\(' is not a regular expression") as bad:
        read_corpus(flat, "chunks", speaker_pattern="(")
    assert "\n" not in str(bad.value)
    with pytest.raises(WordbridgeError, match=r"speaker pattern '\^x_' matches none of the 3 file names") as none:
        check_speaker_pattern(flat, "^x_")
    assert "\n" not in str(none.value)
    check_speaker_pattern(flat, None)  # no pattern: the sub-folders, nothing to check
    check_speaker_pattern(flat, MBOSHI)


def test_a_file_the_pattern_does_not_match_is_named(flat):
    sf.write(flat / "nospeaker.wav", _tone(1.0), SR)
    with pytest.raises(InputFileError, match=r"nospeaker\.wav: file name gives no speaker by speaker pattern") as exc:
        read_corpus(flat, "vad", speaker_pattern=MBOSHI)
    assert "\n" not in str(exc.value)


def test_cli_records_the_pattern_and_refuses_a_bad_one_before_any_work(flat, tmp_path, capsys):
    out = tmp_path / "store"
    args = ["corpus", "build", str(flat), "--reader", "chunks", "--out", str(out), "--workers", "0", "--quiet"]
    assert cli_main(args + ["--speaker-pattern", "(abc"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: speaker pattern '(abc' is not a regular expression") and "\n" not in err
    assert cli_main(args + ["--speaker-pattern", "^zz_"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: speaker pattern '^zz_' matches none of the 3 file names") and "\n" not in err
    assert not out.exists()  # refused before the build started
    assert cli_main(args + ["--speaker-pattern", MBOSHI]) == 0
    capsys.readouterr()
    header = json.loads((out / "header.json").read_text())
    assert header["build_settings"]["options"]["speaker_pattern"] == MBOSHI
    speakers = {json.loads(line)["speaker"] for line in (out / "segments.jsonl").read_text().splitlines()}
    assert speakers == {"abiayi", "kouarata"}
