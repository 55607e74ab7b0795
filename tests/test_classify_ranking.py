"""core.classify ranking: merged lists whose scores follow their order, translations with their own
scores, and re-ranking (NN ↔ CSLS) of every candidate vector of a clip."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from core.classify import Candidate, Classification, ClipClassifier, clip_embedder, merge_by_rank

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


def _result(*scored):
    return Classification("csls", {"text-en": [Candidate(w, s) for w, s in scored]}, [], {"text-en": "en"},
                          {"text-en"})


def test_merged_scores_never_rise_down_the_list():
    merged = merge_by_rank([_result(("god", 0.5), ("lord", 0.4)), _result(("earth", 0.7), ("land", 0.2))], k=4)
    cands = merged.by_space["text-en"]
    assert [c.word for c in cands] == ["god", "earth", "lord", "land"]  # the order is still by rank
    assert [c.score for c in cands] == [0.5, 0.5, 0.4, 0.2]
    assert [c.raw_score for c in cands] == [None, 0.7, None, None]  # earth's own score is kept


class _ThreeTypes:
    """An embedder that, like the unit-skipgram encoder, gives a clip's 3 nearest types' vectors."""

    def __init__(self, speech_vectors, first: int):
        self.vectors, self.first = speech_vectors, first

    def candidate_vectors(self, samples, sr, m):
        return [self.vectors[(self.first + j * 7) % len(self.vectors)] for j in range(m)]

    def __call__(self, samples, sr):
        return self.vectors[self.first]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return fixture.build_fixture_project(tmp_path_factory.mktemp("rank") / "p", n_words=30, n_distractors=20,
                                         mapping_error=0.3)


def test_switching_nn_then_back_to_csls_restores_the_first_list(project):
    classifier = ClipClassifier.load(project)
    classifier.embed = _ThreeTypes(project.space("speech-en").vectors, first=2)
    first = classifier.classify_clip(np.zeros(1600, np.float32), 16000, 10, "csls")
    assert len(first.vectors) == 3
    nn = classifier.rerank(first, 10, "nn")
    assert nn.method == "nn" and len(nn.vectors) == 3
    direct_nn = classifier.classify_clip(np.zeros(1600, np.float32), 16000, 10, "nn")
    assert [c.word for c in nn.by_space["text-en"]] == [c.word for c in direct_nn.by_space["text-en"]]
    back = classifier.rerank(nn, 10, "csls")
    for sid in first.by_space:
        assert [(c.word, c.score) for c in back.by_space[sid]] == [(c.word, c.score) for c in first.by_space[sid]]


def test_translations_carry_their_own_scores_in_order(project):
    classifier = ClipClassifier.load(project, embed=clip_embedder(project))
    result = classifier.classify_clip(fixture.tone_clip(4), 16000, 10, "csls")
    assert "text-fr" not in result.direct
    english = {c.word: c.score for c in result.by_space["text-en"]}
    french = result.by_space["text-fr"]
    assert french and all(c.via in english and c.via_score == english[c.via] for c in french)
    assert all(c.link_score is not None and c.score == pytest.approx(0.5 * (c.via_score + c.link_score))
               for c in french)
    assert any(c.score != english[c.via] for c in french)  # not the English word's score
    for space in result.by_space.values():
        scores = [c.score for c in space]
        assert scores == sorted(scores, reverse=True)
