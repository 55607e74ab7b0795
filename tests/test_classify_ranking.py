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


def _exemplar_encoder_for(project):
    """A unit-skipgram encoder over the fixture's speech space (its types are the space's rows), with
    type exemplars, soft votes and 4 merged types: the clip path of a trained Mboshi-like project."""
    import torch

    from core.speech import exemplars as ex
    from core.speech.acoustic import ContrastiveAWE
    from core.speech.encode import ClipEncoder, pack_type_space
    from core.speech.type_space import SpeechTypeSpace
    from core.vectors import unit_rows
    from tests.test_speech_encode import FEATURES, _segments

    torch.manual_seed(0)
    emb = project.space("speech-en")
    model = ContrastiveAWE(FEATURES.dim, "conv", hidden=16, dim=12).eval()
    space = SpeechTypeSpace(emb, model, np.zeros((len(emb), 12), np.float32),
                            {"learner": "unit-skipgram", "grouping": "A", "max_frames": 40, "feat_dim": FEATURES.dim})
    space.assign_centroids = unit_rows(space.encode(_segments(len(emb), seed=2)))
    weights, config = pack_type_space(space, FEATURES)
    segments = _segments(3 * len(emb), seed=5)
    enc = ex.encode_segments(ClipEncoder(weights, config), segments, batch=16)
    weights, config = ex.attach(weights, config, enc, np.arange(len(enc)) % len(emb), 4, votes={"k": 6, "tau": 0.05})
    return ClipEncoder(weights, config)


def _plain_nearest_rows(encoder, encoding, m):
    """The clip's m nearest types the long way (as before the one-product search): centroid cosine
    or nearest exemplar's, ordered by soft votes of the k nearest exemplars, then the rest by cosine."""
    from core.retrieval import top_k_indices

    e = encoding / np.linalg.norm(encoding)
    cos = encoder.exemplars.exemplars @ e.astype(np.float32)
    owners = encoder.exemplars.types
    sims = encoder.centroids @ e
    for t in range(len(sims)):
        if (owners == t).any():
            sims[t] = max(sims[t], cos[owners == t].max())
    k, tau = encoder.type_votes["k"], encoder.type_votes["tau"]
    near = np.argsort(-cos)[:k]
    votes = np.zeros(len(sims))
    np.add.at(votes, owners[near], np.exp((cos[near] - cos[near].max()) / tau))
    return list(top_k_indices(np.where(votes > 0, votes, sims - 3.0), m))


def test_a_clips_lists_are_those_of_classifying_every_candidate_in_full(project):
    # the clip path computes the nearest speech types once (the first candidate's: all that merging
    # keeps) and the exemplar cosines and votes from one product; the lists must not change
    from core.classify import type_candidates
    from core.vectors import unit_rows

    encoder = _exemplar_encoder_for(project)
    classifier = ClipClassifier.load(project, embed=encoder)
    speech = project.space("speech-en")
    m = type_candidates(encoder)
    assert m == 4
    firsts = set()
    for i in range(8):
        clip = fixture.tone_clip(i)
        for method in ("csls", "nn"):
            got = classifier.classify_clip(clip, 16000, 10, method)
            encoding = encoder.encode_features(encoder.clip_features(clip, 16000))
            rows = _plain_nearest_rows(encoder, encoding, m)
            assert [r for r, _ in encoder.nearest_types(encoding, m)] == rows
            vectors = [encoder.type_vectors[r] for r in rows]
            full = merge_by_rank([classifier.classify_vector(v, 10, method) for v in vectors], 10)
            assert got.by_space.keys() == full.by_space.keys() == {"text-en", "text-fr"}
            for sid in full.by_space:
                assert [c.word for c in got.by_space[sid]] == [c.word for c in full.by_space[sid]]
                assert [c.score for c in got.by_space[sid]] == pytest.approx([c.score for c in full.by_space[sid]])
            assert [c.word for c in got.speech_types] == [c.word for c in full.speech_types]
            sims = unit_rows(speech.vectors) @ unit_rows(vectors[0][None])[0]  # the nearest types, the long way
            assert [c.word for c in got.speech_types] == [speech.words[j] for j in np.argsort(-sims)[:10]]
            assert len(got.vectors) == m
            firsts.add(rows[0])
    assert len(firsts) > 1  # the clips reach different types (else the check would be weak)
    later = classifier.classify_vector(vectors[1], 10, "csls", speech_types=False)
    assert later.speech_types == [] and later.by_space == classifier.classify_vector(vectors[1], 10, "csls").by_space
