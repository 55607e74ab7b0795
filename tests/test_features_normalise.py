"""core.features_normalise: per-group (speaker / voice-cluster) mean and variance normalisation."""

import numpy as np
import pytest

from core.errors import WordbridgeError
from core.features import FeatureConfig, extract_one
from core.features_normalise import group_normalise, group_stats, utterance_summary, voice_clusters


def _two_voices(seed=0, n=4):
    """Utterances of "speaker" b are those of a, scaled by 2 and shifted by +5 in every dimension."""
    rng = np.random.default_rng(seed)
    a = [rng.normal(size=(t, 3)).astype(np.float32) for t in (7, 11, 5, 9)[:n]]
    b = [2.0 * f + 5.0 for f in a]
    return a, b


def test_group_normalise_removes_a_voice_offset_and_scale():
    a, b = _two_voices()
    frames = a + b
    groups = ["a"] * len(a) + ["b"] * len(b)
    out = group_normalise(frames, groups)
    assert [f.shape for f in out] == [f.shape for f in frames]
    assert all(f.dtype == np.float32 for f in out)
    for fa, fb in zip(out[:len(a)], out[len(a):]):
        np.testing.assert_allclose(fa, fb, atol=1e-5)  # offset and scale gone
    for g in "ab":
        pooled = np.concatenate([f for f, h in zip(out, groups) if h == g])
        np.testing.assert_allclose(pooled.mean(0), 0, atol=1e-5)
        np.testing.assert_allclose(pooled.std(0), 1, atol=1e-5)
    # without normalisation by group the two voices stay apart
    mean_only = group_normalise(frames, ["all"] * len(frames), variance=False)
    assert abs(np.concatenate(mean_only[len(a):]).mean() - np.concatenate(mean_only[:len(a)]).mean()) > 4


def test_one_group_per_utterance_is_the_feature_store_cmvn():
    t = np.arange(8000) / 16000
    wave = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.random.default_rng(1).normal(size=t.size)).astype(np.float32)
    cmvn = extract_one(wave, FeatureConfig(cmvn=True), device="cpu")
    raw = extract_one(wave, FeatureConfig(cmvn=False), device="cpu")
    ours = group_normalise([raw], ["u1"])[0]
    np.testing.assert_allclose(ours, cmvn, atol=2e-4)


def test_mismatched_lengths_and_shapes_are_errors():
    a, b = _two_voices()
    with pytest.raises(WordbridgeError, match="8 frame arrays but 7 group ids"):
        group_normalise(a + b, ["a"] * 7)
    with pytest.raises(WordbridgeError, match="one width"):
        group_normalise([np.zeros((3, 2)), np.zeros((3, 4))], ["a", "a"])
    with pytest.raises(WordbridgeError, match="no frames"):
        group_stats([np.zeros((0, 2)), np.ones((3, 2))], ["a", "b"])


def test_voice_clusters_find_the_two_voices_without_labels():
    rng = np.random.default_rng(0)
    a = [rng.normal(size=(20, 3)) for _ in range(12)]
    b = [2.0 * rng.normal(size=(20, 3)) + 5.0 for _ in range(12)]
    assert utterance_summary(a + b).shape == (24, 6)
    labels, info = voice_clusters(a + b, ks=(2, 3, 4))
    assert info["k"] == 2 and set(info["silhouette"]) == {2, 3, 4}
    assert len(set(labels[:12])) == 1 and len(set(labels[12:])) == 1 and labels[0] != labels[12]
    with pytest.raises(WordbridgeError, match="cluster counts"):
        voice_clusters(a[:3], ks=(2, 3))
