"""Issue 17, deliver 8: property-based fuzzing (hypothesis) of the readers that take files from
outside: any bytes given to the .vec reader, the dictionary reader, the TextGrid reader or the
manifest reader give either a result or the project's own error (`WordbridgeError`), never
another exception. Inputs are random bytes and mutations of valid files (truncated, bytes
flipped, lines inserted), about 100 per reader."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.dictionary import load_dictionary
from core.errors import WordbridgeError
from core.project.manifest import read_manifest
from core.vectors import load_vectors

FUZZ = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

VALID_VEC = b"3 4\nthe 0.1 0.2 0.3 0.4\nof -1 2 3e-2 4\nand 1 1 1 1\n"
VALID_BIN = b"2 2\nab " + bytes(8) + b"\ncd " + bytes(8) + b"\n"
VALID_DICT = "cat chat\ndog chien\n\u00e9t\u00e9 summer\n".encode()


def _valid_manifest() -> bytes:
    """A real project's wordbridge.json with one space entry."""
    import numpy as np

    from core.embeddings import Embeddings
    from core.project import Project

    with tempfile.TemporaryDirectory() as folder:
        project = Project.create(Path(folder) / "p", "fuzz", languages=["fr"])
        project.add_space("fr", Embeddings(["a", "b"], np.eye(2, dtype=np.float32)), kind="text", language="fr")
        return (project.root / "wordbridge.json").read_bytes()


VALID_MANIFEST = _valid_manifest()
VALID_TEXTGRID = b"""File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1
tiers? <exists>
size = 1
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1
        intervals: size = 2
        intervals [1]:
            xmin = 0
            xmax = 0.5
            text = "hello"
        intervals [2]:
            xmin = 0.5
            xmax = 1
            text = "world"
"""


def mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, or `valid` truncated, with bytes replaced, or with random bytes inserted."""
    position = st.integers(0, len(valid))
    return st.one_of(
        st.binary(max_size=400),
        position.map(lambda n: valid[:n]),
        st.tuples(position, st.binary(min_size=1, max_size=8)).map(
            lambda t: valid[:t[0]] + t[1] + valid[t[0] + len(t[1]):]),
        st.tuples(position, st.binary(max_size=40)).map(lambda t: valid[:t[0]] + t[1] + valid[t[0]:]),
        st.tuples(position, st.sampled_from([b"\n", b" ", b"\x00", b"\xff", b"nan", b"1e999", b"{", b'"',
                                             b"99999999999999999999", b"-1"])).map(
            lambda t: valid[:t[0]] + t[1] + valid[t[0]:]),
    )


def _check(read, data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            read(path)
        except WordbridgeError as exc:
            assert "\n" not in str(exc), str(exc)  # the project's errors are one line


@FUZZ
@given(mutations(VALID_VEC) | mutations(VALID_BIN))
def test_vec_reader_gives_vectors_or_its_own_error(data):
    _check(load_vectors, data, "x.vec")


@FUZZ
@given(mutations(VALID_DICT))
def test_dictionary_reader_gives_pairs_or_its_own_error(data):
    _check(load_dictionary, data, "d.txt")


@FUZZ
@given(mutations(VALID_MANIFEST))
def test_manifest_reader_gives_a_manifest_or_its_own_error(data):
    _check(read_manifest, data, "wordbridge.json")


@FUZZ
@given(mutations(VALID_TEXTGRID))
def test_textgrid_reader_gives_words_or_a_reason(data):
    from core.corpus.report import ReadReport
    from core.corpus.textgrid import read_textgrid_words

    def read(path):
        report = ReadReport()
        words = read_textgrid_words(path, 1.0, "words", report=report)
        assert words is not None or report.n_skipped == 1  # no words only with a reason
        for start, end, label in words or []:
            assert 0 <= start < end <= 1.0 and label and not any(ch.isspace() for ch in label)

    _check(read, data, "a.TextGrid")


def test_the_valid_seeds_read():
    """The files the fuzzing mutates are valid, so mutations explore near real files."""
    for read, data, name in ((load_vectors, VALID_VEC, "x.vec"), (load_vectors, VALID_BIN, "b.vec"),
                             (load_dictionary, VALID_DICT, "d.txt"), (read_manifest, VALID_MANIFEST, "wordbridge.json")):
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / name).write_bytes(data)
            assert read(Path(folder) / name)
    pytest.importorskip("praatio")
