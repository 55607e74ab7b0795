"""core.projection: PCA with % variance, UMAP with progress and Cancel, sampling, placing new points."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import Cancelled, WordbridgeError
from core.progress import Progress
from core import projection as proj
from core.vectors import unit_rows


def _clusters(n_per=30, dim=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)) * 5
    return np.vstack([c + rng.normal(size=(n_per, dim)) for c in centres]).astype(np.float32)


def test_pca_variance_and_coordinates():
    rng = np.random.default_rng(0)
    x = np.zeros((200, 5), np.float32)
    x[:, 0] = rng.normal(size=200) * 10
    x[:, 1] = rng.normal(size=200) * 3
    x[:, 2:] = rng.normal(size=(200, 3)) * 0.1
    layout = proj.pca_layout(x)
    assert layout.coords.shape == (200, 2) and layout.method == "pca"
    v1, v2 = layout.explained_variance
    assert v1 > 0.85 and 0.05 < v2 < 0.15 and v1 + v2 < 1.0
    assert abs(np.corrcoef(layout.coords[:, 0], x[:, 0])[0, 1]) > 0.99


def test_pca_needs_two_points():
    with pytest.raises(WordbridgeError, match="at least 2 points"):
        proj.pca_layout(np.zeros((1, 4)))


def test_unknown_method_is_a_user_error():
    with pytest.raises(WordbridgeError, match="unknown projection method 'tsne'"):
        proj.compute_layout(np.zeros((5, 3)), "tsne")


def test_knn_cosine_is_exact():
    x = _clusters()
    idx, dist = proj.knn_cosine(x, 5, chunk=17)
    xn = unit_rows(x)
    sims = xn @ xn.T
    np.fill_diagonal(sims, 2)
    expected = np.argsort(-sims, axis=1)[:, :5]
    assert (idx[:, 0] == np.arange(len(x))).all()
    assert (idx[:, 1:] == expected[:, 1:]).mean() > 0.99
    assert (dist[:, 0] == 0).all() and (np.diff(dist, axis=1) >= -1e-6).all()


@pytest.mark.slow
def test_umap_reports_epochs_and_can_be_cancelled():
    x = _clusters(n_per=20)
    seen = []
    progress = Progress(lambda stage, done, total, metrics: seen.append((stage, done, total)))
    layout = proj.umap_layout(x, n_neighbors=10, seed=0, progress=progress)
    assert layout.coords.shape == (60, 2) and np.isfinite(layout.coords).all()
    assert any(stage == "UMAP layout" and total for stage, _d, total in seen)
    # the three clusters stay apart: each point's nearest 2-D neighbour is in its own cluster
    labels = np.repeat(np.arange(3), 20)
    d = np.linalg.norm(layout.coords[:, None] - layout.coords[None], axis=2)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(axis=1)] == labels).mean() > 0.95

    def cancel_at_epoch_10(stage, done, total, metrics):
        if stage == "UMAP layout" and done >= 10:
            progress2.cancel()

    progress2 = Progress(cancel_at_epoch_10)
    with pytest.raises(Cancelled):
        proj.umap_layout(x, n_neighbors=10, progress=progress2)


def test_sample_counts_share_fairly():
    assert proj.sample_counts([10, 20], 100) == [10, 20]
    assert proj.sample_counts([1000, 1000, 10], 100) == [45, 45, 10]
    assert sum(proj.sample_counts([500, 300, 7], 250)) == 250
    assert proj.sample_counts([5, 5], 0) == [5, 5]


def test_place_points_lands_among_neighbours():
    x = _clusters()
    layout = proj.pca_layout(x)
    query = x[5] + 0.01
    coords, nearest = proj.place_points(query, x, layout.coords, k=5)
    assert nearest[0, 0] == 5
    assert np.linalg.norm(coords[0] - layout.coords[5]) < np.linalg.norm(layout.coords[5] - layout.coords[40])
    with pytest.raises(WordbridgeError, match="3 reference vectors but 2 coordinates"):
        proj.place_points(query, x[:3], layout.coords[:2])


def test_joint_projection_is_cached_in_the_project(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import make_fixture_project as fixture

    project = fixture.build_fixture_project(tmp_path / "p", n_words=12, n_distractors=4)
    entry = proj.compute_joint_projection(project, "pca", aligned=True, max_points=20)
    assert entry.id == "joint-pca-after" and entry.mapping == "speech-en__text-en"
    assert entry.n_points == 20 and entry.params["sampled"] and entry.params["total_points"] == 12 + 16 + 12
    cached = project.projection("joint-pca-after")
    assert [g.space for g in cached.groups] == ["speech-en", "text-en", "text-fr"]
    # after alignment a speech type and its English word are close in the aligned space
    points = proj.joint_points(project, None, aligned=True, max_points=0)
    speech, english = points.vectors[:12], points.vectors[12:24]
    assert np.mean(np.sum(speech * english, axis=1)) > 0.9
    before = proj.joint_points(project, None, aligned=False, max_points=0)
    assert np.mean(np.sum(before.vectors[:12] * before.vectors[12:24], axis=1)) < 0.5


def test_points_csv(tmp_path):
    proj.write_points_csv(tmp_path / "c.csv", [("s", "speech", "en", "a,b", 1.0, 2.5)])
    assert (tmp_path / "c.csv").read_text().splitlines() == ["space,modality,language,word,x,y",
                                                              's,speech,en,"a,b",1,2.5']


def test_inverse_of_a_non_orthogonal_mapping_round_trips():
    # text-en is the source of a mapping to text-fr whose W is not orthogonal (AlignConfig.multistep);
    # bringing French vectors into the English side must undo x @ W.T, which W.T alone does not
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    W = (rng.normal(size=(6, 6)) + 3 * np.eye(6)).astype(np.float32)
    assert not np.allclose(W @ W.T, np.eye(6), atol=0.1)
    link = SimpleNamespace(id="en__fr", source="text-en", target="text-fr")
    project = SimpleNamespace(mapping=lambda mid: SimpleNamespace(W=W, arrays={}, metadata={}))
    shown = SimpleNamespace(source="speech-en", target="text-en")  # the mapping on display
    to_en = proj._space_map(project, "text-fr", None, True, shown, None, {"text-fr": link})
    english = unit_rows(rng.normal(size=(20, 6)).astype(np.float32))
    french = english @ W.T
    back = unit_rows(to_en(french))
    assert np.allclose(back, english, atol=1e-4)
    assert not np.allclose(unit_rows(unit_rows(french) @ W), english, atol=0.1)  # the old transpose
