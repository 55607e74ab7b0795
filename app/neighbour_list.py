"""The k nearest neighbours of a clicked point, in the original (high-dimensional) space, with bars."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget


class NeighbourList(QWidget):
    """A title and a table: word, space, cosine distance, distance bar (short bar = close)."""

    row_activated = Signal(int)  # global point row

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel("Click a point to list its nearest neighbours.")
        self.title.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["word", "space", "distance", ""])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        self._rows: list[int] = []
        self.table.cellDoubleClicked.connect(lambda r, _c: self.row_activated.emit(self._rows[r]))

    def show_neighbours(self, title: str, neighbours: list[tuple[int, str, str, float]]) -> None:
        """`neighbours`: (global row, word, space id, cosine distance), nearest first."""
        self.title.setText(title)
        self.table.setRowCount(len(neighbours))
        self._rows = [n[0] for n in neighbours]
        for r, (_row, word, space, dist) in enumerate(neighbours):
            self.table.setItem(r, 0, QTableWidgetItem(word))
            self.table.setItem(r, 1, QTableWidgetItem(space))
            self.table.setItem(r, 2, QTableWidgetItem(f"{dist:.3f}"))
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setValue(int(1000 * max(0.0, min(1.0, dist / 2.0))))  # cosine distance is in [0, 2]
            self.table.setCellWidget(r, 3, bar)

    def words(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())]

    def clear(self) -> None:
        self.table.setRowCount(0)
        self._rows = []
        self.title.setText("Click a point to list its nearest neighbours.")
