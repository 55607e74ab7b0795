"""How long from the end of a clip to its results on screen, through the app's own code path.

Runs the recorder → session → results panel chain offscreen (Qt "offscreen" platform) on the
bundled demo project (resources/demo) when it exists, else on the fixture project built in a
temporary folder (band-energy stand-in encoder: the encoder's own cost is NOT representative).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_app_latency.py [--clips 30] [--distractors 20000]

Prints median / 95th percentile of: classify (embed + top-k in every space), results shown
(trim + waveform/spectrogram + classify + results panel), and the whole accept (also writes WAV + row).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=30, help="clips to time")
    parser.add_argument("--distractors", type=int, default=20000,
                        help="extra English words in the fixture's text space (vocabulary size)")
    parser.add_argument("--project", default=None, help="project folder (default: demo, else fixture)")
    args = parser.parse_args(argv)
    os.environ["WORDBRIDGE_CONFIG_DIR"] = tempfile.mkdtemp(prefix="wb-bench-config-")

    import app as _app  # noqa: F401 - first, as in main.py: sets OpenMP's wait policy before torch loads
    import make_fixture_project as fixture
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.recorder_widget import RecorderWidget
    from app.results_panel import ResultsPanel
    from app.session import ProjectSession
    from app.settings import Settings

    app = QApplication.instance() or QApplication([])
    demo = ROOT / "resources" / "demo"
    path = args.project or (str(demo) if (demo / "wordbridge.json").is_file() else None)
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="wb-bench-")) / "fixture"
        fixture.build_fixture_project(path, n_words=40, n_distractors=args.distractors)
        label = f"fixture project (40 speech types, {40 + args.distractors} English + 40 French words, 16-d)"
    else:
        label = f"project {path} (a copy in a temporary folder: the benchmark's clips never go into it)"
        import shutil

        copy = Path(tempfile.mkdtemp(prefix="wb-bench-")) / Path(path).name
        shutil.copytree(path, copy, symlinks=True)
        path = str(copy)
    session = ProjectSession(Settings())
    session.open(path)
    session.wait_ready(600000)
    app.processEvents()
    if session.classifier is None or session.classifier.embed is None:
        print(f"cannot classify in {path}: {session.classifier_problem}")
        return 2
    recorder, results = RecorderWidget(), ResultsPanel()
    shown_at = []
    session.classified.connect(results.show_result)
    session.classified.connect(lambda _r: shown_at.append(time.perf_counter()))
    recorder.clip_ready.connect(session.add_clip)
    rng = np.random.default_rng(0)
    classify, shown, whole = [], [], []
    for n in range(args.clips + 3):
        clip = fixture.tone_clip(int(rng.integers(0, 40)), seed=n) if path != str(demo) else \
            fixture.tone_clip(n % 40, seed=n)
        t0 = time.perf_counter()
        recorder.accept_clip(clip, 16000, "file", "bench.wav")
        t1 = time.perf_counter()  # the clip is stored; it is classified in a worker (app/session.py)
        # wait the way the app does, idle in an event loop (a polling loop would take the GIL from the worker)
        loop = QEventLoop()
        session.classified.connect(loop.quit)
        QTimer.singleShot(60000, loop.quit)
        if len(shown_at) < n + 1:
            loop.exec()
        session.classified.disconnect(loop.quit)
        if len(shown_at) < n + 1:
            print("a clip was not classified within 60 s")
            return 2
        if n >= 3:  # the first clips warm caches
            classify.append(session.latest.classification.seconds)
            shown.append(shown_at[-1] - t0)
            whole.append(t1 - t0)
        app.processEvents()

    def stats(xs):
        return f"median {1000 * np.median(xs):.1f} ms, p95 {1000 * np.percentile(xs, 95):.1f} ms"

    print(label)
    print(f"classify (embed + top-k in every space): {stats(classify)}")
    print(f"clip end → results shown:              {stats(shown)}")
    print(f"accept on the GUI thread (WAV + SQLite row; classified after, in a worker): {stats(whole)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
