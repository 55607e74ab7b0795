"""User-facing errors.

Anything the user can cause (a bad file, a missing word, a wrong option) raises `WordbridgeError`
with a one-line message that names the file and, where it applies, the line. The command line
prints it as `error: <message>` and exits with code 2; the app shows it in a message box.
Programming errors stay ordinary exceptions so that they keep their tracebacks.
"""

from __future__ import annotations


class WordbridgeError(Exception):
    """An error caused by input or settings the user controls; its message is one line."""


class InputFileError(WordbridgeError):
    """A file the user gave is missing, damaged or in the wrong format."""

    def __init__(self, path, message: str, line: int | None = None):
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class Cancelled(WordbridgeError):
    """Raised inside long work when the user asked it to stop."""

    def __init__(self, message: str = "cancelled"):
        super().__init__(message)
