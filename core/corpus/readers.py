"""One entry point over every corpus reader: `read_corpus(source, reader, **options)`.

Each reader returns (SegmentTable, ReadReport); options a reader does not take are ignored, so
the command line can pass its whole option set.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

from core.corpus.clips import read_clips
from core.corpus.report import ReadReport
from core.corpus.textgrid import read_librispeech, read_textgrid_corpus
from core.corpus.unsegmented import read_chunks, read_vad
from core.errors import InputFileError, WordbridgeError
from core.progress import Progress
from core.segments import SegmentTable

READERS = {
    "textgrid": read_textgrid_corpus,
    "clips": read_clips,
    "librispeech": read_librispeech,
    "vad": read_vad,
    "chunks": read_chunks,
}
METADATA_FILES = ("corpus.json", "metadata.json")


def read_corpus(source: str | os.PathLike, reader: str, progress: Progress | None = None,
                **options) -> tuple[SegmentTable, ReadReport]:
    """Read `source` with the named reader (textgrid, clips, librispeech, vad, chunks)."""
    if reader not in READERS:
        raise WordbridgeError(f"unknown corpus reader {reader!r} (choose from {', '.join(READERS)})")
    source = Path(source)
    if not source.exists():
        raise InputFileError(source, "corpus folder not found")
    return READERS[reader](source, progress=progress, **reader_options(reader, options))


def reader_options(reader: str, options: dict) -> dict:
    """The subset of `options` the named reader takes (None values dropped)."""
    accepted = inspect.signature(READERS[reader]).parameters
    return {k: v for k, v in options.items() if k in accepted and k != "progress" and v is not None}


def corpus_metadata(source: str | os.PathLike) -> dict:
    """Metadata a corpus folder declares in corpus.json / metadata.json ("synthetic", ...), or {}.

    A synthetic corpus (made by a speech synthesiser) must say `"synthetic": true` there; the
    flag is copied into every feature store built from it.
    """
    source = Path(source)
    folder = source if source.is_dir() else source.parent
    for name in METADATA_FILES:
        file = folder / name
        if file.is_file():
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputFileError(file, f"not valid JSON ({exc})") from None
            if not isinstance(data, dict):
                raise InputFileError(file, "corpus metadata must be a JSON object")
            if not isinstance(data.get("synthetic", False), bool):
                raise InputFileError(file, '"synthetic" must be true or false')
            return data
    return {}
