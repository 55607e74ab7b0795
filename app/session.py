"""The open project and what the app derives from it, shared by every panel through signals.

Panels never hold their own copy of the project: they listen to `ProjectSession` and call its
methods. The classifier (CSLS terms over whole vocabularies) loads in a worker thread when a
project opens; a clip that arrives before it is ready is classified as soon as it is. Clips are
classified in a Worker too, one after another in the order they came (the event loop never waits
for the front end: 60 ms a clip, 400 ms for the first one while torch warms up), and stored in the
project at once, their results when they arrive.
"""

from __future__ import annotations

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
    started: float = 0.0  # perf_counter when the clip arrived
    project: object = None  # the project it was stored in (the demo's copy, say)
    warning: str | None = None  # e.g. the clip seems to hold several words (core.speech_runs)


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
        self._queue: list[ClipResult] = []  # clips waiting for the classify worker
        self._classifying: Worker | None = None
        self._splitting: Worker | None = None  # storing or removing the word clips of a split
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
        project = self.project

        def load(progress):
            from app.library_loader import import_heavy_libraries

            import_heavy_libraries()  # the first time: torch without stalling the window, then gc.freeze
            from core.classify import ClipClassifier, clip_embedder

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
            self._classify(pending)
        self._classify_next()  # word clips of a split stored while the classifier loaded

    def _classifier_failed(self, message: str) -> None:
        self.classifier, self.classifier_problem = None, message
        self.classifier_ready.emit(None)
        self.message.emit(message)

    def wait_ready(self, ms: int = 30000) -> bool:
        """Block until the classifier worker ends (tests and the latency benchmark)."""
        return self._worker is None or self._worker.wait(ms)

    def wait_classified(self, ms: int = 30000) -> bool:
        """Process events until every clip given so far has its results, and the word clips of a split
        are stored (tests and benchmarks).

        Waits on the busy worker (or sleeps 2 ms) between rounds instead of spinning. (Found while
        spinning: PySide6 6.12.0 on Python 3.11 takes a reference from None on every Qt call that
        returns None and aborted with "none_dealloc"; the fix is the pin in constraints.txt,
        tests/test_app_qt_binding.py.)"""
        import time

        from PySide6.QtCore import QDeadlineTimer, QEventLoop

        deadline, loop = QDeadlineTimer(ms), QEventLoop()
        while self._queue or self._classifying is not None or self._splitting is not None or (
                self._pending is not None and self.classifier_problem == "loading…"):
            if deadline.hasExpired():
                return False
            loop.processEvents()
            busy = self._classifying or self._splitting
            if busy is not None:
                busy.wait(5)
            else:
                time.sleep(0.002)
        return True

    def add_clip(self, clip) -> ClipResult:
        """Store a finished clip in the project and classify it in the background (`classified` is
        emitted when its results are there, and they are then stored with it).

        A clip that cannot be classified (silent, too short) or stored (NaN samples, read-only
        project) is reported in one line through `message`; the previous clip's words are cleared."""
        import time

        result = ClipResult(clip, None, None, started=time.perf_counter())
        if self.classifier is not None and self.classifier.embed is not None:
            self._classify(result)  # starts the worker first: the clip is stored while it runs
        elif self.classifier_problem == "loading…":
            self._pending = result
        else:
            self._show_unclassified(result, self.classifier_problem or "no classifier")
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
                result.project = project
            except (WordbridgeError, OSError) as exc:
                self.message.emit(f"The clip was not stored: {exc}")
            if result.classification is not None or result.problem is not None:
                self._remember(result)  # no classification coming (no classifier): list it now
            else:
                self.recordings_changed.emit()
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
        import time

        from core.audio import trim_silence

        result = ClipResult(_WordClip(samples, sample_rate, word, trim=trim_silence(samples, sample_rate)), rid, None,
                            started=time.perf_counter(), project=self.project)
        if self.classifier is not None and self.classifier.embed is not None:
            self._classify(result)  # its results are stored when they arrive
        self.recordings_changed.emit()
        return rid

    def reclassify_recording(self, recording_id: int, start: float, end: float) -> ClipResult | None:
        """Classify [start, end) seconds of a stored recording again (its word's new bounds, dragged in
        the Recordings tab) in the classify worker, like a new clip; its results replace the stored ones
        (`recordings_changed`) and are shown in the results panel. None, with a message, when the
        recording cannot be read or there is no classifier."""
        import time

        project = self.project
        if project is None:
            return None
        try:
            samples, sr = project.recording_audio(recording_id)
        except (WordbridgeError, OSError) as exc:
            self.message.emit(f"The clip was not classified again: {exc}")
            return None
        span = samples[max(0, int(round(start * sr))):int(round(end * sr))]
        result = ClipResult(_WordClip(span, int(sr), f"recording {recording_id}", source="file"), int(recording_id),
                            None, started=time.perf_counter(), project=project)
        if self.classifier is not None and self.classifier.embed is not None:
            self._classify(result)
        elif self.classifier_problem == "loading…":
            self._pending = result  # classified when the classifier is there
        else:
            self.message.emit(f"The clip was not classified again: {self.classifier_problem or 'no classifier'}")
            return None
        return result

    def split_recording(self, recording_id: int, spans: list | None = None) -> Worker | None:
        """Store each word of a recording as a clip of its own (core.word_split.split_recording, in a
        worker: the WAVs are written off the GUI thread), then classify each word clip in the classify
        worker, one after another like new clips; the recording itself is kept. None, with a
        message, when there is no project or it cannot be written."""
        import time

        from core.word_split import split_recording

        if self.project is None:
            return None
        try:
            project = self.writable_project()  # the bundled demo: its copy (same recording ids)
        except (WordbridgeError, OSError) as exc:
            self.message.emit(f"The clip was not split: {exc}")
            return None

        def stored(made: list) -> None:
            rate = int(project.db.recording(recording_id).sample_rate)  # the words keep the recording's rate
            for rid, _span, piece in made:
                result = ClipResult(_WordClip(piece, rate, f"recording {rid}", source="file"), rid, None,
                                    started=time.perf_counter(), project=project)
                if self.classifier is not None and self.classifier.embed is not None:
                    self._classify(result)
                elif self.classifier_problem == "loading…":
                    self._queue.append(result)  # classified once the classifier is there (_classifier_loaded)
            self.recordings_changed.emit()
            self.message.emit(f"Split into {len(made)} words, each a clip of its own in the Recordings list"
                              + ("; classifying them…" if self.classifier is not None else ""))

        worker = Worker(split_recording, project, int(recording_id), spans, parent=self)
        worker.finished.connect(stored)
        worker.failed.connect(lambda m: self.message.emit(f"The clip was not split: {m}"))
        self._start_split_worker(worker)
        return worker

    def _start_split_worker(self, worker: Worker) -> None:
        self._splitting = worker
        worker.done.connect(lambda: setattr(self, "_splitting", None) if self._splitting is worker else None)
        worker.start()

    def splitting(self) -> bool:
        """True while the word clips of a split are being stored or removed."""
        return self._splitting is not None

    def undo_split(self, recording_id: int) -> Worker | None:
        """Remove the word clips a recording was split into (given it or any of its words), in a
        worker; refused (a message, None) while clips are still being classified."""
        from core.word_split import undo_split

        if self.project is None:
            return None
        if self._queue or self._classifying is not None or self._splitting is not None:
            self.message.emit("The words are still being classified; undo the split when they are done")
            return None
        project = self.project
        worker = Worker(undo_split, project, int(recording_id), parent=self)
        worker.finished.connect(lambda ids: (self.recordings_changed.emit(),
                                             self.message.emit(f"Split undone: {len(ids)} word clips removed")))
        worker.failed.connect(lambda m: self.message.emit(f"The split was not undone: {m}"))
        self._start_split_worker(worker)
        return worker

    def _remember(self, result: ClipResult) -> None:
        """Store a stored clip's results in the project (the recordings list reads them) and say so."""
        if result.recording_id is None:
            return
        if result.classification is not None:
            from core.recording_list import store_result

            try:
                store_result(result.project or self.project, result.recording_id, result.classification)
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
        """Queue a clip for the classify worker (one clip at a time, in order)."""
        self._queue.append(result)
        self._classify_next()

    def _classify_next(self) -> None:
        if self._classifying is not None or not self._queue:
            return
        result = self._queue.pop(0)
        classifier = self.classifier
        if classifier is None or classifier.embed is None:
            self._show_unclassified(result, self.classifier_problem or "no classifier")
            return self._classify_next()
        worker = Worker(_classify_clip, classifier, result.clip, self.k, self.method, parent=self)
        worker.finished.connect(lambda out: self._classified(result, *out))
        worker.failed.connect(lambda m: self._not_classified(result, f"No results for this clip: {m}"))
        worker.done.connect(self._classify_done)
        self._classifying = worker
        worker.start()

    def _not_classified(self, result: ClipResult, why: str) -> None:
        self._show_unclassified(result, why)
        if result.recording_id is not None:
            self.recordings_changed.emit()

    def _classify_done(self) -> None:
        self._classifying = None
        self._classify_next()

    def _classified(self, result: ClipResult, classification, warning: str | None) -> None:
        import time

        result.classification, result.warning = classification, warning
        result.latency_s = time.perf_counter() - result.started
        self.latest = result
        self.classified.emit(result)
        if warning:
            self.message.emit(f"Warning: {warning}")
        if result.recording_id is not None:
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


def _classify_clip(classifier, clip, k: int, method: str, progress=None):
    """The classify worker's job: (the classification of the clip's trimmed word, a warning when the
    whole clip holds several stretches of speech, else None)."""
    from core.speech_runs import several_words_warning

    classification = classifier.classify_clip(clip.word, clip.sample_rate, k, method)
    return classification, several_words_warning(clip.samples, clip.sample_rate)


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
