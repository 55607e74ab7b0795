"""Speech-space metrics: same-different AP, purity, isomorphism with a text space."""

import numpy as np
import pytest
from scipy.stats import ortho_group

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.speech import metrics


def test_average_precision_known_values():
    assert metrics.average_precision(np.array([0.9, 0.8, 0.1]), np.array([True, True, False])) == 1.0
    # ranks 1 and 3 relevant: (1/1 + 2/3) / 2
    assert metrics.average_precision(np.array([0.9, 0.8, 0.1]), np.array([True, False, True])) == \
        pytest.approx((1 + 2 / 3) / 2)


def test_same_different_ap_is_one_when_separable_and_chance_when_random():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 20)
    centers = rng.normal(size=(10, 16))
    separable = centers[labels] + rng.normal(scale=0.05, size=(200, 16))
    res = metrics.same_different_ap(separable, labels)
    assert res["ap"] == pytest.approx(1.0) and res["pairs"] == 200 * 199 // 2
    rand = metrics.same_different_ap(rng.normal(size=(200, 16)), labels)
    assert abs(rand["ap"] - rand["chance"]) < 0.05 and rand["chance"] == pytest.approx(19 / 199)
    with pytest.raises(WordbridgeError, match="at least 2 labelled"):
        metrics.same_different_ap(separable[:3], np.array([0, -1, -1]))


def test_cluster_purity_and_majority_words():
    assert metrics.cluster_purity(np.array([0, 0, 1, 1]), np.array([5, 5, 6, 6])) == 1.0
    assert metrics.cluster_purity(np.array([0, 0, 0, 0]), np.array([5, 5, 6, -1])) == pytest.approx(2 / 3)
    assert metrics.majority_words(np.array([0, 0, 1, -1, 0]), ["a", "b", None, "c", "a"], 3) == ["a", None, None]


def _space(words, vectors, modality):
    return Embeddings(list(words), np.asarray(vectors, dtype=np.float32), modality=modality)


def test_isomorphism_is_one_for_the_same_space_rotated_and_near_zero_for_random():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    x = rng.normal(size=(300, 20))
    text = _space(words, x, "text")
    rotated = _space(words, x @ ortho_group.rvs(20, random_state=1), "speech")
    same = metrics.isomorphism(rotated, text)
    assert same["shared_words"] == 300
    assert same["spearman_cosines"] == pytest.approx(1.0)
    assert same["eigen_similarity"] == pytest.approx(0.0, abs=1e-6)
    rand = metrics.isomorphism(_space(words, rng.normal(size=(300, 20)), "speech"), text)
    assert abs(rand["spearman_cosines"]) < 0.05
    assert rand["eigen_similarity"] > 1.0


def test_isomorphism_uses_shared_words_and_majority_names_of_pseudo_words():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 8))
    text = _space([f"w{i}" for i in range(50)], x, "text")
    speech = _space([f"#{i}" for i in range(50)], x, "speech")
    names = [f"w{i}" for i in range(50)]
    names[3] = None  # a pseudo-word without a labelled majority
    res = metrics.isomorphism(speech, text, type_words=names)
    assert res["shared_words"] == 49 and res["spearman_cosines"] == pytest.approx(1.0)
    assert metrics.isomorphism(speech, text)["shared_words"] == 0  # "#i" are not text words
