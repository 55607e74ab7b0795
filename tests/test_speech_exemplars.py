"""Type exemplars (core.speech.exemplars): nearest-exemplar type scores, the calibration choice, and
their use by the stored encoder and the classifier's clip path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.classify import TYPE_CANDIDATES, merge_by_rank, type_candidates
from core.errors import WordbridgeError
from core.speech import exemplars as ex
from core.speech.encode import ClipEncoder, pack_type_space
from core.vectors import unit_rows
from tests.test_speech_encode import FEATURES, _segments, _type_space

torch.set_num_threads(1)


def test_similarity_is_the_nearest_exemplar_of_each_type():
    rng = np.random.default_rng(0)
    enc = unit_rows(rng.normal(size=(30, 8)).astype(np.float32))
    types = rng.integers(0, 5, size=30)
    types[types == 3] = 4  # type 3 has no exemplar
    query = unit_rows(rng.normal(size=(7, 8)).astype(np.float32))
    got = ex.ExemplarIndex(enc, types, 5).similarities(query, chunk=3)
    for t in range(5):
        if t == 3:
            assert (got[:, t] == -2).all()  # below any cosine: never chosen over a type with exemplars
        else:
            np.testing.assert_allclose(got[:, t], (query @ enc[types == t].T).max(axis=1), rtol=1e-6)


def test_held_out_slice_is_whole_groups_and_fixed():
    groups = [f"utt{i // 4}" for i in range(4000)]
    mask = ex.held_out_mask(groups, 0.1)
    np.testing.assert_array_equal(mask, ex.held_out_mask(groups, 0.1))  # no random state
    for g in range(1000):  # an utterance is held out whole or not at all
        assert len(set(mask[4 * g:4 * g + 4])) == 1
    assert 0.07 < mask.mean() < 0.13


def test_merged_top_is_the_classifiers_merge_by_rank():
    from core.classify import Candidate, Classification

    lists = [["a", "b", "c"], ["b", "d"], ["e", "a", "f"]]
    results = [Classification("csls", {"t": [Candidate(w, 1.0 - 0.1 * i) for i, w in enumerate(words)]}, [], {},
                              set()) for words in lists]
    assert ex.merged_top(lists, 4) == [c.word for c in merge_by_rank(results, 4).by_space["t"]]


def test_calibration_prefers_exemplars_when_a_type_is_two_clusters():
    # each type is said two ways (two tight clusters); its centroid lies between them and near
    # other types' centroids, so only the exemplars name the type of a held-out segment reliably
    rng = np.random.default_rng(1)
    n_types, dim = 12, 16
    modes = unit_rows(rng.normal(size=(n_types, 2, dim)).reshape(-1, dim)).reshape(n_types, 2, dim)
    enc, types, groups = [], [], []
    for u in range(600):
        t, mode = u % n_types, (u // n_types) % 2
        enc.append(modes[t, mode] + 0.05 * rng.normal(size=dim))
        types.append(t)
        groups.append(f"u{u}")
    enc, types = unit_rows(np.array(enc, dtype=np.float32)), np.array(types)
    truths = [f"w{t}" for t in types]
    result = ex.calibrate(enc, types, n_types, groups, truths, lambda row: [f"w{row}", f"x{row}"],
                          candidates=(1, 3))
    assert result["chosen"]["similarity"] == "exemplars"
    assert result["variants"]["exemplars"][1]["top1"] == pytest.approx(1.0)
    assert result["segments"] + result["fit_segments"] == 600


def _exemplar_encoder(n_types: int = 6):
    space = _type_space("unit-skipgram", n_types)
    weights, config = pack_type_space(space, FEATURES)
    segments = _segments(12, seed=5)
    enc = ex.encode_segments(ClipEncoder(weights, config), segments, batch=5)
    return weights, config, segments, enc


def test_batched_encoding_is_the_one_at_a_time_encoding():
    weights, config, segments, enc = _exemplar_encoder()
    one = ClipEncoder(weights, config)
    np.testing.assert_allclose(enc, unit_rows(np.stack([one.encode_features(s) for s in segments])), atol=1e-5)


def test_stored_exemplars_name_the_nearest_types_and_set_the_candidates():
    weights, config, segments, enc = _exemplar_encoder()
    types = np.arange(len(enc)) % 6
    weights = {**weights, ex.EXEMPLARS: enc.astype(np.float16), ex.EXEMPLAR_TYPES: types.astype(np.int32)}
    encoder = ClipEncoder(weights, {**config, "type_candidates": 5})
    assert type_candidates(encoder) == 5
    for s, t in zip(segments, types):  # a training segment is its own nearest exemplar (cosine ~1)
        row, sim = encoder.nearest_type(encoder.encode_features(s))
        assert row == t and sim == pytest.approx(1.0, abs=2e-3)
    assert type_candidates(ClipEncoder(*pack_type_space(_type_space("unit-skipgram"), FEATURES))) == TYPE_CANDIDATES
    with pytest.raises(WordbridgeError, match="exemplar"):
        ClipEncoder({**weights, ex.EXEMPLAR_TYPES: np.full(len(enc), 99, dtype=np.int32)}, config)


def test_exemplars_go_into_a_projects_encoder_and_come_out(tmp_path):
    from core.classify import clip_embedder
    from core.project import Project

    weights, config, segments, enc = _exemplar_encoder()
    project = Project.create(tmp_path / "p", "exemplar test", synthetic_speech=True,
                             synthetic_speech_note="random frames, not speech")
    project.set_encoder("enc", weights, config)
    stored = ex.add_to_encoder(project, enc, np.arange(len(enc)) % 6, 7, note="test")
    assert stored["type_candidates"] == 7 and stored["type_exemplars"]["n"] == len(enc)
    embed = clip_embedder(Project.open(tmp_path / "p"))
    assert embed.exemplars is not None and type_candidates(embed) == 7
    ex.add_to_encoder(project, None, None, None)  # back to centroids only
    embed = clip_embedder(Project.open(tmp_path / "p"))
    assert embed.exemplars is None and type_candidates(embed) == TYPE_CANDIDATES


def test_votes_sum_over_the_nearest_exemplars_and_order_voted_types_first():
    rng = np.random.default_rng(3)
    enc = unit_rows(rng.normal(size=(40, 6)).astype(np.float32))
    types = rng.integers(0, 8, size=40)
    query = unit_rows(rng.normal(size=(5, 6)).astype(np.float32))
    index = ex.ExemplarIndex(enc, types, 8)
    got = index.votes(query, 7, 0.05, chunk=2)
    for q, row in zip(query, got):
        sims = enc @ q
        near = np.argsort(-sims)[:7]
        expected = np.zeros(8)
        np.add.at(expected, types[near], np.exp((sims[near] - sims[near].max()) / 0.05))
        np.testing.assert_allclose(row, expected, rtol=1e-5)
    key = ex.ranking_key(index.similarities(query), got)
    for row, k in zip(got, key):  # every voted type before every other, the others by cosine
        assert k[row > 0].min() > k[row == 0].max()


def test_an_encoder_with_votes_orders_types_by_them():
    weights, config, segments, enc = _exemplar_encoder()
    types = np.arange(len(enc)) % 6
    weights = {**weights, ex.EXEMPLARS: enc, ex.EXEMPLAR_TYPES: types.astype(np.int32)}
    encoder = ClipEncoder(weights, {**config, "type_votes": {"k": 4, "tau": 0.05}})
    e = unit_rows(encoder.encode_features(segments[0])[None])[0]
    votes = encoder.exemplars.votes(e[None], 4, 0.05)[0]
    rows = [r for r, _ in encoder.nearest_types(encoder.encode_features(segments[0]), 6)]
    assert rows[:int((votes > 0).sum())] == list(np.argsort(-votes)[:int((votes > 0).sum())])
