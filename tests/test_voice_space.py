"""core.speech.voice_space: voices moved into one shared space, and groups cut from it."""

import numpy as np
import pytest
from scipy.linalg import expm

from core.speech.voice_space import VoiceGroupSettings, shared_space_groups, shared_voice_space, voice_groups
from core.speech.voice_space.groups import inner_members, join_centroids
from core.speech.voice_space.normalise import generalised_procrustes, zca_whitening
from core.vectors import unit_rows


def voices_of_words(seed, angle=1.0, words=30, tokens=12, dim=8, n_voices=4, noise=0.05):
    """Tokens of `words` words said by `n_voices` voices; each voice scales, turns (by `angle`
    radians at most) and shifts the shared word prototypes. (rows, word, voice)."""
    rng = np.random.default_rng(seed)
    protos = unit_rows(rng.normal(size=(words, dim)))
    rows, word, voice = [], [], []
    for v in range(n_voices):
        skew = rng.normal(size=(dim, dim))
        skew = (skew - skew.T) / 2
        turn = expm(angle * skew / np.linalg.norm(skew, 2)) * rng.uniform(0.5, 2.0, size=dim)
        w = np.repeat(np.arange(words), tokens)
        rows.append((protos[w] + rng.normal(scale=noise, size=(len(w), dim))) @ turn + rng.normal(scale=0.5, size=dim))
        word.append(w)
        voice.append(np.full(len(w), v))
    return np.concatenate(rows).astype(np.float32), np.concatenate(word), np.concatenate(voice)


def cross_voice_accuracy(x, word, voice):
    """Share of rows whose most similar row of another voice is the same word."""
    x = unit_rows(x)
    sims = x @ x.T
    sims[voice[:, None] == voice[None, :]] = -9
    return float((word[sims.argmax(1)] == word).mean())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whitening_and_rotation_bring_the_voices_words_together(seed):
    x, word, voice = voices_of_words(seed)
    assert cross_voice_accuracy(x, word, voice) < 0.4
    whitened_only = shared_voice_space(x, voice, 120, backend="torch", rounds=0)
    assert cross_voice_accuracy(whitened_only, word, voice) < 0.85
    shared = shared_voice_space(x, voice, 120, backend="torch")
    assert cross_voice_accuracy(shared, word, voice) >= 0.97
    np.testing.assert_allclose(np.linalg.norm(shared, axis=1), 1.0, atol=1e-5)


def test_zca_whitening_gives_identity_covariance():
    x = np.random.default_rng(0).normal(size=(500, 4)) @ np.diag([5.0, 1.0, 0.2, 3.0]) + 7.0
    mu, z = zca_whitening(x)
    np.testing.assert_allclose(np.cov((x - mu) @ z, rowvar=False), np.eye(4), atol=1e-8)
    np.testing.assert_allclose(z, z.T)  # ZCA: the symmetric whitening, the least rotation


def test_generalised_procrustes_undoes_known_rotations():
    rng = np.random.default_rng(3)
    points = unit_rows(rng.normal(size=(40, 6)), np.float64)
    turns = [expm(0.3 * (s - s.T)) for s in rng.normal(size=(3, 6, 6)) / 6]
    sets = [points @ t for t in turns]
    rot = generalised_procrustes(sets)
    lined_up = [s @ r for s, r in zip(sets, rot)]
    for other in lined_up[1:]:  # the sets agree row by row (up to one common rotation)
        np.testing.assert_allclose(other, lined_up[0], atol=1e-4)  # float32 partner search


def test_shared_space_needs_more_rows_than_dimensions():
    x = np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32)
    with pytest.raises(ValueError, match="voice 1 has 4 rows; whitening needs more than 8"):
        shared_voice_space(x, np.array([0] * 16 + [1] * 4), 10, backend="torch")


def test_join_centroids_cuts_average_linkage_at_the_number_of_groups():
    c = np.array([[1, 0.02], [1, -0.02], [0.02, 1], [-0.02, 1], [-1, 0.01]])
    group = join_centroids(c, 3)
    assert group[0] == group[1] and group[2] == group[3] and len(set(group.tolist())) == 3
    assert join_centroids(c, 9).tolist() == [0, 1, 2, 3, 4]  # fewer centroids than groups: each its own


def test_inner_members_keep_the_most_central_share_of_each_group():
    shared = unit_rows(np.array([[1, 0], [1, 0.1], [1, 0.5], [1, -0.9], [0, 1], [0.3, 1], [0.9, 1]]))
    group = np.array([0, 0, 0, 0, 1, 1, 1])
    keep = inner_members(shared, group, 0.5)
    # two of four (rounded up: ceil(0.5 × 4)) and two of three (ceil(1.5))
    assert keep.tolist() == [True, True, False, False, True, True, False]
    assert inner_members(shared, group, 1.0).all()


def test_groups_hold_one_word_and_several_voices():
    x, word, voice = voices_of_words(0)
    shared = shared_voice_space(x, voice, 120, backend="torch")
    group = shared_space_groups(shared, voice, n_clusters=60, n_groups=30, inner=0.5, backend="torch")
    grouped = group >= 0
    assert 0.45 <= grouped.mean() <= 0.55
    for g in np.unique(group[grouped]):
        members = group == g
        assert len(np.unique(voice[members])) >= 2
        assert np.bincount(word[members]).max() / members.sum() >= 0.9


def test_a_group_of_one_voice_is_no_group():
    shared = unit_rows(np.array([[1, 0]] * 6 + [[0, 1]] * 6, dtype=np.float32)
                       + np.random.default_rng(0).normal(scale=0.01, size=(12, 2)))
    voice = np.array([0, 1] * 3 + [2] * 6)        # the second word: one voice only
    group = shared_space_groups(shared, voice, n_clusters=2, n_groups=2, inner=1.0, backend="torch")
    assert (group[:6] >= 0).all() and len(set(group[:6].tolist())) == 1
    assert (group[6:] == -1).all()


def test_voice_groups_leave_small_voices_and_held_out_rows_out():
    x, word, voice = voices_of_words(1, n_voices=3)
    tiny = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)   # a voice of 5 rows
    emb = np.concatenate([x, tiny])
    speakers = np.array([f"speaker:{v}" for v in voice] + ["speaker:tiny"] * 5)
    n_segments = len(emb) + 7                                               # + 7 held-out rows
    train_idx = np.arange(len(emb))
    labels, summary = voice_groups(emb, train_idx, speakers, n_segments,
                                   VoiceGroupSettings(n_groups=30, n_clusters=60, voice_clusters_total=90,
                                                      backend="torch"))
    assert summary["voices"] == 4 and summary["voices_too_small"] == 1
    assert (labels[len(x):] == -1).all()            # the tiny voice and the held-out rows
    assert summary["grouped_segments"] == int((labels >= 0).sum()) > len(x) * 0.4
    assert summary["groups"] == len(np.unique(labels[labels >= 0]))


def test_voice_groups_need_two_voices():
    x, _, _ = voices_of_words(0, n_voices=1)
    labels, summary = voice_groups(x, np.arange(len(x)), np.array(["speaker:a"] * len(x)), len(x),
                                   VoiceGroupSettings(n_groups=5, backend="torch"))
    assert (labels == -1).all() and summary["grouped_segments"] == 0


def test_voice_groups_setting_is_checked():
    from core.errors import WordbridgeError
    from core.speech.config import SpeechConfig

    with pytest.raises(WordbridgeError, match=r"voice_groups must be 0 \(off\) or fewer than 5000"):
        SpeechConfig(learner="unit-skipgram", grouping="B", voice_groups=5000)


def test_a_b_run_trains_a_voice_groups_round_from_the_view_trained_weights(tmp_path, monkeypatch):
    import torch

    from core.speech import runner
    from core.speech.config import SpeechConfig
    from core.speech.toy_corpus import make_toy_corpus

    torch.set_num_threads(1)
    weights = {}  # loop name -> (weights when it starts, weights when it ends)
    real_train = runner.train

    def recording_train(task, settings, *args, **kwargs):
        start = [p.detach().clone() for p in task.model.parameters()]
        result = real_train(task, settings, *args, **kwargs)
        weights[settings.name] = (start, [p.detach().clone() for p in task.model.parameters()])
        return result

    monkeypatch.setattr(runner, "train", recording_train)
    store = make_toy_corpus(n_types=6, n_utterances=48, words_per_utterance=5, mean_frames=16, held_out_speakers=0)
    cfg = SpeechConfig(learner="unit-skipgram", grouping="B", clusters=6, ac_epochs=1, sg_epochs=1, ac_hidden=16,
                       ac_dim=8, batch_size=32, ac_pair_rounds=1, voice_groups=6, device="cpu", kmeans_backend="torch")
    metrics = runner.train_speech_space(store, cfg, tmp_path / "run")
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "pair round 1: " in log and "acoustic-voice-groups trained" in log
    assert "voice-groups round: 4 voices, 0 voices too small, " in log
    assert list(weights) == ["acoustic", "acoustic-pairs-1", "acoustic-voice-groups"]
    view_trained, after_pairs = weights["acoustic"][1], weights["acoustic-pairs-1"][1]
    groups_start = weights["acoustic-voice-groups"][0]
    assert all(torch.equal(a, b) for a, b in zip(groups_start, view_trained))
    assert not all(torch.equal(a, b) for a, b in zip(groups_start, after_pairs))
    assert metrics["types"] <= 6
