"""core.features: shapes, frame rate, CMVN, batching and blocking give the same frames, config JSON."""

import numpy as np
import pytest
import torch

import core.features as features
from core.errors import WordbridgeError
from core.features import (FeatureConfig, extract_features, extract_one, frame_count, span_features,
                           span_frames)

torch.set_num_threads(1)


def noisy_tone(seconds, seed=0, freq=300.0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    return (0.3 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("config, dim", [(FeatureConfig(), 13), (FeatureConfig(deltas=True), 39),
                                         (FeatureConfig(kind="logmel"), 40),
                                         (FeatureConfig(kind="logmel", deltas=True), 120)])
def test_shapes_and_100_frames_per_second(config, dim):
    out = extract_one(noisy_tone(2.0), config)
    assert out.shape == (201, dim) and out.dtype == np.float32
    assert config.dim == dim
    assert np.isfinite(out).all()


def test_frame_count_rule():
    assert frame_count(16000) == 101
    assert frame_count(159) == 1 and frame_count(160) == 2
    assert [len(x) for x in extract_features([np.zeros(n, np.float32) + 0.01 for n in (50, 160, 801)])] == [1, 2, 6]


def test_cmvn_gives_zero_mean_unit_variance():
    out = extract_one(noisy_tone(1.5), FeatureConfig(deltas=True))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)
    raw = extract_one(noisy_tone(1.5), FeatureConfig(cmvn=False))
    assert abs(raw[:, 0].mean()) > 1  # c0 (log energy) is far from zero without CMVN


def test_batched_equals_one_by_one():
    waves = [noisy_tone(s, seed=i) for i, s in enumerate((0.3, 2.2, 0.05, 1.0, 0.71))]
    for config in (FeatureConfig(), FeatureConfig(kind="logmel", deltas=True)):
        batched = extract_features(waves, config)
        single = [extract_one(w, config) for w in waves]
        for b, s, w in zip(batched, single, waves):
            assert b.shape == (frame_count(len(w)), config.dim)
            np.testing.assert_allclose(b, s, atol=1e-4)


def test_small_batches_equal_one_big_batch():
    waves = [noisy_tone(s, seed=i) for i, s in enumerate((0.5, 0.9, 0.2, 1.3))]
    big = extract_features(waves)
    small = extract_features(waves, max_batch_samples=16000)
    for a, b in zip(big, small):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_long_utterance_in_blocks_equals_whole(monkeypatch):
    wave = noisy_tone(4.0)
    whole = extract_one(wave, FeatureConfig(deltas=True))
    monkeypatch.setattr(features, "BLOCK_FRAMES", 70)
    blocked = extract_one(wave, FeatureConfig(deltas=True))
    assert blocked.shape == whole.shape == (401, 39)
    np.testing.assert_allclose(blocked, whole, atol=1e-4)


def test_features_differ_between_sounds():
    a, b = extract_features([noisy_tone(0.5, freq=300.0), noisy_tone(0.5, freq=2500.0)],
                            FeatureConfig(cmvn=False))
    assert np.abs(a.mean(0) - b.mean(0)).max() > 1.0


def test_config_json_round_trip_and_validation():
    config = FeatureConfig(kind="logmel", deltas=True, cmvn=False)
    assert FeatureConfig.from_json(config.to_json()) == config
    with pytest.raises(WordbridgeError, match="unknown feature kind 'plp'"):
        FeatureConfig(kind="plp")
    with pytest.raises(WordbridgeError, match=r"unknown keys \['colour'\]"):
        FeatureConfig.from_dict({"kind": "mfcc", "colour": "red"})


def test_span_frames_and_span_features():
    assert span_frames(0.25, 0.5, 1000) == slice(25, 50)
    assert span_frames(0.251, 0.252, 1000) == slice(26, 27)  # never empty inside the audio
    assert span_frames(20.0, 21.0, 1000) == slice(1000, 1000)  # outside: empty
    wave = noisy_tone(2.0)
    spans = span_features(wave, [(0.0, 0.5), (1.0, 1.37)])
    whole = extract_one(wave)
    assert [len(s) for s in spans] == [50, 37]
    np.testing.assert_array_equal(spans[1], whole[100:137])
