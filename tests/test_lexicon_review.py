"""core.lexicon_review: one decision per speech type kept in the project, undo/redo, views, export status."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.errors import WordbridgeError
from core.lexicon_export import LexiconEntry, write_lexicon_csv
from core.lexicon_review import LexiconReview
from core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


def _entries():
    return [LexiconEntry("s000", "and", "en", 0.9), LexiconEntry("s001", "tree", "en", 0.7),
            LexiconEntry("s002", "stone", "en", 0.8), LexiconEntry("s003", "Water", "en", float("nan"))]


@pytest.fixture
def project(tmp_path):
    return Project.create(tmp_path / "p", "review")


def test_confirm_then_correct_keeps_one_pair_shown_after_reopening(project):
    review = LexiconReview(project, _entries(), "en", total_types=9353)
    review.decide("s000", "confirmed")  # "and"
    review.decide("s000", "confirmed", "water")  # the user corrects it
    pairs = project.confirmed_pairs()
    assert [(p.speech_ref, p.text_word, p.status) for p in pairs] == [("s000", "water", "corrected")]
    reopened = LexiconReview(Project.open(project.root), _entries(), "en")
    row = reopened.row("s000")
    assert (row.word, row.status, row.induced_word) == ("water", "corrected", "and")


def test_refine_uses_only_the_latest_decision(tmp_path):
    from core.projection import default_mapping
    from core.refine_pairs import seed_rows

    p = fixture.build_fixture_project(tmp_path / "f", n_words=12, n_distractors=0)
    entries = [LexiconEntry(f"s{i:03d}", fixture.EN[i], "en", 0.5) for i in range(12)]
    review = LexiconReview(p, entries, "en")
    review.decide("s000", "confirmed", fixture.EN[1])
    review.decide("s000", "confirmed", fixture.EN[0])
    review.decide("s001", "rejected")
    seeds, skipped = seed_rows(p, default_mapping(p))
    assert len(seeds) == 1 and skipped == []


def test_undo_redo_restore_the_project_state(project):
    review = LexiconReview(project, _entries(), "en")
    review.decide("s001", "rejected")
    review.decide("s001", "confirmed", "leaf")
    review.decide("s002", "confirmed")
    assert review.undo() == "s002" and review.row("s002").status == "unreviewed"
    assert review.undo() == "s001"
    assert [(p.speech_ref, p.text_word, p.status) for p in project.confirmed_pairs()] == [
        ("s001", "tree", "rejected")]
    assert review.redo() == "s001" and review.row("s001").word == "leaf"
    review.decide("s003", "confirmed")  # a new decision drops what could be redone
    assert not review.can_redo() and review.redo() is None
    while review.undo():
        pass
    assert project.confirmed_pairs() == [] and review.counts()["unreviewed"] == 4


def test_sort_filter_search_and_counts(project):
    review = LexiconReview(project, _entries(), "en", total_types=9353)
    assert review.summary() == "reviewed 0 of 4 · 4 of 9,353 speech types"
    review.decide("s001", "rejected")
    review.decide("s002", "confirmed")
    assert [r.speech_type for r in review.view(status="unreviewed")] == ["s000", "s003"]
    assert [r.speech_type for r in review.view(search="WAT")] == ["s003"]
    assert [r.speech_type for r in review.view(sort="score", descending=True)] == ["s000", "s002", "s001", "s003"]
    assert [r.word for r in review.view(sort="text word")] == ["and", "stone", "tree", "Water"]
    assert review.counts() == {"confirmed": 1, "corrected": 0, "rejected": 1, "unreviewed": 2}
    assert review.summary().startswith("reviewed 2 of 4")
    with pytest.raises(WordbridgeError, match="sort key"):
        review.view(sort="colour")


def test_correction_outside_the_text_space_is_refused(project):
    review = LexiconReview(project, _entries(), "en", vocabulary={"and", "tree"})
    with pytest.raises(WordbridgeError, match="not in the text space"):
        review.decide("s000", "confirmed", "wter")
    assert project.confirmed_pairs() == []


def test_csv_export_tells_rejected_from_unreviewed(project, tmp_path):
    review = LexiconReview(project, _entries(), "en")
    review.decide("s001", "rejected")
    review.decide("s000", "confirmed", "water")
    write_lexicon_csv(tmp_path / "l.csv", review.entries())
    lines = (tmp_path / "l.csv").read_text().splitlines()
    assert lines[1] == "s000,water,en,0.9,corrected,and"
    assert lines[2] == "s001,tree,en,0.7,rejected,tree"
    assert lines[3] == "s002,stone,en,0.8,unreviewed,stone"
