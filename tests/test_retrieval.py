"""Chunked NN / CSLS retrieval: agreement between backends and with the dense CSLS formula."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import WordbridgeError
from core.retrieval import (chunk_rows, csls_penalties, faiss_available, resolve_backend, resolve_device,
                            top_k_indices, topk_cosine, topk_csls, translate)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def spaces():
    rng = np.random.default_rng(0)
    return rng.standard_normal((300, 16)).astype(np.float32), rng.standard_normal((250, 16)).astype(np.float32)


def test_top_k_indices_ranks_numpy_scores_best_first():
    scores = np.array([0.1, 0.9, -0.5, 0.7, 0.3], dtype=np.float32)
    assert top_k_indices(scores, 3).tolist() == [1, 3, 4]
    assert top_k_indices(scores, 99).tolist() == [1, 3, 4, 0, 2]  # k beyond the length: all, sorted
    assert top_k_indices(scores, 0).shape == (0,)
    rows = np.random.default_rng(3).standard_normal((6, 40))
    np.testing.assert_array_equal(top_k_indices(rows, 5), np.argsort(-rows, axis=1)[:, :5])


def dense_csls(q, keys, knn):
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    keys = keys / np.linalg.norm(keys, axis=1, keepdims=True)
    sim = q @ keys.T
    r_q = np.sort(sim, axis=1)[:, -knn:].mean(1)
    r_k = np.sort(sim, axis=0)[-knn:, :].mean(0)
    return 2 * sim - r_q[:, None] - r_k[None, :]


def test_chunked_csls_equals_dense_formula(spaces):
    q, keys = spaces
    dense = dense_csls(q, keys, 10)
    scores, idx = topk_csls(q, keys, k=5, knn=10, backend="torch", device="cpu", chunk=7)
    want_idx = np.argsort(-dense, axis=1)[:, :5]
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    np.testing.assert_allclose(scores.numpy(), np.take_along_axis(dense, want_idx, 1), atol=1e-5)


def test_penalties_do_not_depend_on_chunk_size(spaces):
    q, keys = spaces
    a = csls_penalties(q, keys, 10, backend="torch", device="cpu", chunk=1)
    b = csls_penalties(q, keys, 10, backend="torch", device="cpu", chunk=1000)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-6)


@pytest.mark.skipif(not faiss_available(), reason="faiss not installed")
@pytest.mark.parametrize("method", ["nn", "csls"])
def test_backends_return_the_same_neighbours(spaces, method):
    q, keys = spaces
    s_t, i_t = translate(q, keys, k=10, method=method, backend="torch", device="cpu", chunk=64)
    s_f, i_f = translate(q, keys, k=10, method=method, backend="faiss", device="cpu")
    s_a, i_a = translate(q, keys, k=10, method=method, backend="auto", device="cpu")
    np.testing.assert_array_equal(i_t.numpy(), i_f.numpy())
    np.testing.assert_array_equal(i_t.numpy(), i_a.numpy())
    np.testing.assert_allclose(s_t.numpy(), s_f.numpy(), atol=1e-5)


def test_nearest_neighbour_finds_itself(spaces):
    q, _ = spaces
    scores, idx = topk_cosine(q, q, k=1, backend="torch", device="cpu", chunk=50)
    np.testing.assert_array_equal(idx[:, 0].numpy(), np.arange(len(q)))
    np.testing.assert_allclose(scores[:, 0].numpy(), 1.0, atol=1e-5)


def test_chunk_size_bounds_memory():
    rows = chunk_rows(200_000, torch.device("cuda"))
    assert rows * 200_000 * 4 <= 1 << 30
    assert chunk_rows(10, torch.device("cpu"), chunk=3) == 3


def test_unknown_backend_and_missing_gpu_are_user_errors():
    with pytest.raises(WordbridgeError, match="unknown retrieval backend 'annoy'"):
        resolve_backend("annoy", torch.device("cpu"))
    if not torch.cuda.is_available():
        with pytest.raises(WordbridgeError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_pivot_pairs_are_ranked_by_the_mean_of_both_scores_each_target_by_its_best_pair():
    from core.retrieval import rank_pivot_pairs

    via = [(10, 0.8), (11, 0.6), (12, 0.0)]  # pivot rows and the query's scores, best first
    translations = {10: [(0, 0.9), (1, 0.5), (2, 0.3)], 11: [(3, 0.95), (1, 0.2)], 12: [(2, 0.9)]}
    pairs = rank_pivot_pairs(via, translations, 3)
    assert [(t, row) for t, _, row, _, _ in pairs] == [(0, 10), (3, 11), (1, 10)]
    assert [mean for _, mean, *_ in pairs] == pytest.approx([0.85, 0.775, 0.65])
    assert pairs[1][3:] == pytest.approx((0.6, 0.95))  # the pivot's and the link's own scores
    # target 2 is reached from rows 10 (0.55) and 12 (0.45): it keeps row 10's pair
    assert [(t, row) for t, _, row, _, _ in rank_pivot_pairs(via, translations, 10)][-1] == (2, 10)
    assert rank_pivot_pairs(via, {}, 3) == [] and rank_pivot_pairs([], translations, 3) == []
