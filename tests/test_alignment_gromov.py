"""The Gromov–Wasserstein start of self-learning (core.alignment.gromov), on SYNTHETIC spaces."""

from __future__ import annotations

import pytest
import torch
from alignment_helpers import sized_config

from core.alignment import AlignConfig, align
from core.alignment.base import RunLog
from core.alignment.gromov import gromov_start, gw_coupling
from core.alignment.synthetic import noisy_rotation, structured_space
from core.errors import WordbridgeError
from core.errors import Cancelled

torch.set_num_threads(1)


def rotated_permuted_cloud(n=150, d=10, seed=0):
    """x, y = a noisy rotation of x with rows shuffled, and the row of y that each x row became."""
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    perm = torch.randperm(n, generator=g)
    y = torch.nn.functional.normalize((x @ q)[perm] + 0.01 * torch.randn(n, d, generator=g, dtype=torch.float64),
                                      dim=1)
    where = torch.empty(n, dtype=torch.long)
    where[perm] = torch.arange(n)
    return x.float(), y.float(), where


def test_gw_start_pairs_a_shuffled_rotation_from_distances_alone():
    x, y, where = rotated_permuted_cloud()
    pairs = gromov_start(x, y, AlignConfig(gw_source_words=150, gw_target_words=150), RunLog(), 0.01)
    assert pairs.shape == (150, 2)
    assert torch.equal(pairs[:, 0], torch.arange(150))
    assert float((pairs[:, 1] == where).float().mean()) > 0.9


def test_gw_coupling_is_a_transport_plan_with_uniform_marginals():
    x, y, _ = rotated_permuted_cloud(n=60)
    cx = 1 - x.double() @ x.double().T
    cy = 1 - y[:40].double() @ y[:40].double().T
    t = gw_coupling(cx, cy, eps=0.05)
    assert t.shape == (60, 40) and bool((t >= 0).all())
    assert torch.allclose(t.sum(1), torch.full((60,), 1 / 60, dtype=t.dtype), atol=1e-6)
    assert torch.allclose(t.sum(0), torch.full((40,), 1 / 40, dtype=t.dtype), atol=1e-6)


def test_selflearn_runs_one_gw_start_per_entropy_and_target_size_first_and_keeps_the_best_by_the_criterion():
    n = 400
    src = structured_space(n, 16, seed=0)
    tgt, _ = noisy_rotation(src, noise=0.05, seed=1)
    cfg = sized_config(n, method="selflearn", restarts=2, gw_start=True, gw_source_words=200,
                       gw_target_words=(200, 300), gw_epsilons=(0.02, 0.05), max_selflearn_iterations=15,
                       n_refinement=1, restart_agreement=1.0)  # every run "agrees": only robust runs may stop
    result = align(src, tgt, cfg)
    assert [r["start"] for r in result.restarts] == ["gromov ε 0.02, 200 words", "gromov ε 0.05, 200 words",
                                                     "gromov ε 0.02, 300 words", "gromov ε 0.05, 300 words",
                                                     "robust"]
    assert result.criterion == pytest.approx(max(r["criterion"] for r in result.restarts))
    assert any("Gromov–Wasserstein start: 200 × 300 words, ε 0.05" in line for line in result.log)
    assert float((result.dictionary[:, 0] == result.dictionary[:, 1]).mean()) > 0.95


def test_gw_starts_take_one_target_size_or_several():
    assert AlignConfig(gw_epsilons=(0.005, 0.01)).gw_starts() == [(0.005, 2000), (0.01, 2000), (0.005, 3000),
                                                                  (0.01, 3000)]
    assert AlignConfig(gw_target_words=1500, gw_epsilons=(0.01,)).gw_starts() == [(0.01, 1500)]


def test_gw_settings_are_checked():
    with pytest.raises(WordbridgeError, match=r"gw_epsilons must be entropies above 0 \(got \(0.01, 0\)\)"):
        AlignConfig(gw_epsilons=(0.01, 0)).validate()
    with pytest.raises(WordbridgeError, match="gw_epsilons must be entropies above 0"):
        AlignConfig(gw_epsilons=()).validate()
    with pytest.raises(WordbridgeError, match="gw_source_words must be at least 1"):
        AlignConfig(gw_source_words=0).validate()
    with pytest.raises(WordbridgeError, match=r"gw_target_words must be word counts of at least 1 \(got \(2000, 0\)\)"):
        AlignConfig(gw_target_words=(2000, 0)).validate()
    with pytest.raises(WordbridgeError, match="gw_target_words must be word counts of at least 1"):
        AlignConfig(gw_target_words=()).validate()


def test_gw_start_stops_when_cancelled():
    class Stop:
        def check(self):
            raise Cancelled()

        def log(self, message):
            pass

    x, y, _ = rotated_permuted_cloud(n=50)
    with pytest.raises(Cancelled):
        gromov_start(x, y, AlignConfig(gw_source_words=50, gw_target_words=50), RunLog(Stop()), 0.01)
