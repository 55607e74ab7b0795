"""Self-learning restarts from different starts, the multi-step final map and the frequency-aware
criterion, on SYNTHETIC spaces."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from alignment_helpers import sized_config

from core.alignment import AlignConfig, align
from core.alignment.base import RunLog, procrustes
from core.alignment.criterion import mean_csls_cosine
from core.alignment.mapping import preprocess_pair
from core.alignment.multistep import multistep_map
from core.alignment.pipeline import _with_frequent_criterion_words, frequent_rows
from core.alignment.selflearn import restart_start, robust_start
from core.alignment.synthetic import noisy_rotation, structured_space
from core.embeddings import Embeddings
from core.errors import WordbridgeError

torch.set_num_threads(1)
N, D = 800, 24


def small_config(**kw) -> AlignConfig:
    return sized_config(N, **{**dict(max_selflearn_iterations=15, n_refinement=1), **kw})


@pytest.fixture(scope="module")
def pair():
    src = structured_space(N, D, seed=0)
    tgt, rot = noisy_rotation(src, noise=0.05, seed=1)
    return src, tgt, rot


@pytest.fixture(scope="module")
def unit_pair(pair):
    src, tgt, rot = pair
    _, _, x, y = preprocess_pair(src.vectors, tgt.vectors, "unit,center,unit", True)
    return torch.from_numpy(x), torch.from_numpy(y), rot


def test_restart_starts_differ_and_reuse_the_first(unit_pair):
    x, y, _ = unit_pair
    cfg = small_config(init_vocab=400)
    log = RunLog()
    first = robust_start(x, y, cfg, log)
    starts = [restart_start(x, y, cfg, log, r, first=first) for r in range(4)]
    assert starts[0] is first
    # fractions 1, 0.5, 0.75 of 400 words; both directions give two pairs per word
    assert [len(s) for s in starts[:3]] == [800, 400, 600]
    # restart 4 (second cycle, fraction 1) keeps a random half of the full start's pairs
    full = {tuple(p) for p in first.tolist()}
    assert 0.3 * len(first) < len(starts[3]) < 0.7 * len(first)
    assert {tuple(p) for p in starts[3].tolist()} <= full
    again = restart_start(x, y, cfg, log, 3, first=first)
    assert torch.equal(again, starts[3])


def test_selflearn_restarts_are_picked_by_the_criterion(pair):
    src, tgt, _ = pair
    result = align(src, tgt, small_config(method="selflearn", restarts=3, restart_agreement=0.0))
    assert len(result.restarts) == 3
    assert len({r["start_pairs"] for r in result.restarts}) == 3
    assert result.criterion == pytest.approx(max(r["criterion"] for r in result.restarts))
    assert any("selflearn: kept run" in line for line in result.log)
    assert float((result.dictionary[:, 0] == result.dictionary[:, 1]).mean()) > 0.95


def test_selflearn_defaults_to_three_restarts():
    assert AlignConfig().n_restarts("selflearn") == 3
    assert AlignConfig().n_restarts("supervised") == 1
    assert AlignConfig(restarts=1).n_restarts("selflearn") == 1


def test_multistep_without_whitening_or_reweighting_is_procrustes(unit_pair):
    x, y, _ = unit_pair
    pairs = torch.stack([torch.arange(300), torch.arange(300)], 1)
    w = multistep_map(x, y, pairs, src_reweight=0.0, whiten=False)
    torch.testing.assert_close(w, procrustes(x[:300], y[:300]), atol=1e-5, rtol=0)


def test_multistep_without_reweighting_is_orthogonal_and_with_it_is_not(unit_pair):
    x, y, rot = unit_pair
    # noise much stronger on half of the target's directions: the canonical correlations differ,
    # so re-weighting by them changes the geometry
    gen = torch.Generator().manual_seed(4)
    noise_scale = torch.cat([torch.full((D // 2,), 0.02), torch.full((D - D // 2,), 0.3)])
    y_noisy = x @ torch.from_numpy(rot.astype(np.float32)).T + torch.randn(N, D, generator=gen) * noise_scale
    pairs = torch.stack([torch.arange(500), torch.arange(500)], 1)
    eye = torch.eye(D)
    w0 = multistep_map(x, y_noisy, pairs, src_reweight=0.0)
    torch.testing.assert_close(w0 @ w0.T, eye, atol=1e-4, rtol=0)
    w5 = multistep_map(x, y_noisy, pairs, src_reweight=0.5)
    gram = w5 @ w5.T
    assert float((gram / gram.diagonal().mean() - eye).abs().max()) > 0.1  # not a scaled rotation


def test_multistep_recovers_a_noisy_rotation(unit_pair):
    x, y, _ = unit_pair
    pairs = torch.stack([torch.arange(300), torch.arange(300)], 1)
    w = multistep_map(x, y, pairs, src_reweight=0.5)
    mapped = x @ w.T
    mapped = mapped / mapped.norm(dim=1, keepdim=True)
    nearest = (mapped @ y.T).argmax(1)
    assert float((nearest == torch.arange(N)).float().mean()) > 0.95


def test_multistep_rejects_an_empty_dictionary(unit_pair):
    x, y, _ = unit_pair
    with pytest.raises(WordbridgeError, match="dictionary is empty"):
        multistep_map(x, y, torch.zeros((0, 2), dtype=torch.int64))


@pytest.mark.parametrize("method", ["supervised", "selflearn"])
def test_align_with_the_multistep_final_map(pair, method):
    src, tgt, _ = pair
    seeds = np.stack([np.arange(200), np.arange(200)], 1) if method == "supervised" else None
    result = align(src, tgt, small_config(method=method, restarts=1, multistep=True), seed_pairs=seeds)
    assert any("multi-step final map" in line for line in result.log)
    assert result.criterion_history[-1]["stage"] == "multistep"
    assert float((result.dictionary[:, 0] == result.dictionary[:, 1]).mean()) > 0.95


def with_counts(emb: Embeddings, counts) -> Embeddings:
    return Embeddings(emb.words, emb.vectors, np.asarray(counts, dtype=np.int64), emb.language)


def test_criterion_words_are_limited_to_frequent_words(pair):
    src, tgt, _ = pair
    counts_src = np.where(np.arange(N) < 500, 50, 3)
    counts_tgt = np.where(np.arange(N) < 600, 50, 4)
    s, t = with_counts(src, counts_src), with_counts(tgt, counts_tgt)
    assert frequent_rows(s, 5) == 500 and frequent_rows(src, 5) == N
    log = RunLog()
    cfg = _with_frequent_criterion_words(small_config(), s, t, log)
    assert cfg.criterion_words == 500
    assert any("criterion over the top 500 words" in line for line in log.lines)
    assert _with_frequent_criterion_words(small_config(), src, tgt, log).criterion_words == N
    assert _with_frequent_criterion_words(small_config(criterion_min_count=0), s, t, log).criterion_words == N
    # a limit already below the frequent words stays as it is
    assert _with_frequent_criterion_words(small_config(criterion_words=100), s, t, log).criterion_words == 100


def test_criterion_falls_back_to_every_word_when_almost_none_is_frequent(pair):
    src, tgt, _ = pair
    s = with_counts(src, np.ones(N))
    log = RunLog()
    assert _with_frequent_criterion_words(small_config(), s, tgt, log).criterion_words == N
    assert any("fewer than 2 words seen 5+ times" in line for line in log.lines)


def test_align_reports_the_frequency_limited_criterion(pair):
    src, tgt, _ = pair
    s = with_counts(src, np.where(np.arange(N) < 500, 50, 3))
    seeds = np.stack([np.arange(200), np.arange(200)], 1)
    result = align(s, tgt, small_config(method="supervised"), seed_pairs=seeds)
    assert any("criterion over the top 500 words" in line for line in result.log)
    _, _, x, y = preprocess_pair(s.vectors, tgt.vectors, "unit,center,unit", True)
    expected = mean_csls_cosine(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(result.mapping.W),
                                n_words=500, backend="torch")
    assert result.criterion == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("field,value,message", [
    ("start_vocab_fractions", (0.0,), "start_vocab_fractions must be fractions"),
    ("start_vocab_fractions", (), "start_vocab_fractions must be fractions"),
    ("multistep_reweight", -1.0, "multistep_reweight must be at least 0"),
])
def test_bad_restart_and_multistep_settings_are_rejected(pair, field, value, message):
    src, tgt, _ = pair
    with pytest.raises(WordbridgeError, match=message):
        align(src, tgt, small_config(method="selflearn", **{field: value}))



def test_selflearn_stops_restarting_when_two_runs_agree(pair):
    src, tgt, _ = pair
    agreeing = align(src, tgt, small_config(method="selflearn", restarts=3))
    assert len(agreeing.restarts) == 2  # an easy rotation: runs 1 and 2 reach the same optimum
    assert any("reached the same optimum" in line for line in agreeing.log)
    every = align(src, tgt, small_config(method="selflearn", restarts=3, restart_agreement=0.0))
    assert len(every.restarts) == 3 and every.criterion == pytest.approx(agreeing.criterion, abs=1e-3)
    with pytest.raises(WordbridgeError, match="restart_agreement must be 0 or more"):
        small_config(restart_agreement=-1.0).validate()
