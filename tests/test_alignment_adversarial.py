"""Adversarial training on SYNTHETIC spaces: NaN rollback, clipping, restarts and the auto fallback."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from alignment_helpers import sized_config

from core.alignment import AlignConfig, align
from core.alignment import adversarial
from core.alignment.base import RunLog
from core.alignment.synthetic import noisy_rotation, structured_space

torch.set_num_threads(1)
N, D = 800, 24


def tiny_adversarial(**kw) -> AlignConfig:
    """A few hundred adversarial iterations with a small discriminator: seconds on a CPU."""
    return sized_config(N, **{**dict(method="adversarial", restarts=1, adv_epochs=2, adv_epoch_size=32 * 60,
                                     dis_hidden_dim=32, health_check_every=10, n_refinement=2), **kw})


@pytest.fixture(scope="module")
def pair():
    src = structured_space(N, D, seed=0)
    tgt, _ = noisy_rotation(src, noise=0.05, seed=1)
    return src, tgt


def poison_map_step(monkeypatch, at_call: int, restart: int | None):
    """Make the `at_call`-th mapping step leave NaN in W (in one restart of the stack, or all)."""
    real_step, calls = adversarial.map_step, {"n": 0}

    def poisoned_step(dis, w, *args, **kwargs):
        calls["n"] += 1
        loss = real_step(dis, w, *args, **kwargs)
        if calls["n"] == at_call:
            (w if restart is None else w[restart]).fill_(float("nan"))
        return loss

    monkeypatch.setattr(adversarial, "map_step", poisoned_step)
    return calls


def test_nan_in_the_mapping_rolls_back_to_the_best_mapping(pair, monkeypatch):
    src, tgt = pair
    calls = poison_map_step(monkeypatch, 25, restart=None)
    result = align(src, tgt, tiny_adversarial(adv_epochs=1, n_refinement=0))
    assert calls["n"] > 25
    assert np.isfinite(result.mapping.W).all()
    assert any("NaN or divergence; rolled back to the best mapping" in line for line in result.log)
    assert np.isfinite(result.criterion)


def test_runs_trained_side_by_side_roll_back_independently(pair, monkeypatch):
    # what a GPU does with the restarts: one stack of maps and discriminators
    src, tgt = pair
    x = torch.from_numpy(src.vectors / np.linalg.norm(src.vectors, axis=1, keepdims=True))
    y = torch.from_numpy(tgt.vectors / np.linalg.norm(tgt.vectors, axis=1, keepdims=True))
    poison_map_step(monkeypatch, 25, restart=1)
    log = RunLog()
    runs = adversarial.train_adversarial(x, y, torch.eye(D).repeat(2, 1, 1), tiny_adversarial(), log, seed=0,
                                         labels=["run A", "run B"])
    rollbacks = [line for line in log.lines if "rolled back" in line]
    assert len(rollbacks) == 1 and "run B epoch 1 iteration 30" in rollbacks[0]
    for w, crit, history in runs:
        assert torch.isfinite(w).all() and np.isfinite(crit) and len(history) == 3  # epoch 0 + 2 epochs


def test_discriminator_sampling_limit_is_clipped_with_a_warning(pair):
    src, tgt = pair
    result = align(src, tgt, tiny_adversarial(dis_most_frequent=75_000, adv_epochs=1, n_refinement=0))
    assert any("dis_most_frequent=75000 is larger than the vocabulary (800 words); clipped to 800" in line
               for line in result.log)


def test_restarts_are_picked_by_the_criterion(pair):
    src, tgt = pair
    result = align(src, tgt, tiny_adversarial(restarts=2, adv_epochs=1, n_refinement=1))
    assert [r["restart"] for r in result.restarts] == [1, 2]
    # on a CPU the runs train one after another, each saying early what it will cost
    assert sum("adversarial training (1 run, 1 × 60 iterations) needs about" in line for line in result.log) == 2
    assert result.criterion == pytest.approx(max(r["criterion"] for r in result.restarts))


def test_auto_falls_back_to_the_robust_method_when_adversarial_collapses(pair):
    src, tgt = pair
    # a frozen map (learning rate 0) from the identity cannot find the random rotation: a collapse
    result = align(src, tgt, tiny_adversarial(method="auto", map_lr=0.0, adv_epochs=1, n_refinement=1))
    assert result.fallback and result.method_used == "selflearn"
    assert "adversarial alignment judged collapsed" in result.fallback_reason
    assert any("using the robust self-learning mapping instead" in line for line in result.log)
    assert float((result.dictionary[:, 0] == result.dictionary[:, 1]).mean()) >= 0.99
    assert result.summary()["fallback_used"] is True
    # both maps auto weighed are kept: the chosen robust one and the collapsed adversarial one
    assert set(result.candidates) == {"adversarial", "selflearn"}
    assert np.array_equal(result.candidates["selflearn"]["mapping"].W, result.mapping.W)
    assert result.candidates["adversarial"]["criterion"] < result.candidates["selflearn"]["criterion"]
    assert set(result.summary()["candidates"]["adversarial"]) == {"criterion", "seconds"}


@pytest.mark.parametrize("adv, robust, start, expected", [
    (0.80, 0.70, 0.60, ""),                                                   # adversarial kept
    (0.8281, 0.8283, 0.60, "the robust method scored higher (criterion 0.8281 below the robust method's 0.8283)"),
    (0.20, 0.70, 0.10, "adversarial alignment judged collapsed: criterion 0.2000 below the threshold 0.3000"),
    (0.55, 0.70, 0.60, "adversarial alignment judged collapsed: criterion 0.5500 below the robust start's 0.6000"),
])
def test_auto_verdict_calls_a_map_collapsed_only_where_the_criterion_says_so(adv, robust, start, expected):
    from core.alignment.pipeline import auto_verdict

    verdict = auto_verdict(adv, robust, start, AlignConfig(collapse_threshold=0.3))
    assert verdict.startswith(expected) and bool(verdict) == bool(expected)
