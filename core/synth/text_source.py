"""Text to be spoken: plain text (one utterance per line) or a verse TSV
(`book<TAB>chapter<TAB>verse<TAB>text`, optionally .xz/.gz compressed), with a chapter-parity
filter and limits on verses and tokens."""

from __future__ import annotations

import gzip
import lzma
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputFileError, WordbridgeError
from core.text.tokenize import tokenize

CHAPTER_CHOICES = ("all", "odd", "even")


@dataclass(frozen=True)
class TextItem:
    """One utterance's text and where it came from."""

    item_id: str  # "B01C001V001" for a verse, "L000001" for a line
    text: str
    n_tokens: int
    book: int | None = None
    chapter: int | None = None
    verse: int | None = None
    line: int = 0  # 1-based line in the source file


def is_verse_tsv(path: str | Path) -> bool:
    """True for verse TSV files (name contains ".tsv")."""
    return ".tsv" in Path(path).name.lower()


def _open_text(path: Path):
    name = path.name.lower()
    if name.endswith(".xz"):
        return lzma.open(path, "rt", encoding="utf-8")
    if name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_text_items(path: str | Path, chapters: str = "all", max_verses: int | None = None,
                    max_tokens: int | None = None) -> list[TextItem]:
    """Read the utterances of `path`, keeping chapters of the given parity (verse TSV only) and
    stopping after `max_verses` items or after the item that brings the token count to
    `max_tokens`. Lines without any word are skipped."""
    path = Path(path)
    if chapters not in CHAPTER_CHOICES:
        raise WordbridgeError(f"--chapters must be one of {', '.join(CHAPTER_CHOICES)}, got {chapters!r}")
    if not path.is_file():
        raise InputFileError(path, "file not found")
    verses = is_verse_tsv(path)
    if chapters != "all" and not verses:
        raise InputFileError(path, "--chapters odd/even needs a verse TSV (book, chapter, verse, text)")
    items: list[TextItem] = []
    total_tokens = 0
    try:
        with _open_text(path) as fh:
            for number, raw in enumerate(fh, 1):
                line = raw.rstrip("\r\n")
                if not line.strip():
                    continue
                if verses:
                    item = _parse_verse(path, number, line)
                    if chapters != "all" and (item.chapter % 2 == 1) != (chapters == "odd"):
                        continue
                else:
                    text = line.strip()
                    item = TextItem(f"L{number:06d}", text, len(tokenize(text)), line=number)
                if item.n_tokens == 0:
                    continue
                items.append(item)
                total_tokens += item.n_tokens
                if (max_verses is not None and len(items) >= max_verses) or \
                        (max_tokens is not None and total_tokens >= max_tokens):
                    break
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not UTF-8 text ({exc.reason})") from exc
    except (lzma.LZMAError, gzip.BadGzipFile, EOFError) as exc:
        raise InputFileError(path, f"damaged compressed file ({exc})") from exc
    if not items:
        what = f"with {chapters} chapters " if chapters != "all" else ""
        raise InputFileError(path, f"no text lines {what}with words to speak (empty file?)")
    return items


def _parse_verse(path: Path, number: int, line: str) -> TextItem:
    parts = line.split("\t", 3)
    if len(parts) != 4:
        raise InputFileError(path, "expected book<TAB>chapter<TAB>verse<TAB>text", line=number)
    try:
        book, chapter, verse = int(parts[0]), int(parts[1]), int(parts[2])
    except ValueError:
        raise InputFileError(path, "book, chapter and verse must be whole numbers", line=number) from None
    text = parts[3].strip()
    return TextItem(f"B{book:02d}C{chapter:03d}V{verse:03d}", text, len(tokenize(text)),
                    book, chapter, verse, number)
