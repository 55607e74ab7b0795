"""Reviewing an induced lexicon: one decision per speech type, undo/redo, sort, filter, search, counts.

The decisions live in the project (`confirmed_pairs` in project.sqlite: one row per speech type and
language, the latest decision wins; no row means "unreviewed"), never in a widget, so a decision
survives reopening and Refine uses exactly the pairs shown. `LexiconReview` is the model the app's
lexicon table presents; it never imports Qt.

Statuses: "confirmed" (the word shown is right), "corrected" (the user chose another word than the
one induced), "rejected" (the word shown is wrong), "unreviewed" (no decision).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import WordbridgeError
from core.lexicon_export import LexiconEntry

UNREVIEWED = "unreviewed"
STATUSES = ("confirmed", "corrected", "rejected", UNREVIEWED)
SORT_KEYS = ("rank", "speech type", "text word", "score", "status")
SPEECH_KIND = "word"


@dataclass
class ReviewRow:
    """One speech type: what was induced (word, score, frequency rank) and the user's decision."""

    rank: int
    speech_type: str
    induced_word: str
    score: float
    word: str
    status: str = UNREVIEWED


@dataclass(frozen=True)
class _Decision:
    status: str
    word: str


class LexiconReview:
    """The user's review of induced pairs (speech type → text word of one language) in a project."""

    def __init__(self, project, entries: list[LexiconEntry], language: str, total_types: int | None = None,
                 vocabulary=None):
        """`entries`: induced pairs, most frequent speech type first; `total_types`: size of the speech
        space (for "2,000 of 9,353"); `vocabulary`: words a correction may use (None: any)."""
        self.project, self.language = project, language
        self.total_types = len(entries) if total_types is None else int(total_types)
        self.vocabulary = vocabulary
        self.rows = [ReviewRow(n, e.speech_type, e.text_word, e.score, e.text_word) for n, e in enumerate(entries)]
        self._by_type = {row.speech_type: row for row in self.rows}
        self._undo: list[tuple[str, _Decision | None, _Decision | None]] = []
        self._redo: list[tuple[str, _Decision | None, _Decision | None]] = []
        self.reload_decisions()

    def reload_decisions(self) -> None:
        """Read the decisions from the project again (after another window or process changed them)."""
        for row in self.rows:
            row.status, row.word = UNREVIEWED, row.induced_word
        for pair in self.project.confirmed_pairs(language=self.language):
            row = self._by_type.get(str(pair.speech_ref))
            if row is not None and pair.speech_kind == SPEECH_KIND:
                row.status, row.word = pair.status, pair.text_word

    def row(self, speech_type: str) -> ReviewRow:
        """The row of one speech type."""
        try:
            return self._by_type[speech_type]
        except KeyError:
            raise WordbridgeError(f"speech type {speech_type!r} is not in the reviewed lexicon") from None

    # --- decisions ----------------------------------------------------------------------------

    def decide(self, speech_type: str, status: str, word: str | None = None) -> ReviewRow:
        """Record a decision on `speech_type` in the project, replacing any earlier one (undoable).

        "confirmed" with a `word` other than the induced one is stored as "corrected"; "rejected"
        rejects `word` (default: the word shown); "unreviewed" forgets the decision.
        """
        row = self.row(speech_type)
        if status not in STATUSES:
            raise WordbridgeError(f"review status must be one of {', '.join(STATUSES)}, not {status!r}")
        word = (row.word if word is None else word).strip()
        if status in ("confirmed", "corrected"):
            if not word:
                raise WordbridgeError("a confirmed pair needs a text word")
            status = "confirmed" if word == row.induced_word else "corrected"
            if status == "corrected" and self.vocabulary is not None and word not in self.vocabulary:
                raise WordbridgeError(f"{word!r} is not in the text space; the decision was not saved")
        after = None if status == UNREVIEWED else _Decision(status, word)
        before = self._current(row)
        if after != before:
            self._apply(row, after)
            self._undo.append((speech_type, before, after))
            self._redo.clear()
        return row

    def undo(self) -> str | None:
        """Take back the last decision; returns its speech type (None: nothing to undo)."""
        if not self._undo:
            return None
        speech_type, before, after = self._undo.pop()
        self._apply(self._by_type[speech_type], before)
        self._redo.append((speech_type, before, after))
        return speech_type

    def redo(self) -> str | None:
        """Make the last undone decision again; returns its speech type (None: nothing to redo)."""
        if not self._redo:
            return None
        speech_type, before, after = self._redo.pop()
        self._apply(self._by_type[speech_type], after)
        self._undo.append((speech_type, before, after))
        return speech_type

    def can_undo(self) -> bool:
        """Whether there is a decision to undo."""
        return bool(self._undo)

    def can_redo(self) -> bool:
        """Whether there is an undone decision to redo."""
        return bool(self._redo)

    def _current(self, row: ReviewRow) -> _Decision | None:
        return None if row.status == UNREVIEWED else _Decision(row.status, row.word)

    def _apply(self, row: ReviewRow, decision: _Decision | None) -> None:
        if decision is None:
            self.project.clear_pair(row.speech_type, self.language, SPEECH_KIND)
            row.status, row.word = UNREVIEWED, row.induced_word
        else:
            self.project.confirm_pair(row.speech_type, decision.word, self.language, decision.status, SPEECH_KIND)
            row.status, row.word = decision.status, decision.word

    # --- views --------------------------------------------------------------------------------

    def view(self, status: str | None = None, search: str = "", sort: str = "rank",
             descending: bool = False) -> list[ReviewRow]:
        """Rows with `status` (None: all) whose speech type or words contain `search` (case-insensitive),
        sorted by one of SORT_KEYS."""
        if status is not None and status not in STATUSES:
            raise WordbridgeError(f"review status must be one of {', '.join(STATUSES)}, not {status!r}")
        if sort not in SORT_KEYS:
            raise WordbridgeError(f"sort key must be one of {', '.join(SORT_KEYS)}, not {sort!r}")
        needle = search.strip().casefold()
        rows = [r for r in self.rows if (status is None or r.status == status) and (
            not needle or any(needle in t.casefold() for t in (r.speech_type, r.word, r.induced_word)))]
        key = {"rank": lambda r: r.rank, "speech type": lambda r: r.speech_type.casefold(),
               "text word": lambda r: r.word.casefold(),
               "score": lambda r: float("-inf") if r.score != r.score else r.score,
               "status": lambda r: STATUSES.index(r.status)}[sort]
        return sorted(rows, key=lambda r: (key(r), r.rank), reverse=descending)

    def counts(self) -> dict[str, int]:
        """Number of rows per status (every status present, zeros included)."""
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def summary(self) -> str:
        """"reviewed N of M" and, when the list is cut, "M of T speech types"."""
        reviewed = len(self.rows) - self.counts()[UNREVIEWED]
        shown = f"{len(self.rows):,} of {self.total_types:,}" if self.total_types > len(self.rows) \
            else f"{len(self.rows):,}"
        return f"reviewed {reviewed:,} of {len(self.rows):,} · {shown} speech types"

    def entries(self) -> list[LexiconEntry]:
        """Every row as a LexiconEntry with its status, for export (rank order)."""
        return [LexiconEntry(r.speech_type, r.word, self.language, r.score, r.status, r.induced_word)
                for r in self.rows]
