"""The induced lexicon: speech type ↔ text word with scores; confirm or correct pairs, refine the
alignment with them in the background (criterion before → after), export CSV / TextGrid / labels.

Inducing the pairs, refining and writing the label files run in Worker threads; the table,
decisions and the CSV export (a table already in memory) stay on the GUI thread."""

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
BACKGROUND_BUTTONS = ("Refine with my pairs", "Export labels…")  # one background job at a time


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
        self.buttons["Export labels…"].clicked.connect(lambda: self.start_export_labels())
        self.entries: list[LexiconEntry] = []
        self.worker: Worker | None = None  # the refinement or label export running now
        self.reload_worker: Worker | None = None
        self._generation = 0
        self.last_refine = None
        session.classifier_ready.connect(lambda _c: self.reload())
        session.project_changed.connect(lambda _p: self.reload())

    def reload(self) -> Worker | None:
        """Induce pairs with the current classifier in the background, then merge in the user's decisions."""
        classifier, project = self.session.classifier, self.session.project
        self._generation += 1  # a result of an earlier reload that ends later is dropped
        self.table.setRowCount(0)
        self.entries = []
        if classifier is None or project is None:
            self.info.setText(self.session.classifier_problem or "No alignment yet.")
            return None
        generation, method = self._generation, self.session.method
        worker = Worker(induce_lexicon, classifier, project, method, parent=self)
        worker.finished.connect(lambda result: generation == self._generation and self._show_pairs(result, method))
        worker.failed.connect(lambda m: generation == self._generation and self.info.setText(
            f"Could not induce pairs: {m}"))
        self.info.setText("Inducing pairs…")
        self.reload_worker = worker
        worker.start()
        return worker

    def _show_pairs(self, result, method: str) -> None:
        text_id, self.entries, decisions = result
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
                          f"{method.upper()}); edit a text word and press Confirm to correct it.")

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

        if self.session.project is None or self.busy():
            return None
        worker = Worker(refine_with_pairs, self.session.project, parent=self)
        worker.finished.connect(self._refined)
        worker.failed.connect(lambda m: self.criterion.setText(f"Refinement failed: {m}"))
        worker.cancelled.connect(lambda: self.criterion.setText("Refinement cancelled; the mapping is unchanged."))
        self._run(worker, "refining")
        return worker

    def busy(self) -> bool:
        """True while a refinement or a label export runs (one such job at a time)."""
        return self.worker is not None and self.worker.is_running()

    def _run(self, worker: Worker, title: str) -> None:
        for name in BACKGROUND_BUTTONS:
            self.buttons[name].setEnabled(False)
        worker.done.connect(lambda: [self.buttons[n].setEnabled(True) for n in BACKGROUND_BUTTONS])
        self.progress.attach(worker, title)
        self.worker = worker
        worker.start()

    def _refined(self, result) -> None:
        self.last_refine = result
        skipped = f"; {len(result.skipped)} pairs not in the spaces were skipped" if result.skipped else ""
        self.criterion.setText(f"Criterion (mean CSLS cosine): {result.criterion_before:.4f} → "
                               f"<b>{result.criterion_after:.4f}</b> with {result.n_pairs} of your pairs{skipped} "
                               f"(kept the map started from {result.start})")
        self.session.after_mapping_change()

    def export_csv(self, path: str | None = None) -> None:
        path = path or QFileDialog.getSaveFileName(self, "Export lexicon", "lexicon.csv", "CSV (*.csv)")[0]
        if path:
            write_lexicon_csv(path, self.entries)

    def start_export_labels(self, folder: str | None = None) -> Worker | None:
        """Write a TextGrid and an Audacity label file per recording, in the background."""
        folder = folder or QFileDialog.getExistingDirectory(self, "Export labels to folder")
        project, classifier = self.session.project, self.session.classifier
        if not folder or project is None or classifier is None or classifier.embed is None or self.busy():
            return None
        worker = Worker(write_recording_labels, project, classifier, self.session.method, folder, parent=self)
        worker.finished.connect(lambda n: self.info.setText(f"Labels for {n} recordings written to {folder}"))
        worker.failed.connect(lambda m: self.info.setText(f"Label export failed: {m}"))
        worker.cancelled.connect(lambda: self.info.setText("Label export cancelled; files already written stay."))
        self._run(worker, "exporting labels")
        return worker

    def export_labels(self, folder: str | None = None) -> int:
        """`start_export_labels`, then wait for it: the number of recordings written (scripts, tests)."""
        worker = self.start_export_labels(folder)
        if worker is None:
            return 0
        while not worker.wait(1000):
            pass
        return worker.result or 0


def induce_lexicon(classifier, project, method: str, progress=None):
    """(text space id, induced LexiconEntry list, speech type → the user's latest decision); a Worker job."""
    if progress is not None:
        progress.set_stage("inducing pairs")
    text_id = classifier.primary_text()
    language = classifier.texts[text_id].entry.language
    entries = classifier.induce_pairs(text_id, MAX_TYPES, method)
    if progress is not None:
        progress.check()
    decisions = {}
    for pair in project.confirmed_pairs(language=language):
        decisions[str(pair.speech_ref)] = pair  # later decisions win
    return text_id, entries, decisions


def write_recording_labels(project, classifier, method: str, folder: str, progress=None) -> int:
    """Classify each recording's word segments (or the whole recording) and write FOLDER/<stem>.TextGrid
    and .txt (Audacity labels) with the best word of the primary text space; returns the count written."""
    text_id, written = classifier.primary_text(), 0
    recordings = project.recordings()
    if progress is not None:
        progress.set_stage("exporting labels")
    for k, rec in enumerate(recordings):
        if progress is not None:
            progress.check()
        segments = project.segments(rec.id)
        samples, sr = project.recording_audio(rec.id)
        spans = [(s.start, s.end) for s in segments] or [(0.0, rec.duration)]
        intervals = []
        for start, end in spans:
            piece = samples[int(start * sr):int(end * sr)]
            if len(piece) == 0:
                continue
            c = classifier.classify_clip(piece, sr, 1, method)
            best = c.by_space[text_id][0].word if c.by_space.get(text_id) else ""
            intervals.append(Interval(start, end, best))
        stem = Path(folder) / Path(rec.wav_path).stem
        write_textgrid(stem.with_suffix(".TextGrid"), {"word": intervals}, max(rec.duration, 1e-3))
        write_audacity_labels(stem.with_suffix(".txt"), intervals)
        written += 1
        if progress is not None:
            progress.update(k + 1, len(recordings))
    return written
