"""The Recordings tab: every clip of the project a row (play, label, speaker, language, top results,
confidence), the way Lingua Libre lists a recorded word list. Rows come from
core.recording_list (the project's database), so the list survives a restart; label, speaker and
language are edited in place and written back. Batch import runs in a Worker with progress and
Cancel; Record word list… opens the prompt-by-prompt recorder (app.word_list_dialog). Below the
table, the selected clip's waveform with its word as a draggable span (app.boundary_editor).
Split into words (a button, or the row's context menu) stores each word of a clip that holds several
(core.word_split: at the pauses between them) as a clip of its own, after asking; the words are
listed right after their clip and classified one by one in the session's classify worker; Undo
split removes them again. The split lives in the project (table recording_splits), not here."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QLabel, QMenu, QMessageBox, QPushButton,
                               QSplitter, QTableView, QVBoxLayout, QWidget)

from app import audio_io
from app.boundary_editor import BoundaryEditor
from app.progress_panel import ProgressPanel
from app.workers import Worker
from core.errors import WordbridgeError

COLUMNS = ("▶", "Label", "Speaker", "Language", "Top results", "Confidence", "Duration", "File")
EDITABLE = {1: "label", 2: "speaker", 3: "language"}
AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.mp3);;All files (*)"
MAX_SPLIT_S = 120.0  # longer recordings are a corpus's job (Corpus ▸ build, the vad reader), not this button's


class RecordingsModel(QAbstractTableModel):
    """RecordingRow list → table; edits of label/speaker/language go to the project."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []
        self.project = None

    def set_rows(self, project, rows: list) -> None:
        """Show `rows` (core.recording_list.RecordingRow) of `project`."""
        self.beginResetModel()
        self.project, self.rows = project, rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 - Qt API
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Horizontal and role == Qt.ToolTipRole:
            return {0: "Double-click to play the clip", 4: "The nearest written words with their scores",
                    5: "How sure the classifier is (empty until it says)"}.get(section, "Double-click to edit"
                                                                               if section in EDITABLE else None)
        return None

    def data(self, index, role=Qt.DisplayRole):
        row = self.rows[index.row()]
        col = index.column()
        if role in (Qt.DisplayRole, Qt.EditRole):
            top = (f"split into {row.split_into} words ↓" if row.split_into
                   else ", ".join(f"{w} ({s:.2f})" for w, s in row.top))
            return [("▶" if role == Qt.DisplayRole else ""), row.label, row.speaker, row.language, top,
                    "" if row.confidence is None or row.split_into else f"{row.confidence:.2f}",
                    f"{row.duration:.2f} s", ("↳ " if row.part_of is not None else "") + row.file][col]
        if role == Qt.ToolTipRole:
            return row.note or row.file
        return None

    def flags(self, index):
        base = super().flags(index)
        return base | Qt.ItemIsEditable if index.column() in EDITABLE else base

    def setData(self, index, value, role=Qt.EditRole) -> bool:  # noqa: N802 - Qt API
        from dataclasses import replace

        from core.recording_list import set_row_fields

        field = EDITABLE.get(index.column())
        if field is None or role != Qt.EditRole or self.project is None:
            return False
        row = self.rows[index.row()]
        set_row_fields(self.project, row.id, **{field: str(value).strip()})
        self.rows[index.row()] = replace(row, **{field: str(value).strip()})
        self.dataChanged.emit(index, index)
        return True


class RecordingsPanel(QWidget):
    """The list of clips, with Import files…, Record word list… and Play."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.model = RecordingsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setToolTip("Every clip of the project; double-click ▶ to play, a label, speaker or language "
                              "to edit it")
        self.info = QLabel("")
        self.buttons = {name: QPushButton(name) for name in ("Import files…", "Record word list…", "Play",
                                                             "Split into words", "Undo split")}
        for name, tip in (("Import files…", "Import many audio files at once; each is trimmed, classified and "
                           "listed, in the background (Cancel stops between files)"),
                          ("Record word list…", "Record one word after another from a list; each file is named "
                           "by its word"),
                          ("Play", "Play the selected clip"),
                          ("Split into words", "The selected clip holds several words: store each word (cut at "
                           "the pauses between them) as a clip of its own, classified on its own; the clip "
                           "itself is kept. Words said without a pause between them stay together"),
                          ("Undo split", "Remove the word clips the selected clip was split into (or the "
                           "selected word clip and the other words of its clip)")):
            self.buttons[name].setToolTip(tip)
        self.progress = ProgressPanel()
        row = QHBoxLayout()
        for b in self.buttons.values():
            row.addWidget(b)
        row.addWidget(self.info, 1)
        self.editor = BoundaryEditor()
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.editor)
        split.setSizes([400, 200])
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        layout.addWidget(self.progress)
        self.buttons["Import files…"].clicked.connect(lambda: self.import_files())
        self.buttons["Record word list…"].clicked.connect(lambda: self.word_list_dialog())
        self.buttons["Play"].clicked.connect(lambda: self.play_selected())
        self.buttons["Split into words"].clicked.connect(lambda: self.split_selected())
        self.buttons["Undo split"].clicked.connect(lambda: self.undo_split_selected())
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda index: index.column() == 0 and self.play_row(index.row()))
        self.table.selectionModel().currentRowChanged.connect(lambda current, _previous: self.show_row(current.row()))
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._update_split_buttons())
        self.worker: Worker | None = None
        session.project_changed.connect(lambda _p: self.reload())
        session.recordings_changed.connect(self.reload)
        # new word bounds: classify the new span again (the session's classify worker), results stored
        self.editor.bounds_saved.connect(session.reclassify_recording)

    def reload(self) -> None:
        """Read the list again from the project's database."""
        from core.recording_list import recording_rows

        project = self.session.project
        try:
            rows = recording_rows(project) if project is not None else []
        except WordbridgeError as exc:
            rows = []
            self.info.setText(str(exc))
        current = self.table.currentIndex()
        current_id = self.model.rows[current.row()].id if current.isValid() and current.row() < len(self.model.rows) \
            else None
        self.model.set_rows(project, rows)
        self.info.setText(f"{len(rows)} clips" if project is not None else "")
        if self.editor.project is not project or self.editor.recording_id not in {r.id for r in rows}:
            self.editor.clear()
        elif current_id is not None:  # keep the clip selected (its results changed, say) without reloading the editor
            from PySide6.QtCore import QItemSelectionModel, QSignalBlocker

            ids = [r.id for r in rows]
            if current_id in ids:
                selection = self.table.selectionModel()
                blocker = QSignalBlocker(selection)
                selection.setCurrentIndex(self.model.index(ids.index(current_id), current.column()),
                                          QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
                blocker.unblock()
                self.table.viewport().update()
        self._update_split_buttons()

    def show_row(self, row: int) -> None:
        """Show table row `row`'s waveform with its word span in the boundary editor."""
        if 0 <= row < len(self.model.rows) and self.session.project is not None:
            self.editor.show_recording(self.session.project, self.model.rows[row].id)
        else:
            self.editor.clear()

    def import_files(self, paths: list[str] | None = None) -> Worker | None:
        """Import audio files in the background; each becomes a row with its results."""
        from core.recording_list import import_and_classify

        if paths is None:
            paths = QFileDialog.getOpenFileNames(self, "Import recordings", "", AUDIO_FILTER)[0]
        if not paths or self.session.project is None or (self.worker is not None and self.worker.is_running()):
            return None
        project = self.session.writable_project()
        worker = Worker(import_and_classify, project, list(paths), self.session.classifier, self.session.method,
                        parent=self)
        worker.finished.connect(self._imported)
        worker.failed.connect(lambda m: self.info.setText(f"Import failed: {m}"))
        worker.cancelled.connect(lambda: (self.reload(), self.info.setText("Import cancelled; files already "
                                                                           "imported stay.")))
        self.progress.attach(worker, "importing")
        self.worker = worker
        worker.start()
        return worker

    def _imported(self, result: dict) -> None:
        self.reload()
        text = f"{len(result['added'])} files imported"
        if result["problems"]:
            text += f"; {len(result['problems'])} problems: " + "; ".join(result["problems"][:3])
        self.info.setText(text)
        self.session.message.emit(text)

    def word_list_dialog(self):
        """Open the word-list recorder (one prompt after another)."""
        from app.word_list_dialog import WordListDialog

        if self.session.project is None:
            return None
        dialog = WordListDialog(self.session, parent=self)
        dialog.show()
        return dialog

    def play_selected(self) -> None:
        """Play the selected clip."""
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.play_row(rows[0].row())

    def play_row(self, row: int) -> str | None:
        """Play the clip of table row `row`; returns a problem message, or None."""
        project = self.session.project
        try:
            samples, sr = project.recording_audio(self.model.rows[row].id)
        except (WordbridgeError, OSError) as exc:
            problem = str(exc)
        else:
            problem = audio_io.play(samples, sr)
        if problem:
            self.info.setText(problem)
        return problem

    # --- split into words -------------------------------------------------------------------------

    def selected_row(self):
        """The RecordingRow of the current row, or None."""
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() and index.row() < len(self.model.rows) else None

    def _update_split_buttons(self) -> None:
        row = self.selected_row()
        self.buttons["Split into words"].setEnabled(row is not None and not row.split_into)
        self.buttons["Undo split"].setEnabled(row is not None and bool(row.split_into or row.part_of is not None))

    def _context_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.setCurrentIndex(index)
        menu = QMenu(self)
        for name, slot in (("Play", self.play_selected), ("Split into words", self.split_selected),
                           ("Undo split", self.undo_split_selected)):
            action = menu.addAction(name, slot)
            action.setEnabled(self.buttons[name].isEnabled())
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def split_selected(self):
        """Split the selected clip into its words, after asking (the words and their times are shown);
        returns the session's worker, or None when nothing is split (with the reason shown)."""
        from core.word_split import split_words

        row, project = self.selected_row(), self.session.project
        if row is None or project is None:
            return None
        if row.split_into:
            self.info.setText(f"{row.file} was split into {row.split_into} words already (listed below it); "
                              "Undo split first to split it again")
            return None
        if row.duration > MAX_SPLIT_S:
            self.info.setText(f"{row.file} is {row.duration:.0f} s long: split long recordings into words as a "
                              "corpus (Corpus ▸ build, the vad reader)")
            return None
        try:
            samples, sr = project.recording_audio(row.id)  # short: at most MAX_SPLIT_S
        except (WordbridgeError, OSError) as exc:
            self.info.setText(f"Cannot split the clip: {exc}")
            return None
        spans = split_words(samples, sr)
        if len(spans) < 2:
            self.info.setText(f"{row.file}: {'no speech found' if not spans else 'one stretch of speech'}, nothing "
                              "to split (words said without a pause between them are not split)")
            return None
        times = ", ".join(f"{s.speech_start:.2f}–{s.speech_end:.2f}" for s in spans)
        answer = QMessageBox.question(
            self, "Split into words?",
            f"{row.file} seems to hold {len(spans)} words, at {times} s.\n\nStore each word as a clip of its own "
            "(each is classified on its own)? The clip itself is kept; Undo split removes the words again.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer != QMessageBox.Yes:
            return None
        return self.session.split_recording(row.id, spans)

    def split_clip(self, recording_id: int):
        """Select the clip `recording_id` and split it into words (`split_selected`, which asks first)."""
        ids = [r.id for r in self.model.rows]
        if int(recording_id) not in ids:
            self.reload()
            ids = [r.id for r in self.model.rows]
        if int(recording_id) not in ids:
            self.info.setText(f"No clip {recording_id} in this project's list")
            return None
        self.table.setCurrentIndex(self.model.index(ids.index(int(recording_id)), 1))
        return self.split_selected()

    def undo_split_selected(self):
        """Remove the word clips of the selected clip's split, after asking; returns the worker, or None."""
        row = self.selected_row()
        if row is None or not (row.split_into or row.part_of is not None):
            return None
        parent = row.id if row.split_into else row.part_of
        words = [r for r in self.model.rows if r.part_of == parent]
        answer = QMessageBox.question(
            self, "Undo split?", f"Remove the {len(words)} word clips split from this clip (their files and "
            "results)? The clip they were split from stays.", QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            return None
        return self.session.undo_split(row.id)
