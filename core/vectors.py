"""Word-vector files: word2vec text (.vec) and binary (.bin) formats, and normalisation.

Both formats start with a header line "N D". The text format then has one row per line, "word v1
... vD"; the binary format (the word2vec C tool's) has "word " followed by D little-endian
float32 values and, usually, a newline. The format is detected from the content, not the file
name. Rows stay in file order, which by convention is descending corpus frequency. A side file
`<stem>.counts` ("word count" per line, same order), as written by gensim's `fvocab`, is read
into `Embeddings.counts` when present.
"""

from __future__ import annotations

import mmap
import os
import warnings
from pathlib import Path
from typing import Iterable

import numpy as np

from core.atomic import atomic_file_set, atomic_path, check_free_space, finish_file_sets
from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError

NORMALIZATION_STEPS = ("unit", "center", "none")


INT64_MAX = 2**63 - 1


def counts_path(path: str | os.PathLike) -> Path:
    """The side file holding corpus counts for the vectors at `path` (`x.vec` → `x.counts`)."""
    return Path(path).with_suffix(".counts")


def load_vectors(path: str | os.PathLike, max_rows: int | None = None, language: str = "",
                 modality: str = "text") -> Embeddings:
    """Read a word2vec text or binary file (detected from its content) into `Embeddings`.

    `max_rows` keeps only the first rows (the most frequent words). Counts come from the
    `<stem>.counts` side file when it exists. Malformed files raise `InputFileError` naming the
    file and line.
    """
    path = Path(path)
    if max_rows is not None and max_rows < 1:
        raise WordbridgeError(f"max_rows must be at least 1, got {max_rows}")
    finish_file_sets(path.parent, [path.name])  # a writer killed between its renames: complete them
    if not path.exists():
        raise InputFileError(path, "no such file")
    if not path.is_file():
        raise InputFileError(path, "not a file")
    if path.stat().st_size == 0:
        raise InputFileError(path, "empty file (expected a word2vec header 'N D')", 1)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror or exc})") from None
    with fh:
        n_words, dim = _read_header(path, fh.readline())
        n_rows = n_words if max_rows is None else min(n_words, max_rows)
        body_start = fh.tell()
        _check_header_fits(path, n_rows, dim, os.fstat(fh.fileno()).st_size - body_start)
        first_line = fh.readline(1 << 16)
        fh.seek(body_start)
        if _looks_like_text_row(first_line, dim):
            words, vectors = _read_text_rows(path, fh, n_words, dim, n_rows)
        else:
            words, vectors = _read_binary_rows(path, fh, body_start, n_words, dim, n_rows)
    counts = _read_counts(path, words)
    return Embeddings(words, vectors, counts, language=language, modality=modality)


def _read_header(path: Path, raw: bytes) -> tuple[int, int]:
    try:
        text = raw.decode("utf-8").strip()
        n_words, dim = (int(x) for x in text.split())
    except (UnicodeDecodeError, ValueError):
        shown = raw[:60].decode("utf-8", "replace").strip()
        raise InputFileError(path, f"bad header {shown!r}: expected 'N D' (word count and "
                                   "dimension) as in word2vec/fastText .vec files; GloVe files lack it", 1) from None
    if n_words < 1 or dim < 1:
        raise InputFileError(path, f"bad header: {n_words} words of dimension {dim}", 1)
    return n_words, dim


def _check_header_fits(path: Path, n_rows: int, dim: int, body_bytes: int) -> None:
    """Refuse a header claiming more rows × dimensions than the file can hold, before allocating.

    The smallest row either format can hold is a 1-byte word and `dim` 1-character values with
    separators (text: 2·dim + 1 bytes; binary needs 4·dim + 2), so `n_rows` rows need at least
    n_rows · (2·dim + 1) bytes.
    """
    needed = n_rows * (2 * dim + 1)
    if needed > body_bytes + 1:
        raise InputFileError(path, f"bad header: {n_rows} rows of {dim} values need at least {needed} bytes "
                                   f"but the file holds {body_bytes} after its header (damaged or wrong header)", 1)


def _looks_like_text_row(line: bytes, dim: int) -> bool:
    """True when the first row after the header is a line of text "word v1 v2 ...".

    Raw float32 bytes are almost never valid UTF-8 free of control characters that also split
    into several space-separated fields before the first newline byte.
    """
    line = line.rstrip(b"\n")
    word, sep, rest = line.partition(b" ")
    if not sep or not word or any(b < 0x20 and b not in b"\t\r" for b in line):
        return False
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(rest.split()) >= min(dim, 2)


def _read_text_rows(path: Path, fh, n_words: int, dim: int, n_rows: int):
    words: list[str] = []
    seen: dict[str, int] = {}
    vectors = np.empty((n_rows, dim), dtype=np.float32)
    line_no = 1
    with warnings.catch_warnings():
        # Older numpy only warns when fromstring stops at a non-number; make it raise.
        warnings.simplefilter("error", DeprecationWarning)
        for raw in fh:
            line_no += 1
            row = line_no - 2
            if row >= n_rows:
                if row < n_words:
                    break  # max_rows reached
                if raw.strip():
                    raise InputFileError(path, f"more rows than the header's {n_words}", line_no)
                continue
            word_bytes, _, rest = raw.partition(b" ")
            word = _decode_word(path, word_bytes.rstrip(b"\r\n"), line_no)
            if not word:
                raise InputFileError(path, "empty line or missing word", line_no)
            if word in seen:
                raise InputFileError(path, f"duplicate word {word!r} (first on line {seen[word]})",
                                     line_no)
            seen[word] = line_no
            try:
                values = np.fromstring(rest, dtype=np.float32, sep=" ") if rest.strip() else None
            except (ValueError, DeprecationWarning):
                values = None
            if values is None or values.size != dim:
                raise InputFileError(path, _describe_bad_values(rest, dim), line_no)
            vectors[row] = values
            words.append(word)
    if len(words) < n_rows:
        raise InputFileError(path, f"the header says {n_words} rows but the file ends after "
                                   f"{len(words)}", line_no)
    _check_finite(path, vectors, first_line=2)
    return words, vectors


def _describe_bad_values(rest: bytes, dim: int) -> str:
    fields = rest.split()
    for field in fields:
        try:
            float(field)
        except ValueError:
            shown = field[:30].decode("utf-8", "replace")
            return f"non-numeric value {shown!r}"
    return f"{len(fields)} values but the header says {dim}"


def _decode_word(path: Path, raw: bytes, line: int | None, where: str = "") -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(path, f"not UTF-8 text{where} (re-encode the file as UTF-8)",
                             line) from None


def _check_finite(path: Path, vectors: np.ndarray, first_line: int | None) -> None:
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        if first_line is None:
            raise InputFileError(path, f"row {row + 1} holds NaN or infinite values")
        raise InputFileError(path, "NaN or infinite value", first_line + row)


def _read_binary_rows(path: Path, fh, body_start: int, n_words: int, dim: int, n_rows: int):
    row_bytes = 4 * dim
    words: list[str] = []
    seen: dict[str, int] = {}
    vectors = np.empty((n_rows, dim), dtype=np.float32)
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        size = len(data)
        pos = body_start
        for row in range(n_rows):
            where = f" in binary row {row + 1} (byte {pos})"
            while pos < size and data[pos] in b"\n\r":
                pos += 1
            space = data.find(b" ", pos, pos + 4096)
            if space < 0 or space == pos:
                if pos >= size:
                    raise InputFileError(path, f"truncated binary file: the header says {n_words} "
                                               f"rows but it ends after {row}")
                raise InputFileError(path, f"not a word2vec file: no word{where}")
            word = _decode_word(path, data[pos:space], None, where)
            if word in seen:
                raise InputFileError(path, f"duplicate word {word!r}{where} (first in row "
                                           f"{seen[word]})")
            seen[word] = row + 1
            start = space + 1
            if start + row_bytes > size:
                raise InputFileError(path, f"truncated binary file: the vector of {word!r}{where} "
                                           f"is cut short")
            vectors[row] = np.frombuffer(data[start:start + row_bytes], dtype="<f4")
            words.append(word)
            pos = start + row_bytes
        if n_rows == n_words and data[pos:].strip():
            raise InputFileError(path, f"more data than the header's {n_words} rows "
                                       f"(byte {pos} onwards)")
    _check_finite(path, vectors, first_line=None)
    return words, vectors


def _read_counts(path: Path, words: list[str]) -> np.ndarray | None:
    side = counts_path(path)
    if side == path or not side.is_file():
        return None
    counts = np.zeros(len(words), dtype=np.int64)
    n = 0
    with open(side, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if n == len(words):
                break
            fields = raw.split()
            if not fields:
                continue
            word = _decode_word(side, fields[0], line_no)
            try:
                if len(fields) != 2:
                    raise ValueError
                count = int(fields[1])
            except ValueError:
                raise InputFileError(side, "expected 'word count'", line_no) from None
            if not 0 <= count <= INT64_MAX:
                raise InputFileError(side, f"count {count} is out of range (0 to {INT64_MAX})", line_no)
            if word != words[n]:
                raise InputFileError(side, f"word {word!r} does not match row {n + 1} of "
                                           f"{path.name} ({words[n]!r}); delete or fix the stale "
                                           "counts file", line_no)
            counts[n] = count
            n += 1
    if n < len(words):
        raise InputFileError(side, f"has {n} counts but {path.name} has {len(words)} rows")
    return counts


def save_vectors(emb: Embeddings, path: str | os.PathLike, binary: bool = False,
                 write_counts: bool = True) -> None:
    """Write `emb` in word2vec text (default) or binary format, with its `<stem>.counts`, as a set.

    Values are written with 9 significant digits, so float32 vectors round-trip exactly. With
    `write_counts` and known counts, `<stem>.counts` is written next to the file; with
    `write_counts` and no counts, a `.counts` file of the vectors replaced is removed (it belonged
    to them). The files are replaced together (`core.atomic.atomic_file_set`): a full disk while
    writing either leaves both old files as they were.
    """
    path = Path(path)
    check_words(emb, path)
    with_counts = write_counts and emb.counts is not None
    members = [path, counts_path(path)] if with_counts else [path]
    remove = [counts_path(path)] if write_counts and not with_counts else []
    check_free_space(path.parent, vectors_file_bytes(emb, binary) + (len(emb) * 8 if with_counts else 0),
                     path.name)
    with atomic_file_set(members, remove=remove) as temps:
        write_vectors_file(emb, temps[0], binary)
        if with_counts:
            write_counts_file(emb.words, emb.counts, temps[1])


def vectors_file_bytes(emb: Embeddings, binary: bool) -> int:
    """A low estimate of `emb`'s word2vec file size, for the free-space check before writing it (a
    text value of 9 significant digits and its space take 11-16 bytes; 10 are counted)."""
    words = sum(len(w.encode("utf-8")) + 2 for w in emb.words)
    return 32 + words + len(emb) * emb.dim * (4 if binary else 10)


def check_words(emb: Embeddings, path: str | os.PathLike) -> None:
    """Refuse words a word2vec file cannot hold (empty, or with whitespace)."""
    for word in emb.words:
        if not word or any(c.isspace() for c in word):
            raise WordbridgeError(f"{path}: cannot save the word {word!r}: words in word2vec "
                                  "files may not be empty or contain whitespace")


def write_vectors_file(emb: Embeddings, path: str | os.PathLike, binary: bool = False) -> None:
    """Write `emb` to `path` as it is (not atomic: a temporary path of `atomic_file_set`)."""
    header = f"{len(emb)} {emb.dim}\n"
    if binary:
        with open(path, "wb") as fh:
            fh.write(header.encode("ascii"))
            for word, row in zip(emb.words, emb.vectors.astype("<f4", copy=False)):
                fh.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
    else:
        row_format = " ".join(["%.9g"] * emb.dim)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(header)
            for word, row in zip(emb.words, emb.vectors.tolist()):
                fh.write(f"{word} {row_format % tuple(row)}\n")


def write_counts_file(words: Iterable[str], counts: Iterable[int], path: str | os.PathLike) -> None:
    """Write a "word count" per line file to `path` as it is (not atomic)."""
    with open(path, "w", encoding="utf-8") as fh:
        for word, count in zip(words, counts):
            fh.write(f"{word} {int(count)}\n")


def save_counts(words: Iterable[str], counts: Iterable[int], path: str | os.PathLike) -> None:
    """Atomically write a "word count" per line file."""
    with atomic_path(path) as tmp:
        write_counts_file(words, counts, tmp)


def unit_rows(vectors, dtype=np.float32) -> np.ndarray:
    """Rows scaled to unit length, as a 2-D array of `dtype` (zero rows stay zero, not NaN)."""
    x = np.atleast_2d(np.asarray(vectors, dtype=dtype))
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def normalize(vectors: np.ndarray, steps: str | Iterable[str] = "unit") -> np.ndarray:
    """Return a normalised float32 copy of `vectors` after applying `steps` in order.

    Steps (a comma-separated string or a list): "unit" scales every row to length 1, "center"
    subtracts the mean row, "none" does nothing. "unit,center,unit" is the usual choice before
    alignment (VecMap's and MUSE's "renorm"). Zero rows stay zero instead of becoming NaN.
    """
    names = [s.strip() for s in steps.split(",")] if isinstance(steps, str) else list(steps)
    out = np.array(vectors, dtype=np.float32, copy=True)
    if out.ndim != 2:
        raise WordbridgeError(f"normalize expects a 2-d array, got shape {out.shape}")
    for name in names:
        if name == "unit":
            out = unit_rows(out)
        elif name == "center":
            if len(out):
                out -= out.mean(axis=0, keepdims=True)
        elif name in ("none", ""):
            continue
        else:
            raise WordbridgeError(f"unknown normalisation step {name!r}; choose from "
                                  f"{', '.join(NORMALIZATION_STEPS)} (comma-separated)")
    return out
