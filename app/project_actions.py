"""The main window's Train ▸ Align / Revert, Text ▸ Add text space and Project ▸ Import annotated
recording actions (a mixin of MainWindow): each opens a form or starts a worker; the work is core's
(core.mapping_history, core.text_space_project, core.label_export)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.errors import WordbridgeError


class ProjectActions:
    """Menu actions that change the project's spaces, map or recordings (mixed into MainWindow)."""

    def align_dialog(self):
        """Train ▸ Align spaces…: the form (method, options, help); a replaced map is kept for Revert."""
        from app.align_dialog import AlignDialog

        if self.session.project is None:
            self.statusBar().showMessage("Open or create a project first.", 8000)
            return None
        project = self.session.writable_project()
        dialog = AlignDialog(project, parent=self)
        dialog.aligned.connect(lambda _r: self.session.after_mapping_change())
        dialog.show()
        return dialog

    def text_space_dialog(self):
        """Text ▸ Add text space…: train from a corpus file or import word vectors, in the background."""
        from app.text_space_dialog import TextSpaceDialog

        if self.session.project is None:
            self.statusBar().showMessage("Open or create a project first.", 8000)
            return None
        dialog = TextSpaceDialog(self.session.writable_project(), parent=self)
        dialog.added.connect(lambda _r: self.session.after_mapping_change())
        dialog.show()
        return dialog

    def revert_alignment(self) -> bool:
        """Train ▸ Revert alignment: the map the last Align/Refine/Revert replaced comes back."""
        from core.mapping_history import revert_mapping
        from core.projection import default_mapping

        project = self.session.project
        mapping_id = default_mapping(project) if project is not None else None
        try:
            if mapping_id is None:
                raise WordbridgeError("this project has no map to revert")
            result = revert_mapping(self.session.writable_project(), mapping_id)
        except WordbridgeError as exc:
            self.statusBar().showMessage(f"Cannot revert: {exc}", 8000)
            return False
        criterion = result["metrics"].get("criterion")
        self.statusBar().showMessage(f"Reverted to the previous map “{result['method']}”"
                                     + (f" (criterion {criterion:.4f})" if criterion is not None else ""), 8000)
        self.session.after_mapping_change()
        return True

    def import_annotated(self, path: str | None = None):
        """Project ▸ Import annotated recording…: a TextGrid/.eaf and its WAV, imported in a worker."""
        from app.workers import Worker
        from core.label_export import import_annotated_recording

        if self.session.project is None:
            self.statusBar().showMessage("Open or create a project first.", 8000)
            return None
        path = path or QFileDialog.getOpenFileName(self, "Import annotated recording", "",
                                                   "Annotations (*.TextGrid *.textgrid *.eaf)")[0]
        if not path:
            return None
        from core.corpus.report import ReadReport
        from core.label_export import skipped_labels_note

        project = self.session.writable_project()
        report = ReadReport()  # labels skipped by the corpus readers' check, counted per reason
        worker = Worker(lambda progress=None: import_annotated_recording(project, path, report=report), parent=self)

        def imported(recording_id):
            n = len(self.session.project.segments(recording_id))
            self.statusBar().showMessage(f"Imported {Path(path).name}: recording {recording_id} with {n} words"
                                         + skipped_labels_note(report), 8000)
            self.session.recordings_changed.emit()

        worker.finished.connect(imported)
        worker.failed.connect(lambda m: QMessageBox.warning(self, "Cannot import", m))
        worker.start()
        return worker
