"""Results of the latest clip: top-k text words with scores and bars, per language, NN/CSLS switch; a
clip that seems to hold several words gets a warning and a Split into words… button (the Recordings
tab splits it, after asking)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QHBoxLayout, QLabel, QProgressBar, QPushButton, QRadioButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from app.lexicon_model import score_text


def bar_value(score: float) -> int:
    """A bar's length out of 1000 on a fixed scale (score 0 → empty, 1 → full), the same for every row,
    so bars compare across rows and clips instead of being scaled to the first word."""
    return 0 if score != score else int(round(1000 * max(0.0, min(1.0, score))))


def score_tip(cand, method: str) -> str:
    """Where a row's score comes from (shown as a tooltip)."""
    name = "CSLS" if method == "csls" else "cosine"
    # a word merged from a later candidate vector is shown no higher than the row above (merge_by_rank)
    capped = "" if cand.raw_score is None else "; shown no higher than the row above (rows are in rank order)"
    if cand.via is not None:
        mean = cand.score if cand.raw_score is None else cand.raw_score
        return (f"{score_text(mean)} = mean of clip → {cand.via} ({score_text(cand.via_score)}) and "
                f"{cand.via} → {cand.word} ({score_text(cand.link_score)}), {name}{capped}")
    if cand.raw_score is not None:
        return f"{name} {score_text(cand.raw_score)} for a neighbouring speech type{capped}"
    return f"{name} {score_text(cand.score)}"


def confidence_summary(best: str | None, confidence: dict | None) -> str:
    """The summary's first part: the best word, with its calibrated confidence or "no good match"."""
    if confidence and confidence.get("no_match"):
        return (f"<b>No good match</b>: the clip is unlike every word this project knows "
                f"(closest: {best or '—'})")
    text = f"Best: <b>{best or '—'}</b>"
    if confidence and confidence.get("probability") is not None:
        text += f" · confidence {100 * confidence['probability']:.0f} %"
    return text


class ResultsPanel(QWidget):
    """One section per text space: the clip's own language first, then translations."""

    method_changed = Signal(str)  # "nn" or "csls"
    split_requested = Signal(int)  # the shown clip (a recording id) holds several words: split it

    def __init__(self, parent=None):
        super().__init__(parent)
        self.nn_button = QRadioButton("NN (cosine)")
        self.csls_button = QRadioButton("CSLS")
        self.csls_button.setChecked(True)
        self.nn_button.setToolTip("Rank by cosine similarity in the aligned space")
        self.csls_button.setToolTip("Rank by CSLS, which penalises words that are near everything (hubs)")
        group = QButtonGroup(self)
        group.addButton(self.nn_button)
        group.addButton(self.csls_button)
        self.summary = QLabel("Record or import a word to see its nearest text words.")
        self.summary.setWordWrap(True)
        self.split_button = QPushButton("Split into words…")
        self.split_button.setToolTip("This clip seems to hold several words: store each word as a clip of its own, "
                                     "classified on its own (Recordings tab; asks first)")
        self.split_button.setVisible(False)
        self.split_button.clicked.connect(lambda: self.shown is not None and self.shown.recording_id is not None
                                          and self.split_requested.emit(int(self.shown.recording_id)))
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["word", "score", ""])
        self.tree.setRootIsDecorated(False)
        self.tree.setColumnWidth(0, 160)
        self.tree.setColumnWidth(1, 70)
        self.tree.setToolTip("Nearest text words of the clip, best first; hover a score to see where it comes from")
        row = QHBoxLayout()
        row.addWidget(QLabel("Retrieval:"))
        row.addWidget(self.nn_button)
        row.addWidget(self.csls_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.split_button)
        layout.addWidget(self.tree, 1)
        self.nn_button.toggled.connect(lambda on: on and self.method_changed.emit("nn"))
        self.csls_button.toggled.connect(lambda on: on and self.method_changed.emit("csls"))
        self.shown = None

    def set_method(self, method: str) -> None:
        """Reflect the session's method without emitting `method_changed`."""
        for button in (self.nn_button, self.csls_button):
            button.blockSignals(True)
        (self.nn_button if method == "nn" else self.csls_button).setChecked(True)
        for button in (self.nn_button, self.csls_button):
            button.blockSignals(False)

    def show_message(self, text: str) -> None:
        self.summary.setText(text)

    def show_result(self, result) -> None:
        """Fill the tree from a ClipResult (app.session)."""
        self.shown = result
        c = result.classification
        self.tree.clear()
        self.split_button.setVisible(bool(getattr(result, "warning", None))
                                     and getattr(result, "recording_id", None) is not None)
        if c is None:
            self.summary.setText(getattr(result, "problem", None) or "No results for this clip.")
            return
        self.set_method(c.method)
        speech_language = next(iter(c.space_language.values()), "")
        order = sorted(c.by_space, key=lambda sid: (sid not in c.direct, c.space_language.get(sid, ""), sid))
        for sid in order:
            cands = c.by_space[sid]
            language = c.space_language.get(sid, "")
            kind = "words" if sid in c.direct else "translations"
            header = QTreeWidgetItem([f"{language or sid} — {kind} ({sid})", "", ""])
            font = header.font(0)
            font.setBold(True)
            header.setFont(0, font)
            header.setFirstColumnSpanned(True)
            self.tree.addTopLevelItem(header)
            if not cands:
                self.tree.addTopLevelItem(QTreeWidgetItem(["(no route to this space)", "", ""]))
            for cand in cands:
                label = cand.word if cand.via is None else f"{cand.word}  (via {cand.via})"
                item = QTreeWidgetItem([label, score_text(cand.score), ""])
                item.setData(0, Qt.UserRole, (sid, cand.word))
                item.setTextAlignment(1, Qt.AlignRight | Qt.AlignVCenter)
                item.setToolTip(1, score_tip(cand, c.method))
                self.tree.addTopLevelItem(item)
                bar = QProgressBar()
                bar.setRange(0, 1000)
                bar.setTextVisible(False)
                bar.setMaximumHeight(12)
                bar.setValue(bar_value(cand.score))
                bar.setToolTip(score_tip(cand, c.method))
                self.tree.setItemWidget(item, 2, bar)
        best = next((c.by_space[sid][0] for sid in order if c.by_space[sid]), None)
        ms = 1000 * (result.latency_s or c.seconds)
        tail = f"{c.method.upper()} · results in {ms:.0f} ms" + (f" · {speech_language}" if speech_language else "")
        warning = getattr(result, "warning", None)
        self.summary.setText(confidence_summary(best.word if best else None, c.confidence) + " · " + tail
                             + (f"<br><span style='color:#b00020'>⚠ {warning}</span>" if warning else ""))
        self.summary.setToolTip("Confidence: the chance that the first word is right, calibrated on real speakers "
                                "the recogniser never trained on; 'no good match' when the clip is farther from "
                                "every word than right answers were")

    def words(self, space_id: str) -> list[str]:
        """The words currently listed for `space_id` (tests, lines in the joint view)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            data = self.tree.topLevelItem(i).data(0, Qt.UserRole)
            if data and data[0] == space_id:
                out.append(data[1])
        return out
