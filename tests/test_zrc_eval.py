"""ZeroSpeech 2017 track 2 measures (core.discovery.zrc_eval) on tiny hand-made examples whose
answers are worked out by hand in the comments."""

import math

import pytest

from core.discovery.zrc_eval import Reference, evaluate, levenshtein, pseudo_units
from core.errors import WordbridgeError

# utterance u1: words "ab" [0, .2], "cde" [.2, .5], pause, "ab" [.6, .8]; one unit per letter, 0.1 s each
WORDS = {"u1": [(0.0, 0.2, "ab"), (0.2, 0.5, "cde"), (0.6, 0.8, "ab")]}
UNITS = {"u1": [(0.0, 0.1, "a"), (0.1, 0.2, "b"), (0.2, 0.3, "c"), (0.3, 0.4, "d"), (0.4, 0.5, "e"),
                (0.6, 0.7, "a"), (0.7, 0.8, "b")]}


def ref():
    return Reference({k: list(v) for k, v in WORDS.items()}, {k: list(v) for k, v in UNITS.items()})


def test_hand_example():
    clusters = [
        [("u1", 0.0, 0.2),     # units a b: exactly word 0
         ("u1", 0.59, 0.81)],  # a (overlap .1) b: exactly word 2
        [("u1", 0.21, 0.42),   # c (.09 >= 30 ms) d; e only 20 ms = 20 % → "cd", units [2, 4)
         ("u1", 0.0, 0.35)],   # a b c, d (50 ms >= 30 ms) → "abcd", units [0, 4)
    ]
    m = evaluate(clusters, ref())
    # tokens: 4 fragments; hits: word 0, word 2 ("cd" is not all of "cde"; "abcd" overlaps "ab"
    # most (.2 vs .15) but is not it) → P 2/4, R 2/3
    assert m["token_precision"] == pytest.approx(0.5)
    assert m["token_recall"] == pytest.approx(2 / 3)
    assert m["token_f"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    # types found {ab, cd, abcd}, hit {ab}; reference types {ab, cde} → P 1/3, R 1/2, F 0.4
    assert m["type_precision"] == pytest.approx(1 / 3)
    assert m["type_recall"] == pytest.approx(0.5)
    assert m["type_f"] == pytest.approx(0.4)
    # NED: (ab, ab) = 0; (cd, abcd) = 2 insertions / 4 = 0.5 → mean 0.25
    assert m["ned"] == pytest.approx(0.25)
    assert m["ned_pairs"] == 2
    # coverage: units 0,1,2,3,5,6 of 7 (e never covered)
    assert m["coverage"] == pytest.approx(6 / 7)
    # boundaries: reference onsets {0, .2, .6}, offsets {.2, .5, .8} → 5 distinct times;
    # system onsets {0, .6, .2}, offsets {.2, .8, .4} → 5 distinct; right: 0, .2, .6, .8 → 4
    assert m["boundary_precision"] == pytest.approx(0.8)
    assert m["boundary_recall"] == pytest.approx(0.8)
    assert m["boundary_f"] == pytest.approx(0.8)


def test_gold_words_with_gold_clusters_score_perfectly():
    clusters = [[("u1", 0.0, 0.2), ("u1", 0.6, 0.8)], [("u1", 0.2, 0.5)]]
    m = evaluate(clusters, ref())
    for key in ("token_f", "type_f", "boundary_f", "coverage"):
        assert m[key] == pytest.approx(1.0), key
    assert m["ned"] == 0.0


def test_an_offset_is_not_an_onset():
    # a fragment "cde" covering [.2, .5] is one word; a fragment starting at .5 (only if a word
    # started there) would not be right: .5 is an offset only. Fragment "e" + pause: units [4, 5)
    m = evaluate([[("u1", 0.4, 0.55)]], ref())  # unit e: onset .4 (wrong), offset .5 (right)
    assert m["boundary_precision"] == pytest.approx(0.5)
    assert m["boundary_recall"] == pytest.approx(1 / 5)
    assert m["token_f"] == 0.0
    assert math.isnan(m["ned"])  # no pair


def test_empty_transcription_counts_as_fragment_but_not_in_ned():
    # (.5, .6) is the pause: it covers no unit
    m = evaluate([[("u1", 0.5, 0.6), ("u1", 0.0, 0.2)]], ref())
    assert m["token_precision"] == pytest.approx(0.5)  # 1 hit of 2 fragments
    assert m["ned_pairs"] == 0 and m["ned_pairs_left_out_empty"] == 1


def test_pseudo_units_spread_letters_evenly():
    units = pseudo_units({"u": [(1.0, 1.3, "kyé")]})
    assert [(round(s, 6), round(e, 6), c) for s, e, c in units["u"]] == [(1.0, 1.1, "k"), (1.1, 1.2, "y"),
                                                                         (1.2, 1.3, "é")]


def test_levenshtein():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein((), ("a",)) == 1
    assert levenshtein("ab", "ab") == 0


def test_malformed_fragment_rejected():
    with pytest.raises(WordbridgeError, match="ends before it starts"):
        evaluate([[("u1", 0.3, 0.2)]], ref())
    with pytest.raises(WordbridgeError, match="not in the reference"):
        evaluate([[("u2", 0.0, 0.2)]], ref())
    with pytest.raises(WordbridgeError, match=r"must be \(utterance, start, end\)"):
        evaluate([[("u1", 0.0)]], ref())
    with pytest.raises(WordbridgeError, match="must be a list of fragments"):
        evaluate(["u1"], ref())


def test_malformed_reference_rejected():
    with pytest.raises(WordbridgeError, match="overlap"):
        Reference({"u": [(0.0, 0.3, "ab"), (0.2, 0.4, "c")]}, pseudo_units({"u": [(0.0, 0.2, "a")]}))
    with pytest.raises(WordbridgeError, match="before it starts"):
        Reference({"u": [(0.3, 0.3, "ab")]}, {"u": [(0.0, 0.1, "a")]})
    with pytest.raises(WordbridgeError, match="no units"):
        Reference({"u": [(0.0, 0.3, "ab")]}, {})
