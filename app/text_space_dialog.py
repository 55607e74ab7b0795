"""Text ▸ Add text space…: train a skip-gram text space from a corpus file with the paper's settings
(skip-gram, 50 dimensions, window 5) or import a word2vec .vec/.bin file, then run it in a
TrainingDialog (progress bar, Cancel) through core.text_space_project."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QLabel, QLineEdit, QSpinBox, QVBoxLayout)

from app.training_dialog import job_from_form, with_button
from core.errors import WordbridgeError
from core.text import CORPUS_FORMATS
from core.text_space_project import PAPER_PARAMS, suggest_space_id

MODES = {"train": "Train from a corpus file (skip-gram)", "import": "Import word vectors (.vec / .bin)"}
MODE_HELP = ("Train: a word2vec skip-gram space learned from a text file (one sentence per line, or a "
             "verse TSV book<TAB>chapter<TAB>verse<TAB>text), as `main.py text-space` does.\n"
             "Import: a word2vec text (.vec) or binary (.bin) file you already have; counts are read from "
             "its .counts side file when there is one.")


class TextSpaceDialog(QDialog):
    """The form; `start()` checks it and runs the training or import in a TrainingDialog."""

    added = Signal(object)  # the summary dict of the core function

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.job = None
        self.setWindowTitle("Add text space")
        self.mode = QComboBox()
        for key, text in MODES.items():
            self.mode.addItem(text, key)
        self.mode.setToolTip(MODE_HELP)
        self.path = QLineEdit()
        self.path.setToolTip("The corpus file (train) or the vectors file (import)")
        self.language = QLineEdit(project.manifest.languages[0] if project.manifest.languages else "")
        self.language.setToolTip("Language code of the text (e.g. mbo, fr). Align pairs the speech space with "
                                 "the text space of its own language first.")
        self.space_id = QLineEdit()
        self.space_id.setToolTip("Id of the space in the project (letters, digits, '.', '_', '-'). "
                                 "Default: text-<language>.")
        self.format = QComboBox()
        self.format.addItems(list(CORPUS_FORMATS))
        self.format.setToolTip("Corpus format; auto detects a verse TSV by its first line. Default: auto.")
        self.dim = self._spin(1, 4096, PAPER_PARAMS.dim, "Vector dimension (the paper: 50). It must equal the "
                              "speech space's dimension to align.")
        self.window = self._spin(1, 100, PAPER_PARAMS.window, "Skip-gram context window (the paper: 5).")
        self.min_count = self._spin(1, 1000, PAPER_PARAMS.min_count, "Words seen fewer times are left out.")
        self.epochs = self._spin(1, 1000, PAPER_PARAMS.epochs, "Passes over the corpus.")
        self.seed = self._spin(0, 2**31 - 1, PAPER_PARAMS.seed, "Random seed.")
        self.max_rows = self._spin(0, 10_000_000, 0, "Import only the most frequent words (0: all).")
        self.replace = QCheckBox("replace a text space of this name")
        self.replace.setToolTip("Without this, a name already used in the project is refused. Default: off.")
        self.help = QLabel(MODE_HELP)
        self.help.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Source", self.mode)
        form.addRow("File", with_button(self.path, self._browse, tooltip="Choose the corpus or vectors file"))
        form.addRow("Language", self.language)
        form.addRow("Space name", self.space_id)
        form.addRow("Corpus format", self.format)
        form.addRow("Dimension", self.dim)
        form.addRow("Window", self.window)
        form.addRow("Min. count", self.min_count)
        form.addRow("Epochs", self.epochs)
        form.addRow("Seed", self.seed)
        form.addRow("Most frequent words", self.max_rows)
        form.addRow(self.replace)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.add_button = self.buttons.addButton("Add", QDialogButtonBox.AcceptRole)
        self.add_button.setToolTip("Train or import the space in the background (progress, Cancel)")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.help)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.mode.currentIndexChanged.connect(lambda _i: self._enable_fields())
        self.language.textChanged.connect(lambda _t: self._suggest_id())
        self._suggest_id()
        self._enable_fields()

    def _spin(self, low: int, high: int, value: int, help_text: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(f"{help_text} Default: {value}.")
        return spin

    def _suggest_id(self) -> None:
        self.space_id.setText(suggest_space_id(self.project, self.language.text().strip()))

    def _enable_fields(self) -> None:
        training = self.mode.currentData() == "train"
        for w in (self.format, self.dim, self.window, self.min_count, self.epochs, self.seed):
            w.setEnabled(training)
        self.max_rows.setEnabled(not training)

    def _browse(self) -> None:
        filters = "Text (*.txt *.tsv *.xz *.gz);;All files (*)" if self.mode.currentData() == "train" \
            else "Word vectors (*.vec *.bin *.txt);;All files (*)"
        path = QFileDialog.getOpenFileName(self, "Choose file", "", filters)[0]
        if path:
            self.path.setText(path)

    def request(self) -> dict:
        """Keyword arguments of the core function; a WordbridgeError says what is wrong."""
        from core.text import SkipGramParams

        path = self.path.text().strip()
        if not path or not Path(path).is_file():
            raise WordbridgeError(f"choose an existing file (not {path!r})" if path else "choose a file")
        request = {"space_id": self.space_id.text().strip(), "language": self.language.text().strip(),
                   "replace": self.replace.isChecked()}
        if self.mode.currentData() == "import":
            return {"path": path, "max_rows": self.max_rows.value() or None, **request}
        params = SkipGramParams(dim=self.dim.value(), window=self.window.value(), min_count=self.min_count.value(),
                                epochs=self.epochs.value(), seed=self.seed.value())
        params.check()
        return {"corpus": path, "params": params, "corpus_format": self.format.currentText(), **request}

    def start(self):
        """Check the form (a message box names what is wrong), then train or import; returns the job dialog."""
        from core.text_space_project import import_project_text_space, train_project_text_space

        fn = train_project_text_space if self.mode.currentData() == "train" else import_project_text_space
        verb = "Train" if fn is train_project_text_space else "Import"
        return job_from_form(self, "Cannot add text space", lambda r: f"{verb} text space “{r['space_id']}”", fn)

    def _finished(self, job, result: dict) -> None:
        tokens = f" from {result['tokens']} tokens" if result.get("tokens") else ""
        job.report(f"{result['words']} words × {result['dim']} dimensions{tokens} in {result['seconds']} s")
        job.status.setText(f"Text space “{result['space']}” is in the project. Next: Train ▸ Align spaces….")
        self.added.emit(result)
