"""core.refine_pairs ("Refine with my pairs"): what refining with the user's confirmed pairs
guarantees on the 16-d fixture, checked so that it holds on any CPU.

The result of self-learning from a few pairs is a local optimum. With fewer pairs than dimensions
(8 pairs, 16-d) the pairs leave part of the rotation open, and which optimum is reached depends on
floating-point last bits: over 60 runs whose spaces were nudged by 1e-6 (3 fixture seeds × 20),
between 10 and 30 of 30 words came out right (23 on one x86-64 CPU, 30 under another OpenBLAS
kernel). With as many pairs as dimensions (16) the rotation is determined: 60 of 60 nudged runs put
all 30 words right. So the word count is asserted for 16 pairs, on the fixture and on nudged
copies of it (another CPU's last bits, roughly); for 8 pairs only what does not depend on them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from core.classify import ClipClassifier
from core.embeddings import Embeddings
from core.errors import WordbridgeError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402

MAPPING = "speech-en__text-en"


def right(pairs, n: int) -> int:
    """How many of the first `n` speech types are paired with their true English word."""
    return sum(q.text_word == fixture.EN[i] for i, q in enumerate(pairs[:n]))


def nudge(project, space_id: str, seed: int, scale: float = 1e-6) -> None:
    """Replace a space by itself plus Gaussian noise of `scale`: the size of another CPU's last bits."""
    e = project.space(space_id)
    noise = scale * np.random.default_rng(seed).standard_normal(e.vectors.shape)
    project.add_space(space_id, Embeddings(e.words, e.vectors + noise, e.counts, e.language, e.modality),
                      replace=True)


def wrong_map_project(path, nudge_seed: int | None = None, n_pairs: int = 16):
    """The 30-word fixture with its stored map 3 radians off the truth and `n_pairs` confirmed pairs."""
    p = fixture.build_fixture_project(path, n_words=30, n_distractors=0, mapping_error=3.0)
    if nudge_seed is not None:
        nudge(p, "speech-en", 2 * nudge_seed)
        nudge(p, "text-en", 2 * nudge_seed + 1)
    for i in range(n_pairs):
        p.confirm_pair(f"s{i:03d}", fixture.EN[i], "en")
    return p


@pytest.mark.parametrize("nudge_seed", [None, 1, 2, 3])
def test_refine_with_as_many_pairs_as_dimensions_puts_every_word_right(tmp_path, nudge_seed):
    from core.refine_pairs import refine_with_pairs

    p = wrong_map_project(tmp_path / "p", nudge_seed)
    assert p.space_entry("speech-en").dim == 16  # 16 pairs determine the rotation
    before = right(ClipClassifier.load(p).induce_pairs(), 30)
    result = refine_with_pairs(p)
    assert result.n_pairs == 16
    assert before <= 5 and right(ClipClassifier.load(p).induce_pairs(), 30) == 30
    assert result.criterion_after > result.criterion_before + 0.2


def test_refine_with_few_pairs_starts_from_them_alone(tmp_path):
    from core.refine_pairs import START_PAIRS_ONLY, refine_with_pairs

    # 8 pairs in 16-d under-determine the rotation: the count of right words depends on the optimum
    # reached (10 to 30 of 30 in the module docstring's study), so only what does not is asserted
    p = wrong_map_project(tmp_path / "r", n_pairs=0)
    with pytest.raises(WordbridgeError, match="no confirmed pairs"):
        refine_with_pairs(p)
    for i in range(8):
        p.confirm_pair(f"s{i:03d}", fixture.EN[i], "en")
    p.confirm_pair("s009", "not-a-word", "en", status="corrected")
    p.confirm_pair("s010", fixture.EN[11], "en", status="rejected")  # rejected pairs are not used
    before = right(ClipClassifier.load(p).induce_pairs(), 30)
    result = refine_with_pairs(p)
    assert result.n_pairs == 8 and result.skipped == ["s009 → not-a-word"]
    # the current map's own pairs are mostly wrong: kept in every dictionary, they hold that start
    # far below the pairs-alone start (criteria about 0.80 and 0.92-0.99 in the study)
    assert result.start == START_PAIRS_ONLY
    assert result.criterion_after > result.criterion_before + 0.2
    # study: before 1 of 30, after at least 10; asserted with a margin of 4
    assert before <= 5 and right(ClipClassifier.load(p).induce_pairs(), 30) >= before + 5


@pytest.mark.parametrize("nudge_seed", [None, 1])
def test_refine_with_pairs_keeps_what_a_mostly_right_mapping_had_right(tmp_path, nudge_seed):
    from core.refine_pairs import START_WITH_CURRENT, refine_with_pairs

    # a stored map 0.6 rad off the truth that still puts all 24 words right; 8 user pairs alone
    # under-determine the rotation (started from them alone, 12 of 24 stayed right on one CPU); the
    # start with the current map keeps all 24 (40 of 40 nudged runs, 2 fixture seeds × 20)
    p = fixture.build_fixture_project(tmp_path / "m", n_words=24, n_distractors=10, mapping_error=0.6)
    if nudge_seed is not None:
        nudge(p, "speech-en", 2 * nudge_seed)
        nudge(p, "text-en", 2 * nudge_seed + 1)
    assert right(ClipClassifier.load(p).induce_pairs(), 24) == 24
    for i in range(8):
        p.confirm_pair(f"s{i:03d}", fixture.EN[i], "en")
    result = refine_with_pairs(p)
    assert result.start == START_WITH_CURRENT
    assert result.criterion_after > result.criterion_before
    assert right(ClipClassifier.load(p).induce_pairs(), 24) == 24
