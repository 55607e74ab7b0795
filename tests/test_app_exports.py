"""core.lexicon_export: CSV, Praat TextGrid (read back with praatio) and Audacity labels."""

from __future__ import annotations

import pytest

from core.errors import WordbridgeError
from core.lexicon_export import (Interval, LexiconEntry, textgrid_text, write_audacity_labels, write_lexicon_csv,
                                 write_textgrid)


def test_csv(tmp_path):
    write_lexicon_csv(tmp_path / "l.csv", [LexiconEntry("s001", "water", "en", 0.87654321, "corrected", "and"),
                                           LexiconEntry("s002", 'say "hi", ok', "en"),
                                           LexiconEntry("s003", "tree", "en", 0.5, "rejected")])
    assert (tmp_path / "l.csv").read_text(encoding="utf-8").splitlines() == [
        "speech_type,text_word,language,score,status,induced_word", "s001,water,en,0.876543,corrected,and",
        's002,"say ""hi"", ok",en,,unreviewed,"say ""hi"", ok"', "s003,tree,en,0.5,rejected,tree"]


def test_textgrid_round_trip_with_praatio(tmp_path):
    textgrid = pytest.importorskip("praatio.textgrid")
    path = tmp_path / "a.TextGrid"
    write_textgrid(path, {"word": [Interval(0.25, 0.8, "water")], "translation": [Interval(0.25, 0.8, 'l"eau')]},
                   1.2)
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=True)
    assert tg.tierNames == ("word", "translation") or list(tg.tierNames) == ["word", "translation"]
    entries = [(round(e.start, 3), round(e.end, 3), e.label) for e in tg.getTier("word").entries]
    assert entries == [(0.0, 0.25, ""), (0.25, 0.8, "water"), (0.8, 1.2, "")]
    assert [e.label for e in tg.getTier("translation").entries if e.label] == ['l"eau']
    # One writer for every TextGrid: the layout is praatio's own, byte for byte, with several tiers too.
    tg.save(str(tmp_path / "p.TextGrid"), format="long_textgrid", includeBlankSpaces=True)
    assert (tmp_path / "p.TextGrid").read_bytes() == path.read_bytes()


def test_textgrid_rejects_bad_intervals():
    with pytest.raises(WordbridgeError, match="overlap"):
        textgrid_text({"w": [Interval(0, 0.5, "a"), Interval(0.4, 0.9, "b")]}, 1.0)
    with pytest.raises(WordbridgeError, match="outside"):
        textgrid_text({"w": [Interval(0.5, 1.5, "a")]}, 1.0)
    with pytest.raises(WordbridgeError, match="duration must be positive"):
        textgrid_text({}, 0)


def test_audacity_labels(tmp_path):
    write_audacity_labels(tmp_path / "l.txt", [Interval(1.5, 2.0, "b\tc"), Interval(0.1, 0.4, "a")])
    assert (tmp_path / "l.txt").read_text().splitlines() == ["0.100000\t0.400000\ta", "1.500000\t2.000000\tb c"]
