"""The main window and `run_app`: project menu, synthetic-speech banner, the panels side by side.

Left: recorder above results. Right: joint-space view and lexicon as tabs. With no project, a
start screen offers New/Open (and says when the bundled demo is not built yet).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QFileDialog, QInputDialog, QLabel, QMainWindow, QMessageBox,
                               QPushButton, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from app.chunked_draw import ChunkedDraw
from app.library_loader import freeze_long_lived
from app.project_actions import ProjectActions
from app.settings import Settings
from app.window_state import restore_splitters, restore_window, save_window
from core.errors import WordbridgeError

ROOT = Path(__file__).resolve().parents[1]
_IMPORTED_AT = __import__("time").perf_counter()
DEMO_PROJECT = ROOT / "resources" / "demo"


def demo_available() -> bool:
    return (DEMO_PROJECT / "wordbridge.json").is_file()


class StartScreen(QWidget):
    """Shown when no project is open."""

    def __init__(self, parent=None):
        super().__init__(parent)
        text = ("<h2>Wordbridge</h2><p>Align spoken words with written words without a parallel lexicon.</p>")
        if not demo_available():
            text += "<p><i>The bundled demo project is not built yet (resources/demo/).</i></p>"
        self.label = QLabel(text)
        self.label.setAlignment(Qt.AlignCenter)
        self.new_button = QPushButton("New project…")
        self.open_button = QPushButton("Open project…")
        self.new_button.setToolTip("Create an empty project folder (Ctrl+N)")
        self.open_button.setToolTip("Open an existing project folder (Ctrl+O)")
        from app.progress_panel import ProgressPanel

        self.progress = ProgressPanel()  # opening a project in the background
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        for b in (self.new_button, self.open_button):
            layout.addWidget(b, 0, Qt.AlignCenter)
        layout.addWidget(self.progress)
        layout.addStretch(2)


class MainWindow(ProjectActions, QMainWindow):
    """Builds the heavy panels (pyqtgraph) only when a project is first opened."""

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        from app.session import ProjectSession

        self.settings = settings or Settings()
        self.session = ProjectSession(self.settings, self)
        self.setWindowTitle("Wordbridge")
        self.resize(1280, 800)
        self.banner = QLabel("")
        self.banner.setStyleSheet("background: #fff3cd; color: #664d03; padding: 6px; font-weight: bold;")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setToolTip("Results on synthetic speech say little about people's voices")
        self.start = StartScreen()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.workspace = None
        self.last_corpus: str | None = None  # the feature store built last (default of the training dialog)
        self.start.new_button.clicked.connect(lambda: self.new_project())
        self.start.open_button.clicked.connect(lambda: self.open_dialog())
        self.session.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.session.project_changed.connect(self._project_changed)
        self._build_menus()
        self._closing = False
        self._opening = None  # the worker opening a project in the background
        self._building = None  # builds the panels piece by piece (app.chunked_draw)
        restore_window(self)
        freeze_long_lived()

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&Project")
        menu.addAction("&New…", lambda: self.new_project(), "Ctrl+N")
        menu.addAction("&Open…", lambda: self.open_dialog(), "Ctrl+O")
        menu.addAction("Save &As…", lambda: self.save_as(), "Ctrl+Shift+S")
        menu.addAction("&Import annotated recording…", lambda: self.import_annotated()).setToolTip(
            "A Praat TextGrid (tier \"words\") or ELAN .eaf with its WAV beside it: the audio and its word segments")
        self.recent_menu = menu.addMenu("Recent projects")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        menu.addSeparator()
        menu.addAction("&Quit", self.close, "Ctrl+Q")
        train = self.menuBar().addMenu("T&rain")
        train.addAction("Build speech &corpus…", lambda: self.corpus_dialog(), "Ctrl+Shift+B")
        train.addAction("Train &speech space…", lambda: self.train_speech_dialog(), "Ctrl+Shift+T")
        train.addAction("&Align spaces…", lambda: self.align_dialog(), "Ctrl+Shift+A")
        train.addAction("&Revert alignment", lambda: self.revert_alignment()).setToolTip(
            "Put back the map that the last Align, Refine or Revert replaced")
        text = self.menuBar().addMenu("Te&xt")
        text.addAction("&Add text space…", lambda: self.text_space_dialog()).setToolTip(
            "Train a skip-gram text space from a corpus file, or import .vec/.bin word vectors")
        tools = self.menuBar().addMenu("&Tools")
        tools.addAction("Recompute joint layout", lambda: self.workspace and self.joint.recompute())
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&About Wordbridge", lambda: self.about())
        for bar_menu in (menu, train, text, tools, help_menu):
            bar_menu.setToolTipsVisible(True)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_projects:
            self.recent_menu.addAction(path, lambda p=path: self.open_in_background(p))
        if not self.settings.recent_projects:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _ensure_workspace(self) -> None:
        """Build the panels now (a synchronous open); see `_workspace_parts`."""
        if self.workspace is not None:
            return
        if self._building is None:
            self._building = ChunkedDraw(lambda part: part(), lambda: None, parent=self)
            self._building.start(self._workspace_parts())
        self._building.finish_now()

    def _build_workspace_then(self, then) -> None:
        """Build the panels one per event-loop turn (each 10-60 ms; all at once froze the window about
        150 ms), then call `then()`."""
        if self.workspace is not None:
            then()
            return
        if self._building is not None and self._building.active:
            self._building.finish_now()
            then()
            return
        self._building = ChunkedDraw(lambda part: part(), then, parent=self)
        # the empty last step puts `then` (set_project: every panel loads) in a turn after the paint's,
        # not in the same one (together ~200 ms under load, measured)
        self._building.start(self._workspace_parts() + [self._paint_workspace, lambda: None])

    def _paint_workspace(self) -> None:
        """Show the new panels and paint them in a turn of their own (about 30 ms), before the project's
        data arrive: painted together with `set_project`'s work it was one stall of about 180 ms."""
        self.stack.setCurrentWidget(self.workspace)
        self.workspace.repaint()

    def _workspace_parts(self) -> list:
        """The steps that build the workspace: each panel, then the splitters and connections."""
        from app.joint_view import JointSpaceView
        from app.lexicon_panel import LexiconPanel
        from app.recorder_widget import RecorderWidget
        from app.recordings_panel import RecordingsPanel
        from app.results_panel import ResultsPanel

        return [lambda: setattr(self, "recorder", RecorderWidget()),
                lambda: setattr(self, "results", ResultsPanel()),
                lambda: setattr(self, "joint", JointSpaceView(self.session)),
                lambda: setattr(self, "lexicon", LexiconPanel(self.session)),
                lambda: setattr(self, "recordings", RecordingsPanel(self.session)),
                self._assemble_workspace]

    def _assemble_workspace(self) -> None:
        left = QSplitter(Qt.Vertical)
        left.addWidget(self.recorder)
        left.addWidget(self.results)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.joint, "Joint space")
        self.tabs.addTab(self.lexicon, "Lexicon")
        self.tabs.addTab(self.recordings, "Recordings")
        workspace = QSplitter(Qt.Horizontal)
        workspace.addWidget(left)
        workspace.addWidget(self.tabs)
        workspace.setSizes([480, 800])
        self.left_splitter = left
        self.stack.addWidget(workspace)
        self.workspace = workspace
        restore_splitters(self)
        self.recorder.clip_ready.connect(self.session.add_clip)
        self.recorder.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.results.method_changed.connect(self.session.set_method)
        self.session.classified.connect(self.results.show_result)
        self.session.classifier_ready.connect(self._classifier_ready)
        self.results.set_method(self.session.method)
        self.results.split_requested.connect(self._split_clip)

    def _split_clip(self, recording_id: int):
        """The results' Split into words…: the Recordings tab splits that clip (after asking)."""
        self.tabs.setCurrentWidget(self.recordings)
        return self.recordings.split_clip(recording_id)

    def _classifier_ready(self, classifier) -> None:
        if classifier is None or self.session.classifier_problem:
            self.results.show_message(self.session.classifier_problem or "No classifier.")
        else:
            self.results.show_message("Ready: record (R) or import a word.")

    def _project_changed(self, project) -> None:
        if project is None:
            self.stack.setCurrentWidget(self.start)
            self.banner.setVisible(False)
            return
        self.setWindowTitle(f"Wordbridge — {project.name} ({project.root})")
        m = project.manifest
        self.banner.setText(f"⚠ Synthetic speech: this project's speech was not recorded from people. "
                            f"{m.synthetic_speech_note}")
        self.banner.setVisible(bool(m.synthetic_speech))
        self.stack.setCurrentWidget(self.workspace)

    # project menu
    def open_project(self, path) -> bool:
        """Open a project folder; a bad folder shows its one-line error."""
        self._ensure_workspace()
        is_demo = Path(path).resolve() == DEMO_PROJECT.resolve()
        try:
            self.session.open(path, read_only=True if is_demo else None)
        except WordbridgeError as exc:
            QMessageBox.warning(self, "Cannot open project", str(exc))
            return False
        return True

    def open_in_background(self, path):
        """Open a project without blocking the window: the libraries (torch, pyqtgraph) and the
        project load in a worker, with progress on the start screen; the panels appear when done."""
        from app.workers import Worker

        if self._opening is not None and self._opening.is_running():
            return None
        read_only = True if Path(path).resolve() == DEMO_PROJECT.resolve() else None
        worker = Worker(load_project, path, read_only, parent=self)
        worker.finished.connect(self._loaded)
        worker.failed.connect(lambda m: (self._show_start(), QMessageBox.warning(self, "Cannot open project", m)))
        worker.cancelled.connect(self._show_start)
        self.start.label.setText(f"<h2>Wordbridge</h2><p>Opening {path}…</p>")
        self.stack.setCurrentWidget(self.start)
        self.start.progress.attach(worker, "Opening the project")
        self._opening = worker
        worker.start()
        return worker

    def _loaded(self, project) -> None:
        def show():
            self.session.set_project(project)
            self.settings.add_recent(project.root)

        self._build_workspace_then(show)

    def _show_start(self) -> None:
        self.start.label.setText("<h2>Wordbridge</h2><p>Align spoken words with written words without a "
                                 "parallel lexicon.</p>")
        if self.session.project is not None:
            self.stack.setCurrentWidget(self.workspace)

    def open_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open project folder")
        if path:
            self.open_in_background(path)

    def new_project(self, path: str | None = None, name: str | None = None) -> bool:
        """Create an empty project folder and open it."""
        from core.project.project import Project

        path = path or QFileDialog.getExistingDirectory(self, "New project: choose or create an empty folder")
        if not path:
            return False
        if name is None:
            name, ok = QInputDialog.getText(self, "New project", "Name:", text=Path(path).name)
            if not ok:
                return False
        try:
            Project.create(path, name)
        except WordbridgeError as exc:
            QMessageBox.warning(self, "Cannot create project", str(exc))
            return False
        return self.open_project(path)

    def save_as(self, path: str | None = None) -> bool:
        """Copy the open project to a new folder and continue there."""
        if self.session.project is None:
            return False
        path = path or QFileDialog.getSaveFileName(self, "Save project as", "", "")[0]
        if not path:
            return False
        try:
            copy = self.session.project.save_as(path)
        except WordbridgeError as exc:
            QMessageBox.warning(self, "Cannot save project", str(exc))
            return False
        return self.open_project(copy.root)

    def corpus_dialog(self):
        """Train ▸ Build speech corpus…: the form, then the build in a TrainingDialog (None without a project)."""
        from app.corpus_dialog import CorpusDialog

        if self.session.project is None:
            self.statusBar().showMessage("Open or create a project first.", 8000)
            return None
        dialog = CorpusDialog(self.session.project, parent=self, settings=self.settings)
        dialog.built.connect(lambda result: setattr(self, "last_corpus", str(result.path)))
        dialog.show()
        return dialog

    def train_speech_dialog(self):
        """Train ▸ Train speech space…: the form (the store built last is preselected), then the training."""
        from app.train_speech_dialog import TrainSpeechDialog

        if self.session.project is None:
            self.statusBar().showMessage("Open or create a project first.", 8000)
            return None
        last = self.last_corpus  # only a store of the open project
        if last and not Path(last).resolve().is_relative_to(Path(self.session.project.root).resolve()):
            last = None
        dialog = TrainSpeechDialog(self.session.project, default_store=last, parent=self)
        dialog.trained.connect(lambda _r: self.session.after_mapping_change())
        dialog.show()
        return dialog

    def about(self):
        """Help ▸ About: purpose, version and the honesty notes."""
        from app.about import show_about

        return show_about(self)

    def running_workers(self) -> list:
        """Background workers of this window that have not ended yet."""
        from app.workers import Worker

        return [w for w in self.findChildren(Worker) if w.is_running()]

    def finish_workers(self, ms: int = 60000) -> bool:
        """Cancel every background job of this window and wait until their threads have ended (before
        the window is deleted: deleting a Worker whose thread still emits crashes); False on timeout."""
        running = self.running_workers()
        for worker in running:
            worker.cancel()
        return all(worker.wait(ms) for worker in running)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        """Cancel background work and close only once every worker thread has ended: a QThread
        destroyed while running aborts the process ("QThread: Destroyed while thread is still running")."""
        if not self._closing:
            save_window(self)
        self._closing = True
        running = self.running_workers()
        for worker in running:
            worker.cancel()
        running = [w for w in running if not w.wait(200)]
        if running:  # e.g. the classifier's CSLS terms, which cannot stop halfway: close when they end
            event.ignore()
            self.hide()
            for worker in running:
                worker.done.connect(self.close, Qt.QueuedConnection)
            return
        super().closeEvent(event)


def load_project(path, read_only, progress=None):
    """Import the heavy libraries and open the project (a Worker job: nothing here touches widgets)."""
    from app.library_loader import import_heavy_libraries

    if progress is not None:
        progress.set_stage("loading libraries")
    import_heavy_libraries()  # first: core.project imports torch, which must come after the preload
    from core.project.project import Project

    if progress is not None:
        progress.set_stage("reading the project")
        progress.check()
    return Project.open(path, read_only=read_only)


class StartupSplash(QLabel):
    """A frameless "Loading libraries…" splash window. Not a QSplashScreen: its show() waits up to 1 s
    for the window to be exposed (measured on Xvfb and offscreen, 2-core CPU), holding the GIL, which
    stalled the import it is shown for."""

    def __init__(self, text: str):
        super().__init__(text)
        self.setWindowFlags(Qt.SplashScreen | Qt.FramelessWindowHint | Qt.WindowStaysOnTopHint)
        self.setAlignment(Qt.AlignCenter)
        self.setMargin(24)
        self.setFrameShape(QLabel.Box)
        self.resize(460, 160)

    def message(self) -> str:
        return self.text()

    def finish(self, window) -> None:
        """Close once `window` is shown (QSplashScreen's name for it)."""
        self.close()


def preload_libraries(app, report: bool = False):
    """Show a splash screen ("Loading libraries…") while the heavy libraries are imported (torch,
    pyqtgraph, sounddevice and the modules that need them; app.library_loader), and return only when
    they are, before the main window exists; returns the splash (`finish(window)` hides it once the
    window is shown).

    Why before the window: in a worker thread `import torch` still holds the GIL about 120 ms in one
    piece (`from torch._C import *`, pybind11's module initialisation), which froze the window while
    a project opened (docs/BENCHMARKS.md, session 10). Here nothing usable waits on the event loop:
    opening a project afterwards finds the libraries loaded. The import runs in a plain thread while
    this one shows the splash. An import that fails is left to the project's loading worker, which
    reports it as before."""
    import threading

    from app import library_loader

    def load():
        try:
            library_loader.import_heavy_libraries()
        except Exception:  # noqa: BLE001 - opening a project imports again and shows the error
            import traceback

            traceback.print_exc()

    thread = threading.Thread(target=load, name="wordbridge-preload", daemon=True)
    thread.start()
    splash = StartupSplash("<h2>Wordbridge</h2><p>Loading libraries (torch, pyqtgraph)…</p>")
    splash.show()
    app.processEvents()
    if report:
        print(f"startup: splash shown {seconds_since_process_start():.2f} s after the process started", flush=True)
    while thread.is_alive():
        thread.join(0.02)
        app.processEvents()  # keep the splash painted
    if report:
        print(f"startup: libraries loaded {seconds_since_process_start():.2f} s after the process started",
              flush=True)
    return splash


def initial_project(project_path, settings: Settings):
    """The project to open at start: the argument, else the last one, else the demo, else None."""
    if project_path:
        return project_path
    if settings.last_project:
        return settings.last_project
    if demo_available():
        return str(DEMO_PROJECT)
    return None


def seconds_since_process_start() -> float:
    """Wall time since this process started (Linux /proc; else since this module was imported)."""
    import os
    import time

    try:
        ticks = os.sysconf("SC_CLK_TCK")
        start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED_AT


def report_first_paint(window) -> None:
    """Print "startup: window painted N s after the process started" at the window's first paint
    ("window shown" is printed when the event loop starts, which can be before the first paint)."""
    from PySide6.QtCore import QEvent, QObject

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt API
            if event.type() == QEvent.Paint:
                print(f"startup: window painted {seconds_since_process_start():.2f} s after the process started",
                      flush=True)
                obj.removeEventFilter(self)
            return False

    window._first_paint = FirstPaint(window)
    window.installEventFilter(window._first_paint)


def _open_and_report(window: MainWindow, path) -> None:
    import os

    worker = window.open_in_background(path)
    if os.environ.get("WORDBRIDGE_REPORT_STARTUP") and worker is not None:
        worker.finished.connect(lambda _p: print(f"startup: project shown {seconds_since_process_start():.2f} s "
                                                 "after the process started", flush=True))


def run_app(project_path=None, screenshot: str | None = None) -> int:
    """Open the app (called by `python main.py [app] [PROJECT]`); returns the exit code."""
    import os

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Wordbridge")
    settings = Settings()
    report = bool(os.environ.get("WORDBRIDGE_REPORT_STARTUP"))
    splash = preload_libraries(app, report=report)  # before the window: opening a project then never pays for it
    window = MainWindow(settings)
    window.show()
    splash.finish(window)
    if report:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: print(f"startup: window shown {seconds_since_process_start():.2f} s "
                                           "after the process started", flush=True))
        report_first_paint(window)
    path = initial_project(project_path, settings)
    if path:  # after the first paint, so the window appears at once (pyqtgraph and the project load after)
        from PySide6.QtCore import QTimer

        window.start.label.setText(f"<h2>Wordbridge</h2><p>Opening {path}…</p>")
        QTimer.singleShot(50, lambda: _open_and_report(window, path))
    screenshot = screenshot or os.environ.get("WORDBRIDGE_SCREENSHOT")
    if screenshot:  # used by the Xvfb test: grab the real screen, then quit
        from PySide6.QtCore import QTimer

        def grab_and_quit():
            import time

            if window._opening is not None:  # the project opens in the background: let it finish
                window._opening.wait(60000)
                deadline = time.monotonic() + 30  # the panels are built a few event-loop turns later
                while window.session.project is None and time.monotonic() < deadline:
                    app.processEvents()
                    time.sleep(0.005)
            window.session.wait_ready(20000)
            app.processEvents()
            if window.workspace is not None:
                window.joint._drawing.finish_now()
            app.processEvents()
            QApplication.primaryScreen().grabWindow(0).save(screenshot, "PNG")
            second = os.environ.get("WORDBRIDGE_SCREENSHOT_RECORDINGS")
            if second and window.workspace is not None:  # the Recordings tab, first clip in the boundary editor
                window.tabs.setCurrentWidget(window.recordings)
                if window.recordings.model.rowCount():
                    window.recordings.table.selectRow(0)
                for _ in range(20):
                    app.processEvents()
                QApplication.primaryScreen().grabWindow(0).save(second, "PNG")
            app.quit()

        QTimer.singleShot(int(os.environ.get("WORDBRIDGE_SCREENSHOT_DELAY_MS", "1500")), grab_and_quit)
    return app.exec()
