"""core.classify ranking: merged lists whose scores follow their order, translations with their own
scores, and re-ranking (NN ↔ CSLS) of every candidate vector of a clip."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.classify import (Candidate, Classification, ClipClassifier, Link, _Space, clip_embedder,
                           merge_by_rank)
from core.embeddings import Embeddings
from core.vectors import unit_rows

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
    assert [c.score for c in french] == sorted((c.score for c in french), reverse=True)
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


# A hand-built classifier for the pivot: speech → English (direct) → French (through a text → text link).
# English words' cosines to the query [1, 0, 0]: god 0.8, lord 0.6, heaven 0.0; French words' cosines to
# each English word (columns god, lord, heaven; rows need not be unit length for this check):
FRENCH = {"dieu": [0.9, 0.1, 0.0], "seigneur": [0.5, 0.2, 0.0], "ciel": [0.3, 0.0, 0.9], "maître": [0.1, 0.95, 0.0]}


def _hand_built(text_links: bool = True) -> ClipClassifier:
    def space(words, vectors, language, kind="text"):
        return _Space(SimpleNamespace(id=f"{kind}-{language}", language=language, kind=kind),
                      Embeddings(list(words), np.asarray(vectors, np.float32), language=language, modality=kind))

    speech = space(["s0", "s1"], np.eye(3)[:2], "en", "speech")
    english = space(["god", "lord", "heaven"], [[0.8, 0.6, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]], "en")
    french = space(FRENCH, list(FRENCH.values()), "fr")
    zeros = lambda n: np.zeros(n, np.float32)  # noqa: E731 (no CSLS hub penalties: CSLS keeps NN's order)
    to_english = Link("speech-en__text-en", "speech-en", "text-en", unit_rows(speech.emb.vectors),
                      english.emb.vectors, zeros(3), zeros(2), unit_rows)
    to_french = Link("text-en__text-fr", "text-en", "text-fr", np.eye(3, dtype=np.float32), french.emb.vectors,
                     zeros(4), zeros(3), lambda x: x)
    return ClipClassifier(speech, {"text-en": english, "text-fr": french}, {"text-en": to_english},
                          {("text-en", "text-fr"): to_french} if text_links else {})


def _top1_per_pivot_word(english: list[Candidate], k: int) -> list[tuple[str, str]]:
    """Session 22's app decoding, for contrast: each English word's top-1 French word, by mean score."""
    cos, best = np.array(list(FRENCH.values())), {}
    for c in english[:k]:
        column = cos[:, ["god", "lord", "heaven"].index(c.word)]
        j = int(np.argmax(column))
        word, score = list(FRENCH)[j], 0.5 * (c.score + column[j])
        if word not in best or best[word][0] < score:
            best[word] = (score, c.word)
    return [(w, via) for w, (_, via) in sorted(best.items(), key=lambda item: -item[1][0])][:k]


def test_the_pivot_ranks_every_pivot_word_and_translation_pair_by_mean_score():
    classifier = _hand_built()
    result = classifier.classify_vector(np.array([1.0, 0.0, 0.0]), 3, "nn")
    english = result.by_space["text-en"]
    assert [c.word for c in english] == ["god", "lord", "heaven"]
    french = result.by_space["text-fr"]
    # pairs by mean: god→dieu 0.85, lord→maître 0.775, god→seigneur 0.65, god→ciel 0.55, heaven→ciel 0.45 ...
    assert [(c.word, c.via) for c in french] == [("dieu", "god"), ("maître", "lord"), ("seigneur", "god")]
    assert [c.score for c in french] == pytest.approx([0.85, 0.775, 0.65])
    assert [c.score for c in french] == pytest.approx([0.5 * (c.via_score + c.link_score) for c in french])
    # top-1 translation per English word would put heaven's ciel third; the experiment's decoding
    # (god's 3 nearest French words, core.pipeline.pivot) would put seigneur second and ciel third
    assert _top1_per_pivot_word(english, 3) == [("dieu", "god"), ("maître", "lord"), ("ciel", "heaven")]


def test_the_pivot_under_csls_keeps_the_top1_decodings_first_word_and_the_mean_scores():
    classifier = _hand_built()
    result = classifier.classify_vector(np.array([1.0, 0.0, 0.0]), 3, "csls")
    english, french = result.by_space["text-en"], result.by_space["text-fr"]
    assert (french[0].word, french[0].via) == ("dieu", "god")
    assert len({c.word for c in french}) == 3 and all(c.raw_score is None for c in french)
    assert [c.score for c in french] == pytest.approx([0.5 * (c.via_score + c.link_score) for c in french])
    assert [c.score for c in french] == sorted((c.score for c in french), reverse=True)
    assert {c.via_score for c in french} <= {c.score for c in english}


def test_a_target_smaller_than_k_gives_all_its_words_each_by_its_best_pair():
    result = _hand_built().classify_vector(np.array([1.0, 0.0, 0.0]), 10, "nn")
    assert [(c.word, c.via) for c in result.by_space["text-fr"]] == [
        ("dieu", "god"), ("maître", "lord"), ("seigneur", "god"), ("ciel", "god")]


def test_a_clips_candidate_vectors_merge_pivot_lists_by_rank_not_by_score():
    # the second vector's top English word is lord, whose best translation (maître) scores higher than
    # the first vector's dieu; merging keeps the nearest type's translation first and caps the shown score
    result = _hand_built().classify_vectors([np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])], 3, "nn")
    french = result.by_space["text-fr"]
    assert [(c.word, c.via) for c in french] == [("dieu", "god"), ("maître", "lord"), ("seigneur", "god")]
    assert [c.score for c in french] == pytest.approx([0.85, 0.85, 0.65])
    assert french[1].raw_score == pytest.approx(0.875)  # its own mean, shown no higher than dieu's
    assert french[1].via_score == pytest.approx(0.8) and french[1].link_score == pytest.approx(0.95)


def test_no_text_link_or_no_pivot_words_give_no_translations():
    query = np.array([1.0, 0.0, 0.0])
    assert _hand_built(text_links=False).classify_vector(query, 3, "csls").by_space["text-fr"] == []
    classifier = _hand_built()
    assert classifier._pivot("text-fr", {}, 3, "nn") == []  # the link's source space was not reached
    assert classifier._pivot("text-fr", {"text-en": []}, 3, "nn") == []
    assert classifier.classify_vector(query, 0, "nn").by_space == {"text-en": [], "text-fr": []}
    # a link the other way (French → English) does not reach French
    classifier.text_links = {("text-fr", "text-en"): classifier.text_links[("text-en", "text-fr")]}
    assert classifier.classify_vector(query, 3, "nn").by_space["text-fr"] == []
