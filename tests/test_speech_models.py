"""Speech models, batching and config: shapes, padding, loss going down on a toy corpus."""

import json

import numpy as np
import pytest
import torch

from core.errors import WordbridgeError
from core.speech.acoustic import AugmentSettings, ContrastiveAWE, ContrastiveTask
from core.speech.batching import bucketed_batches, context_matrix, load_frames, shard_plan
from core.speech.config import SpeechConfig, load_config, preset
from core.speech.speech2vec import Speech2Vec, Speech2VecTask, embed_segments
from core.speech.toy_corpus import make_toy_corpus
from core.speech.training import LoopSettings, train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def toy():
    store = make_toy_corpus(n_types=8, n_utterances=40, words_per_utterance=6, mean_frames=20)
    return store, load_frames(store, max_frames=60)


def test_load_frames_matches_store_and_caps_length(toy):
    store, frames = toy
    assert frames.n_segments == store.n_segments and frames.dim == 13
    x, lengths = frames.pad(np.array([3, 0, 7]))
    for row, i in enumerate([3, 0, 7]):
        n = int(store.lengths[i])
        assert lengths[row] == n
        np.testing.assert_array_equal(x[row, :n].numpy(), store.features(i))
        assert float(x[row, n:].abs().sum()) == 0.0
    capped = load_frames(store, max_frames=10)
    assert capped.lengths_np.max() == 10
    np.testing.assert_array_equal(capped.pad(np.array([5]))[0][0].numpy(), store.features(5)[:10])


def test_load_frames_reads_the_in_memory_feature_store(toy):
    from core.corpus.feature_store import InMemoryFeatureStore

    store, _ = toy
    mem = InMemoryFeatureStore([store.features(i) for i in range(5)], store.utterance_ids[:5],
                               store.positions[:5], store.labels[:5], store.speakers[:5])
    frames = load_frames(mem, max_frames=60)
    np.testing.assert_array_equal(frames.pad(np.array([4]))[0][0].numpy(), store.features(4))


def test_resampled_view_at_rate_one_is_the_segment(toy):
    store, frames = toy
    idx = np.array([2, 9])
    x, lengths = frames.pad_resampled(idx, np.zeros(2), np.ones(2), frames.lengths_np[idx])
    ref, _ = frames.pad(idx)
    torch.testing.assert_close(x, ref)
    half, hl = frames.pad_resampled(idx, np.zeros(2), np.full(2, 2.0), (frames.lengths_np[idx] - 1) // 2 + 1)
    torch.testing.assert_close(half[0, 1], ref[0, 2])  # reading at double rate skips every other frame


def test_context_matrix_stays_inside_utterances():
    utt = np.array([0, 0, 0, 1, 1, 2])
    ctx = context_matrix(utt, window=2)
    assert ctx.shape == (6, 4)
    assert sorted(ctx[0][ctx[0] >= 0]) == [1, 2]
    assert sorted(ctx[3][ctx[3] >= 0]) == [4]
    assert (ctx[5] < 0).all()
    usable = np.array([True, False, True, True, True, True])
    assert sorted(context_matrix(utt, 2, usable)[0][context_matrix(utt, 2, usable)[0] >= 0]) == [2]


def test_bucketed_batches_are_deterministic_cover_everything_and_sorted_inside():
    lengths = np.random.default_rng(0).integers(5, 50, size=100)
    a = bucketed_batches(np.arange(100), lengths, 8, 4, seed=1, epoch=0)
    b = bucketed_batches(np.arange(100), lengths, 8, 4, seed=1, epoch=0)
    c = bucketed_batches(np.arange(100), lengths, 8, 4, seed=1, epoch=1)
    assert all((x == y).all() for x, y in zip(a, b))
    assert not all(len(x) == len(y) and (x == y).all() for x, y in zip(a, c))
    assert sorted(np.concatenate(a).tolist()) == list(range(100))
    assert all((np.diff(lengths[batch]) >= 0).all() for batch in a)
    assert [len(p) for p in (shard_plan(a, 0, 2), shard_plan(a, 1, 2))] == [len(a) // 2] * 2


def test_speech2vec_shapes_and_both_modes(toy):
    store, frames = toy
    for mode in ("skipgram", "cbow"):
        model = Speech2Vec(13, dim=50, hidden=16, mode=mode)
        task = Speech2VecTask(model, frames, np.arange(store.n_segments), store.utterance_ids, 3, 16, 2, 0)
        batch = task.prepare(task.plan(0)[0], 0)
        loss = model(batch)
        assert loss.ndim == 0 and torch.isfinite(loss)
    x, lengths = frames.pad(np.arange(4))
    assert model.encode(x, lengths).shape == (4, 50)
    assert model.decode(torch.zeros(4, 50), 7).shape == (4, 7, 13)
    emb = embed_segments(model.encode, frames, np.array([5, 1, 3]), batch_size=2)
    single = model.encode(*frames.pad(np.array([1]))).detach().numpy()
    assert emb.shape == (3, 50)
    np.testing.assert_allclose(emb[1], single[0], rtol=1e-4, atol=1e-5)


def test_padding_does_not_change_an_encoding(toy):
    _, frames = toy
    model = Speech2Vec(13, dim=8, hidden=8)
    short = int(np.argmin(frames.lengths_np))
    long_ = int(np.argmax(frames.lengths_np))
    alone = model.encode(*frames.pad(np.array([short])))
    padded = model.encode(*frames.pad(np.array([long_, short])))[1]
    torch.testing.assert_close(alone[0], padded, rtol=1e-5, atol=1e-6)
    for kind in ("conv", "gru"):
        awe = ContrastiveAWE(13, kind, hidden=8, dim=6)
        torch.testing.assert_close(awe.encode(*frames.pad(np.array([short])))[0],
                                   awe.encode(*frames.pad(np.array([long_, short])))[1], rtol=1e-5, atol=1e-5)


def test_speech2vec_loss_decreases_on_toy_corpus(toy, tmp_path):
    store, frames = toy
    torch.manual_seed(0)
    model = Speech2Vec(13, dim=16, hidden=32)
    task = Speech2VecTask(model, frames, np.arange(store.n_segments), store.utterance_ids, 3, 32, 2, 0)
    result = train(task, LoopSettings(epochs=6, optimizer="adam", lr=1e-2, device="cpu", log_every=4,
                                      checkpoint_every=10_000), tmp_path)
    losses = [h[2] for h in result.history]
    assert result.finished and losses[-1] < 0.9 * losses[0]


def test_contrastive_loss_decreases_and_label_positives(toy, tmp_path):
    store, frames = toy
    torch.manual_seed(0)
    labels = np.array([int(w[1:]) for w in store.labels])
    model = ContrastiveAWE(13, "conv", hidden=16, dim=16)
    task = ContrastiveTask(model, frames, np.arange(store.n_segments), AugmentSettings(max_frames=60), 32, 2, 0,
                           labels=labels)
    batch = task.prepare(task.plan(0)[0], 123)
    assert torch.allclose(batch["targets"].sum(1), torch.ones(len(batch["targets"])))
    result = train(task, LoopSettings(epochs=4, optimizer="adam", lr=3e-3, device="cpu", log_every=4,
                                      checkpoint_every=10_000, name="acoustic"), tmp_path)
    losses = [h[2] for h in result.history]
    assert losses[-1] < 0.8 * losses[0]


def test_config_presets_round_trip_and_bad_values(tmp_path):
    paper = preset("paper")
    assert (paper.learner, paper.dim, paper.s2v_window, paper.optimizer, paper.lr) == ("speech2vec", 50, 3, "sgd", 1e-3)
    assert preset("unit-skipgram").learner == "unit-skipgram"
    paper.save(tmp_path / "c.json")
    assert load_config(tmp_path / "c.json") == paper
    (tmp_path / "c.toml").write_text('learner = "unit-skipgram"\ngrouping = "B"\nclusters = 50\n')
    cfg = load_config(tmp_path / "c.toml")
    assert (cfg.learner, cfg.grouping, cfg.clusters, cfg.uses_labels) == ("unit-skipgram", "B", 50, False)
    json.loads(json.dumps(cfg.to_dict()))
    with pytest.raises(WordbridgeError, match="grouping must be one of"):
        SpeechConfig(grouping="C")
    with pytest.raises(WordbridgeError, match="unknown setting.*bogus"):
        SpeechConfig.from_dict({"bogus": 1})
    (tmp_path / "bad.json").write_text("{\n  oops\n}")
    with pytest.raises(WordbridgeError, match=r"bad.json:2: not valid JSON"):
        load_config(tmp_path / "bad.json")
