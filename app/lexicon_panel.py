"""The induced lexicon: speech type ↔ text word with scores; review the pairs (confirm, correct,
reject, undo/redo, sort, filter, search), refine the alignment with them in the background
(criterion before → after), export CSV / TextGrid / ELAN / Audacity labels.

Decisions are kept by `core.lexicon_review.LexiconReview` in the project, never in the table.
Inducing the pairs, refining and writing the label files run in Worker threads; the table,
decisions and the CSV export (a table already in memory) stay on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QTableView, QVBoxLayout, QWidget)

from app.lexicon_model import LexiconTableModel
from app.progress_panel import ProgressPanel
from app.workers import BACKGROUND_NICE, Worker
from core.errors import WordbridgeError
from core.label_export import export_recording_labels
from core.lexicon_export import write_lexicon_csv
from core.lexicon_review import STATUSES, LexiconReview

MAX_TYPES = 2000
BACKGROUND_BUTTONS = ("Refine with my pairs", "Export labels…")  # one background job at a time
BUTTON_TIPS = {
    "Confirm": "The selected pairs are right (an edited word is stored as a correction)",
    "Reject": "The selected pairs are wrong",
    "Clear": "Forget the decision on the selected pairs (unreviewed again)",
    "Undo": "Take back the last decision (Ctrl+Z)",
    "Redo": "Make the last undone decision again (Ctrl+Shift+Z)",
    "▶ Examples": "Play the selected speech type's example clips, one per click (double-click a speech type too)",
    "Refine with my pairs": "Re-align the spaces seeded with your confirmed and corrected pairs",
    "Export CSV…": "Write the lexicon with each pair's status to a CSV file",
    "Export labels…": "Write a TextGrid (tier \"words\"), an ELAN .eaf and Audacity labels per recording, "
                      "with its WAV alongside",
}


class LexiconPanel(QWidget):
    """A table of induced pairs and the user's decisions on them."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.model = LexiconTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(False)
        self.table.setToolTip("Double-click a text word to correct it; click a column header to sort")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search speech types and words")
        self.search.setToolTip("Show only pairs whose speech type or word contains this text")
        self.status_filter = QComboBox()
        self.status_filter.addItems(["all", *STATUSES])
        self.status_filter.setToolTip("Show only pairs with this review status")
        self.counts = QLabel("")
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.criterion = QLabel("")
        self.buttons = {n: QPushButton(n) for n in BUTTON_TIPS}
        for name, tip in BUTTON_TIPS.items():
            self.buttons[name].setToolTip(tip)
        self.progress = ProgressPanel()
        top, row = QHBoxLayout(), QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.status_filter)
        top.addWidget(self.counts)
        for b in self.buttons.values():
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.criterion)
        layout.addWidget(self.progress)
        self.buttons["Confirm"].clicked.connect(lambda: self.decide_selected("confirmed"))
        self.buttons["Reject"].clicked.connect(lambda: self.decide_selected("rejected"))
        self.buttons["Clear"].clicked.connect(lambda: self.decide_selected("unreviewed"))
        self.buttons["Undo"].clicked.connect(self.undo)
        self.buttons["Redo"].clicked.connect(self.redo)
        self.buttons["▶ Examples"].clicked.connect(lambda: self.play_examples())
        self.table.doubleClicked.connect(lambda index: index.column() == 0 and self.play_examples())
        self._example_turn: dict[str, int] = {}
        self.buttons["Refine with my pairs"].clicked.connect(self.refine)
        self.buttons["Export CSV…"].clicked.connect(lambda: self.export_csv())
        self.buttons["Export labels…"].clicked.connect(lambda: self.start_export_labels())
        for keys, slot in (("Ctrl+Z", self.undo), ("Ctrl+Shift+Z", self.redo)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.WidgetWithChildrenShortcut)
        self.search.textChanged.connect(lambda _t: self._filter())
        self.status_filter.currentTextChanged.connect(lambda _t: self._filter())
        self.model.problem.connect(self.info.setText)
        self.model.decided.connect(self._decided)
        self.review: LexiconReview | None = None
        self.worker: Worker | None = None  # the refinement or label export running now
        self.reload_worker: Worker | None = None
        self._generation = 0
        self.last_refine = None
        self._update_buttons()
        session.classifier_ready.connect(lambda _c: self.reload())
        session.project_changed.connect(lambda _p: self.reload())

    @property
    def entries(self) -> list:
        """The lexicon as LexiconEntry rows with their review status (rank order)."""
        return [] if self.review is None else self.review.entries()

    def reload(self) -> Worker | None:
        """Induce pairs with the current classifier in the background, then show them with the user's decisions."""
        classifier, project = self.session.classifier, self.session.project
        self._generation += 1  # a result of an earlier reload that ends later is dropped
        self._set_review(None)
        if classifier is None or project is None:
            self.info.setText(self.session.classifier_problem or "No alignment yet.")
            return None
        generation, method = self._generation, self.session.method
        worker = Worker(induce_lexicon, classifier, method, parent=self)
        worker.finished.connect(lambda result: generation == self._generation and self._show_pairs(result, method))
        worker.failed.connect(lambda m: generation == self._generation and self.info.setText(
            f"Could not induce pairs: {m}"))
        self.info.setText("Inducing pairs…")
        self.reload_worker = worker
        worker.start()
        return worker

    def _show_pairs(self, result, method: str) -> None:
        text_id, entries, total = result
        classifier, project = self.session.classifier, self.session.project
        if classifier is None or project is None:
            return
        language = classifier.texts[text_id].entry.language
        self._set_review(LexiconReview(project, entries, language, total, classifier.texts[text_id].emb.index))
        self.info.setText(f"Induced pairs (speech types → {text_id}, {method.upper()}); "
                          "double-click a text word to correct it.")

    def _set_review(self, review: LexiconReview | None) -> None:
        self.review = review
        self.model.set_review(review)
        self._decided()

    def _filter(self) -> None:
        status = self.status_filter.currentText()
        self.model.set_filter(None if status == "all" else status, self.search.text())

    def _decided(self) -> None:
        self.counts.setText(self.review.summary() if self.review is not None else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.buttons["Undo"].setEnabled(self.review is not None and self.review.can_undo())
        self.buttons["Redo"].setEnabled(self.review is not None and self.review.can_redo())

    def selected_types(self) -> list[str]:
        """Speech types of the selected rows."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedIndexes()})
        return [self.model.speech_type(r) for r in rows]

    def decide_selected(self, status: str) -> int:
        """Record `status` ("confirmed", "rejected" or "unreviewed") for the selected rows; returns how many."""
        types = self.selected_types()
        if self.review is None or not types:
            return 0
        done = 0
        for speech_type in types:
            try:
                self.review.decide(speech_type, status)
                done += 1
            except WordbridgeError as exc:
                self.info.setText(str(exc))
        self._after_change()
        return done

    def undo(self) -> str | None:
        """Undo the last decision (it is taken back in the project too)."""
        changed = self.review.undo() if self.review is not None else None
        self._after_change()
        return changed

    def redo(self) -> str | None:
        """Redo the last undone decision."""
        changed = self.review.redo() if self.review is not None else None
        self._after_change()
        return changed

    def _after_change(self) -> None:
        self.model.refresh()
        self._decided()
        self.session.pairs_changed.emit()

    def play_examples(self, speech_type: str | None = None) -> int:
        """Play the next example clip of `speech_type` (default: the selected row's); returns how many it has."""
        from app import audio_io
        from core.recording_list import clip_audio, example_clips

        types = [speech_type] if speech_type else self.selected_types()
        project = self.session.project
        if not types or project is None:
            return 0
        examples = example_clips(project, types[0])
        if not examples:
            self._say(f"No clips of “{types[0]}” in this project yet.")
            return 0
        turn = self._example_turn.get(types[0], 0) % len(examples)
        self._example_turn[types[0]] = turn + 1
        try:
            samples, sr = clip_audio(project, *examples[turn])
        except (WordbridgeError, OSError) as exc:
            self._say(f"Cannot play the clip: {exc}")
            return len(examples)
        problem = audio_io.play(samples, sr)
        self.info.setText(problem or f"“{types[0]}”: example {turn + 1} of {len(examples)}")
        return len(examples)

    def refine(self) -> Worker | None:
        """Run semi-supervised Procrustes with the user's pairs in the background."""
        from core.mapping_history import refine_keeping_previous

        if self.session.project is None or self.busy():
            return None
        worker = Worker(refine_keeping_previous, self.session.writable_project(), parent=self, nice=BACKGROUND_NICE)
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
        """Keep the refined map only if the criterion did not drop; otherwise ask (No reverts it)."""
        self.last_refine = result
        skipped = f"; {len(result.skipped)} pairs not in the spaces were skipped" if result.skipped else ""
        text = (f"Criterion (mean CSLS cosine): {result.criterion_before:.4f} → <b>{result.criterion_after:.4f}</b> "
                f"with {result.n_pairs} of your pairs{skipped} (kept the map started from {result.start})")
        if result.criterion_after < result.criterion_before and not self.ask_keep_worse(result):
            from core.mapping_history import revert_mapping

            try:
                revert_mapping(self.session.project, result.mapping_id)
                text = (f"The refined map scored lower ({result.criterion_before:.4f} → "
                        f"{result.criterion_after:.4f}); the previous map was put back.")
            except WordbridgeError as exc:
                text += f"; could not put the previous map back: {exc}"
        self.criterion.setText(text)
        self.session.after_mapping_change()

    def ask_keep_worse(self, result) -> bool:
        """Ask whether to keep a refined map whose criterion dropped (No: the previous map comes back)."""
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(
            self, "Keep the refined map?",
            f"The unsupervised criterion dropped from {result.criterion_before:.4f} to {result.criterion_after:.4f} "
            f"with your {result.n_pairs} pairs. Keep the refined map anyway? (No puts the previous map back.)",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def export_csv(self, path: str | None = None) -> str | None:
        """Write the lexicon with each pair's status; the path is confirmed in the status bar."""
        path = path or QFileDialog.getSaveFileName(self, "Export lexicon", "lexicon.csv", "CSV (*.csv)")[0]
        if not path:
            return None
        try:
            write_lexicon_csv(path, self.entries)
        except (WordbridgeError, OSError) as exc:
            self.session.message.emit(f"Lexicon export failed: {exc}")
            return None
        self.session.message.emit(f"Lexicon ({len(self.entries)} pairs) exported to {path}")
        return path

    def start_export_labels(self, folder: str | None = None) -> Worker | None:
        """Write a TextGrid, an ELAN .eaf, Audacity labels and the WAV per recording, in the background;
        the folder is confirmed in the status bar."""
        folder = folder or QFileDialog.getExistingDirectory(self, "Export labels to folder")
        project, classifier = self.session.project, self.session.classifier
        if not folder or project is None or classifier is None or classifier.embed is None or self.busy():
            return None
        worker = Worker(export_recording_labels, project, classifier, self.session.method, folder, parent=self)
        worker.finished.connect(lambda r: self._say(
            f"Labels for {len(r)} recordings (TextGrid, ELAN, Audacity, WAV) written to {folder}"
            + (f"; {len(r.unclassified)} words too short or silent to classify were left blank"
               if getattr(r, "unclassified", None) else "")))
        worker.failed.connect(lambda m: self._say(f"Label export failed: {m}"))
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
        return len(worker.result) if worker.result is not None else 0

    def _say(self, text: str) -> None:
        self.info.setText(text)
        self.session.message.emit(text)


def induce_lexicon(classifier, method: str, progress=None):
    """(text space id, induced LexiconEntry list of the most frequent types, number of speech types);
    a Worker job."""
    if progress is not None:
        progress.set_stage("inducing pairs")
    text_id = classifier.primary_text()
    entries = classifier.induce_pairs(text_id, MAX_TYPES, method)
    return text_id, entries, len(classifier.speech.emb)
