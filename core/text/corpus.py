"""Text corpus readers: plain text (one sentence per line) and verse TSV files.

A verse TSV has `book<TAB>chapter<TAB>verse<TAB>text` per line (the layout of shared/data/text);
only the first three tabs split, so a tab inside the text stays in the text. Files may be
xz- or gzip-compressed; compression is detected from the content. Readers yield one list of
tokens per line or verse and skip lines without words.
"""

from __future__ import annotations

import gzip
import lzma
import os
import re
from pathlib import Path
from typing import IO, Iterator

from core.errors import InputFileError, WordbridgeError
from core.progress import Progress, ensure
from core.text.tokenize import tokenize

CORPUS_FORMATS = ("auto", "txt", "tsv")
CHAPTER_FILTERS = ("all", "odd", "even")

_XZ_MAGIC = b"\xfd7zXZ\x00"
_GZIP_MAGIC = b"\x1f\x8b"
_VERSE_LINE = re.compile(r"^[^\t]+\t\d+\t\d+\t")
_CHECK_EVERY = 5000  # lines between cancellation checks


def open_corpus_file(path: str | os.PathLike) -> IO[bytes]:
    """Open `path` for binary reading, decompressing xz or gzip when its first bytes say so."""
    path = Path(path)
    _require_file(path)
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic.startswith(_XZ_MAGIC):
        return lzma.open(path, "rb")
    if magic.startswith(_GZIP_MAGIC):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _require_file(path: Path) -> None:
    if not path.exists():
        raise InputFileError(path, "no such file")
    if not path.is_file():
        raise InputFileError(path, "not a file")


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, decoded line without its line break), with one-line errors."""
    line_no = 0
    try:
        with open_corpus_file(path) as fh:
            for line_no, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise InputFileError(path, "not UTF-8 text (re-encode the file as UTF-8)",
                                         line_no) from None
                if line_no == 1:
                    text = text.removeprefix("\ufeff")
                yield line_no, text.rstrip("\r\n")
    except (lzma.LZMAError, gzip.BadGzipFile, EOFError) as exc:
        raise InputFileError(path, f"damaged or truncated compressed file ({exc})",
                             line_no + 1) from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror or exc})") from None


def detect_format(path: str | os.PathLike) -> str:
    """"tsv" when the first non-blank line looks like `book<TAB>chapter<TAB>verse<TAB>text`, else "txt"."""
    for _, text in numbered_lines(Path(path)):
        if text.strip():
            return "tsv" if _VERSE_LINE.match(text) else "txt"
    return "txt"


def read_plain_text(path: str | os.PathLike, progress: Progress | None = None) -> Iterator[list[str]]:
    """Yield the tokens of each line of a plain-text corpus (one sentence per line)."""
    progress = ensure(progress)
    path = Path(path)
    found = False
    for line_no, text in numbered_lines(path):
        if line_no % _CHECK_EVERY == 0:
            progress.check()
        tokens = tokenize(text)
        if tokens:
            found = True
            yield tokens
    if not found:
        raise InputFileError(path, "no words in corpus (a word is a run of letters)")


def read_verse_tsv(path: str | os.PathLike, chapters: str | None = None,
                   progress: Progress | None = None) -> Iterator[list[str]]:
    """Yield the tokens of each verse of a `book<TAB>chapter<TAB>verse<TAB>text` file.

    `chapters` = "odd" or "even" keeps only verses in odd- or even-numbered chapters (the
    comparable-corpus split); None or "all" keeps every verse.
    """
    progress = ensure(progress)
    path = Path(path)
    parity = _chapter_parity(chapters)
    found = False
    for line_no, text in numbered_lines(path):
        if line_no % _CHECK_EVERY == 0:
            progress.check()
        if not text.strip():
            continue
        fields = text.split("\t", 3)
        if len(fields) != 4 or not fields[0].strip():
            raise InputFileError(path, "expected book<TAB>chapter<TAB>verse<TAB>text", line_no)
        try:
            chapter, _verse = int(fields[1]), int(fields[2])
        except ValueError:
            raise InputFileError(path, f"chapter and verse must be whole numbers, got "
                                       f"{fields[1][:20]!r} and {fields[2][:20]!r}", line_no) from None
        if parity is not None and chapter % 2 != parity:
            continue
        tokens = tokenize(fields[3])
        if tokens:
            found = True
            yield tokens
    if not found:
        which = "" if parity is None else f" in {chapters}-numbered chapters"
        raise InputFileError(path, f"no words in corpus{which}")


def _chapter_parity(chapters: str | None) -> int | None:
    if chapters in (None, "all"):
        return None
    if chapters == "odd":
        return 1
    if chapters == "even":
        return 0
    raise WordbridgeError(f"chapters must be one of {', '.join(CHAPTER_FILTERS)}, got {chapters!r}")


def read_corpus(path: str | os.PathLike, format: str = "auto", chapters: str | None = "all",
                progress: Progress | None = None) -> Iterator[list[str]]:
    """Yield token lists from a plain-text or verse-TSV corpus; `format="auto"` detects which."""
    if format not in CORPUS_FORMATS:
        raise WordbridgeError(f"corpus format must be one of {', '.join(CORPUS_FORMATS)}, "
                              f"got {format!r}")
    _chapter_parity(chapters)
    if format == "auto":
        format = detect_format(path)
    if format == "tsv":
        return read_verse_tsv(path, chapters, progress)
    if chapters not in (None, "all"):
        raise WordbridgeError(f"{path}: choosing {chapters} chapters needs a verse TSV corpus "
                              "(book<TAB>chapter<TAB>verse<TAB>text), but this is plain text")
    return read_plain_text(path, progress)


def load_corpus(path: str | os.PathLike, format: str = "auto", chapters: str | None = "all",
                progress: Progress | None = None) -> list[list[str]]:
    """Read a whole corpus into memory as a list of token lists (what training iterates over)."""
    return list(read_corpus(path, format, chapters, progress))
