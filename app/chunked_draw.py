"""Do a long list of small GUI-thread steps one per event-loop turn (drawing many plot points).

Widgets and plot items can only be touched on the GUI thread, so work that must happen there is cut
into pieces: a zero-interval QTimer runs `step(piece)` for one piece per turn, then `finished()`.
Input and painting are handled between pieces, so the window never freezes for the whole job.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from PySide6.QtCore import QObject, QTimer


class ChunkedDraw(QObject):
    """Runs `step` over pieces, one per event-loop turn; `start` again (or `cancel`) drops the rest."""

    def __init__(self, step: Callable[[object], None], finished: Callable[[], None], parent=None):
        super().__init__(parent)
        self._step, self._finished = step, finished
        self._pieces: deque = deque()
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._next)

    @property
    def active(self) -> bool:
        """True while pieces are left."""
        return self._timer.isActive()

    def start(self, pieces) -> None:
        """Forget any pieces left and work through `pieces` (`finished` at once when there are none)."""
        self._pieces = deque(pieces)
        if self._pieces:
            self._timer.start()
        else:
            self._timer.stop()
            self._finished()

    def cancel(self) -> None:
        """Drop the pieces left, without calling `finished`."""
        self._pieces.clear()
        self._timer.stop()

    def finish_now(self) -> None:
        """Run every piece left at once (export, tests)."""
        while self._pieces:
            self._next()

    def _next(self) -> None:
        if self._pieces:
            self._step(self._pieces.popleft())
        if not self._pieces and self._timer.isActive():
            self._timer.stop()
            self._finished()
