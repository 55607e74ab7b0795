"""The Wordbridge desktop app (PySide6 + pyqtgraph): presents and orchestrates; core/ computes."""

import os as _os

# The app classifies clips in a worker thread while the GUI thread also runs numpy/torch code; with
# OpenMP's default active spin-waiting, each thread's team spins on the cores the other needs (on the
# 2-core CPU one word's classification took ~110 ms instead of ~40 ms: docs/BENCHMARKS.md, session
# 10). Passive waiting hands the cores back. It only takes effect before torch is loaded, which
# importing this package comes first for `main.py` and the benchmarks; a value set by the user wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
