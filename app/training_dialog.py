"""A dialog that runs one long core job (alignment, training, corpus building) with a progress bar,
a live plot of its numeric metrics (loss, criterion), Cancel, and the compute device it uses."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QMessageBox, QPlainTextEdit,
                               QPushButton, QVBoxLayout, QWidget)

from app.progress_panel import ProgressPanel
from app.workers import BACKGROUND_NICE, Worker
from core.errors import WordbridgeError


def compute_device() -> str:
    """'cuda (NAME)' when torch sees a GPU, else 'cpu' (torch imported only here)."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"cuda ({torch.cuda.get_device_name(0)})"
    except Exception:  # noqa: BLE001 - no torch is fine: the job will say so
        pass
    return "cpu"


def with_button(field: QWidget, on_click, text: str = "Browse…", tooltip: str = "") -> QWidget:
    """`field` (stretched) and a button after it, as one widget for a form row; the button runs `on_click`."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    button = QPushButton(text)
    button.setToolTip(tooltip)
    button.clicked.connect(on_click)
    row.addWidget(field, 1)
    row.addWidget(button)
    return box


# numeric metrics that count rather than measure: logged with progress, never plotted
COUNTERS = ("epoch", "shard", "step")


class TrainingDialog(QDialog):
    """Runs `fn(*args, progress=..., **kwargs)` in a worker; plots the numeric metrics it reports.

    `state` is "ready", "running", "done", "failed" or "cancelled"; `series` holds each plotted
    metric's values (counters such as epoch are left out).
    """

    def __init__(self, title: str, fn, *args, parent=None, **kwargs):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(560, 420)
        self.state = "ready"
        self.device = QLabel(f"Compute device: {compute_device()}")
        self.device.setToolTip("Where the job's tensors are computed: a CUDA GPU when torch sees one, else the CPU")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.addLegend()
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(500)
        self.progress = ProgressPanel()
        self.close_box = QDialogButtonBox(QDialogButtonBox.Close)
        self.close_box.setEnabled(False)
        self.close_box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.device, self.plot, self.progress, self.status, self.log, self.close_box):
            layout.addWidget(w)
        self.series: dict[str, list[float]] = {}
        self._curves: dict[str, object] = {}
        self.result = None
        # the form's summary of a finished job (job_from_form): called before the state turns "done", so
        # its lines precede "done" in the log and a caller waiting for "done" sees them
        self.on_result = None
        self.worker = Worker(fn, *args, parent=self, nice=BACKGROUND_NICE, **kwargs)
        self.worker.progressed.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(lambda m: self._end("failed", f"failed: {m}"))
        # what the status says after Cancel; a form may say more (where the checkpoint is). One slot
        # sets state and text together: a second slot on `cancelled` showed "cancelled" for an event-loop turn
        self.cancel_note = "cancelled"
        self.worker.cancelled.connect(lambda: self._end("cancelled", self.cancel_note))
        self.progress.attach(self.worker, title)

    def start(self) -> Worker:
        """Start the job in its worker thread."""
        self.state = "running"
        self.worker.start()
        return self.worker

    def report(self, text: str) -> None:
        """Add lines to the dialog's log (a summary at the end of the job)."""
        self.log.appendPlainText(text)

    def _on_progress(self, stage: str, done: float, total, metrics: dict) -> None:
        if done < 0:
            self.log.appendPlainText(f"{stage}: {metrics.get('message', '')}")
            return
        for name, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name not in COUNTERS:
                self.series.setdefault(name, []).append(float(value))
                if name not in self._curves:
                    colour = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"][len(self._curves) % 4]
                    self._curves[name] = self.plot.plot(pen=pg.mkPen(colour, width=2), name=name)
                self._curves[name].setData(self.series[name])

    def _on_finished(self, result) -> None:
        self.result = result
        try:
            if self.on_result is not None:
                self.on_result(result)
        finally:
            self._end("done", "done")

    def _end(self, state: str, text: str) -> None:
        self.state = state
        self.log.appendPlainText(text)
        self.status.setText(text if state != "done" else "")
        self.status.setStyleSheet("color: #b02a37;" if state == "failed" else "")
        self.close_box.setEnabled(True)

    def reject(self) -> None:  # noqa: D401 - Qt API: closing cancels a running job
        if self.worker.is_running():
            self.worker.cancel()
            self.worker.wait(5000)
        super().reject()


def job_from_form(form, error_title: str, title, fn, configure=None) -> TrainingDialog | None:
    """Check `form.request()` (a message box titled `error_title` names what is wrong), then run
    `fn(form.project, **request)` in a TrainingDialog titled `title(request)` that replaces the form.

    `configure(job, request)` may adjust the dialog before it starts; the form's `_finished(job,
    result)` receives the result. Returns the running dialog, or None on bad input.
    """
    try:
        request = form.request()
    except WordbridgeError as exc:
        QMessageBox.warning(form, error_title, str(exc))
        return None
    job = TrainingDialog(title(request), fn, form.project, parent=form.parent() or form, **request)
    # not a second slot on `finished`: queued slots run one event apart, and "done" came first
    job.on_result = lambda result: form._finished(job, result)
    if configure is not None:
        configure(job, request)
    form.job = job
    form.accept()
    job.show()
    job.start()
    return job
