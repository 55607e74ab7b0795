"""Bilingual dictionary files (MUSE format) and their match against two spaces."""

from __future__ import annotations

import numpy as np
import pytest

from core.dictionary import dictionary_to_indices, load_dictionary, save_dictionary
from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError


def test_load_accepts_spaces_tabs_scores_bom_and_drops_repeats(tmp_path):
    path = tmp_path / "en-fr.txt"
    path.write_text("\ufeffthe le\nthe la\n\nwater\teau\nthe le\nlord seigneur 0.75\n", encoding="utf-8")
    assert load_dictionary(path) == [("the", "le"), ("the", "la"), ("water", "eau"),
                                     ("lord", "seigneur")]


@pytest.mark.parametrize("line, message", [
    ("lonely", r"d\.txt:2: expected 'source target' .* got 1 fields: 'lonely'"),
    ("a b c d", r"d\.txt:2: expected 'source target' .* got 4 fields"),
    ("a b notascore", r"d\.txt:2: expected 'source target' .* got 3 fields"),
])
def test_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "d.txt"
    path.write_text(f"good bon\n{line}\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        load_dictionary(path)


def test_empty_missing_and_non_utf8_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"empty\.txt: no word pairs"):
        load_dictionary(empty)
    with pytest.raises(InputFileError, match=r"gone\.txt: no such file"):
        load_dictionary(tmp_path / "gone.txt")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("a b\nwater eau\nnight nuit\nsummer été\n".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"latin\.txt:4: not UTF-8"):
        load_dictionary(latin)


def test_save_round_trip_with_and_without_scores(tmp_path):
    pairs = [("the", "le"), ("niño", "enfant"), ("water", "eau")]
    plain = tmp_path / "plain.txt"
    save_dictionary(pairs, plain)
    assert plain.read_text(encoding="utf-8") == "the le\nniño enfant\nwater eau\n"
    assert load_dictionary(plain) == pairs
    scored = tmp_path / "scored.txt"
    save_dictionary(pairs, scored, scores=np.array([0.9, 0.5, -0.125]))
    assert scored.read_text(encoding="utf-8").splitlines()[2] == "water eau -0.125000"
    assert load_dictionary(scored) == pairs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt", "scored.txt"]


def test_save_refuses_bad_pairs_and_score_counts(tmp_path):
    with pytest.raises(WordbridgeError, match="2 pairs but 1 scores"):
        save_dictionary([("a", "b"), ("c", "d")], tmp_path / "x.txt", scores=[1.0])
    with pytest.raises(WordbridgeError, match="cannot save the pair"):
        save_dictionary([("new york", "nueva")], tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


def _space(words: list[str]) -> Embeddings:
    return Embeddings(words, np.zeros((len(words), 2)))


def test_indices_drop_pairs_with_missing_words_and_report_coverage():
    src = _space(["the", "water", "lord", "night"])
    tgt = _space(["le", "la", "eau", "nuit"])
    pairs = [("the", "le"), ("the", "la"), ("water", "eau"), ("lord", "seigneur"),
             ("unknown", "nuit"), ("night", "nuit"), ("night", "soir")]
    indices, stats = dictionary_to_indices(pairs, src, tgt)
    assert indices.dtype == np.int64
    assert indices.tolist() == [[0, 0], [0, 1], [1, 2], [3, 3]]
    assert stats == {"pairs_total": 7, "pairs_found": 4, "src_words_total": 5,
                     "src_words_found": 3, "coverage": 3 / 5}


def test_indices_when_nothing_matches():
    indices, stats = dictionary_to_indices([("a", "b")], _space(["x"]), _space(["y"]))
    assert indices.shape == (0, 2) and indices.dtype == np.int64
    assert stats["pairs_found"] == 0 and stats["coverage"] == 0.0
    assert dictionary_to_indices([], _space(["x"]), _space(["y"]))[1]["coverage"] == 0.0
