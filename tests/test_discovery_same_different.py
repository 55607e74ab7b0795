"""Cross-speaker same-different AP and batched DTW (core.discovery.same_different), and the
energy segmentation of the term-discovery baseline, on tiny hand-made inputs."""

import numpy as np
import pytest

from core.discovery.same_different import (average_precision, cross_speaker_pairs, dtw_distances,
                                           same_different)
from core.discovery.term_discovery import energy_segments
from core.errors import WordbridgeError


def test_average_precision_by_hand():
    # ranking: same, diff, same, diff → precisions at the same pairs 1/1 and 2/3 → AP 5/6
    assert average_precision(np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 0, 1, 0], bool)) == pytest.approx(5 / 6)
    # order is by distance, not by input position
    assert average_precision(np.array([0.4, 0.3, 0.2, 0.1]), np.array([1, 0, 1, 0], bool)) == pytest.approx(
        (1 / 2 + 2 / 4) / 2)
    assert np.isnan(average_precision(np.array([0.1]), np.array([False])))
    with pytest.raises(WordbridgeError, match="equal 1-D shapes"):
        average_precision(np.zeros(3), np.zeros(2, bool))


def test_pairs_of_the_same_speaker_are_excluded():
    a, b = cross_speaker_pairs(["s1", "s1", "s2"])
    assert sorted(zip(a.tolist(), b.tolist())) == [(0, 2), (1, 2)]


def _dtw_reference(x, y):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    c = 1 - x @ y.T
    acc = np.full((len(x) + 1, len(y) + 1), np.inf)
    acc[0, 0] = 0
    for i in range(1, len(x) + 1):
        for j in range(1, len(y) + 1):
            acc[i, j] = c[i - 1, j - 1] + min(acc[i - 1, j], acc[i, j - 1], acc[i - 1, j - 1])
    return acc[-1, -1] / (len(x) + len(y))


def test_batched_dtw_equals_the_textbook_recursion():
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(int(rng.integers(1, 25)), 5)).astype(np.float32) for _ in range(25)]
    a, b = np.triu_indices(len(frames), 1)
    got = dtw_distances(frames, a, b, max_cells=3000)  # many small batches
    want = np.array([_dtw_reference(frames[i], frames[j]) for i, j in zip(a, b)])
    assert np.abs(got - want).max() < 1e-5


def test_dtw_of_a_time_stretched_copy_is_zero():
    x = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    y = np.repeat(x, 2, axis=0)  # each frame said twice as long
    assert dtw_distances([x, y], np.array([0]), np.array([1]))[0] == pytest.approx(0.0, abs=1e-6)


def test_same_different_separates_two_clean_words():
    # word A = frames along axis 0 then 1, word B = along 2 then 3; two speakers each say both
    A = np.array([[1, 0, 0, 0]] * 3 + [[0, 1, 0, 0]] * 3, np.float32)
    B = np.array([[0, 0, 1, 0]] * 3 + [[0, 0, 0, 1]] * 3, np.float32)
    r = same_different([A, B, A + 0.01, B + 0.01], ["a", "b", "a", "b"], ["s1", "s1", "s2", "s2"])
    assert r["pairs"] == 4 and r["same_pairs"] == 2 and r["chance"] == 0.5
    assert r["ap_dtw"] == pytest.approx(1.0) and r["ap_mean"] == pytest.approx(1.0)


def test_energy_segments_find_bursts_between_pauses():
    sr = 16000
    t = np.arange(int(0.3 * sr)) / sr
    burst = 0.5 * np.sin(2 * np.pi * 200 * t)
    silence = np.zeros(int(0.3 * sr))
    x = np.concatenate([silence, burst, silence, burst, silence]).astype(np.float32)
    spans = energy_segments(x)
    assert len(spans) == 2
    assert spans[0][0] == pytest.approx(0.3, abs=0.05) and spans[0][1] == pytest.approx(0.6, abs=0.05)
    assert spans[1][0] == pytest.approx(0.9, abs=0.05) and spans[1][1] == pytest.approx(1.2, abs=0.05)


def test_half_pair_masks_keep_the_pairs_inside_each_random_half():
    from core.discovery.same_different import half_pair_masks

    a, b = np.array([0, 0, 1, 2, 3]), np.array([1, 2, 3, 3, 4])
    masks = half_pair_masks(6, a, b, halves=20, seed=0)
    assert len(masks) == 20 and all(m.shape == (5,) for m in masks)
    again = half_pair_masks(6, a, b, halves=20, seed=0)
    assert all((m == n).all() for m, n in zip(masks, again))  # fixed by the seed
    for m in masks:  # every kept pair has both segments in the half: at most 3 of the 6 segments
        assert len(set(a[m]) | set(b[m])) <= 3
