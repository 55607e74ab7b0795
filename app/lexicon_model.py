"""A Qt table model over `core.lexicon_review.LexiconReview`: the rows the filter and search let
through, in the order of the clicked column; editing a text word records a correction."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

from core.errors import WordbridgeError
from core.lexicon_review import LexiconReview

COLUMNS = ("speech type", "text word", "score", "status")
SORT_BY_COLUMN = ("speech type", "text word", "score", "status")
STATUS_TIPS = {"confirmed": "you confirmed the induced word", "corrected": "you chose another word",
               "rejected": "you marked the word as wrong", "unreviewed": "no decision yet"}


def score_text(score: float) -> str:
    """A score with 3 decimals; never "-0.000", and NaN as an empty cell."""
    if score != score:
        return ""
    text = f"{score:.3f}"
    return "0.000" if text == "-0.000" else text


class LexiconTableModel(QAbstractTableModel):
    """Rows of a LexiconReview (None: empty); `problem` reports a refused edit in one line."""

    problem = Signal(str)
    decided = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.review: LexiconReview | None = None
        self.status_filter: str | None = None
        self.search = ""
        self.sort_key, self.descending = "rank", False
        self.shown = []

    def set_review(self, review: LexiconReview | None) -> None:
        """Show another review (or none)."""
        self.review = review
        self.refresh()

    def set_filter(self, status: str | None = None, search: str = "") -> None:
        """Keep only rows with `status` (None: all) that contain `search`."""
        self.status_filter, self.search = status, search
        self.refresh()

    def refresh(self) -> None:
        """Re-read the rows from the review (after a decision, undo, filter or sort)."""
        self.beginResetModel()
        self.shown = [] if self.review is None else self.review.view(self.status_filter, self.search,
                                                                     self.sort_key, self.descending)
        self.endResetModel()

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:  # noqa: D401 - Qt API
        """Sort by a column (Qt calls this when a header is clicked)."""
        self.sort_key = SORT_BY_COLUMN[column] if 0 <= column < len(SORT_BY_COLUMN) else "rank"
        self.descending = order == Qt.DescendingOrder
        self.refresh()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.shown)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 - Qt API
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = self.shown[index.row()]
        column = index.column()
        if role in (Qt.DisplayRole, Qt.EditRole):
            return (row.speech_type, row.word, score_text(row.score), row.status)[column]
        if role == Qt.ToolTipRole:
            if column == 1 and row.word != row.induced_word:
                return f"induced: {row.induced_word}"
            if column == 3:
                return STATUS_TIPS[row.status]
        if role == Qt.TextAlignmentRole and column == 2:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def flags(self, index):
        flags = super().flags(index)
        return flags | Qt.ItemIsEditable if index.isValid() and index.column() == 1 else flags

    def setData(self, index, value, role=Qt.EditRole) -> bool:  # noqa: N802 - Qt API
        """Editing a text word confirms the pair with that word (a correction when it differs)."""
        if role != Qt.EditRole or index.column() != 1 or self.review is None:
            return False
        row = self.shown[index.row()]
        if str(value).strip() == row.word:
            return False
        try:
            self.review.decide(row.speech_type, "confirmed", str(value))
        except WordbridgeError as exc:
            self.problem.emit(str(exc))
            return False
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), len(COLUMNS) - 1))
        self.decided.emit()
        return True

    def speech_type(self, row: int) -> str:
        """The speech type shown in a row."""
        return self.shown[row].speech_type
