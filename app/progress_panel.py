"""A stage label, a progress bar and a Cancel button bound to one `Worker` at a time."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.workers import Worker


class ProgressPanel(QWidget):
    """Hidden while idle; shows the running worker's stage and progress, Cancel stops it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        self.worker: Worker | None = None
        self.cancel_button.clicked.connect(self._cancel)
        self.setVisible(False)

    def attach(self, worker: Worker, title: str = "") -> None:
        """Follow `worker` until it ends."""
        self.worker = worker
        self.label.setText(title)
        self.bar.setRange(0, 0)  # busy until the first update with a total
        self.cancel_button.setEnabled(True)
        worker.progressed.connect(self._on_progress)
        worker.done.connect(self._on_done)
        self.setVisible(True)

    def _on_progress(self, stage: str, done: float, total, metrics: dict) -> None:
        if done < 0:  # a log line
            self.label.setText(f"{stage}: {metrics.get('message', '')}")
            return
        self.label.setText(stage)
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(1.0, done / total)))
        else:
            self.bar.setRange(0, 0)

    def _cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText("cancelling…")

    def _on_done(self) -> None:
        self.worker = None
        self.setVisible(False)
