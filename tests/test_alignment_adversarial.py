"""Adversarial training on SYNTHETIC spaces: NaN rollback, clipping, restarts and the auto fallback."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from alignment_helpers import sized_config

from core.alignment import AlignConfig, align
from core.alignment import adversarial
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


def test_nan_in_the_mapping_rolls_back_to_the_best_mapping(pair, monkeypatch):
    src, tgt = pair
    real_step, calls = adversarial.map_step, {"n": 0}

    def poisoned_step(dis, w, *args, **kwargs):
        calls["n"] += 1
        loss = real_step(dis, w, *args, **kwargs)
        if calls["n"] == 25:
            w.fill_(float("nan"))
        return loss

    monkeypatch.setattr(adversarial, "map_step", poisoned_step)
    result = align(src, tgt, tiny_adversarial(adv_epochs=1, n_refinement=0))
    assert calls["n"] > 25
    assert np.isfinite(result.mapping.W).all()
    assert any("NaN or divergence; rolled back to the best mapping" in line for line in result.log)
    assert np.isfinite(result.criterion)


def test_discriminator_sampling_limit_is_clipped_with_a_warning(pair):
    src, tgt = pair
    result = align(src, tgt, tiny_adversarial(dis_most_frequent=75_000, adv_epochs=1, n_refinement=0))
    assert any("dis_most_frequent=75000 is larger than the vocabulary (800 words); clipped to 800" in line
               for line in result.log)


def test_restarts_are_picked_by_the_criterion(pair):
    src, tgt = pair
    result = align(src, tgt, tiny_adversarial(restarts=2, adv_epochs=1, n_refinement=1))
    assert [r["restart"] for r in result.restarts] == [1, 2]
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
