"""Train ▸ Align spaces…: a form (text space, method, options, each with its help), a confirmation
before an existing map is replaced, then the alignment in a TrainingDialog through
core.mapping_history.align_keeping_previous (the replaced map is kept: Train ▸ Revert alignment)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QMessageBox, QSpinBox,
                               QVBoxLayout)

from app.training_dialog import job_from_form
from core.errors import WordbridgeError

METHOD_HELP = {
    "default": "The paper's adversarial pipeline on a GPU; robust self-learning on a CPU, where the "
               "adversarial defaults take hours.",
    "auto": "Adversarial training, Procrustes refinement and a self-learning fallback, the best by the "
            "unsupervised criterion (MUSE + VecMap). Sized for a GPU.",
    "adversarial": "The paper's method: a discriminator tells mapped speech from text, then Procrustes "
                   "refinement (MUSE). Hours on a CPU.",
    "selflearn": "Robust self-learning from a similarity-distribution start (VecMap): no GPU needed, minutes.",
}
NORMALIZE_CHOICES = ("unit,center,unit", "unit", "center", "none")


class AlignDialog(QDialog):
    """The alignment form; `start()` checks it, confirms a replacement, runs the job."""

    aligned = Signal(object)  # the result dict of align_keeping_previous

    def __init__(self, project, parent=None):
        super().__init__(parent)
        from core.alignment.base import AlignConfig

        defaults = AlignConfig()
        self.project = project
        self.job = None
        self.setWindowTitle("Align spaces")
        spaces = project.manifest.spaces
        speech = next((s for s in spaces if s.kind == "speech"), None)
        self.speech = QLabel(f"{speech.id} ({speech.dim}-d, {speech.n_words} types)" if speech else
                             "<i>no speech space yet: Train ▸ Train speech space…</i>")
        self.speech.setToolTip("The project's speech space (the source of the map)")
        self.source = QComboBox()  # the speech space, or a text space to map onto another text space
        self.source.addItem("the speech space", None)
        for s in spaces:
            if s.kind == "text":
                self.source.addItem(f"text space {s.id} ({s.language or '?'})", s.id)
        self.source.setToolTip(
            "What is mapped onto the text space: the speech space, or a text space — a map between two text "
            "spaces lets a clip's words be translated through the first (e.g. English speech → English text → "
            "French: how a speech space trained without word labels reaches another language). Default: the "
            "speech space.")
        self.text = QComboBox()
        for s in spaces:
            if s.kind == "text":
                self.text.addItem(f"{s.id} ({s.language or '?'}, {s.dim}-d, {s.n_words} words)", s.id)
        if speech is not None:
            same = next((i for i in range(self.text.count())
                         if project.space_entry(self.text.itemData(i)).language == speech.language), None)
            if same is not None:
                self.text.setCurrentIndex(same)
        self.text.setToolTip("The text space the speech space is mapped onto (Text ▸ Add text space… adds one). "
                             "Default: the one in the speech's language.")
        self.method = QComboBox()
        self.method.addItems(list(METHOD_HELP))
        self.method.setToolTip("\n".join(f"{k}: {v}" for k, v in METHOD_HELP.items()))
        self.method_help = QLabel("")
        self.method_help.setWordWrap(True)
        self.seed = self._spin(0, 2**31 - 1, defaults.seed, "Random seed of every restart.")
        self.restarts = self._spin(0, 100, 0, "Restarts from different seeds; the best by the criterion is kept "
                                   "(0: 3 for adversarial, auto and selflearn).")
        self.knn = self._spin(1, 100, defaults.csls_knn, "Neighbours in CSLS (the hubness correction).")
        self.normalize = QComboBox()
        self.normalize.addItems(list(NORMALIZE_CHOICES))
        self.normalize.setToolTip("Normalisation of both spaces before aligning (VecMap: unit, center, unit). "
                                  f"Default: {defaults.normalize}.")
        self.gw_start = QCheckBox("Gromov–Wasserstein start (selflearn)")
        voice_free = bool(speech is not None and speech.provenance.get("voice_free"))
        self.gw_start.setChecked(voice_free)
        self.gw_start.setToolTip(
            "Selflearn first runs from starts that match the two spaces' distance structures (entropic "
            "Gromov–Wasserstein, one per entropy and number of target words), then from its usual similarity-distribution starts; the "
            "criterion keeps the best. Without it, speech spaces trained without word labels did not align "
            "(synthetic voices, 500k tokens). Adds about a second on a GPU, minutes on a CPU. Default: on for a "
            "speech space trained with voice-free word types; with method default it aligns by selflearn.")
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setToolTip("auto: the GPU when torch sees one, else the CPU. Default: auto.")
        self.current = QLabel(self._current_text())
        self.current.setWordWrap(True)
        self.current.setToolTip("The map this alignment replaces; it is kept so Train ▸ Revert alignment restores it")
        form = QFormLayout()
        form.addRow("Speech space", self.speech)
        form.addRow("Map from", self.source)
        form.addRow("Text space", self.text)
        form.addRow("Method", self.method)
        form.addRow(self.method_help)
        form.addRow("Seed", self.seed)
        form.addRow("Restarts", self.restarts)
        form.addRow("CSLS neighbours", self.knn)
        form.addRow("Normalisation", self.normalize)
        form.addRow(self.gw_start)
        form.addRow("Device", self.device)
        form.addRow(self.current)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.align_button = self.buttons.addButton("Align", QDialogButtonBox.AcceptRole)
        self.align_button.setToolTip("Align in the background (progress, criterion plot, Cancel)")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.method.currentTextChanged.connect(lambda m: self.method_help.setText(METHOD_HELP[m]))
        self.text.currentIndexChanged.connect(lambda _i: self.current.setText(self._current_text()))
        self.source.currentIndexChanged.connect(lambda _i: self._source_changed())
        self.method_help.setText(METHOD_HELP[self.method.currentText()])

    def _spin(self, low: int, high: int, value: int, help_text: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(f"{help_text} Default: {value}.")
        return spin

    def _source_changed(self) -> None:
        # text spaces align from the robust start; the GW start is for speech spaces without labels
        from_text = self.source.currentData() is not None
        self.gw_start.setEnabled(not from_text)
        if from_text:
            self.gw_start.setChecked(False)
        self.current.setText(self._current_text())

    def mapping_id(self) -> str | None:
        """The id of the map this alignment writes (None without a source or a text space)."""
        source = self.source.currentData()
        if source is None:
            speech = next((s for s in self.project.manifest.spaces if s.kind == "speech"), None)
            source = speech.id if speech is not None else None
        if source is None or self.text.currentData() is None:
            return None
        return f"{source}__{self.text.currentData()}"

    def _current_text(self) -> str:
        mapping_id = self.mapping_id()
        existing = {m.id: m for m in self.project.manifest.mappings}
        if mapping_id not in existing:
            return "No map yet: this alignment makes the first one."
        m = existing[mapping_id]
        criterion = m.metrics.get("criterion")
        return (f"Replaces the current map “{m.method}”" + (f" (criterion {criterion:.4f})" if criterion else "")
                + "; it is kept, and Train ▸ Revert alignment restores it.")

    def request(self) -> dict:
        """Keyword arguments of `align_keeping_previous`; a WordbridgeError says what is wrong."""
        from core.mapping_history import speech_and_text, text_and_text

        source = self.source.currentData()
        from_id, text_id = (speech_and_text(self.project, self.text.currentData()) if source is None else
                            text_and_text(self.project, source, self.text.currentData()))
        if self.project.space_entry(from_id).dim != self.project.space_entry(text_id).dim:
            what = "the speech space" if source is None else f"the text space {source}"
            raise WordbridgeError(f"{what} has {self.project.space_entry(from_id).dim} dimensions and "
                                  f"the text space {self.project.space_entry(text_id).dim}: they must be equal")
        if self.device.currentText() == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise WordbridgeError("device cuda chosen but torch sees no CUDA GPU here (choose auto or cpu)")
        method = self.method.currentText()
        if method == "default" and self.gw_start.isChecked():
            method = "selflearn"  # the GW start is a selflearn start; adversarial training would ignore it
        return {"text_id": text_id, "method": method, "seed": self.seed.value(),
                "restarts": self.restarts.value() or None, "csls_knn": self.knn.value(),
                "normalize": self.normalize.currentText(), "device": self.device.currentText(),
                "gw_start": self.gw_start.isChecked(), "source_id": source}

    def confirm_replace(self) -> bool:
        """Ask before an existing map is replaced (True when there is none)."""
        if self.mapping_id() not in {m.id for m in self.project.manifest.mappings}:
            return True
        answer = QMessageBox.question(self, "Replace the map?", self._current_text() + "\n\nAlign now?",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def start(self):
        """Check the form, confirm a replacement, then align; returns the job dialog (None when stopped)."""
        from core.mapping_history import align_keeping_previous

        if not self.confirm_replace():
            return None
        return job_from_form(self, "Cannot align", lambda r: f"Align spaces → {r['text_id']}", align_keeping_previous)

    def _finished(self, job, result: dict) -> None:
        stale = result.get("stale_layouts") or []
        job.report(f"{result['method_used']}: criterion {result['criterion']:.4f}"
                   + (f"; layouts to recompute: {', '.join(stale)}" if stale else ""))
        job.status.setText("The map is in the project" + (" (the previous one is kept: Train ▸ Revert alignment)."
                                                          if result.get("previous_kept") else "."))
        self.aligned.emit(result)
