"""Replacing a map keeps the previous one for Revert; layouts after alignment become stale; text
spaces trained from a corpus or imported into a project (core only, no Qt)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from core.errors import Cancelled, WordbridgeError  # noqa: E402
from core.mapping_history import (has_previous, mark_layouts_stale, replacing_map, revert_mapping,  # noqa: E402
                                  stale_layouts)
from core.progress import Progress  # noqa: E402

MAP = "speech-en__text-en"


@pytest.fixture
def project(tmp_path):
    import make_fixture_project as fixture

    return fixture.build_fixture_project(tmp_path / "proj", n_words=12, n_distractors=4)


def _replace_with(project, W):
    e = project.mapping_entry(MAP)
    return project.add_mapping(MAP, e.source, e.target, W, "test replacement", metrics={"criterion": 0.1},
                               replace=True)


def test_revert_restores_the_previous_map_and_reverting_again_the_newer(project):
    before = project.mapping(MAP)
    assert not has_previous(project, MAP)
    replacing_map(project, MAP, lambda: _replace_with(project, np.eye(before.W.shape[0], dtype=np.float32)))
    assert has_previous(project, MAP)
    assert project.mapping_entry(MAP).method == "test replacement"
    revert_mapping(project, MAP)
    restored = project.mapping(MAP)
    assert np.array_equal(restored.W, before.W)
    assert restored.entry.method == before.entry.method and restored.entry.metrics == before.entry.metrics
    assert set(restored.arrays) == set(before.arrays)
    revert_mapping(project, MAP)  # a second Revert gives the newer map back
    assert project.mapping_entry(MAP).method == "test replacement"


def test_a_failed_replacement_keeps_the_earlier_previous_map(project):
    W0 = project.mapping(MAP).W.copy()
    replacing_map(project, MAP, lambda: _replace_with(project, 2 * W0))

    def cancelled():
        raise Cancelled()

    with pytest.raises(Cancelled):
        replacing_map(project, MAP, cancelled)
    revert_mapping(project, MAP)
    assert np.array_equal(project.mapping(MAP).W, W0)
    assert not list((project.root / "arrays").glob("*.pending"))


def test_revert_without_a_previous_map_is_a_user_error(project):
    with pytest.raises(WordbridgeError, match="nothing to revert"):
        revert_mapping(project, MAP)


def test_layouts_after_alignment_are_marked_stale_until_recomputed(project):
    from core.mapping_history import recompute_layout
    from core.project.items import ProjectionGroup

    words = project.space("text-en").words[:3]
    group = [ProjectionGroup("text-en", list(words))]
    coords = np.zeros((3, 2), np.float32)
    project.add_projection("joint-pca-after", coords, group, "pca", alignment="after", mapping=MAP)
    project.add_projection("joint-pca-before", coords, group, "pca", alignment="before")
    assert stale_layouts(project) == []
    assert mark_layouts_stale(project, MAP) == ["joint-pca-after"]
    recompute_layout(project, "pca", True)
    assert stale_layouts(project) == []


def test_align_keeps_the_previous_map_and_marks_layouts_stale(project):
    from core.mapping_history import align_keeping_previous
    from core.project.items import ProjectionGroup

    W0 = project.mapping(MAP).W.copy()
    project.add_projection("joint-pca-after", np.zeros((1, 2), np.float32),
                           [ProjectionGroup("text-en", ["water"])], "pca", alignment="after", mapping=MAP)
    result = align_keeping_previous(project, "text-en", method="selflearn", device="cpu", restarts=1)
    assert result["previous_kept"] and result["stale_layouts"] == ["joint-pca-after"]
    revert_mapping(project, MAP)
    assert np.array_equal(project.mapping(MAP).W, W0)


def test_a_text_space_can_be_aligned_onto_another_and_is_checked(project):
    from core.errors import WordbridgeError
    from core.mapping_history import align_keeping_previous

    result = align_keeping_previous(project, "text-fr", source_id="text-en", method="selflearn", device="cpu",
                                    restarts=1)
    assert result["mapping"] == "text-en__text-fr" and result["previous_kept"]
    for source, target, message in (("text-xx", "text-fr", "no text space 'text-xx'"),
                                    ("text-en", "text-en", "needs another text space"),
                                    ("speech-en", "text-fr", "no text space 'speech-en'")):
        with pytest.raises(WordbridgeError, match=message):
            align_keeping_previous(project, target, source_id=source, method="selflearn", device="cpu")


def test_text_space_trained_from_a_corpus_file_and_imported(tmp_path, project):
    from core.text_space_project import (import_project_text_space, suggest_space_id,
                                         train_project_text_space)
    from core.vectors import save_vectors

    rng = np.random.default_rng(0)
    vocab = [f"w{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(30)]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(rng.choice(vocab, 12)) for _ in range(300)))
    space_id = suggest_space_id(project, "fr")
    assert space_id == "text-fr-2"  # text-fr is taken
    result = train_project_text_space(project, corpus, space_id, "fr")
    assert result["dim"] == 50 and project.space_entry(space_id).kind == "text"
    assert project.space_entry(space_id).provenance["params"]["window"] == 5
    with pytest.raises(WordbridgeError, match="already has a space"):
        train_project_text_space(project, corpus, space_id, "fr")
    save_vectors(project.space(space_id), tmp_path / "x.vec")
    import_project_text_space(project, tmp_path / "x.vec", "imported", "fr", max_rows=10)
    assert project.space_entry("imported").n_words == 10

    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        train_project_text_space(project, corpus, "never", "fr", progress=progress)
    assert "never" not in {s.id for s in project.manifest.spaces}
