"""The Recordings tab: every clip of the project a row (play, label, speaker, language, top results,
confidence), the way Lingua Libre lists a recorded word list. Rows come from
core.recording_list (the project's database), so the list survives a restart; label, speaker and
language are edited in place and written back. Batch import runs in a Worker with progress and
Cancel; Record word list… opens the prompt-by-prompt recorder (app.word_list_dialog). Below the
table, the selected clip's waveform with its word as a draggable span (app.boundary_editor)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter,
                               QTableView, QVBoxLayout, QWidget)

from app import audio_io
from app.boundary_editor import BoundaryEditor
from app.progress_panel import ProgressPanel
from app.workers import Worker
from core.errors import WordbridgeError

COLUMNS = ("▶", "Label", "Speaker", "Language", "Top results", "Confidence", "Duration", "File")
EDITABLE = {1: "label", 2: "speaker", 3: "language"}
AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.mp3);;All files (*)"


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
            return [("▶" if role == Qt.DisplayRole else ""), row.label, row.speaker, row.language,
                    ", ".join(f"{w} ({s:.2f})" for w, s in row.top),
                    "" if row.confidence is None else f"{row.confidence:.2f}",
                    f"{row.duration:.2f} s", row.file][col]
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
        self.buttons = {name: QPushButton(name) for name in ("Import files…", "Record word list…", "Play")}
        for name, tip in (("Import files…", "Import many audio files at once; each is trimmed, classified and "
                           "listed, in the background (Cancel stops between files)"),
                          ("Record word list…", "Record one word after another from a list; each file is named "
                           "by its word"),
                          ("Play", "Play the selected clip")):
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
        self.table.doubleClicked.connect(lambda index: index.column() == 0 and self.play_row(index.row()))
        self.table.selectionModel().currentRowChanged.connect(lambda current, _previous: self.show_row(current.row()))
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
