"""Adversarial training (MUSE) recovers a SYNTHETIC noisy rotation; W stays orthogonal while it trains."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.alignment import AlignConfig, adversarial, align
from core.alignment.synthetic import noisy_rotation, structured_space

torch.set_num_threads(1)


def test_orthogonalize_pulls_a_drifted_map_back_within_the_tolerance():
    gen = torch.Generator().manual_seed(0)
    w = torch.eye(16) + 0.05 * torch.randn(16, 16, generator=gen)
    adversarial.orthogonalize(w, beta=0.001)
    assert float((w.T @ w - torch.eye(16)).abs().max()) <= adversarial.ORTHOGONAL_TOLERANCE
    drifted = torch.eye(16) + 0.05 * torch.randn(16, 16, generator=torch.Generator().manual_seed(0))
    assert float((drifted.T @ drifted - torch.eye(16)).abs().max()) > 10 * adversarial.ORTHOGONAL_TOLERANCE


def test_orthogonalize_leaves_an_orthogonal_map_alone():
    q, _ = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(1)))
    w = q.clone()
    adversarial.orthogonalize(w, beta=0.001)
    assert torch.allclose(w, q, atol=1e-5)


def test_structured_space_is_anisotropic():
    vectors = structured_space(3000, 32, seed=0).vectors.astype(np.float64)
    variances = np.linalg.eigvalsh(np.cov(vectors.T))[::-1]
    assert variances[0] / variances[-1] > 20


def recover_small_rotation(device: str, restarts: int = 1):
    n, d = 2000, 32
    src = structured_space(n, d, seed=0)
    tgt, rot = noisy_rotation(src, noise=0.05, seed=1)
    cfg = AlignConfig(method="adversarial", device=device, backend="torch", restarts=restarts, adv_epochs=2,
                      adv_epoch_size=48_000, dis_hidden_dim=256, n_refinement=3)
    result = align(src, tgt, cfg)
    p_at_1 = float((result.dictionary[:, 0] == result.dictionary[:, 1]).mean())
    return result, p_at_1, np.linalg.norm(result.mapping.W - rot)


def test_adversarial_recovers_a_small_noisy_rotation():
    _, p_at_1, distance = recover_small_rotation("cpu")
    assert p_at_1 >= 0.99
    assert distance < 0.5  # a random orthogonal map is ≈ 8 away


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the recorded CUDA graph needs a GPU")
def test_adversarial_recovers_a_small_noisy_rotation_from_a_recorded_cuda_graph():
    # on CUDA the 3 restarts train side by side in one recorded graph
    result, p_at_1, distance = recover_small_rotation("cuda", restarts=3)
    assert not any("could not record" in line for line in result.log)
    assert len(result.restarts) == 3
    assert p_at_1 >= 0.99
    assert distance < 0.5
