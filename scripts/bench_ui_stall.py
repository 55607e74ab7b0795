"""The longest event-loop stall of the app while it opens the bundled demo, imports, refines and aligns.

A QTimer heartbeat fires every 5 ms; a stall is the gap between two beats minus 5 ms. Phases:
the window opens the demo (read-only) until its classifier, joint layout and lexicon are loaded;
then a 60-s file is imported through Recordings ▸ Import files… (trimmed, classified, stored in a
worker; the first import also copies the read-only demo to the user's data folder); then one word
is imported through the recorder (classified in a worker, the app's interactive path) until its
results are shown; then Lexicon ▸ Refine with the 10 most frequent speech types' induced pairs
confirmed (a worker), until the classifier, joint layout and lexicon have been reloaded for the new
map; then Train ▸ Align spaces… on the same writable copy: the form is built and shown, its Align
button clicked, the app's "Replace the map?" question answered Yes by the script (QMessageBox.question
replaced: no modal loop here), the alignment runs in the job dialog's worker, and its end replaces the
map and reloads classifier, joint layout and lexicon (the phase ends when all three are there).
Align uses the form's defaults — method "default" (selflearn on a CPU), seed, CSLS neighbours,
normalisation, device auto — except **Restarts 1 instead of 3** (`ALIGN_RESTARTS`): about 50 s of
worker compute instead of ~130 s; the stall is the GUI thread's work at the start and the end (and
its waits for a core meanwhile), not the worker's compute. Prints one line per phase; `--runs N`
repeats the whole sequence in N fresh processes and prints each phase's median. Settings and data go
to a temporary folder (never the user's).

Start-up as the app does it (app.main_window.run_app): the heavy libraries (torch, pyqtgraph, ...)
are imported behind a splash screen before the main window exists
(app.main_window.preload_libraries), so opening the demo finds them loaded. That import blocks the
GUI thread ~2 s, but while no window is there to use: it is printed as its own line ("start-up
preload", seconds behind the splash), not as an event-loop stall. `--no-preload` measures the app as
it was before (no splash; the libraries are imported in the worker that opens the demo, and their
`import torch` falls inside the "open demo" phase).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_ui_stall.py [--runs 5] [--no-preload]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BEAT_MS = 5
ALIGN_RESTARTS = 1  # the Align form's Restarts (0: the default, 3 for selflearn)


class Heartbeat:
    """Records the longest gap between timer beats (the event loop's longest stall)."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(BEAT_MS)
        self.timer.timeout.connect(self._beat)
        self.reset()

    def reset(self) -> None:
        """Start a new phase."""
        self.last, self.worst = time.perf_counter(), 0.0

    def _beat(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last - BEAT_MS / 1000)
        self.last = now


def wait_until(app, condition, timeout_s: float = 300) -> bool:
    """Run the event loop until `condition()` (False on timeout)."""
    end = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > end:
            return False
        app.processEvents()
        time.sleep(0.001)
    return True


def main(preload: bool = True) -> int:
    """Run the phases and print the longest stall of each (`preload`: start as run_app does)."""
    tmp = Path(tempfile.mkdtemp(prefix="wb-stall-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["WORDBRIDGE_CONFIG_DIR"] = str(tmp / "config")
    os.environ["WORDBRIDGE_DATA_HOME"] = str(tmp / "data")
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from app.main_window import DEMO_PROJECT, MainWindow
    from app.settings import Settings
    from core.audio import save_wav

    app = QApplication.instance() or QApplication([])
    if preload:  # run_app's start: the libraries behind a splash, before the window exists
        from app.main_window import preload_libraries

        t0 = time.perf_counter()
        splash = preload_libraries(app)
        print(f"start-up preload:    {time.perf_counter() - t0:.2f} s behind the splash, before the window exists "
              "(not an event-loop stall of a usable window)", flush=True)
    window = MainWindow(Settings())
    window.show()
    if preload:
        splash.finish(window)
    beat = Heartbeat()
    beat.timer.start()
    wait_until(app, lambda: False, 0.2)

    beat.reset()
    t0 = time.perf_counter()
    window.open_in_background(str(DEMO_PROJECT))  # what the app does (start, Open…, Recent)
    ok = wait_until(app, lambda: window.session.classifier is not None and bool(window.joint.rows)
                    and not getattr(window.joint, "drawing", False) and window.lexicon.model.rowCount() > 0)
    print(f"open demo:           longest stall {1000 * beat.worst:7.0f} ms  (loaded in "
          f"{time.perf_counter() - t0:.1f} s{'' if ok else ', TIMED OUT'})", flush=True)

    rng = np.random.default_rng(0)
    long_file = save_wav(tmp / "long.wav", (0.05 * rng.standard_normal(60 * 16000)).astype(np.float32), 16000)
    beat.reset()
    t0 = time.perf_counter()
    worker = window.recordings.import_files([str(long_file)])
    ok = worker is not None and wait_until(app, lambda: not worker.is_running() and window.recordings.model.rowCount())
    print(f"import 60-s file:    longest stall {1000 * beat.worst:7.0f} ms  (done in "
          f"{time.perf_counter() - t0:.1f} s{'' if ok else ', FAILED'})", flush=True)

    word = window.session.project.recording_audio(window.session.project.recordings()[0].id)[0][:16000]
    beat.reset()
    t0 = time.perf_counter()
    before = window.session.latest
    window.recorder.import_files([str(save_wav(tmp / "word.wav", word, 16000))])
    wait_until(app, lambda: window.session.latest is not before, 60)
    wait_until(app, lambda: False, 0.3)
    print(f"import one word:     longest stall {1000 * beat.worst:7.0f} ms  (results in "
          f"{1000 * (window.session.latest.latency_s if window.session.latest else float('nan')):.0f} ms)",
          flush=True)

    project = window.session.project  # the user's copy of the demo (made by the first import)
    classifier = window.session.classifier
    text_id = classifier.primary_text()
    language = classifier.texts[text_id].entry.language
    for pair in classifier.induce_pairs(text_id, 10):  # as scripts/bench_refine.py
        project.confirm_pair(pair.speech_type, pair.text_word, language)
    window.lexicon.ask_keep_worse = lambda _result: True  # no modal question in a benchmark
    old_classifier = window.session.classifier
    beat.reset()
    t0 = time.perf_counter()
    worker = window.lexicon.refine()
    ok = worker is not None and wait_until(
        app, lambda: not worker.is_running() and window.session.classifier is not None
        and window.session.classifier is not old_classifier
        and bool(window.joint.rows) and not getattr(window.joint, "drawing", False) and window.lexicon.model.rowCount() > 0)
    wait_until(app, lambda: False, 0.3)
    print(f"refine (10 pairs):   longest stall {1000 * beat.worst:7.0f} ms  (done and reloaded in "
          f"{time.perf_counter() - t0:.1f} s{'' if ok else ', FAILED'})", flush=True)

    from PySide6.QtWidgets import QMessageBox

    asked = []  # the app's "Replace the map?" question, answered Yes (no modal loop in a benchmark)
    QMessageBox.question = staticmethod(lambda _parent, title, *_a, **_k: asked.append(title) or QMessageBox.Yes)
    old_classifier = window.session.classifier
    beat.reset()
    t0 = time.perf_counter()
    form = window.align_dialog()  # Train ▸ Align spaces… (on the writable copy the first import made)
    wait_until(app, lambda: False, 0.2)  # the form on screen; then its Align button
    form.restarts.setValue(ALIGN_RESTARTS)
    form.align_button.click()
    job = form.job
    ok = job is not None and wait_until(
        app, lambda: job.state != "running" and job.worker.settled() and window.session.classifier is not None
        and window.session.classifier is not old_classifier
        and bool(window.joint.rows) and not getattr(window.joint, "drawing", False) and window.lexicon.model.rowCount() > 0)
    wait_until(app, lambda: False, 0.3)
    ok = ok and job.state == "done" and asked == ["Replace the map?"]
    method = (job.result or {}).get("method_used", "?") if job is not None else "?"
    print(f"align (1 restart):   longest stall {1000 * beat.worst:7.0f} ms  ({method}; done and reloaded in "
          f"{time.perf_counter() - t0:.1f} s{'' if ok else ', FAILED'})", flush=True)
    window.close()
    return 0


def repeat(runs: int, preload: bool = True) -> int:
    """Run the benchmark in `runs` fresh processes; print each run's lines and each phase's median."""
    import re
    import statistics
    import subprocess

    stalls: dict[str, list[float]] = {}
    preloads: list[float] = []
    for n in range(runs):
        out = subprocess.run([sys.executable, __file__, *([] if preload else ["--no-preload"])],
                             capture_output=True, text=True, check=True).stdout
        print(f"run {n + 1}:\n{out}", end="", flush=True)
        for phase, ms in re.findall(r"^(.+?):\s+longest stall\s+(\d+) ms", out, re.M):
            stalls.setdefault(phase, []).append(float(ms))
        preloads += [float(s) for s in re.findall(r"^start-up preload:\s+([\d.]+) s", out, re.M)]
    print(f"median of {runs} runs:")
    if preloads:
        print(f"  {'start-up preload:':20s} {statistics.median(preloads):7.2f} s   (runs: "
              f"{', '.join(f'{v:.2f}' for v in preloads)}; behind the splash, no window yet)")
    for phase, values in stalls.items():
        print(f"  {phase + ':':20s} {statistics.median(values):7.0f} ms  (runs: {', '.join(f'{v:.0f}' for v in values)})")
    return 0


def parse_args(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=0,
                        help="repeat the whole sequence in N fresh processes and print each phase's median")
    parser.add_argument("--no-preload", dest="preload", action="store_false",
                        help="start without run_app's preload behind the splash (the app before session 10's "
                             "last change): the libraries are imported while the demo opens")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    sys.exit(repeat(args.runs, args.preload) if args.runs else main(args.preload))
