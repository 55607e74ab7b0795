"""The induced lexicon: speech type ↔ text word with scores; confirm or correct pairs, refine the
alignment with them in the background (criterion before → after), export CSV / TextGrid / labels."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from app.progress_panel import ProgressPanel
from app.workers import Worker
from core.lexicon_export import Interval, LexiconEntry, write_audacity_labels, write_lexicon_csv, write_textgrid

COLUMNS = ["speech type", "text word", "score", "status"]
MAX_TYPES = 2000


class LexiconPanel(QWidget):
    """A table of pairs; editing the text word and confirming it records a correction."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.criterion = QLabel("")
        self.buttons = {n: QPushButton(n) for n in ("Confirm", "Reject", "Refine with my pairs", "Export CSV…",
                                                    "Export labels…")}
        self.progress = ProgressPanel()
        row = QHBoxLayout()
        for b in self.buttons.values():
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.criterion)
        layout.addWidget(self.progress)
        self.buttons["Confirm"].clicked.connect(lambda: self.decide_selected("confirmed"))
        self.buttons["Reject"].clicked.connect(lambda: self.decide_selected("rejected"))
        self.buttons["Refine with my pairs"].clicked.connect(self.refine)
        self.buttons["Export CSV…"].clicked.connect(lambda: self.export_csv())
        self.buttons["Export labels…"].clicked.connect(lambda: self.export_labels())
        self.entries: list[LexiconEntry] = []
        self.worker: Worker | None = None
        self.last_refine = None
        session.classifier_ready.connect(lambda _c: self.reload())
        session.project_changed.connect(lambda _p: self.reload())

    def reload(self) -> None:
        """Induce pairs with the current classifier and merge in the user's decisions."""
        classifier = self.session.classifier
        self.table.setRowCount(0)
        self.entries = []
        if classifier is None:
            self.info.setText(self.session.classifier_problem or "No alignment yet.")
            return
        text_id = classifier.primary_text()
        language = classifier.texts[text_id].entry.language
        self.entries = classifier.induce_pairs(text_id, MAX_TYPES, self.session.method)
        decisions = {}
        for pair in self.session.project.confirmed_pairs(language=language):
            decisions[str(pair.speech_ref)] = pair  # later decisions win
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            pair = decisions.get(e.speech_type)
            status = ""
            if pair is not None:
                status = pair.status
                e.confirmed = pair.status in ("confirmed", "corrected")
                if pair.status == "corrected":
                    e.text_word = pair.text_word
            items = [QTableWidgetItem(e.speech_type), QTableWidgetItem(e.text_word),
                     QTableWidgetItem(f"{e.score:.3f}"), QTableWidgetItem(status)]
            for c, item in enumerate(items):
                if c != 1:
                    item.setFlags(item.flags() & ~Qt.ItemIsEditable)
                self.table.setItem(r, c, item)
        self.info.setText(f"{len(self.entries)} induced pairs (speech types → {text_id}, "
                          f"{self.session.method.upper()}); edit a text word and press Confirm to correct it.")

    def decide_selected(self, status: str) -> int:
        """Record the user's decision for the selected rows; an edited word counts as a correction."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if self.session.classifier is None or not rows:  # nothing loaded or selected yet
            return 0
        language = self.session.classifier.texts[self.session.classifier.primary_text()].entry.language
        for r in rows:
            e = self.entries[r]
            word = self.table.item(r, 1).text().strip()
            actual = "corrected" if status == "confirmed" and word != e.text_word and not e.confirmed else status
            if actual == "corrected" and word not in self.session.classifier.texts[
                    self.session.classifier.primary_text()].emb:
                self.info.setText(f"{word!r} is not in the text space; the pair was not saved.")
                continue
            self.session.project.confirm_pair(e.speech_type, word, language, actual)
            e.text_word, e.confirmed = word, actual != "rejected"
            self.table.item(r, 3).setText(actual)
        self.session.pairs_changed.emit()
        return len(rows)

    def refine(self) -> Worker | None:
        """Run semi-supervised Procrustes with the user's pairs in the background."""
        from core.refine_pairs import refine_with_pairs

        if self.session.project is None or (self.worker is not None and self.worker.is_running()):
            return None
        worker = Worker(refine_with_pairs, self.session.project, parent=self)
        worker.finished.connect(self._refined)
        worker.failed.connect(lambda m: self.criterion.setText(f"Refinement failed: {m}"))
        worker.cancelled.connect(lambda: self.criterion.setText("Refinement cancelled; the mapping is unchanged."))
        self.progress.attach(worker, "refining")
        self.worker = worker
        worker.start()
        return worker

    def _refined(self, result) -> None:
        self.last_refine = result
        skipped = f"; {len(result.skipped)} pairs not in the spaces were skipped" if result.skipped else ""
        self.criterion.setText(f"Criterion (mean CSLS cosine): {result.criterion_before:.4f} → "
                               f"<b>{result.criterion_after:.4f}</b> with {result.n_pairs} of your pairs{skipped}")
        self.session.after_mapping_change()

    def export_csv(self, path: str | None = None) -> None:
        path = path or QFileDialog.getSaveFileName(self, "Export lexicon", "lexicon.csv", "CSV (*.csv)")[0]
        if path:
            write_lexicon_csv(path, self.entries)

    def export_labels(self, folder: str | None = None) -> int:
        """Write a TextGrid and an Audacity label file per recording with a word segment."""
        folder = folder or QFileDialog.getExistingDirectory(self, "Export labels to folder")
        project, classifier = self.session.project, self.session.classifier
        if not folder or project is None or classifier is None or classifier.embed is None:
            return 0
        text_id, written = classifier.primary_text(), 0
        for rec in project.recordings():
            segments = project.segments(rec.id)
            samples, sr = project.recording_audio(rec.id)
            spans = [(s.start, s.end) for s in segments] or [(0.0, rec.duration)]
            intervals = []
            for start, end in spans:
                piece = samples[int(start * sr):int(end * sr)]
                if len(piece) == 0:
                    continue
                c = classifier.classify_clip(piece, sr, 1, self.session.method)
                best = c.by_space[text_id][0].word if c.by_space.get(text_id) else ""
                intervals.append(Interval(start, end, best))
            stem = Path(folder) / Path(rec.wav_path).stem
            write_textgrid(stem.with_suffix(".TextGrid"), {"word": intervals}, max(rec.duration, 1e-3))
            write_audacity_labels(stem.with_suffix(".txt"), intervals)
            written += 1
        self.info.setText(f"Labels for {written} recordings written to {folder}")
        return written
