"""Alignment methods on SYNTHETIC spaces: Procrustes, PCA, criterion, self-learning, seeds, fallback."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from alignment_helpers import sized_config

from core.alignment import AlignConfig, Mapping, align
from core.alignment.base import RunLog, procrustes, random_orthogonal
from core.alignment.criterion import mean_csls_cosine
from core.alignment.mapping import preprocess_pair
from core.alignment.synthetic import noisy_rotation, structured_space
from core.embeddings import Embeddings
from core.errors import WordbridgeError

torch.set_num_threads(1)
N, D = 1500, 32


def small_config(**kw) -> AlignConfig:
    """Settings scaled to a 1500-word test space (no clipping warnings, CPU)."""
    return sized_config(N, **kw)


@pytest.fixture(scope="module")
def rotated_pair():
    src = structured_space(N, D, seed=0)
    tgt, rot = noisy_rotation(src, noise=0.05, seed=1)
    return src, tgt, rot


def p_at_1(result) -> float:
    """Share of source words whose induced translation is the same word (identity gold)."""
    return float((result.dictionary[:, 0] == result.dictionary[:, 1]).mean())


def test_procrustes_recovers_an_exact_rotation():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(200, 24, generator=gen)
    rot = random_orthogonal(24, gen)
    w = procrustes(x, x @ rot.T)
    torch.testing.assert_close(w, rot, atol=1e-5, rtol=0)


def test_criterion_prefers_the_true_mapping(rotated_pair):
    src, tgt, rot = rotated_pair
    _, _, x, y = preprocess_pair(src.vectors, tgt.vectors, "unit", True)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    true = mean_csls_cosine(x, y, torch.from_numpy(rot.astype(np.float32)), n_words=N, backend="torch")
    rand = mean_csls_cosine(x, y, random_orthogonal(D, torch.Generator().manual_seed(5)), n_words=N, backend="torch")
    assert true > 0.95 and true > rand + 0.3


def test_selflearn_recovers_a_noisy_rotation(rotated_pair):
    src, tgt, _ = rotated_pair
    result = align(src, tgt, small_config(method="selflearn"))
    assert p_at_1(result) >= 0.99
    assert result.method_used == "selflearn" and not result.fallback
    assert result.criterion > 0.9 and result.criterion_history


def test_alignment_is_deterministic_given_a_seed(rotated_pair):
    src, tgt, _ = rotated_pair
    a = align(src, tgt, small_config(method="selflearn", seed=7, max_selflearn_iterations=6, n_refinement=1))
    b = align(src, tgt, small_config(method="selflearn", seed=7, max_selflearn_iterations=6, n_refinement=1))
    np.testing.assert_array_equal(a.mapping.W, b.mapping.W)


def test_supervised_and_semisupervised_from_a_seed_dictionary(rotated_pair):
    src, tgt, _ = rotated_pair
    seed = np.stack([np.arange(0, 300, 3), np.arange(0, 300, 3)], 1)
    sup = align(src, tgt, small_config(method="supervised"), seed_pairs=seed)
    assert p_at_1(sup) >= 0.99
    semi = align(src, tgt, small_config(method="semisupervised"), seed_pairs=seed[:20])
    assert p_at_1(semi) >= 0.99


def test_supervised_needs_seed_pairs(rotated_pair):
    src, tgt, _ = rotated_pair
    with pytest.raises(WordbridgeError, match="needs a seed dictionary"):
        align(src, tgt, small_config(method="supervised"))


def test_larger_space_is_reduced_with_pca_to_the_smaller_dimension(rotated_pair):
    src, tgt, _ = rotated_pair
    rng = np.random.default_rng(2)
    # the target lives in a 48-d space: its 32 informative dims plus 16 of near-zero variance
    padded = np.hstack([tgt.vectors, 1e-3 * rng.standard_normal((N, 16)).astype(np.float32)])
    wide_tgt = Embeddings(tgt.words, padded @ np.linalg.qr(rng.standard_normal((48, 48)))[0].T)
    log = RunLog()
    src_pre, tgt_pre, x, y = preprocess_pair(src.vectors, wide_tgt.vectors, "unit,center,unit", True, log)
    assert x.shape == (N, D) and y.shape == (N, D)
    assert tgt_pre.pca_components.shape == (D, 48) and src_pre.pca_components is None
    assert any("reduced the target space to 32 dimensions with PCA" in line for line in log.lines)
    seed = np.stack([np.arange(200), np.arange(200)], 1)
    result = align(src, wide_tgt, small_config(method="supervised"), seed_pairs=seed)
    assert p_at_1(result) >= 0.99
    with pytest.raises(WordbridgeError, match="different dimensions .source 32, target 48."):
        preprocess_pair(src.vectors, wide_tgt.vectors, "unit", False)


def test_mapping_file_round_trip(rotated_pair, tmp_path):
    src, tgt, _ = rotated_pair
    seed = np.stack([np.arange(100), np.arange(100)], 1)
    result = align(src, tgt, small_config(method="supervised"), seed_pairs=seed)
    result.mapping.save(tmp_path / "m.safetensors")
    loaded = Mapping.load(tmp_path / "m.safetensors")
    np.testing.assert_allclose(loaded.map_source(src.vectors[:50]), result.mapping.map_source(src.vectors[:50]))
    np.testing.assert_allclose(loaded.map_target(tgt.vectors[:50]), result.mapping.map_target(tgt.vectors[:50]))
    (tmp_path / "bad.safetensors").write_bytes(b"not a mapping")
    with pytest.raises(WordbridgeError, match="bad.safetensors: damaged or truncated safetensors file"):
        Mapping.load(tmp_path / "bad.safetensors")


def test_sampling_limits_larger_than_the_vocabulary_are_clipped_with_a_warning(rotated_pair):
    src, tgt, _ = rotated_pair
    small_src, small_tgt = src.subset(400), tgt.subset(400)
    result = align(small_src, small_tgt, small_config(method="selflearn", init_vocab=4000, selflearn_vocab=20000,
                                                      max_selflearn_iterations=3, n_refinement=0))
    warnings = [line for line in result.log if "warning:" in line]
    assert any("init_vocab=4000 is larger than the vocabulary (400 words); clipped to 400" in w for w in warnings)
    assert any("selflearn_vocab=20000 is larger than the vocabulary (400 words); clipped to 400" in w for w in warnings)
