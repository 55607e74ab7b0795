"""The longest event-loop stall of the app while it opens the bundled demo and imports audio.

A QTimer heartbeat fires every 5 ms; a stall is the gap between two beats minus 5 ms. Phases:
the window opens the demo (read-only) until its classifier, joint layout and lexicon are loaded;
then a 60-s file is imported through Recordings ▸ Import files… (trimmed, classified, stored in a
worker; the first import also copies the read-only demo to the user's data folder); then one word
is imported through the recorder (classified on the GUI thread, the app's interactive path).
Prints one line per phase. Settings and data go to a temporary folder (never the user's).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_ui_stall.py
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


def main() -> int:
    """Run the phases and print the longest stall of each."""
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
    window = MainWindow(Settings())
    window.show()
    beat = Heartbeat()
    beat.timer.start()
    wait_until(app, lambda: False, 0.2)

    beat.reset()
    t0 = time.perf_counter()
    window.open_in_background(str(DEMO_PROJECT))  # what the app does (start, Open…, Recent)
    ok = wait_until(app, lambda: window.session.classifier is not None and bool(window.joint.rows)
                    and window.lexicon.model.rowCount() > 0)
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
    window.recorder.import_files([str(save_wav(tmp / "word.wav", word, 16000))])
    wait_until(app, lambda: False, 0.5)
    print(f"import one word:     longest stall {1000 * beat.worst:7.0f} ms  (results in "
          f"{1000 * (window.session.latest.latency_s if window.session.latest else float('nan')):.0f} ms)",
          flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
