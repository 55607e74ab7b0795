"""The open project and what the app derives from it, shared by every panel through signals.

Panels never hold their own copy of the project: they listen to `ProjectSession` and call its
methods. The classifier (CSLS terms over whole vocabularies) loads in a worker thread when a
project opens; a clip that arrives before it is ready is classified as soon as it is.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from app.settings import Settings
from app.workers import Worker
from core.errors import WordbridgeError


@dataclass
class ClipResult:
    """A clip stored as recording `recording_id` and what the classifier found for it."""

    clip: object  # app.recorder_widget.Clip
    recording_id: int | None
    classification: object | None  # core.classify.Classification
    latency_s: float = 0.0  # clip end → results, measured here
    problem: str | None = None  # why there is no classification


class ProjectSession(QObject):
    """Holds the project, its classifier and the latest clip result."""

    project_changed = Signal(object)  # Project or None
    classifier_ready = Signal(object)  # ClipClassifier or None (no mapping/encoder yet)
    classified = Signal(object)  # ClipResult
    mapping_changed = Signal()
    pairs_changed = Signal()
    recordings_changed = Signal()  # a clip was stored, or its results / fields changed
    message = Signal(str)

    def __init__(self, settings: Settings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.project = None
        self.classifier = None
        self.classifier_problem: str | None = None
        self.latest: ClipResult | None = None
        self.method = settings.get("retrieval_method", "csls")
        self.k = int(settings.get("top_k", 10))
        self._worker: Worker | None = None
        self._pending: ClipResult | None = None
        self._late: ClipResult | None = None
        self._generation = 0

    def open(self, path, read_only: bool | None = None) -> object:
        """Open the project folder `path` (raises WordbridgeError) and start loading its classifier;
        `read_only` as `Project.open` (the bundled demo is opened read-only)."""
        from core.project.project import Project

        project = Project.open(path, read_only=read_only)
        self.set_project(project)
        self.settings.add_recent(project.root)
        return project

    def set_project(self, project) -> None:
        self.project, self.classifier, self.latest = project, None, None
        self.classifier_problem = "loading…"
        self.project_changed.emit(project)
        self.reload_classifier()

    def reload_classifier(self) -> Worker | None:
        """Rebuild the classifier in the background (after opening, or when a mapping changed)."""
        if self.project is None:
            return None
        from core.classify import ClipClassifier, clip_embedder

        project = self.project

        def load(progress):
            return ClipClassifier.load(project, embed=clip_embedder(project), progress=progress)

        self._generation += 1
        generation = self._generation  # results of a superseded load (another project) are dropped
        worker = Worker(load, parent=self)
        worker.finished.connect(lambda c: generation == self._generation and self._classifier_loaded(c))
        worker.failed.connect(lambda m: generation == self._generation and self._classifier_failed(m))
        self._worker = worker
        worker.start()
        return worker

    def _classifier_loaded(self, classifier) -> None:
        self.classifier, self.classifier_problem = classifier, None
        if classifier.embed is None:
            self.classifier_problem = "this project has no speech encoder: new clips cannot be embedded"
        self.classifier_ready.emit(classifier)
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._late = pending
            self._classify(pending)

    def _classifier_failed(self, message: str) -> None:
        self.classifier, self.classifier_problem = None, message
        self.classifier_ready.emit(None)
        self.message.emit(message)

    def wait_ready(self, ms: int = 30000) -> bool:
        """Block until the classifier worker ends (tests and the latency benchmark)."""
        return self._worker is None or self._worker.wait(ms)

    def add_clip(self, clip) -> ClipResult:
        """Classify a finished clip (first, so results show at once), then store it in the project.

        A clip that cannot be classified (silent, too short) or stored (NaN samples, read-only
        project) is reported in one line through `message`; the previous clip's words are cleared."""
        import time

        started = time.perf_counter()
        result = ClipResult(clip, None, None)
        if self.classifier is not None and self.classifier.embed is not None:
            self._classify(result)
        elif self.classifier_problem == "loading…":
            self._pending = result
        else:
            self._show_unclassified(result, self.classifier_problem or "no classifier")
        result.latency_s = time.perf_counter() - started
        if self.project is not None:
            try:
                project = self.writable_project()
                result.recording_id = project.add_recording(
                    clip.samples, clip.sample_rate, source="microphone" if clip.source == "microphone" else "import",
                    device=clip.name if clip.source == "microphone" else "",
                    note=clip.problem or (f"imported from {clip.name}" if clip.source == "file" else ""))
                if clip.trim is not None:
                    sr = clip.sample_rate
                    project.add_segments(result.recording_id, [(clip.trim[0] / sr, clip.trim[1] / sr, None)])
            except (WordbridgeError, OSError) as exc:
                self.message.emit(f"The clip was not stored: {exc}")
            self._remember(result)
        return result

    def add_word_clip(self, samples, sample_rate: int, word: str, speaker: str = "", language: str = "") -> int | None:
        """Store a clip recorded from a word list (file named by the word, label = the word), classify
        it and list it; returns its recording id (None, with a message, when it cannot be stored)."""
        from core.recording_list import add_word_recording

        try:
            rid = add_word_recording(self.writable_project(), samples, sample_rate, word, speaker, language)
        except (WordbridgeError, OSError) as exc:
            self.message.emit(f"The clip of “{word}” was not stored: {exc}")
            return None
        from core.audio import trim_silence

        result = ClipResult(_WordClip(samples, sample_rate, word, trim=trim_silence(samples, sample_rate)), rid, None)
        if self.classifier is not None and self.classifier.embed is not None:
            self._classify(result)
        self._remember(result)
        return rid

    def _remember(self, result: ClipResult) -> None:
        """Store a stored clip's results in the project (the recordings list reads them) and say so."""
        if result.recording_id is None:
            return
        if result.classification is not None:
            from core.recording_list import store_result

            try:
                store_result(self.project, result.recording_id, result.classification)
            except (WordbridgeError, OSError) as exc:
                self.message.emit(f"The clip's results were not stored: {exc}")
        self.recordings_changed.emit()

    def writable_project(self):
        """The project recordings go to: the open one, or for a read-only project (the bundled demo) a
        copy in the user's data folder, made on first use and kept open from then on."""
        if not getattr(self.project, "read_only", False):
            return self.project
        from app.settings import user_copy_of

        copy = user_copy_of(self.project)
        self.project = copy
        self.settings.add_recent(copy.root)
        self.message.emit(f"This project is read-only: your recordings go to a copy in {copy.root}")
        return copy

    def _show_unclassified(self, result: ClipResult, why: str) -> None:
        result.classification, result.problem = None, why
        self.latest = result
        self.classified.emit(result)  # clears the previous clip's words
        self.message.emit(why)

    def _classify(self, result: ClipResult) -> None:
        clip = result.clip
        try:
            result.classification = self.classifier.classify_clip(clip.word, clip.sample_rate, self.k, self.method)
        except WordbridgeError as exc:
            self._show_unclassified(result, f"No results for this clip: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - an exception must not escape a Qt slot
            traceback.print_exc()
            self._show_unclassified(result, f"No results for this clip ({type(exc).__name__}: {exc})")
            return
        self.latest = result
        self.classified.emit(result)
        if result is self._late:  # classified after the classifier loaded: its results are stored now
            self._late = None
            self._remember(result)

    def set_method(self, method: str) -> None:
        """Switch NN/CSLS and re-rank the latest clip (all its candidate vectors are kept)."""
        self.method = method
        self.settings.set("retrieval_method", method)
        if self.latest is not None and self.classifier is not None and self.latest.classification is not None:
            self.latest.classification = self.classifier.rerank(self.latest.classification, self.k, method)
            self.classified.emit(self.latest)

    def after_mapping_change(self) -> None:
        """A mapping was replaced (refinement, alignment): reload everything that depends on it."""
        self.mapping_changed.emit()
        self.classifier_problem = "loading…"
        self.reload_classifier()


@dataclass
class _WordClip:
    """The shape of a recorder Clip for a word-list recording (the whole clip is the word)."""

    samples: object
    sample_rate: int
    name: str
    source: str = "microphone"
    trim: tuple | None = None
    problem: str | None = None

    @property
    def word(self):
        return self.samples if self.trim is None else self.samples[self.trim[0]:self.trim[1]]
