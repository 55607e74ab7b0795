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


def test_one_product_gives_the_same_similarities_and_votes_as_a_plain_search():
    rng = np.random.default_rng(4)
    enc = unit_rows(rng.normal(size=(50, 6)).astype(np.float32))
    types = rng.integers(0, 9, size=50)
    query = unit_rows(rng.normal(size=(4, 6)).astype(np.float32))
    sims, (v1, v2) = ex.ExemplarIndex(enc, types, 9).scores(query, [(5, 0.05), (12, 0.03)], chunk=3)
    for q, s, a, b in zip(query, sims, v1, v2):
        cos = enc @ q
        for t in range(9):  # a type's cosine is its nearest exemplar's (-2 without exemplars)
            assert s[t] == pytest.approx(cos[types == t].max() if (types == t).any() else -2.0, abs=1e-6)
        for votes, k, tau in ((a, 5, 0.05), (b, 12, 0.03)):
            near = np.argsort(-cos)[:k]
            expected = np.zeros(9)
            np.add.at(expected, types[near], np.exp((cos[near] - cos[near].max()) / tau))
            np.testing.assert_allclose(votes, expected, rtol=1e-5)


def test_cap_keeps_at_most_n_of_a_type_spread_over_its_rows():
    types = np.array([0] * 10 + [1] * 3 + [2] * 25 + [0] * 10)
    keep = ex.cap_per_type(types, 4)
    assert list(keep) == sorted(keep)
    assert np.bincount(types[keep]).tolist() == [4, 3, 4]
    assert list(keep[types[keep] == 0]) == [0, 5, 10 + 3 + 25, 10 + 3 + 25 + 5]  # spread over all 20 rows
    np.testing.assert_array_equal(ex.cap_per_type(types, 4), keep)  # no random state
    assert len(ex.cap_per_type(types, None)) == len(types)
    with pytest.raises(ValueError, match="max_per_type must be at least 1, not 0"):
        ex.cap_per_type(types, 0)
    assert ex.stored_megabytes(500_000, 128) == pytest.approx(130.0)  # float16 rows + int32 types


def test_the_automatic_cap_keeps_every_segment_of_a_small_corpus_only():
    assert ex.resolve_cap(ex.MAX_EXEMPLARS) is None
    assert ex.resolve_cap(ex.MAX_EXEMPLARS + 1) == ex.MAX_PER_TYPE
    assert ex.resolve_cap(10**9, None) is None and ex.resolve_cap(10, 3) == 3  # a given cap is kept
    weights, config, segments, enc = _exemplar_encoder()
    new_weights, new_config = ex.attach(weights, config, enc, np.zeros(len(enc), dtype=np.int64))
    assert len(new_weights[ex.EXEMPLARS]) == len(enc) and new_config["type_exemplars"]["max_per_type"] is None


def _two_way_types(n_types: int = 12, dim: int = 12, n: int = 600, seed: int = 1):
    """Each type said two ways (two tight clusters): its centroid lies between them, so only the
    exemplars name the type of a held-out segment reliably. One segment per utterance."""
    rng = np.random.default_rng(seed)
    modes = unit_rows(rng.normal(size=(n_types * 2, dim))).reshape(n_types, 2, dim)
    types = np.arange(n) % n_types
    enc = np.array([modes[t, (u // n_types) % 2] + 0.05 * rng.normal(size=dim) for u, t in enumerate(types)])
    return unit_rows(enc.astype(np.float32)), types, [f"u{u}" for u in range(n)]


def test_calibration_on_types_needs_no_map_and_prefers_exemplars():
    enc, types, groups = _two_way_types()
    result = ex.calibrate(enc, types, 12, groups, candidates=(1, 3), max_per_type=10)
    assert result["measure"] == "types"
    assert result["chosen"]["similarity"] == "exemplars"
    assert result["variants"]["exemplars"][1]["top1"] == pytest.approx(1.0)
    assert result["exemplars"] == 12 * 10  # the capped exemplars, as they would be stored
    assert result["segments"] == result["held_out_segments"] and result["segments"] + result["fit_segments"] == 600
    assert ex.calibrate(enc, types, 12, groups, candidates=(1,), max_queries=7)["segments"] == 7
    with pytest.raises(ValueError, match="give both truths and type_words"):
        ex.calibrate(enc, types, 12, groups, truths=[f"w{t}" for t in types])


def test_attach_caps_the_stored_exemplars_and_keeps_the_given_dicts():
    weights, config, segments, enc = _exemplar_encoder()
    types = np.zeros(len(enc), dtype=np.int64)  # 12 exemplars of type 0
    new_weights, new_config = ex.attach(weights, config, enc, types, 4, votes={"k": 3, "tau": 0.05}, max_per_type=5)
    assert len(new_weights[ex.EXEMPLARS]) == 5 and new_weights[ex.EXEMPLARS].dtype == np.float16
    assert new_config["type_exemplars"]["n"] == 5 and new_config["type_exemplars"]["of"] == 12
    assert new_config["type_candidates"] == 4 and new_config["type_votes"] == {"k": 3, "tau": 0.05}
    assert ex.EXEMPLARS not in weights and "type_candidates" not in config  # the given dicts are unchanged
    assert ClipEncoder(new_weights, new_config).exemplars is not None
    with pytest.raises(WordbridgeError, match="only a unit-skipgram encoder has them"):
        ex.attach(weights, {**config, "learner": "speech2vec"}, enc, types)


def _run_folder(tmp_path, enc, types, groups):
    """A finished run's segments.safetensors (what core.speech.runner writes) and its store."""
    from core.atomic import save_safetensors
    from core.corpus.feature_store import InMemoryFeatureStore
    from core.speech.runner import SEGMENTS_FILE

    run = tmp_path / "run"
    run.mkdir()
    save_safetensors(run / SEGMENTS_FILE, {"embedding": enc, "type_of": np.asarray(types, dtype=np.int64)})
    utterances = [int(g[1:]) for g in groups]
    store = InMemoryFeatureStore([np.zeros((3, 2), np.float32)] * len(enc), utterances, np.zeros(len(enc)),
                                 labels=[f"w{t}" for t in types], speakers=["s"] * len(enc))
    return run, store


def test_a_trained_space_gets_exemplars_chosen_on_its_types(tmp_path):
    from core.project import Project
    from core.speech.project_space import exemplar_summary, store_speech_space

    enc, types, groups = _two_way_types()
    types = types.copy()
    types[::50] = -1  # segments without a type are no exemplars
    run, store = _run_folder(tmp_path, enc, types, groups)
    chosen = ex.for_training_run(run, store, "unit-skipgram", "A", 12, max_per_type=20)
    assert chosen["stored"] and chosen["calibration"]["measure"] == "types"
    assert chosen["of"] == 600 - 12 and chosen["n"] == 12 * 20
    assert chosen["megabytes"] == pytest.approx(ex.stored_megabytes(240, 12), abs=1e-3)
    project = Project.create(tmp_path / "p", "exemplar test", synthetic_speech=True,
                             synthetic_speech_note="random frames, not speech")
    space = _type_space("unit-skipgram", 12)
    store_speech_space(project, space, FEATURES, "speech-x", "en", exemplars=chosen)
    weights, config = Project.open(tmp_path / "p").encoder("speech-x-encoder")
    assert len(weights[ex.EXEMPLARS]) == 240 and config["type_exemplars"]["max_per_type"] == 20
    assert config["type_candidates"] == chosen["type_candidates"]
    summary = exemplar_summary(chosen)
    assert summary["nearest_type_right"] == pytest.approx(1.0) and summary["centroids_nearest_type_right"] < 0.9
    assert "exemplars" not in summary and "calibration" not in summary  # no arrays in what is reported


def test_spaces_without_label_types_get_no_exemplars(tmp_path):
    enc, types, groups = _two_way_types()
    run, store = _run_folder(tmp_path, enc, types, groups)
    kmeans = ex.for_training_run(run, store, "unit-skipgram", "B", 12)
    assert not kmeans["stored"] and "configuration B: its types are k-means clusters" in kmeans["why"]
    assert "unit-skipgram" in ex.for_training_run(run, store, "speech2vec", "A", 12)["why"]
    one_utterance = tmp_path / "one"
    one_utterance.mkdir()
    run1, store1 = _run_folder(one_utterance, enc, types, ["u0"] * len(enc))
    assert ex.for_training_run(run1, store1, "unit-skipgram", "A", 12) == {
        "stored": False, "why": "1 training utterances are too few to hold some out and choose them on"}
    (run / "segments.safetensors").unlink()
    from core.errors import InputFileError

    with pytest.raises(InputFileError, match="segment encodings are needed for type exemplars"):
        ex.for_training_run(run, store, "unit-skipgram", "A", 12)
