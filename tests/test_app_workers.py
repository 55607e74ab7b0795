"""app.workers.Worker: a job outlives the Python objects that started it.

Run in a child process: the failure being guarded against aborts the interpreter ("QThread:
Destroyed while thread is still running", exit code 134), which would take pytest down with it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import gc, sys, threading, time
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QCoreApplication, QObject, QTimer
    from app import workers
    from app.workers import Worker

    app = QCoreApplication([])
    release = threading.Event()
    ran = []

    def slow(progress=None):
        release.wait(10)
        time.sleep(0.2)
        ran.append(1)
        return 1

    parent = QObject() if {with_parent} else None
    worker = Worker(slow, parent=parent)
    worker.start()
    del worker                      # the caller drops its worker (and the parent goes too)
    if parent is not None:
        parent.deleteLater()
        del parent
    gc.collect()
    QTimer.singleShot(50, release.set)

    def stop():
        if not workers._LIVE:
            app.quit()
    timer = QTimer()
    timer.timeout.connect(stop)
    timer.start(50)
    QTimer.singleShot(8000, app.quit)
    app.exec()
    print("ran", len(ran), "live", len(workers._LIVE))
""")


@pytest.mark.parametrize("with_parent", [False, True], ids=["no-parent", "parent-deleted"])
def test_a_dropped_worker_finishes_and_is_reaped(with_parent):
    """Before: exit 134 without a parent, and "Signal source has been deleted" tracebacks with one."""
    proc = subprocess.run([sys.executable, "-c", SCRIPT.format(root=str(ROOT), with_parent=with_parent)],
                          capture_output=True, text=True, timeout=60,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ran 1 live 0" in proc.stdout
    assert "Destroyed while thread" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_settled_comes_after_every_slot_of_a_job_that_ended_at_once(qtbot):
    """A job that fails at once ends before a test could connect to `done`; `settled()` still turns
    true, and only after the slots connected before start() have run (the reaper's event is last)."""
    from app.workers import Worker
    from core.errors import WordbridgeError

    def fails(progress=None):
        raise WordbridgeError("no such project folder: x")

    seen = []
    worker = Worker(fails)
    worker.failed.connect(seen.append)
    worker.done.connect(lambda: seen.append("done"))
    assert not worker.settled()
    worker.start()
    worker.wait(5000)  # the job has ended; its signals are still queued for the GUI thread
    assert seen == [] and not worker.settled()
    qtbot.waitUntil(worker.settled, timeout=5000)
    assert seen == ["no such project folder: x", "done"]


def _nice_of_this_thread_and_a_child(progress=None):
    """(this thread's nice value, that of a thread it starts): an OpenMP team inherits the same way."""
    import os
    import threading

    def nice():
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    child = []
    thread = threading.Thread(target=lambda: child.append(nice()))
    thread.start()
    thread.join()
    return nice(), child[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_long_jobs_run_niced_so_the_gui_thread_gets_a_core_first(qtbot):
    """TrainingDialog jobs (Align, training) run BACKGROUND_NICE lower, threads they start too (their
    OpenMP/MKL team); an ordinary Worker (classifying a clip) and the GUI thread keep their priority.
    Why: bench_ui_stall's Align phase stalled 100-360 ms while the GUI thread waited for a core."""
    import os
    import threading

    from app.training_dialog import TrainingDialog
    from app.workers import BACKGROUND_NICE, Worker

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    expected = min(19, base + BACKGROUND_NICE)
    job = TrainingDialog("Job", _nice_of_this_thread_and_a_child)
    qtbot.addWidget(job)
    job.start()
    qtbot.waitUntil(job.worker.settled, timeout=10000)
    assert job.state == "done" and job.result == (expected, expected)
    plain = Worker(_nice_of_this_thread_and_a_child)
    plain.start()
    qtbot.waitUntil(plain.settled, timeout=10000)
    assert plain.result == (base, base)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base


def test_a_jobs_summary_is_in_the_log_before_it_says_done(qtbot):
    """The form's summary (on_result) runs before the state turns "done": a second slot on the worker's
    `finished` ran an event later, so a caller that saw "done" could miss the summary (CI, session 15)."""
    from app.training_dialog import TrainingDialog

    job = TrainingDialog("Job", lambda progress=None: 42)
    qtbot.addWidget(job)
    seen = []

    def summary(result):
        seen.append(job.state)  # still running while the summary is written
        job.report(f"summary of {result}")

    job.on_result = summary
    job.start()
    qtbot.waitUntil(lambda: job.state != "running", timeout=10000)
    assert job.state == "done" and seen == ["running"]
    assert job.log.toPlainText().splitlines()[-2:] == ["summary of 42", "done"]
    # a summary that raises still ends the job
    failing = TrainingDialog("Job", lambda progress=None: 1)
    qtbot.addWidget(failing)
    failing.on_result = lambda result: 1 / 0
    with pytest.raises(ZeroDivisionError):
        failing._on_finished(1)
    assert failing.state == "done"
