"""Record from a word list, Lingua Libre style: paste or load the words, then one prompt after
another — R starts, R / Space stops and moves to the next word — and each clip is stored named by
its word (core.recording_list.add_word_recording through the session). Where the list stopped is
kept in the project's settings, so a restart continues with the next word."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QPushButton, QVBoxLayout)

from app import audio_io
from core.errors import WordbridgeError

SETTING = "word_list"  # project setting: {"words": [...], "next": index}


class WordListDialog(QDialog):
    """Prompts the words of a list in turn; `take(samples, sr)` stores a clip for the current word."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Record word list")
        self.resize(520, 460)
        saved = (session.project.settings.get(SETTING) or {}) if session.project is not None else {}
        self.words_edit = QPlainTextEdit("\n".join(saved.get("words", [])))
        self.words_edit.setToolTip("One word per line (lines starting with # are skipped)")
        self.speaker = QLineEdit(saved.get("speaker", ""))
        self.speaker.setToolTip("Who is speaking (stored with every clip)")
        self.language = QLineEdit(saved.get("language", ""))
        self.language.setToolTip("Language code of the words (stored with every clip)")
        self.prompt = QLabel("")
        self.prompt.setAlignment(Qt.AlignCenter)
        self.prompt.setStyleSheet("font-size: 28pt; font-weight: bold; padding: 12px;")
        self.prompt.setToolTip("The word to say now")
        self.position = QLabel("")
        self.buttons = {n: QPushButton(n) for n in ("Load list…", "◀ Back", "● Record (R)", "Skip ▶")}
        for name, tip in (("Load list…", "Read the words from a text file, one per line"),
                          ("◀ Back", "Go back to the previous word (record it again)"),
                          ("● Record (R)", "Start recording this word; R or Space stops and moves on"),
                          ("Skip ▶", "Go to the next word without recording")):
            self.buttons[name].setToolTip(tip)
        form = QFormLayout()
        form.addRow("Words", self.words_edit)
        form.addRow("Speaker", self.speaker)
        form.addRow("Language", self.language)
        row = QHBoxLayout()
        for b in self.buttons.values():
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.prompt)
        layout.addWidget(self.position)
        layout.addLayout(row)
        self.buttons["Load list…"].clicked.connect(lambda: self.load_list())
        self.buttons["◀ Back"].clicked.connect(lambda: self.move(-1))
        self.buttons["Skip ▶"].clicked.connect(lambda: self.move(1))
        self.buttons["● Record (R)"].clicked.connect(self.toggle_record)
        for keys in ("R", "Space"):
            QShortcut(QKeySequence(keys), self, self.toggle_record)
        self.words_edit.textChanged.connect(self._show)
        self.recorder = None
        self.index = int(saved.get("next", 0))
        self._show()

    def words(self) -> list[str]:
        """The list as typed: stripped lines, no comments, no repeats."""
        lines = [w.strip() for w in self.words_edit.toPlainText().splitlines()]
        return list(dict.fromkeys(w for w in lines if w and not w.startswith("#")))

    def current_word(self) -> str | None:
        """The word prompted now (None past the end of the list)."""
        words = self.words()
        return words[self.index] if 0 <= self.index < len(words) else None

    def load_list(self, path: str | None = None) -> int:
        """Read words from a file into the list; returns how many."""
        from core.recording_list import read_word_list

        path = path or QFileDialog.getOpenFileName(self, "Word list", "", "Text (*.txt *.csv);;All files (*)")[0]
        if not path:
            return 0
        try:
            words = read_word_list(path)
        except WordbridgeError as exc:
            self.position.setText(str(exc))
            return 0
        self.index = 0
        self.words_edit.setPlainText("\n".join(words))
        return len(words)

    def move(self, step: int) -> None:
        """Go `step` words forward (or back)."""
        self.index = max(0, min(len(self.words()), self.index + step))
        self._show()
        self._save()

    def _show(self) -> None:
        word, n = self.current_word(), len(self.words())
        self.prompt.setText(word if word is not None else ("Done ✓" if n else "Type or load a word list"))
        self.position.setText(f"word {min(self.index + 1, n)} of {n}" if n else "")
        self.buttons["● Record (R)"].setEnabled(word is not None)

    def _save(self) -> None:
        project = self.session.project
        if project is not None and not getattr(project, "read_only", False):
            try:
                project.update_settings(**{SETTING: {"words": self.words(), "next": self.index,
                                                     "speaker": self.speaker.text(),
                                                     "language": self.language.text()}})
            except WordbridgeError:
                pass  # the position is a convenience; the clips themselves are already stored

    def toggle_record(self) -> None:
        """Start recording the current word, or stop and store it."""
        if self.recorder is None:
            if self.current_word() is None:
                return
            recorder = audio_io.InputRecorder()
            try:
                recorder.start()
            except RuntimeError as exc:
                self.position.setText(str(exc))
                return
            self.recorder = recorder
            self.buttons["● Record (R)"].setText("■ Stop (R)")
            return
        rec, self.recorder = self.recorder, None
        self.buttons["● Record (R)"].setText("● Record (R)")
        samples = rec.stop()
        if len(samples) == 0:
            self.position.setText(rec.problem or "Nothing was recorded.")
            return
        self.take(samples, rec.sample_rate)

    def take(self, samples: np.ndarray, sample_rate: int) -> int | None:
        """Store `samples` as the clip of the current word and prompt the next; returns the recording id."""
        word = self.current_word()
        if word is None:
            return None
        rid = self.session.add_word_clip(samples, sample_rate, word, self.speaker.text().strip(),
                                         self.language.text().strip())
        if rid is not None:
            self.move(1)
        return rid

    def reject(self) -> None:  # noqa: D401 - Qt API: closing stops a recording without storing it
        if self.recorder is not None:
            self.recorder.stop()
            self.recorder = None
        self._save()
        super().reject()
