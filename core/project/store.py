"""Arrays and vocabularies on disk: safetensors files and one-word-per-line text files.

Every write goes through `core.atomic`, so a crash leaves either the old file or the new one.
Every read checks what it finds and turns damage (a truncated file, a missing tensor, a vocabulary
whose length does not match the vectors) into a one-line `InputFileError` naming the file.
Arrays are never pickled: safetensors holds only raw numeric buffers plus a str → str header.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from core.atomic import atomic_path, read_safetensors, read_safetensors_metadata, write_safetensors
from core.errors import InputFileError, WordbridgeError

# Key in the safetensors header (str → str) under which Wordbridge keeps its JSON metadata.
METADATA_KEY = "wordbridge"


def save_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], metadata: dict | None = None) -> None:
    """Atomically write `arrays` (name → numeric numpy array) and JSON `metadata` to a safetensors file."""
    with atomic_path(path) as tmp:
        write_arrays_to(tmp, arrays, metadata, shown_as=path)


def write_arrays_to(tmp: str | os.PathLike, arrays: dict[str, np.ndarray], metadata: dict | None,
                    shown_as: str | os.PathLike, header: dict[str, str] | None = None) -> None:
    """Write a safetensors file at `tmp`, a temporary path the caller renames (see `atomic_pair`).

    `header` adds raw str → str entries to the safetensors header next to the JSON `metadata`
    (used to keep another module's own header, e.g. an alignment mapping's, loadable as it was).
    """
    prepared = {}
    for name, value in arrays.items():
        array = np.ascontiguousarray(value)
        if array.dtype.kind not in "biuf":
            raise WordbridgeError(f"{shown_as}: array {name!r} has dtype {array.dtype}; only numbers can be stored")
        prepared[name] = array
    raw = {str(k): str(v) for k, v in (header or {}).items() if k != METADATA_KEY}
    raw[METADATA_KEY] = json.dumps(metadata or {}, ensure_ascii=False)
    write_safetensors(tmp, prepared, raw, shown_as=shown_as)


def load_arrays(path: str | os.PathLike, required: Iterable[str] = ()) -> tuple[dict[str, np.ndarray], dict]:
    """Read a safetensors file → (arrays, metadata); damaged files and missing arrays are user errors."""
    path = Path(path)
    arrays, header = read_safetensors(path)  # a missing or damaged file: one line (core.atomic)
    metadata = _header_metadata(path, header)
    missing = [name for name in required if name not in arrays]
    if missing:
        raise InputFileError(path, f"missing array(s) {', '.join(missing)} (has: {', '.join(sorted(arrays)) or 'none'})")
    return arrays, metadata


def require_finite(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Refuse float arrays holding NaN or infinity (a space or map from a failed run) on load."""
    for name, array in arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            bad = int((~np.isfinite(array)).sum())
            raise InputFileError(path, f"array {name!r} holds {bad} NaN or infinite value(s) (from a failed run?)")


def read_raw_header(path: str | os.PathLike) -> dict[str, str]:
    """The safetensors header's str → str entries other than Wordbridge's JSON metadata."""
    return {k: v for k, v in read_safetensors_metadata(path).items() if k != METADATA_KEY}


def _header_metadata(path: Path, header: dict[str, str]) -> dict:
    """Wordbridge's JSON metadata from a safetensors header's entries."""
    text = header.get(METADATA_KEY)
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"metadata is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ValueError("metadata is not a JSON object")
    return value


def check_vocabulary(words: list[str], where: str | os.PathLike) -> None:
    """Words must be non-empty, unique and free of line breaks to fit one per line."""
    seen: dict[str, int] = {}
    for row, word in enumerate(words):
        if not isinstance(word, str) or not word or "\n" in word or "\r" in word:
            raise WordbridgeError(f"{where}: word at row {row} is empty or contains a line break: {word!r}")
        if word in seen:
            raise WordbridgeError(f"{where}: word {word!r} appears twice (rows {seen[word]} and {row})")
        seen[word] = row


def vocabulary_text(words: list[str]) -> str:
    """The vocabulary file's content: one word per line, in row order."""
    return "".join(f"{word}\n" for word in words)


def read_vocabulary(path: str | os.PathLike) -> list[str]:
    """Read a one-word-per-line UTF-8 vocabulary file (row order = line order)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file is missing")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputFileError(path, "not UTF-8 text", line) from None
    if not text:
        return []
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    words = [line[:-1] if line.endswith("\r") else line for line in lines]
    for number, word in enumerate(words, start=1):
        if not word:
            raise InputFileError(path, "empty line in vocabulary", number)
    return words


@contextlib.contextmanager
def atomic_pair(first: str | os.PathLike, second: str | os.PathLike):
    """Yield two temporary paths that replace `first` and `second` only if both were written.

    Both files are written completely before either is renamed, so a crash can at worst leave
    them from different saves for the instant between two renames, never half-written.
    """
    with atomic_path(first) as tmp_first, atomic_path(second) as tmp_second:
        yield tmp_first, tmp_second
