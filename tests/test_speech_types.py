"""Grouping into types (labels or k-means) and the pseudo-token skip-gram."""

import numpy as np
import pytest
import torch

from core.errors import WordbridgeError
from core.speech import clustering
from core.speech.pseudo_skipgram import token_stream, train_skipgram

torch.set_num_threads(1)


def _blobs(k=5, per=40, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim)) * 5
    labels = np.repeat(np.arange(k), per)
    return (centers[labels] + rng.normal(scale=0.3, size=(k * per, dim))).astype(np.float32), labels


def test_torch_kmeans_fallback_recovers_separated_blobs():
    x, labels = _blobs()
    cent, assign = clustering.kmeans_torch(x, 5, iters=20, seed=0)
    assert cent.shape == (5, 8)
    assert clustering_purity(assign, labels) == 1.0


def test_kmeans_backends_agree_on_easy_data():
    pytest.importorskip("faiss")
    x, labels = _blobs(seed=1)
    _, a_faiss = clustering.kmeans(x, 5, backend="faiss", seed=0)
    _, a_torch = clustering.kmeans(x, 5, backend="torch", seed=0)
    assert clustering_purity(a_faiss, labels) == clustering_purity(a_torch, labels) == 1.0


def test_kmeans_refills_empty_clusters_and_rejects_too_many():
    x = np.repeat(np.eye(3, dtype=np.float32), 10, axis=0)  # only 3 distinct points, 4 clusters
    _, assign = clustering.kmeans_torch(x, 4, iters=5, seed=0)
    assert len(np.unique(assign)) >= 3
    with pytest.raises(WordbridgeError, match="5 clusters but only 4 segments"):
        clustering.kmeans(x[:4], 5)


def clustering_purity(assign, labels):
    from core.speech.metrics import cluster_purity

    return cluster_purity(assign, labels)


def test_config_a_uses_labels_and_kmeans_gives_frequency_ordered_pseudo_words():
    labels = ["b", "a", "b", None, "c", "b", "a", "z"]
    members = np.arange(7)  # "z" is outside the training members
    g = clustering.group_by_labels(labels, members)
    assert g.names == ["b", "a", "c"] and g.counts.tolist() == [3, 2, 1]
    assert g.type_of.tolist() == [0, 1, 0, -1, 2, 0, 1, -1]
    with pytest.raises(WordbridgeError, match="configuration A needs word labels"):
        clustering.group_by_labels([None, None], np.arange(2))

    x, blob = _blobs(k=3, per=10)
    x[blob == 2] = x[blob == 2][:2].repeat(5, 0)  # make sizes unequal below
    keep = np.r_[np.arange(0, 10), np.arange(10, 16), np.arange(20, 30), np.arange(20, 30)[:0]]
    km = clustering.group_by_kmeans(x, keep, 3, 20, 0, "torch")
    assert km.names == ["#0", "#1", "#2"]
    assert (np.diff(km.counts) <= 0).all() and km.counts.sum() == len(keep)
    assert (km.type_of >= 0).all()  # segments outside `keep` are assigned too
    np.testing.assert_allclose(np.linalg.norm(km.centroids, axis=1), 1, rtol=1e-5)


def test_type_means_is_the_mean_over_member_segments():
    emb = np.array([[1, 0], [3, 0], [0, 2], [9, 9]], dtype=np.float32)
    means = clustering.type_means(emb, np.array([0, 0, 1, 1]), np.array([0, 1, 2]), 2)
    np.testing.assert_allclose(means, [[2, 0], [0, 2]])


def test_token_stream_keeps_members_with_a_type_in_order():
    tokens, sent = token_stream(np.array([2, -1, 0, 1, 1]), np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 3]))
    assert tokens.tolist() == [2, 0, 1] and sent.tolist() == [0, 0, 1]


def test_gensim_backend_returns_the_types_in_our_order():
    # ids run rarest first and id 4 never occurs, so gensim's own (frequency) order differs from
    # ours: only a correct mapping back puts the one all-zero row (a type gensim never saw) at 4
    pytest.importorskip("gensim")
    rng = np.random.default_rng(0)
    rank = np.minimum(rng.zipf(1.5, 2000) - 1, 8)  # 0 = most frequent
    tokens = 9 - rank
    tokens[tokens <= 4] -= 1  # ids 0..3 and 5..9; none is 4
    sentences = np.arange(2000) // 10
    counts = np.bincount(tokens, minlength=10)
    assert counts[4] == 0 and (np.delete(counts, 4) > 0).all()
    names = [f"#{i}" for i in range(10)]
    emb = train_skipgram(tokens, sentences, names, counts, dim=8, window=3, negatives=3, subsample=0,
                         epochs=2, seed=0, backend="gensim")
    assert emb.words == names and emb.vectors.shape == (10, 8) and emb.modality == "speech"
    assert list(emb.counts) == list(counts)
    norms = np.abs(emb.vectors).sum(1)
    assert norms[4] == 0 and np.delete(norms, 4).min() > 0


@pytest.mark.parametrize("backend", ["torch", "gensim"])
def test_train_skipgram_learns_co_occurrence_with_either_backend(backend):
    if backend == "gensim":
        pytest.importorskip("gensim")
    # two topics of 4 types; type 8 is a type with no token in the stream (e.g. only held out)
    rng = np.random.default_rng(0)
    tokens = np.concatenate([rng.choice(4, 8) + 4 * (s % 2) for s in range(400)])
    sentences = np.repeat(np.arange(400), 8)
    names = [f"#{i}" for i in range(9)]
    counts = np.append(np.bincount(tokens, minlength=8), 0)
    # a requested batch far too big for 8 busy rows: the trainer must cut it, not diverge
    emb = train_skipgram(tokens, sentences, names, counts, dim=10, window=3, negatives=3, subsample=0,
                         epochs=4, seed=0, backend=backend, device="cpu", batch_size=100_000)
    assert emb.modality == "speech" and emb.words == names and list(emb.counts) == list(counts)
    assert np.isfinite(emb.vectors).all() and np.abs(emb.vectors[8]).max() <= 0.5 / 10
    v = emb.vectors[:8] / np.linalg.norm(emb.vectors[:8], axis=1, keepdims=True)
    cos = v @ v.T
    topic = np.arange(8) < 4
    same, off = topic[:, None] == topic[None, :], ~np.eye(8, dtype=bool)
    assert cos[same & off].mean() > cos[~same].mean() + 0.5
