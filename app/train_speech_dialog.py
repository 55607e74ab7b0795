"""Train ▸ Train speech space…: choose a feature store, a learner, a configuration and a few settings,
then train in a TrainingDialog (live loss plot, Cancel) and add the space and its encoder to the
project (core.speech.project_space.train_project_speech_space), ready for Train ▸ Align spaces….
Under the configuration a label says how well it is expected to work on the store's kind of speech
(core.speech.expectations: our own measurements; its tooltip names where they come from).

The run folder is `<project>/speech-runs/<space name>/`; a cancelled run keeps its checkpoint, and
training again with the same settings continues from it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QLabel, QLineEdit, QSpinBox, QVBoxLayout)

from app.training_dialog import job_from_form, with_button
from core.errors import WordbridgeError
from core.speech.config import GROUPINGS, SpeechConfig

LEARNER_PRESETS = {"unit-skipgram": "unit-skipgram", "speech2vec": "paper"}  # learner → core preset
LEARNER_HELP = ("unit-skipgram: acoustic word embeddings learned from audio alone, grouped into word types, "
                "then skip-gram over the stream of types (the learner built to be aligned with text).\n"
                "speech2vec: the paper's model (BiLSTM encoder, LSTM decoder reconstructing neighbouring "
                "words, SGD).")
CONFIG_HELP = ("A: word types from the store's labels (forced alignments).\n"
               "B: the same word segments grouped by k-means (labels unused).\n"
               "VAD: k-means over segments the VAD reader cut.\nF: k-means over equal-length chunks.\n"
               "B, VAD and F first learn from pairs of segments by different speakers that match frame "
               "by frame (DTW), two rounds after the first epochs.")
DEFAULTS = SpeechConfig()


class TrainSpeechDialog(QDialog):
    """The speech-training form; `start()` validates it and runs the training in a TrainingDialog."""

    trained = Signal(object)  # the result dict of train_project_speech_space

    def __init__(self, project, default_store: str | Path | None = None, parent=None):
        super().__init__(parent)
        from core.corpus.project_corpora import list_corpora

        self.project = project
        self.job = None
        self.header: dict = {}
        self.setWindowTitle("Train speech space")
        self.store = QComboBox()
        self.store.setToolTip("The feature store to learn from (Train ▸ Build speech corpus… writes them to "
                              "<project>/corpora/). Default: the store built last.")
        stores = [str(p) for p in list_corpora(project)]
        if default_store is not None and str(default_store) not in stores:
            stores.insert(0, str(default_store))
        elif default_store is not None:
            stores.remove(str(default_store))
            stores.insert(0, str(default_store))
        for path in stores:
            self.store.addItem(Path(path).name, path)
        self.store_info = QLabel("")
        self.store_info.setWordWrap(True)
        self.learner = QComboBox()
        self.learner.addItems(list(LEARNER_PRESETS))
        self.learner.setToolTip(LEARNER_HELP + "\nDefault: unit-skipgram.")
        self.grouping = QComboBox()
        self.grouping.addItems(list(GROUPINGS))
        self.grouping.setToolTip(CONFIG_HELP + "\nOnly the configurations the store allows can be chosen. "
                                 "Default: A when the store has labels, else the one its reader allows.")
        self.expectation = QLabel("")
        self.expectation.setWordWrap(True)
        self.expectation.setTextFormat(Qt.PlainText)
        self.encoder = QComboBox()  # unit-skipgram's acoustic encoder (SpeechConfig.ac_encoder)
        for label, kind in (("conv (trained)", "conv"), ("GRU (trained)", "gru"),
                            ("mean (nothing trained: each segment's mean frame)", "mean")):
            self.encoder.addItem(label, kind)
        self.encoder.setToolTip("unit-skipgram's acoustic word embeddings: a trained encoder (conv or GRU), or "
                                "the mean of the front end's frames with nothing trained. Default: mean for "
                                "configurations B / VAD / F on a speech-embedding store (it grouped words better "
                                "on field recordings), else conv.")
        self.encoder.activated.connect(self._encoder_picked)  # only the user's own choices
        self._encoder_by_hand = False  # a choice made by hand is kept when the store or configuration changes
        self.encoder_note = QLabel("")
        self.encoder_note.setWordWrap(True)
        self.epochs = self._spin(1, 10_000, DEFAULTS.epochs, "Training epochs of the encoder (speech2vec, or the "
                                 "acoustic encoder of unit-skipgram).")
        self.sg_epochs = self._spin(1, 10_000, DEFAULTS.sg_epochs, "Skip-gram epochs over the word-type stream "
                                    "(unit-skipgram only).")
        self.dim = self._spin(1, 4096, DEFAULTS.dim, "Dimension of the speech space; alignment needs the text "
                              "space's dimension.", default_text="the project's text space's dimension, else 50")
        self.batch = self._spin(1, 1_000_000, DEFAULTS.batch_size, "Segments per training step.")
        self.clusters = self._spin(1, 1_000_000, DEFAULTS.clusters, "k-means K: the number of word types "
                                   "(configurations B, VAD, F; lowered to the number of segments).")
        self.voice_free = QCheckBox("voice-free word types")
        self.voice_free.setToolTip(
            "Configurations B / VAD / F with unit-skipgram: after the DTW pair round the encoder trains on groups "
            "from the voices' shared space, the K clusters are joined into K/2 types by sound and voice-free "
            "context, and the voices are regressed out of the type space (voice_groups, join_types, "
            "regress_voices; core.speech.config.voice_free_settings). Align with the Gromov–Wasserstein start "
            "too. Measured on synthetic voices at 500k tokens: B 47 % instead of chance; VAD stays at chance. "
            "Default: on for B.")
        self.voice_free.toggled.connect(self._voice_free_picked)
        self._voice_free_by_hand = False
        self.seed = self._spin(0, 2**31 - 1, DEFAULTS.seed, "Random seed (data order, initialisation, k-means).")
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setToolTip("auto: the GPU when torch sees one, else the CPU. Default: auto.")
        self.settings_file = QLineEdit()
        self.settings_file.setPlaceholderText("optional .json / .toml")
        self.settings_file.setToolTip("Any other SpeechConfig settings (the same file as `train-speech "
                                      "--config-file`); the fields of this form win over the file. Default: none.")
        self.space_id = QLineEdit()
        self.space_id.setToolTip("Id of the speech space in the project; its encoder is stored as <id>-encoder "
                                 "and the run folder is <project>/speech-runs/<id>/. Default: the project's "
                                 "speech space, else speech-<language>.")
        self.language = QLineEdit()
        self.language.setToolTip("Language code of the speech (e.g. en). Default: the store's, else the "
                                 "project's first language.")
        self.replace = QCheckBox("replace the space of this name (and drop its mappings and layouts)")
        self.replace.setToolTip("The classifier and Align use the project's first speech space, so a new "
                                "space is used only when it replaces that one. Default: off.")
        self.start_over = QCheckBox("start over (delete an earlier run of this name)")
        self.start_over.setToolTip("Without this, an unfinished run with the same settings continues from its "
                                   "checkpoint, and one with other settings is refused. Default: off.")
        form = QFormLayout()
        form.addRow("Feature store", with_button(self.store, self._browse_store, "Other…",
                                                 "Use a feature store folder outside the project"))
        form.addRow(self.store_info)
        form.addRow("Learner", self.learner)
        form.addRow("Configuration", self.grouping)
        form.addRow(self.expectation)
        form.addRow("Encoder", self.encoder)
        form.addRow(self.encoder_note)
        form.addRow("Epochs", self.epochs)
        form.addRow("Skip-gram epochs", self.sg_epochs)
        form.addRow("Dimension", self.dim)
        form.addRow("Batch size", self.batch)
        form.addRow("Clusters (K)", self.clusters)
        form.addRow(self.voice_free)
        form.addRow("Seed", self.seed)
        form.addRow("Device", self.device)
        form.addRow("Settings file", with_button(self.settings_file, self._browse_settings))
        form.addRow("Space name", self.space_id)
        form.addRow("Language", self.language)
        form.addRow(self.replace)
        form.addRow(self.start_over)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.train_button = self.buttons.addButton("Train", QDialogButtonBox.AcceptRole)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.store.currentIndexChanged.connect(lambda _i: self._store_changed())
        self.learner.currentTextChanged.connect(lambda _t: self._enable_fields())
        self.grouping.currentTextChanged.connect(lambda _t: self._enable_fields())
        self._set_project_defaults()
        self._store_changed()

    def _spin(self, low: int, high: int, value: int, help_text: str, default_text: str | None = None) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(f"{help_text} Default: {default_text or value}.")
        return spin

    def _set_project_defaults(self) -> None:
        spaces = self.project.manifest.spaces
        text = next((s for s in spaces if s.kind == "text"), None)
        if text is not None:
            self.dim.setValue(text.dim)
        speech = next((s for s in spaces if s.kind == "speech"), None)
        if speech is not None:
            self.space_id.setText(speech.id)
            self.language.setText(speech.language)

    def _browse_store(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Feature store folder")
        if path:
            self.store.insertItem(0, Path(path).name, path)
            self.store.setCurrentIndex(0)

    def _browse_settings(self) -> None:
        path = QFileDialog.getOpenFileName(self, "Speech settings", "", "Settings (*.json *.toml)")[0]
        if path:
            self.settings_file.setText(path)

    def store_path(self) -> str:
        """The chosen feature store folder ('' when none)."""
        return self.store.currentData() or ""

    def _store_changed(self) -> None:
        from core.corpus.feature_store import read_header
        from core.speech.project_space import allowed_configurations

        self.header = {}
        if not self.store_path():
            self.store_info.setText("<i>No feature store yet: build one with Train ▸ Build speech corpus….</i>")
            allowed = {g: "choose a feature store first" for g in GROUPINGS}
        else:
            try:
                self.header = read_header(self.store_path())
            except WordbridgeError as exc:
                self.store_info.setText(f"<i>{exc}</i>")
                allowed = {g: str(exc) for g in GROUPINGS}
            else:
                h, meta = self.header, self.header.get("metadata") or {}
                self.store_info.setText(
                    f"{h.get('n_segments')} segments ({h.get('n_labelled')} labelled, {h.get('n_word_types')} "
                    f"word types) from the {meta.get('reader', '?')} reader; {h.get('dim')}-dim features"
                    + ("; <b>synthetic speech</b>" if h.get("synthetic") else ""))
                allowed = allowed_configurations(self.header)
                language = meta.get("language") or (meta.get("settings") or {}).get("language")
                if language and not self.language.text():
                    self.language.setText(str(language))
        model = self.grouping.model()
        for row, grouping in enumerate(GROUPINGS):
            item = model.item(row)
            item.setEnabled(allowed.get(grouping) is None)
            item.setToolTip(allowed.get(grouping) or "")
        if allowed.get(self.grouping.currentText()) is not None:
            first = next((g for g in GROUPINGS if allowed.get(g) is None), None)
            if first is not None:
                self.grouping.setCurrentText(first)
        if not self.language.text() and self.project.manifest.languages:
            self.language.setText(self.project.manifest.languages[0])
        if not self.space_id.text():
            self.space_id.setText(f"speech-{self.language.text()}" if self.language.text() else "speech")
        self._enable_fields()

    def _enable_fields(self) -> None:
        self.sg_epochs.setEnabled(self.learner.currentText() == "unit-skipgram")
        self.clusters.setEnabled(self.grouping.currentText() != "A")
        self.voice_free.setEnabled(self.learner.currentText() == "unit-skipgram" and self.grouping.currentText() != "A")
        if not self._voice_free_by_hand:  # what works best: on for B (measured), off where it did not help
            self.voice_free.blockSignals(True)
            self.voice_free.setChecked(self.grouping.currentText() == "B")
            self.voice_free.blockSignals(False)
        self._default_encoder()
        self._show_expectation()

    def _voice_free_picked(self, _checked: bool) -> None:
        self._voice_free_by_hand = True  # kept when the configuration changes

    def _encoder_picked(self, *_args) -> None:
        self._encoder_by_hand = True
        self._default_encoder()

    def _default_encoder(self) -> None:
        """The encoder the store and configuration call for (core.speech.expectations.encoder_for),
        unless one was chosen by hand; only unit-skipgram has one."""
        from core.speech.expectations import encoder_for

        unit = self.learner.currentText() == "unit-skipgram"
        self.encoder.setEnabled(unit)
        kind, note = encoder_for(self.header, self.grouping.currentText())
        if not self._encoder_by_hand:
            self.encoder.setCurrentIndex(self.encoder.findData(kind))
        shown = unit and bool(note) and self.encoder.currentData() == kind
        self.encoder_note.setText(note if shown else "")
        self.encoder_note.setVisible(shown)

    def _show_expectation(self) -> None:
        """How well the chosen configuration is expected to work on this store's kind of speech (our own
        measurements, core.speech.expectations); the tooltip names where each number comes from."""
        from core.speech.expectations import expectation

        if not self.header:
            self.expectation.setText("")
            self.expectation.setToolTip("")
            return
        grouping = self.grouping.currentText()
        found = expectation(grouping, synthetic=bool(self.header.get("synthetic")))
        text = found.text()
        labelled, segments = self.header.get("n_labelled") or 0, self.header.get("n_segments") or 0
        if grouping == "A" and 0 < labelled < segments:
            text += f" This store: {labelled} of {segments} segments labelled; A learns from those only."
        self.expectation.setText(text)
        self.expectation.setToolTip(found.sources_text())

    def config(self) -> SpeechConfig:
        """The run's SpeechConfig: the learner's preset, then the settings file, then this form."""
        from core.speech.config import preset, read_config_dict, voice_free_settings

        learner = self.learner.currentText()
        settings = preset(LEARNER_PRESETS[learner]).to_dict()
        file = self.settings_file.text().strip()
        if file:
            from_file = read_config_dict(file)
            SpeechConfig.from_dict({**settings, **from_file}, source=file)  # names the file in errors
            settings.update(from_file)
        epochs_key = "epochs" if learner == "speech2vec" else "ac_epochs"
        settings.update({"learner": learner, "grouping": self.grouping.currentText(),
                         epochs_key: self.epochs.value(), "sg_epochs": self.sg_epochs.value(),
                         "dim": self.dim.value(), "batch_size": self.batch.value(),
                         "clusters": self.clusters.value(), "seed": self.seed.value(),
                         "device": self.device.currentText()})
        if learner == "unit-skipgram":
            settings["ac_encoder"] = self.encoder.currentData()
        if self.voice_free.isEnabled() and self.voice_free.isChecked():
            settings.update(voice_free_settings(self.clusters.value()))
        return SpeechConfig.from_dict(settings)

    def request(self) -> dict:
        """The keyword arguments of `train_project_speech_space`; a WordbridgeError says what is wrong."""
        from core.project.project import check_id
        from core.speech.project_space import check_configuration

        if not self.store_path():
            raise WordbridgeError("choose a feature store (build one with Train ▸ Build speech corpus…)")
        if not self.header:
            from core.corpus.feature_store import read_header

            self.header = read_header(self.store_path())
        cfg = self.config()
        check_configuration(self.header, cfg.grouping)
        space_id = check_id(self.space_id.text().strip(), "space")
        existing = {s.id: s for s in self.project.manifest.spaces}
        if space_id in existing and existing[space_id].kind != "speech":
            raise WordbridgeError(f"{space_id!r} is a text space of this project; choose another name")
        if space_id in existing and not self.replace.isChecked():
            raise WordbridgeError(f"this project already has a speech space {space_id!r}: tick “replace” to "
                                  "train a new one in its place, or choose another name")
        if cfg.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise WordbridgeError("device cuda chosen but torch sees no CUDA GPU here (choose auto or cpu)")
        return {"store_path": self.store_path(), "cfg": cfg, "space_id": space_id,
                "language": self.language.text().strip(), "replace": self.replace.isChecked(),
                "start_over": self.start_over.isChecked()}

    def start(self):
        """Check the form (a message box names what is wrong), then train; returns the TrainingDialog."""
        from core.speech.project_space import train_project_speech_space

        def configure(job, request):
            if request["cfg"].device != "auto":  # the label shows what auto would pick
                job.device.setText(f"Compute device: {request['cfg'].device}")
            job.cancel_note = (f"Cancelled. The run's last checkpoint is kept in speech-runs/.{request['space_id']}"
                               ".partial/: train again with the same settings to continue from it.")

        return job_from_form(self, "Cannot train", lambda r: f"Train speech space “{r['space_id']}”",
                             train_project_speech_space, configure)

    def _finished(self, job, result: dict) -> None:
        sd = result.get("same_different") or {}
        job.report(f"{result.get('types')} speech types from {result.get('train_segments')} training segments"
                   + (f"; same-different AP {sd['ap']:.3f} (chance {sd['chance']:.3f})" if "ap" in sd else ""))
        ex = result.get("type_exemplars") or {}
        if ex.get("variant"):  # chosen on the types of held-out training utterances (core.speech.exemplars)
            kept = (f"{ex['n']:,} type exemplars kept ({ex['megabytes']:.1f} MB)" if ex.get("stored")
                    else "type centroids kept (exemplars did not help)")
            job.report(f"{kept}; a held-out segment's nearest type is its own {100 * ex['nearest_type_right']:.1f} % "
                       f"of the time (centroids alone: {100 * ex['centroids_nearest_type_right']:.1f} %); "
                       f"a clip's list merges its {ex['type_candidates']} nearest types")
        elif ex.get("why"):
            job.report(f"type exemplars: none ({ex['why']})")
        if result.get("removed"):
            job.report("removed with the old space: " + ", ".join(result["removed"]))
        job.status.setText(f"Speech space “{result['space']}” and its encoder are in the project. "
                           "Next: Train ▸ Align spaces…")
        self.trained.emit(result)
