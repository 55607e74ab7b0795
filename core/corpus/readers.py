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
from core.corpus.real_corpora import (mboshi_metadata, read_mboshi, read_speechocean762,
                                      read_transcribed, speechocean762_metadata,
                                      transcribed_metadata)
from core.corpus.report import ReadReport
from core.corpus.textgrid import read_librispeech, read_textgrid_corpus
from core.corpus.unsegmented import read_chunks, read_energy, read_vad
from core.errors import InputFileError, WordbridgeError
from core.progress import Progress
from core.segments import SegmentTable

READERS = {
    "textgrid": read_textgrid_corpus,
    "clips": read_clips,
    "librispeech": read_librispeech,
    "vad": read_vad,
    "energy": read_energy,
    "chunks": read_chunks,
    "transcribed": read_transcribed,
    "speechocean762": read_speechocean762,
    "mboshi": read_mboshi,
}
# Metadata a reader declares about a corpus (held-out speakers, how word times were made),
# merged under the corpus folder's own corpus.json / metadata.json by `corpus_metadata`.
READER_METADATA = {
    "transcribed": transcribed_metadata,
    "speechocean762": speechocean762_metadata,
    "mboshi": mboshi_metadata,
}
METADATA_FILES = ("corpus.json", "metadata.json")


def read_corpus(source: str | os.PathLike, reader: str, progress: Progress | None = None,
                **options) -> tuple[SegmentTable, ReadReport]:
    """Read `source` with the named reader (textgrid, clips, librispeech, vad, energy, chunks,
    transcribed, speechocean762, mboshi)."""
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


def corpus_metadata(source: str | os.PathLike, reader: str | None = None,
                    options: dict | None = None) -> dict:
    """Metadata a corpus folder declares in corpus.json / metadata.json ("synthetic", ...), or {}.

    A synthetic corpus (made by a speech synthesiser) must say `"synthetic": true` there; the
    flag is copied into every feature store built from it. With `reader`, what that reader
    declares about the corpus (READER_METADATA: e.g. speechocean762's test speakers as
    "held_out_speakers") is merged in (`merge_metadata`: held-out speakers are united).
    """
    declared = _folder_metadata(Path(source))
    if reader in READER_METADATA and Path(source).exists():
        return merge_metadata(READER_METADATA[reader](source, **(options or {})), declared)
    return declared


def merge_metadata(base: dict, over: dict) -> dict:
    """`over` on top of `base`, except "held_out_speakers", which is the union of both (a speaker
    held out by either stays held out)."""
    merged = {**base, **over}
    held = list(dict.fromkeys([*(base.get("held_out_speakers") or []), *(over.get("held_out_speakers") or [])]))
    if held or "held_out_speakers" in merged:
        merged["held_out_speakers"] = held
    return merged


def _folder_metadata(source: Path) -> dict:
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
