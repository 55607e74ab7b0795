"""Run a long core function in a QThread with progress signals and Cancel.

The core function takes `progress=` (core.progress.Progress); its updates arrive here on the
worker thread and are re-emitted as Qt signals, which Qt queues to the GUI thread. Cancel sets the
Progress flag; the function stops at its next `progress.check()` and the worker emits `cancelled`.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from typing import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from core.errors import Cancelled, WordbridgeError
from core.progress import Progress

# Threads that have started and not yet been reaped. Why: a QThread whose Python owner is collected
# while it runs aborts the whole process ("QThread: Destroyed while thread is still running", exit
# 134) — a Worker without a parent dropped by its caller, or one whose parent widget closed. The
# registry keeps each thread alive until the GUI thread has seen it finish.
_LIVE: set["_Thread"] = set()

# The nice value of long jobs (alignment, training: TrainingDialog; Refine) on Linux. Why: on a 2-core CPU a
# job's compute threads (its OpenMP/MKL team) and other processes left the GUI thread waiting for a
# core 100-150 ms at a time while the window had nothing heavy to do (bench_ui_stall's Align phase,
# /proc/thread-self/schedstat: the gaps were run-queue waits); a niced job yields the core to it.
BACKGROUND_NICE = 10


def lower_this_thread(nice: int) -> bool:
    """Raise the calling thread's nice value by `nice` (Linux, where nice is per thread; threads it
    creates afterwards, such as its OpenMP team, inherit it). False where that is not possible."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        return False
    return True


class Worker(QObject):
    """Owns one QThread running `fn(*args, progress=..., **kwargs)`; `nice` > 0 runs it at a lower
    priority (`lower_this_thread`: long jobs, so that the GUI thread gets a core first)."""

    progressed = Signal(str, float, object, dict)  # stage, done, total (or None), metrics
    finished = Signal(object)  # the function's return value
    failed = Signal(str)  # a one-line message
    cancelled = Signal()
    done = Signal()  # after any of finished / failed / cancelled

    def __init__(self, fn: Callable, *args, parent: QObject | None = None, nice: int = 0, **kwargs):
        super().__init__(parent)
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.nice = nice
        self.progress = Progress(self._relay)
        self._thread = _Thread(self._run)
        self.result = None

    def _relay(self, stage: str, done: float, total, metrics: dict) -> None:
        self.progressed.emit(stage, float(done), total, dict(metrics))

    def _run(self) -> None:
        lower_this_thread(self.nice)
        try:
            self.result = self._fn(*self._args, progress=self.progress, **self._kwargs)
        except Cancelled:
            self._emit(self.cancelled)
        except WordbridgeError as exc:
            self._emit(self.failed, str(exc))
        except Exception as exc:  # noqa: BLE001 - shown to the user, traceback kept on stderr
            traceback.print_exc()
            self._emit(self.failed, f"{type(exc).__name__}: {exc}")
        else:
            self._emit(self.finished, self.result)
        self._emit(self.done)

    @staticmethod
    def _emit(signal, *args) -> None:
        """Emit, unless the Worker's Qt object is gone (its parent widget closed while the job ran):
        then nobody is listening and the result is dropped."""
        try:
            signal.emit(*args)
        except RuntimeError:
            pass

    def start(self) -> None:
        """Start the thread, after collecting garbage here in the GUI thread.

        Why: a Python wrapper of a Qt object (a dropped dialog's menu, say) that the garbage
        collector happens to free while the worker thread runs is handed to the GUI thread for
        deletion; seen in a test, the GUI thread then waited on a Qt mutex while holding the GIL and
        the worker waited on the GIL: a deadlock. Collecting first leaves no such garbage for the
        worker's own allocations to trigger."""
        import gc

        gc.collect()
        _LIVE.add(self._thread)
        # queued to the application object, which lives in the GUI thread: the thread is dropped
        # there, after it has finished, never from inside its own run()
        self._thread.finished.connect(_Reaper.instance().reap)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the function to stop at its next progress check."""
        self.progress.cancel()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def settled(self) -> bool:
        """True once the thread has ended and the GUI thread has delivered everything it emitted.

        Why: the thread's own `finished` reaches the reaper after the signals emitted in run() (one
        event queue, in posting order), so this is later than every slot of finished/failed/done —
        unlike waiting for `done` itself, which a listener connected after start() can miss."""
        return self._thread.reaped

    def wait(self, ms: int = 10000) -> bool:
        """Block until the thread ends (used on close and in tests)."""
        return self._thread.wait(ms)


class _Thread(QThread):
    def __init__(self, target: Callable[[], None]):
        super().__init__()
        self._target = target
        self.reaped = False  # set in the GUI thread by _Reaper.reap

    def run(self) -> None:  # noqa: D401 - Qt API
        self._target()


class _Reaper(QObject):
    """Lives in the GUI thread; drops finished threads from the registry there."""

    _instance: "_Reaper | None" = None

    @classmethod
    def instance(cls) -> "_Reaper":
        if cls._instance is None:
            cls._instance = cls()
            app = QCoreApplication.instance()
            if app is not None:
                cls._instance.moveToThread(app.thread())
        return cls._instance

    def reap(self) -> None:
        """Slot for QThread.finished: that thread is at the end of run(); wait the last moment out."""
        thread = self.sender()
        if thread in _LIVE:
            thread.wait()
            _LIVE.discard(thread)
            thread.reaped = True
