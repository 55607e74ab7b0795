"""Train ▸ Build speech corpus…: choose a corpus folder, a reader and feature options, then build a
feature store in `<project>/corpora/<name>/` (core.corpus.project_corpora) in a TrainingDialog, which
ends with the reader's report (what was used, what was skipped and why).

The reader options shown are those the chosen reader takes; each one's default is read from the
reader function's own signature, so the dialog and the command line (`corpus build`) agree.

The store names its corpus folder without its absolute path (it travels with the project, issue 17),
so the folder itself is remembered outside the project, in the user's settings ("corpus_sources":
project folder → store name → the form that built it). The dialog opens with the form of an
unfinished (killed) build filled in, so Build resumes it; typing a known store name fills its folder.

The front end is `main.py corpus build --frontend/--standardise`'s choice (MFCC, log-mel, the speech
embedding, an ssl checkpoint; frames standardised over the corpus or not), passed to
`build_project_corpus` as `frontend` (its command-line word) and `standardise`. Its default follows
the reader (`core.speech.expectations.frontend_for_reader`): for a reader without word labels (vad,
energy, chunks) the speech embedding standardised over the corpus, the best measured without labels (MFCC
when its weights are not on this machine); MFCC otherwise. Rule: choosing a reader sets that default
until the front end or Standardise is changed by hand (or filled from a remembered build); from then
on choosing a reader leaves them as they are.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGroupBox, QLabel, QLineEdit, QSpinBox, QStackedWidget,
                               QVBoxLayout, QWidget)

from core.corpus.readers import READERS
from core.corpus.real_corpora import SPLITS_MBOSHI, SPLITS_SO762
from app.training_dialog import job_from_form, with_button
from core.errors import WordbridgeError
from core.features import FEATURE_KINDS, FeatureConfig
from core.frontends.speech_embedding import weights_missing
from core.speech.expectations import (MBOSHI_AP, MBOSHI_AP_CHANCE, MBOSHI_AP_SPEECH_RAW, MBOSHI_AP_STANDARDISED,
                                      UNLABELLED_READERS, frontend_for_reader, no_labels_note)

READER_HELP = {
    "textgrid": "Audio files, each with a Praat TextGrid of the same name (next to it or in the alignments "
                "folder); every interval of the word tier is a labelled word segment (configurations A, B).",
    "clips": "One word per audio file; the word comes from the file name (label pattern) or a CSV "
             "file,label[,speaker] (configurations A, B).",
    "librispeech": "A LibriSpeech-style tree SPEAKER/CHAPTER/UTT.flac with Montreal Forced Aligner TextGrids "
                   "(configurations A, B).",
    "vad": "Unsegmented recordings without transcripts: voice activity detection, then splits at pauses into "
           "unlabelled word-like segments (configuration VAD).",
    "energy": "Unsegmented recordings without transcripts cut at pauses and, in stretches longer than the "
              "longest word, at energy valleys into syllable-to-word-sized unlabelled segments (configuration "
              "VAD). On Mboshi field recordings its cuts were far closer to the words than the vad reader's "
              "(boundary F 39.2 vs 19.2, token F 7.9 vs 1.8; docs/RESULTS.md session 13), and on synthetic "
              "read English too (boundary F 0.58 vs 0.38, 67 % vs 35 % of segments one word; session 23): the "
              "better choice for connected speech.",
    "chunks": "Unsegmented recordings cut into equal-length unlabelled chunks: the paper's floor baseline "
              "(configuration F).",
    "transcribed": "Audio files with a TSV transcript (header row); words placed by forced alignment "
                   "(configurations A, B).",
    "speechocean762": "speechocean762 (train.tsv / test.tsv, audio/*.opus); words placed by forced alignment, "
                      "its test speakers held out (configurations A, B).",
    "mboshi": "The Mboshi corpus layout (utterances.tsv, words.tsv, audio/*.opus): the corpus's own word times "
              "(\"silver\" forced alignment); choose its train or dev split (configurations A, B).",
}
for _reader in UNLABELLED_READERS:  # readers that give no word labels: say how well that is expected to work
    READER_HELP[_reader] += " " + no_labels_note()
# reader parameter → (label, help); the widget follows the default's type (or a choice list)
OPTIONS = {
    "tier": ("Word tier", "Name of the TextGrid interval tier that holds the words."),
    "alignments": ("Alignments folder", "Folder of TextGrids parallel to the audio tree; empty = TextGrids "
                                        "next to the audio only."),
    "lowercase": ("Lower-case labels", "Lower-case every word label."),
    "label_pattern": ("Label pattern", "Regular expression on the file name without extension; its group "
                                       "'label' (or group 1) is the word."),
    "csv_path": ("Labels CSV", "CSV/TSV file with file,label[,speaker] rows; empty = labels from file names."),
    "speaker_from_folder": ("Speaker from folder", "Take each clip's speaker from its folder name."),
    "trim": ("Trim silence", "Cut silence around each clip's word (Lingua Libre thresholds)."),
    "vad": ("Detector", "webrtc (fast, webrtcvad) or silero (a small neural VAD)."),
    "aggressiveness": ("Aggressiveness", "webrtcvad mode: 0 keeps the most audio, 3 filters the most."),
    "min_pause": ("Shortest pause (s)", "Seconds of quiet that separate two words."),
    "pause_level": ("Pause level", "Frames quieter than this fraction of the speech region's loud level "
                                   "count as pause."),
    "min_word": ("Shortest word (s)", "Segments shorter than this are dropped."),
    "max_word": ("Longest word (s)", "Longer segments are split at their quietest point."),
    "merge_gap": ("Merge gap (s)", "Speech regions the VAD finds closer than this are joined into one."),
    "silence_db": ("Silence level (dB)", "Frames this many dB below the recording's loudest frame are silence."),
    "valley_db": ("Valley depth (dB)", "A long stretch is cut at an energy dip at least this deep below the "
                                       "peaks on both sides."),
    "chunk_seconds": ("Chunk length (s)", "Length of each chunk; a last chunk under half this is dropped."),
    "speaker_pattern": ("Speaker from file name (regex)",
                        "Regular expression searched in each file name without extension; its first group (or "
                        "the whole match) is the recording's speaker, e.g. ^([^_]+)_ for Mboshi's "
                        "abiayi_2015-09-08-…_Dico18_14.wav. Every file must match; empty = the sub-folder."),
    "split": ("Split", "Which part of the corpus to read: its own training or held-out split, or all of it."),
}
CHOICES = {"vad": ("webrtc", "silero")}
# choices that depend on the reader: (reader, option) → values (the reader's own list)
READER_CHOICES = {("mboshi", "split"): SPLITS_MBOSHI, ("speechocean762", "split"): SPLITS_SO762}
PATH_OPTIONS = {"alignments": "folder", "csv_path": "file"}
# the front-end choices: label → (front end as `corpus build --frontend` names it, FeatureConfig kind)
FRONT_ENDS = {"MFCC": ("mfcc", "mfcc"), "log-mel": ("mfcc", "logmel"),
              "Speech embedding": ("speech-embedding", None), "ssl checkpoint…": ("ssl", None)}
FRONT_END_HELP = (
    "What each word's frames are computed with (main.py corpus build --frontend). MFCC: 13 MFCCs every 10 ms "
    "(the paper); log-mel: 40 log-mel energies; Speech embedding: Google's speech_embedding, 96 dims every "
    "40 ms from each word's own audio (weights from the openwakeword 0.4.0 wheel or "
    "$WORDBRIDGE_SPEECH_EMBEDDING); ssl checkpoint: one transformer layer of a wav2vec2/HuBERT/XLS-R "
    "checkpoint file on disk. Default: MFCC for readers with word labels; for readers without (vad, "
    "energy, chunks) the speech embedding, standardised, when its weights are on this machine.")
STANDARDISE_HELP = (
    "Standardise the front end's frames per dimension (mean removed, divided by the std) with statistics of "
    "this corpus, fitted on a fixed sample of up to 200 of its recordings before the features (no labels "
    "needed; main.py corpus build --standardise). The statistics become part of the store's front end, so "
    "clips classified later are standardised the same way. Measured on Mboshi field recordings, the same "
    f"word across speakers (same-different AP, chance {MBOSHI_AP_CHANCE.value:.3f}): speech embedding "
    f"mean-pooled {MBOSHI_AP_SPEECH_RAW.value:.3f} raw, {MBOSHI_AP_STANDARDISED.value:.3f} standardised "
    f"(MFCC + DTW with per-recording CMVN: {MBOSHI_AP.value:.3f}); for MFCC, standardising over the corpus "
    "did not beat per-recording CMVN. Sources: docs/runs/2026-12-06-s9-cpu-same-different/, "
    "docs/runs/2026-12-06-s13-cpu-standardise-fit/ (docs/RESULTS.md, sessions 9 and 13). Default: on for "
    "readers without word labels when the speech embedding is used, else off.")
SOURCES_KEY = "corpus_sources"  # user settings: project folder → store name → {source, reader, options,
# features, frontend, standardise} (forms saved before the front-end choice have no frontend/standardise: MFCC)
MAX_PROJECTS = 20  # projects remembered there (the oldest are forgotten)


def remembered_builds(settings, project) -> dict[str, dict]:
    """Store name → the form that last built it in `project` on this machine (oldest first)."""
    data = settings.get(SOURCES_KEY) if settings is not None else None
    entry = data.get(str(Path(project.root).resolve())) if isinstance(data, dict) else None
    if not isinstance(entry, dict):
        return {}
    return {name: form for name, form in entry.items()
            if isinstance(form, dict) and isinstance(form.get("source"), str)}


def remember_build(settings, project, request: dict) -> None:
    """Keep the absolute corpus folder (and the form) of a build started in `project` in the user's settings."""
    if settings is None:
        return
    key = str(Path(project.root).resolve())
    config = request["config"]
    form = {"source": str(Path(request["source"]).resolve()), "reader": request["reader"],
            "options": dict(request.get("options") or {}),
            "features": {"kind": config.kind, "deltas": config.deltas, "cmvn": config.cmvn},
            "frontend": str(request.get("frontend") or "mfcc"), "standardise": bool(request.get("standardise"))}

    def change(data: dict) -> None:
        projects = data.get(SOURCES_KEY)
        projects = projects if isinstance(projects, dict) else {}
        builds = projects.pop(key, None)
        builds = builds if isinstance(builds, dict) else {}
        builds.pop(request["name"], None)
        builds[request["name"]] = form  # the newest last
        projects[key] = builds
        data[SOURCES_KEY] = dict(list(projects.items())[-MAX_PROJECTS:])

    settings.update(change)


def folder_name(path: str) -> str:
    """A corpus name made from a folder's name: letters, digits, '.', '_' and '-' only."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(path).name).strip("-.")
    return name or "corpus"


class ReaderOptions(QWidget):
    """A form of one reader's options, with the reader's own defaults."""

    def __init__(self, reader: str, parent=None):
        super().__init__(parent)
        self.reader = reader
        self.widgets: dict[str, QWidget] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        params = inspect.signature(READERS[reader]).parameters
        for name, (label, help_text) in OPTIONS.items():
            if name not in params:
                continue
            default = params[name].default
            widget = self._widget(name, default)
            shown = "empty" if default in (None, "") else ("on" if default is True else
                                                          "off" if default is False else default)
            widget.setToolTip(f"{help_text} Default: {shown}.")
            self.widgets[name] = widget
            row = widget
            if name in PATH_OPTIONS:
                row = self._with_browse(widget, PATH_OPTIONS[name])
            form.addRow(label, row)
        if not self.widgets:
            form.addRow(QLabel("This reader has no options."))

    def _widget(self, name: str, default) -> QWidget:
        choices = READER_CHOICES.get((self.reader, name)) or CHOICES.get(name)
        if choices:
            w = QComboBox()
            w.addItems(choices)
            w.setCurrentText(str(default))
        elif isinstance(default, bool):
            w = QCheckBox()
            w.setChecked(default)
        elif isinstance(default, int):
            w = QSpinBox()
            w.setRange(0, 3 if name == "aggressiveness" else 10_000)
            w.setValue(default)
        elif isinstance(default, float):
            w = QDoubleSpinBox()
            w.setDecimals(3)
            w.setRange(0.0, 600.0)
            w.setSingleStep(0.05)
            w.setValue(default)
        else:
            w = QLineEdit("" if default is None else str(default))
        return w

    def _with_browse(self, edit: QLineEdit, kind: str) -> QWidget:
        def browse():
            path = (QFileDialog.getExistingDirectory(self, "Choose a folder") if kind == "folder" else
                    QFileDialog.getOpenFileName(self, "Choose a file", "", "CSV (*.csv *.tsv)")[0])
            if path:
                edit.setText(path)

        return with_button(edit, browse)

    def set_values(self, values: dict) -> None:
        """Fill the form from `values` (as `values()` gives them; unknown names are ignored)."""
        for name, w in self.widgets.items():
            if name not in values:
                continue
            value = values[name]
            if isinstance(w, QComboBox):
                w.setCurrentText(str(value))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)) and isinstance(value, (int, float)):
                w.setValue(value)
            elif isinstance(w, QLineEdit):
                w.setText("" if value is None else str(value))

    def values(self) -> dict:
        """The options as the reader takes them (empty text → None: the reader's default)."""
        out = {}
        for name, w in self.widgets.items():
            if isinstance(w, QComboBox):
                out[name] = w.currentText()
            elif isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                out[name] = w.value()
            else:
                out[name] = w.text().strip() or None
        return out


class CorpusDialog(QDialog):
    """The corpus-building form; `start()` validates it and runs the build in a TrainingDialog."""

    built = Signal(object)  # core.corpus.build.BuildResult of a finished build

    def __init__(self, project, parent=None, settings=None):
        super().__init__(parent)
        self.project = project
        self.settings = settings  # app.settings.Settings: where corpus folders are remembered (None: nowhere)
        self.setWindowTitle("Build speech corpus")
        self.job = None  # the TrainingDialog of the build, once started
        self.source = QLineEdit()
        self.source.setPlaceholderText("folder with the corpus's audio files")
        self.source.setToolTip("The corpus folder (for the clips reader also a CSV file,label[,speaker]). "
                               "Its corpus.json, if any, marks it synthetic and names held-out speakers. "
                               "Default: none — required.")
        self.name = QLineEdit()
        self.name.setToolTip("The store is written to <project>/corpora/<name>/. Letters, digits, '.', '_', '-'. "
                             "Default: the corpus folder's name.")
        self._name_edited = False
        self.name.textEdited.connect(self._name_typed)
        self.source.textChanged.connect(self._suggest_name)
        self.reader = QComboBox()
        self.reader.addItems(list(READERS))
        self.reader.setToolTip("How words are found in the corpus. Default: textgrid.\n\n" + "\n".join(
            f"{r}: {t}" for r, t in READER_HELP.items()))
        self.reader_help = QLabel("")
        self.reader_help.setWordWrap(True)
        self.frontend_note = QLabel("")  # why the reader's default front end (readers without labels)
        self.frontend_note.setWordWrap(True)
        self._weights_missing = weights_missing()  # '' when the speech embedding's weights can be had
        self._frontend_by_hand = False  # see the module's docstring
        self.reader_pages = QStackedWidget()
        self.reader_options = {r: ReaderOptions(r) for r in READERS}
        for page in self.reader_options.values():
            self.reader_pages.addWidget(page)
        self.reader.currentTextChanged.connect(self._reader_changed)
        defaults = FeatureConfig()
        self.frontend = QComboBox()
        for label, data in FRONT_ENDS.items():
            self.frontend.addItem(label, data)
        self.frontend.setToolTip(FRONT_END_HELP)
        self.ssl_path = QLineEdit()
        self.ssl_path.setPlaceholderText("wav2vec2 / HuBERT / XLS-R checkpoint file")
        self.ssl_path.setToolTip("The checkpoint of the ssl front end (.safetensors, or a plain tensor file; "
                                 "its layer and more in the file's config). Default: none.")
        self.standardise = QCheckBox("Standardise frames over the corpus")
        self.standardise.setToolTip(STANDARDISE_HELP)
        self.frontend.currentIndexChanged.connect(self._frontend_changed)
        self.frontend.activated.connect(self._frontend_picked)  # only the user's own choices
        self.standardise.clicked.connect(self._frontend_picked)
        self.deltas = QCheckBox("append Δ and ΔΔ")
        self.deltas.setChecked(defaults.deltas)
        self.deltas.setToolTip("Append first and second differences (13 → 39 dims). Default: off.")
        self.cmvn = QCheckBox("normalise per recording (CMVN)")
        self.cmvn.setChecked(defaults.cmvn)
        self.cmvn.setToolTip("Mean and variance normalisation over each recording. Default: on.")
        self.workers = QSpinBox()
        self.workers.setRange(0, 64)
        self.workers.setValue(0)
        self.workers.setToolTip("Worker processes computing features; 0 computes them in the background "
                                "thread of this window (with a CUDA GPU the GPU computes them). Default: 0.")
        self.synthetic = QCheckBox("the speech is synthetic")
        self.synthetic.setToolTip("Mark the store as synthetic speech (text-to-speech). A corpus.json with "
                                  '"synthetic": true marks it anyway. Default: off.')
        self.held_out = QLineEdit()
        self.held_out.setPlaceholderText("speaker, speaker, …")
        self.held_out.setToolTip("Speakers kept out of training and used only for evaluation. "
                                 "Default: none (or those named in corpus.json).")
        self.resume_note = QLabel("")
        self.resume_note.setWordWrap(True)
        self.overwrite = QCheckBox("replace a store of this name built with other settings")
        self.overwrite.setToolTip("Without this, a store of the same name is reused when its settings match "
                                  "(an interrupted build continues) and refused when they differ. Default: off.")
        form = QFormLayout()
        form.addRow("Corpus folder", with_button(self.source, self._browse))
        form.addRow("Store name", self.name)
        form.addRow("Reader", self.reader)
        form.addRow(self.reader_help)
        form.addRow(self.frontend_note)
        reader_box = QGroupBox("Reader options")
        QVBoxLayout(reader_box).addWidget(self.reader_pages)
        feature_box = QGroupBox("Features")
        feature_form = QFormLayout(feature_box)
        feature_form.addRow("Front end", self.frontend)
        feature_form.addRow("Checkpoint", with_button(self.ssl_path, self._browse_checkpoint))
        feature_form.addRow(self.standardise)
        feature_form.addRow(self.deltas)
        feature_form.addRow(self.cmvn)
        feature_form.addRow("Worker processes", self.workers)
        more = QFormLayout()
        more.addRow(self.synthetic)
        more.addRow("Held-out speakers", self.held_out)
        more.addRow(self.overwrite)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.build_button = self.buttons.addButton("Build", QDialogButtonBox.AcceptRole)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.resume_note)
        layout.addLayout(form)
        layout.addWidget(reader_box)
        layout.addWidget(feature_box)
        layout.addLayout(more)
        layout.addWidget(self.buttons)
        self._frontend_changed()
        self._reader_changed(self.reader.currentText())
        self.resume_note.hide()
        self._fill_unfinished()

    def _fill(self, name: str, form: dict) -> None:
        """Fill the form with a remembered build's folder, reader, options and features."""
        reader = form.get("reader")
        if reader in self.reader_options:
            self.reader.setCurrentText(reader)
            if isinstance(form.get("options"), dict):
                self.reader_options[reader].set_values(form["options"])
        features = form.get("features") if isinstance(form.get("features"), dict) else {}
        if isinstance(features.get("deltas"), bool):
            self.deltas.setChecked(features["deltas"])
        if isinstance(features.get("cmvn"), bool):
            self.cmvn.setChecked(features["cmvn"])
        # a form saved before the front-end choice was built with MFCC features, not standardised
        frontend = form.get("frontend") if isinstance(form.get("frontend"), str) else "mfcc"
        self.set_frontend(frontend, form.get("standardise") is True, features.get("kind"))
        self._frontend_by_hand = True  # a remembered build's front end is kept when the reader changes
        self._name_edited = True
        self.source.setText(form["source"])
        self.name.setText(name)

    def _fill_unfinished(self) -> None:
        """An unfinished build of this project whose folder is remembered here: fill the form for it."""
        from core.corpus.project_corpora import CORPORA_DIR

        for name, form in reversed(remembered_builds(self.settings, self.project).items()):
            store = Path(self.project.root) / CORPORA_DIR / name
            if store.is_dir() and not (store / "header.json").is_file() and Path(form["source"]).exists():
                self._fill(name, form)
                self.resume_note.setText(f"The build of “{name}” did not finish: the form holds its settings, "
                                         "and Build continues it where it stopped.")
                self.resume_note.show()
                return

    def _name_typed(self, text: str) -> None:
        self._name_edited = True
        form = remembered_builds(self.settings, self.project).get(text.strip())
        if form is not None and not self.source.text().strip() and Path(form["source"]).exists():
            self._fill(text.strip(), form)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Corpus folder")
        if path:
            self.source.setText(path)

    def _suggest_name(self, text: str) -> None:
        if not self._name_edited and text.strip():
            self.name.setText(folder_name(text.strip()))

    def _reader_changed(self, reader: str) -> None:
        self.reader_pages.setCurrentWidget(self.reader_options[reader])
        self.reader_help.setText(f"<i>{READER_HELP.get(reader, '')}</i>")
        choice = frontend_for_reader(reader, self._weights_missing)
        self.frontend_note.setText(choice.note)
        self.frontend_note.setVisible(bool(choice.note))
        if not self._frontend_by_hand:
            self.set_frontend(choice.frontend, choice.standardise)

    def _frontend_picked(self, *_args) -> None:
        self._frontend_by_hand = True

    def _frontend_changed(self, *_args) -> None:
        spec, kind = self.frontend.currentData()
        self.deltas.setEnabled(kind is not None)  # options of the MFCC / log-mel features only
        self.cmvn.setEnabled(kind is not None)
        self.ssl_path.setEnabled(spec == "ssl")

    def set_frontend(self, frontend: str, standardise: bool, kind: str | None = None) -> None:
        """Show `frontend` (a `corpus build --frontend` word; "mfcc" with the features `kind`) and `standardise`."""
        if frontend.startswith("ssl:"):
            self.ssl_path.setText(frontend[4:])
            frontend = "ssl"
        for i in range(self.frontend.count()):
            spec, item_kind = self.frontend.itemData(i)
            if spec == frontend and (item_kind is None or item_kind == (kind if kind in FEATURE_KINDS else "mfcc")):
                self.frontend.setCurrentIndex(i)
                break
        self.standardise.setChecked(bool(standardise))

    def _browse_checkpoint(self) -> None:
        path = QFileDialog.getOpenFileName(self, "ssl checkpoint", "",
                                           "Checkpoints (*.safetensors *.pt *.pth *.bin);;All files (*)")[0]
        if path:
            self.ssl_path.setText(path)
            self.frontend.setCurrentIndex(list(FRONT_ENDS).index("ssl checkpoint…"))
            self._frontend_picked()

    def request(self) -> dict:
        """The keyword arguments of `build_project_corpus` ("frontend" as `corpus build --frontend` takes
        it, "standardise"); a WordbridgeError says what is wrong (a missing checkpoint or speech-embedding
        weights too: one line, before the build starts)."""
        from core.corpus.project_corpora import check_corpus_source, corpus_folder
        from core.corpus.speakers import check_speaker_pattern

        reader = self.reader.currentText()
        source = check_corpus_source(self.source.text(), reader)
        name = self.name.text().strip() or folder_name(str(source))
        corpus_folder(self.project, name)  # checks the name
        options = self.reader_options[reader].values()
        if options.get("label_pattern"):
            try:
                re.compile(options["label_pattern"])
            except re.error as exc:
                raise WordbridgeError(f"label pattern {options['label_pattern']!r} is not a regular "
                                      f"expression ({exc})") from None
        check_speaker_pattern(source, options.get("speaker_pattern"))
        metadata = {}
        if self.synthetic.isChecked():
            metadata["synthetic"] = True
        held_out = [s.strip() for s in self.held_out.text().split(",") if s.strip()]
        if held_out:
            metadata["held_out_speakers"] = held_out
        frontend, kind = self.frontend.currentData()
        if frontend == "ssl":
            checkpoint = self.ssl_path.text().strip()
            if not checkpoint:
                raise WordbridgeError("choose the ssl checkpoint file (a wav2vec2 / HuBERT / XLS-R checkpoint)")
            if not Path(checkpoint).expanduser().is_file():
                raise WordbridgeError(f"{checkpoint}: checkpoint not found")
            frontend = f"ssl:{Path(checkpoint).expanduser().resolve()}"
        if frontend == "speech-embedding":
            self._weights_missing = weights_missing()  # asked again: they may have been installed since
            if self._weights_missing:
                raise WordbridgeError(self._weights_missing)
        config = FeatureConfig(kind=kind or "mfcc", deltas=self.deltas.isChecked(), cmvn=self.cmvn.isChecked())
        return {"source": str(source), "name": name, "reader": reader, "options": options, "config": config,
                "frontend": frontend, "standardise": self.standardise.isChecked(),
                "workers": self.workers.value(), "overwrite": self.overwrite.isChecked(), "metadata": metadata}

    def start(self):
        """Check the form (a message box names what is wrong), then run the build; returns its TrainingDialog."""
        from core.corpus.project_corpora import build_project_corpus

        return job_from_form(self, "Cannot build the corpus", lambda r: f"Build speech corpus “{r['name']}”",
                             build_project_corpus,
                             configure=lambda _job, r: remember_build(self.settings, self.project, r))

    def _finished(self, job, result) -> None:
        for note in result.notes:
            job.report(note)
        if result.shards_resumed:
            job.report(f"resumed: {result.shards_resumed} of {result.shards_total} shards were already done")
        job.report(result.read_report.summary())
        job.report(result.build_report.summary())
        job.report(f"{result.n_segments} segments in {result.path}")
        job.status.setText(f"Built “{Path(result.path).name}”: {result.n_segments} segments. "
                           "Next: Train ▸ Train speech space…")
        self.built.emit(result)
