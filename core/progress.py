"""Progress reporting and cancellation for long work.

Long functions in core take an optional `progress: Progress`. They call `progress.update(done,
total, **metrics)` now and then and `progress.check()` at safe points; `check()` raises
`Cancelled` when someone called `cancel()` (the app's Cancel button, Ctrl-C handling in the CLI).
The CLI wraps a Progress around tqdm; the app forwards updates to a Qt signal. Core never knows
which.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Protocol

from core.errors import Cancelled


class ProgressListener(Protocol):
    def __call__(self, stage: str, done: float, total: float | None, metrics: dict) -> None: ...


class Progress:
    """Carries progress updates to a listener and a cancellation flag back to the worker."""

    def __init__(self, listener: ProgressListener | None = None):
        self._listener = listener
        self._cancel = threading.Event()
        self.stage = ""

    def set_stage(self, stage: str) -> None:
        """Name the current stage (shown as the progress bar's label)."""
        self.stage = stage
        self.update(0, None)

    def update(self, done: float, total: float | None = None, **metrics) -> None:
        """Report `done` of `total` units finished, with optional metrics (loss, criterion, ...)."""
        if self._listener is not None:
            self._listener(self.stage, done, total, metrics)

    def log(self, message: str) -> None:
        """Report a line of text (warnings, fall-backs) to the listener."""
        if self._listener is not None:
            self._listener(self.stage, -1, None, {"message": message})

    def cancel(self) -> None:
        """Ask the worker to stop at its next `check()`."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was requested (e.g. so a second Ctrl-C can stop at once)."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise `Cancelled` if cancellation was requested."""
        if self._cancel.is_set():
            raise Cancelled()


def ensure(progress: Progress | None) -> Progress:
    """Return `progress`, or a fresh silent Progress when None."""
    return progress if progress is not None else Progress()


class TqdmListener:
    """A ProgressListener that draws one tqdm bar per stage on stderr (the command line's view)."""

    def __init__(self, disable: bool = False):
        self._bar = None
        self._stage = None
        self._disable = disable

    def __call__(self, stage: str, done: float, total: float | None, metrics: dict) -> None:
        from tqdm import tqdm

        if "message" in metrics and done == -1:
            (tqdm.write if self._bar is not None else print_err)(f"{stage}: {metrics['message']}")
            return
        if stage != self._stage or self._bar is None:
            self.close()
            self._bar = tqdm(total=total, desc=stage or "working", disable=self._disable,
                             leave=True, dynamic_ncols=True)
            self._stage = stage
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        shown = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in metrics.items()}
        if shown:
            self._bar.set_postfix(shown, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def print_err(message: str) -> None:
    import sys

    print(message, file=sys.stderr)



@contextlib.contextmanager
def sigint_cancels(progress: Progress, message: str):
    """While open, the first Ctrl-C (SIGINT) prints `message` to stderr and cancels `progress`, so the
    work stops at its next safe point (a training step: a checkpoint is written); a second one raises
    KeyboardInterrupt at once. The previous handler comes back on exit. Does nothing outside the main
    thread (Python only handles signals there) or when the current handler was installed outside
    Python (getsignal() is None: it could not be put back)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield
        return

    def on_interrupt(signum, frame):
        if progress.cancelled:  # a second Ctrl-C
            raise KeyboardInterrupt
        print(f"\n{message}", file=sys.stderr, flush=True)
        progress.cancel()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
