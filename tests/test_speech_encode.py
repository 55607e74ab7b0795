"""core.speech.encode: a trained speech type space stored in a project embeds new clips exactly as in training."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.features import FeatureConfig, extract_one, frame_count, span_frames
from core.speech.acoustic import ContrastiveAWE
from core.speech.encode import ClipEncoder, clip_embedder, pack_type_space
from core.speech.speech2vec import Speech2Vec
from core.speech.type_space import SpeechTypeSpace
from core.vectors import unit_rows

torch.set_num_threads(1)
FEATURES = FeatureConfig()


def _type_space(learner: str = "unit-skipgram", n_types: int = 6) -> SpeechTypeSpace:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if learner == "unit-skipgram":
        model = ContrastiveAWE(FEATURES.dim, "conv", hidden=16, dim=12)
        vectors = rng.normal(size=(n_types, 8)).astype(np.float32)
        centroids = np.zeros((n_types, 12), dtype=np.float32)  # replaced below by real encodings
    else:
        model = Speech2Vec(FEATURES.dim, 8, 16)
        vectors = rng.normal(size=(n_types, 8)).astype(np.float32)
        centroids = unit_rows(vectors)
    words = [f"w{i}" for i in range(n_types)]
    emb = Embeddings(words, vectors, np.arange(n_types, 0, -1), modality="speech")
    space = SpeechTypeSpace(emb, model.eval(), centroids, {"learner": learner, "grouping": "A", "max_frames": 40,
                                                           "feat_dim": FEATURES.dim, "synthetic": True})
    if learner == "unit-skipgram":  # centroids at some segments' encodings, so segments reach several types
        space.assign_centroids = unit_rows(space.encode(_segments(n_types, seed=2)))
    return space


def _segments(n: int = 8, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(rng.integers(5, 60)), FEATURES.dim)).astype(np.float32) for _ in range(n)]


def _word_clip(sr: int = 16000) -> np.ndarray:
    """A 'word' (two harmonic tone bursts) between 0.4 s silences."""
    t = np.arange(int(0.35 * sr)) / sr
    burst = 0.3 * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 660 * t)) * np.hanning(len(t))
    gap = np.zeros(int(0.4 * sr), dtype=np.float32)
    return np.concatenate([gap, burst, 0.5 * burst[::-1], gap]).astype(np.float32)


@pytest.mark.parametrize("learner", ["unit-skipgram", "speech2vec"])
def test_round_trip_gives_training_time_vectors(learner):
    space = _type_space(learner)
    weights, config = pack_type_space(space, FEATURES)
    encoder = clip_embedder(weights, config)
    segments = _segments() + _segments(6, seed=2)
    training = space.encode(segments)  # what the training run computed for these segments
    rebuilt = np.stack([encoder.encode_features(s) for s in segments])
    np.testing.assert_allclose(rebuilt, training, rtol=1e-5, atol=1e-5)
    vectors = np.stack([encoder.vector_from_features(s) for s in segments])
    if learner == "unit-skipgram":  # nearest centroid → that type's skip-gram vector (as speech_eval does)
        names, _ = space.assign(segments)
        expected = np.stack([space.embeddings.vectors[space.embeddings.index[w]] for w in names])
        assert len(set(names)) > 1  # the check would be weak if every segment fell into one type
    else:
        expected = training
    np.testing.assert_allclose(vectors, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("learner", ["unit-skipgram", "speech2vec"])
def test_candidate_vectors_are_the_nearest_types_nearest_first(learner):
    space = _type_space(learner)
    encoder = clip_embedder(*pack_type_space(space, FEATURES))
    clip = _word_clip()
    first, *others = encoder.candidate_vectors(clip, 16000, 3)
    np.testing.assert_allclose(first, encoder(clip, 16000), rtol=1e-6)  # the nearest type leads
    if learner == "speech2vec":  # its encoder output is the vector: nothing to choose between
        assert others == []
        return
    rows = [row for row, _ in encoder.nearest_types(encoder.encode_features(encoder.clip_features(clip, 16000)), 3)]
    assert len(set(rows)) == 3
    np.testing.assert_allclose(np.stack([first, *others]), space.embeddings.vectors[rows], rtol=1e-6)


def test_clip_path_resamples_trims_and_extracts_like_training():
    from core.audio import resample, trim_silence

    space = _type_space("unit-skipgram")
    encoder = ClipEncoder(*pack_type_space(space, FEATURES))
    clip = _word_clip(22050)
    x = resample(clip, 22050, 16000)
    start, end = trim_silence(x, 16000, margin=0.0)
    assert end - start < len(x)  # silence was cut
    c0, c1 = max(0, start - 4000), min(len(x), end + 4000)  # CMVN over the word ± 0.25 s
    feats = extract_one(x[c0:c1], FEATURES, device="cpu")[span_frames((start - c0) / 16000, (end - c0) / 16000,
                                                                      frame_count(c1 - c0))]
    np.testing.assert_allclose(encoder.clip_features(clip, 22050), feats, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(encoder(clip, 22050), encoder.vector_from_features(feats), rtol=1e-6)
    assert encoder(clip, 22050).shape == (space.embeddings.dim,)


def test_round_trip_through_a_project(tmp_path):
    from core.classify import clip_embedder as project_embedder
    from core.project import Project

    space = _type_space("unit-skipgram")
    project = Project.create(tmp_path / "p", "encode test", synthetic_speech=True,
                             synthetic_speech_note="tone bursts, not speech")
    weights, config = pack_type_space(space, FEATURES, note="test")
    project.set_encoder("enc", weights, config)
    stored_weights, stored_config = Project.open(tmp_path / "p").encoder("enc")
    clip = _word_clip()
    direct = ClipEncoder(weights, config)(clip, 16000)
    np.testing.assert_array_equal(clip_embedder(stored_weights, stored_config)(clip, 16000), direct)
    np.testing.assert_array_equal(project_embedder(Project.open(tmp_path / "p"))(clip, 16000), direct)


def test_embedding_a_clip_twice_gives_the_same_vector():
    # (its speed is benchmarked in scripts/bench_app_latency.py, not asserted in a test)
    encoder = ClipEncoder(*pack_type_space(_type_space("unit-skipgram"), FEATURES))
    clip = _word_clip(44100)
    assert np.array_equal(encoder(clip, 44100), encoder(clip, 44100))


def test_bad_inputs_have_clear_errors():
    space = _type_space("unit-skipgram")
    weights, config = pack_type_space(space, FEATURES)
    encoder = ClipEncoder(weights, config)
    with pytest.raises(WordbridgeError, match="no speech found"):
        encoder(np.zeros(16000, dtype=np.float32), 16000)
    with pytest.raises(WordbridgeError, match=r"no speech found in the clip \(silent or shorter than 0.1 s\)"):
        encoder(_word_clip()[8000:8800], 16000)  # 0.05 s of the word
    nan = _word_clip()
    nan[100:200] = np.nan
    with pytest.raises(WordbridgeError, match="NaN or infinite samples"):
        encoder(nan, 16000)
    with pytest.raises(WordbridgeError, match="empty"):
        encoder(np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(WordbridgeError, match=r"needs \[T, 13\]"):
        encoder.encode_features(np.zeros((10, 40), dtype=np.float32))
    with pytest.raises(WordbridgeError, match="not a stored speech type space"):
        ClipEncoder(weights, {**config, "kind": "band-energy"})
    with pytest.raises(WordbridgeError, match="no 'type_vectors' array"):
        ClipEncoder({k: v for k, v in weights.items() if k != "type_vectors"}, config)
    with pytest.raises(WordbridgeError, match="do not fit its architecture"):
        ClipEncoder({**weights, "encoder.out.weight": np.zeros((3, 3), np.float32)}, config)
    with pytest.raises(WordbridgeError, match="features of 39 dims"):
        ClipEncoder(weights, {**config, "features": FeatureConfig(deltas=True).to_dict()})


def test_candidates_carry_a_calibrated_confidence_and_no_match():
    from core.voices.confidence import Calibration

    weights, config = pack_type_space(_type_space("unit-skipgram"), FEATURES)
    plain = ClipEncoder(weights, config)
    vectors, conf = plain.candidates(_word_clip(), 16000, 3)
    assert len(vectors) == 3 and conf["probability"] is None and conf["no_match"] is False
    assert -1.0 <= conf["best"] <= 1.0 and conf["margin"] >= 0.0
    sure = Calibration(w_best=10.0, w_margin=0.0, bias=-100.0, no_match_below=-1.0)  # p ≈ 0 everywhere
    _, conf = ClipEncoder(weights, {**config, "calibration": sure.to_dict()}).candidates(_word_clip(), 16000, 3)
    assert conf["probability"] < 0.01 and conf["no_match"] is False
    far = Calibration(no_match_below=1.01)  # nothing reaches a cosine above 1: every clip is "no good match"
    _, conf = ClipEncoder(weights, {**config, "calibration": far.to_dict()}).candidates(_word_clip(), 16000, 3)
    assert conf["no_match"] is True
    with pytest.raises(WordbridgeError, match="calibration is malformed"):
        ClipEncoder(weights, {**config, "calibration": {"w_best": "high"}})
    _, conf = ClipEncoder(*pack_type_space(_type_space("speech2vec"), FEATURES)).candidates(_word_clip(), 16000, 1)
    assert conf is None
