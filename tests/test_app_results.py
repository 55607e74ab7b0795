"""The results panel, offscreen: scores and bars follow the order shown, no "-0.000", and the NN/CSLS
switch re-ranks every candidate vector of the clip (switching back restores the first list)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_fixture_project as fixture  # noqa: E402


class _ThreeTypes:
    def __init__(self, vectors):
        self.vectors = vectors

    def candidate_vectors(self, samples, sr, m):
        return [self.vectors[j] for j in (2, 9, 16)][:m]

    def __call__(self, samples, sr):
        return self.vectors[2]


def _rows(panel):
    out = []
    for i in range(panel.tree.topLevelItemCount()):
        item = panel.tree.topLevelItem(i)
        if item.data(0, 0x0100):  # Qt.UserRole
            out.append((item.data(0, 0x0100), item.text(1), panel.tree.itemWidget(item, 2).value()))
    return out


def test_switch_restores_the_first_list_and_scores_follow_the_order(qtbot, app_settings, tmp_path):
    from app.main_window import MainWindow
    from app.recorder_widget import Clip

    project = fixture.build_fixture_project(tmp_path / "p", n_words=30, n_distractors=20, mapping_error=0.3)
    window = MainWindow(app_settings)
    qtbot.addWidget(window, before_close_func=lambda w: w.finish_workers())
    assert window.open_project(project.root)
    qtbot.waitUntil(lambda: window.session.classifier is not None, timeout=20000)
    window.session.classifier.embed = _ThreeTypes(project.space("speech-en").vectors)
    samples = fixture.tone_clip(2)
    window.session.add_clip(Clip(samples, 16000, "microphone", "test", trim=None))
    assert window.session.wait_classified()
    first = _rows(window.results)
    window.results.nn_button.click()
    assert window.session.latest.classification.method == "nn"
    window.results.csls_button.click()
    assert _rows(window.results) == first
    for sid in ("text-en", "text-fr"):
        rows = [r for r in first if r[0][0] == sid]
        scores = [float(text) for _key, text, _bar in rows]
        bars = [bar for _key, _text, bar in rows]
        assert scores == sorted(scores, reverse=True) and bars == sorted(bars, reverse=True)
    assert all(text != "-0.000" for _key, text, _bar in first)


def test_score_text_and_bars():
    from app.lexicon_model import score_text
    from app.results_panel import bar_value

    assert score_text(-0.0004) == "0.000" and score_text(-0.0006) == "-0.001" and score_text(float("nan")) == ""
    assert [bar_value(s) for s in (-0.2, 0.0, 0.25, 1.0, 1.7)] == [0, 0, 250, 1000, 1000]
    assert bar_value(np.float32(0.5)) == 500


def test_summary_shows_the_confidence_or_no_good_match():
    from app.results_panel import confidence_summary

    assert confidence_summary("water", None) == "Best: <b>water</b>"
    assert confidence_summary("water", {"probability": 0.634, "no_match": False}) == \
        "Best: <b>water</b> · confidence 63 %"
    far = confidence_summary("water", {"probability": 0.9, "no_match": True})
    assert far.startswith("<b>No good match</b>") and "closest: water" in far and "confidence" not in far


def test_a_translations_tooltip_names_both_scores_and_says_when_its_shown_score_is_capped():
    from app.results_panel import score_tip
    from core.classify import Candidate

    own = Candidate("dieu", 0.85, via="god", via_score=0.8, link_score=0.9)
    assert score_tip(own, "nn") == "0.850 = mean of clip → god (0.800) and god → dieu (0.900), cosine"
    # merged from a later candidate vector: its own mean 0.875, shown as the row above's 0.850
    capped = Candidate("maître", 0.85, via="lord", via_score=0.8, link_score=0.95, raw_score=0.875)
    tip = score_tip(capped, "csls")
    assert tip.startswith("0.875 = mean of clip → lord (0.800) and lord → maître (0.950), CSLS")
    assert tip.endswith("shown no higher than the row above (rows are in rank order)")
