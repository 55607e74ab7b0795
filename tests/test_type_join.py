"""core.speech.type_join: voice shares, voices regressed out of a type space, types joined by
sound and context (small hand-made spaces, no labels involved)."""

from __future__ import annotations

import numpy as np
import pytest

from core.speech.type_join import join_types, regress_out_voices, voice_shares


def word_by_voice_space(seed=0):
    """6 types = 3 words × 2 voices; a type's vector = its word's vector + a large voice offset."""
    rng = np.random.default_rng(seed)
    words, voices = rng.normal(size=(3, 8)), 5 * rng.normal(size=(2, 8))
    word_of = np.array([0, 1, 2, 0, 1, 2]); voice_of = np.array([0, 0, 0, 1, 1, 1])
    return words[word_of] + voices[voice_of], word_of, voice_of


def cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_voice_shares_count_each_types_tokens_by_speaker():
    rows = np.array([0, 0, 0, 1, 1, 2])
    speakers = np.array(["b", "a", "a", "b", "b", "a"])
    shares = voice_shares(rows, speakers, 4)
    np.testing.assert_allclose(shares, [[2 / 3, 1 / 3], [0, 1], [1, 0], [0, 0]])


def test_regressing_out_the_voices_brings_one_words_types_together():
    vectors, word_of, voice_of = word_by_voice_space()
    shares = np.eye(2)[voice_of]
    before = cos(vectors[0], vectors[3])
    after = regress_out_voices(vectors, shares)
    assert after.dtype == np.float32
    assert before < 0.9
    for w in range(3):
        assert cos(after[w], after[w + 3]) > 0.99
    # types of different words stay apart
    assert cos(after[0], after[1]) < 0.9


def test_type_centroids_are_unit_means_and_empty_types_stay_zero():
    # the join's acoustic centroids: core.speech.type_space.label_centroids
    from core.speech.type_space import label_centroids

    emb = np.array([[1.0, 0], [3.0, 0], [0, 2.0]])
    c = label_centroids(emb, np.array([0, 0, 2]), np.arange(3), 3)
    np.testing.assert_allclose(c, [[1, 0], [0, 0], [0, 1]])


def test_join_types_groups_the_types_that_sound_and_occur_alike():
    vectors, word_of, voice_of = word_by_voice_space()
    context = regress_out_voices(vectors, np.eye(2)[voice_of])
    rng = np.random.default_rng(1)
    acoustic = np.eye(3)[word_of] + 0.05 * rng.normal(size=(6, 3))
    group = join_types(acoustic, context, 3)
    assert sorted(group.tolist()) == [0, 0, 1, 1, 2, 2]
    assert all(group[w] == group[w + 3] for w in range(3))
    assert len(set(group[:3].tolist())) == 3


def test_join_types_says_what_is_wrong():
    a = np.eye(4)
    with pytest.raises(ValueError, match="4 acoustic centroids but 3 context vectors"):
        join_types(a, a[:3], 2)
    with pytest.raises(ValueError, match="cannot join 4 types into 5"):
        join_types(a, a, 5)
    with pytest.raises(ValueError, match=r"acoustic_weight must be in \[0, 1\]"):
        join_types(a, a, 2, acoustic_weight=1.5)


def test_a_b_run_joins_its_clusters_and_regresses_the_voices_out(tmp_path):
    import torch

    from core.atomic import load_safetensors
    from core.speech.config import SpeechConfig
    from core.speech.runner import SEGMENTS_FILE, train_speech_space
    from core.speech.toy_corpus import make_toy_corpus
    from core.speech.type_space import load_type_space

    torch.set_num_threads(1)
    store = make_toy_corpus(n_types=6, n_utterances=24, words_per_utterance=5, mean_frames=16, held_out_speakers=0)
    cfg = SpeechConfig(learner="unit-skipgram", grouping="B", ac_encoder="mean", clusters=12, join_types=6,
                       regress_voices=True, sg_epochs=1, batch_size=32, device="cpu", kmeans_backend="torch")
    metrics = train_speech_space(store, cfg, tmp_path / "run")
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "types joined by sound and context: 12 clusters → 6 types" in log
    assert "voices regressed out of the type space" in log
    assert metrics["types"] == 6
    space = load_type_space(tmp_path / "run")
    assert len(space.embeddings) == 6 and space.assign_centroids.shape[0] == 6
    # every k-means cluster is a prototype of its joined type: its own centroid lands on that type
    assert space.prototypes.shape[1:] == (6, space.assign_centroids.shape[1]) and space.prototypes.shape[0] >= 2
    seg = load_safetensors(tmp_path / "run" / SEGMENTS_FILE)
    np.testing.assert_array_equal(seg["prototypes"], space.prototypes)
    protos = space.prototypes.reshape(-1, space.prototypes.shape[2])
    real = np.linalg.norm(protos, axis=1) > 0
    assert int(real.sum()) == 12  # the 12 clusters, each once
    owner = np.tile(np.arange(6), space.prototypes.shape[0])[real]
    placed = space.type_similarities(protos[real]).argmax(1)
    np.testing.assert_array_equal(placed, owner)
    np.testing.assert_allclose(np.linalg.norm(space.assign_centroids, axis=1), 1.0, atol=1e-5)
    type_of = load_safetensors(tmp_path / "run" / SEGMENTS_FILE)["type_of"]
    assert type_of.min() == 0 and type_of.max() == 5
    # frequency order, as every type space has
    counts = np.bincount(type_of, minlength=6)
    assert list(counts) == sorted(counts, reverse=True)
    # the evaluation and a stored encoder place segments the same way (their k-means cluster's type)
    from core.pipeline.speech_eval import segment_vectors
    from core.speech.encode import pack_type_space
    from core.features import FeatureConfig

    vectors, types, _ = segment_vectors(tmp_path / "run", np.arange(len(type_of)))
    agree = (vectors == types.vectors[type_of]).all(1).mean()
    assert agree >= 0.95
    weights, _ = pack_type_space(space, FeatureConfig(n_mfcc=store.dim))
    assert weights["assign_prototypes"].dtype == np.float16 and weights["assign_prototypes"].shape == space.prototypes.shape


def test_cluster_prototypes_keep_each_joined_types_clusters_most_frequent_first():
    from core.speech.type_join import cluster_prototypes

    centroids = np.array([[1.0, 0], [0, 2.0], [0.6, 0.8], [-1.0, 0], [0, -1.0]])
    protos = cluster_prototypes(centroids, np.array([1, 0, 1, 0, 1]), max_per_type=2)
    assert protos.shape == (2, 2, 2)
    np.testing.assert_allclose(protos[:, 0], [[0, 1], [-1, 0]])      # type 0: clusters 1 and 3
    np.testing.assert_allclose(protos[:, 1], [[1, 0], [0.6, 0.8]])   # type 1: 0 and 2 (4 is over the cap)
    short = cluster_prototypes(centroids[:3], np.array([0, 0, 1]))
    np.testing.assert_allclose(short[1, 1], [0, 0])  # one cluster only: a zero row, never the nearest


def test_a_clip_of_a_joined_type_is_placed_by_its_nearest_cluster():
    """Two clusters joined into one type, far apart: the type's mean centroid lies between them and
    loses a clip near one cluster to a third type; its nearest prototype does not."""
    from core.voices.prototypes import stack, type_similarities
    from core.speech.type_join import cluster_prototypes

    clusters = np.array([[1.0, 0, 0], [0, 1.0, 0], [0.8, 0.6, 0]])  # type 0 = clusters 0, 1; type 1 = cluster 2
    type_of_cluster = np.array([0, 0, 1])
    mean = np.array([[0.7071, 0.7071, 0], [0.8, 0.6, 0]])
    clip = np.array([[0.97, 0.1, 0.2]])  # right by cluster 0
    assert type_similarities(clip, mean).argmax() == 1  # the mean centroid misplaces it
    assert type_similarities(clip, stack(mean, cluster_prototypes(clusters, type_of_cluster))).argmax() == 0


def test_join_settings_are_checked():
    from core.errors import WordbridgeError
    from core.speech.config import SpeechConfig

    with pytest.raises(WordbridgeError, match=r"join_types must be 0 \(off\) or fewer than clusters \(10\), not 10"):
        SpeechConfig(learner="unit-skipgram", grouping="B", clusters=10, join_types=10)
    with pytest.raises(WordbridgeError, match=r"join_acoustic_weight must be in \[0, 1\]"):
        SpeechConfig(learner="unit-skipgram", grouping="B", join_acoustic_weight=-0.1)
