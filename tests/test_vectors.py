"""Word-vector files (.vec text, .bin binary) and normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError
from core.vectors import counts_path, load_vectors, normalize, save_vectors, unit_rows

WORDS = ["the", "éternel", "niño", "œuvre", "x"]


@pytest.fixture
def emb() -> Embeddings:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(WORDS), 7)).astype(np.float32)
    vectors[3] *= 1e-30  # tiny values must survive the text format too
    return Embeddings(list(WORDS), vectors, np.array([50, 20, 9, 9, 5]), language="fr")


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip_keeps_words_vectors_and_counts(tmp_path, emb, binary):
    path = tmp_path / ("space.bin" if binary else "space.vec")
    save_vectors(emb, path, binary=binary)
    back = load_vectors(path, language="fr")
    assert back.words == WORDS
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    np.testing.assert_array_equal(back.counts, emb.counts)
    assert back.language == "fr" and back.dim == 7
    assert counts_path(path).read_text(encoding="utf-8").splitlines()[1] == "éternel 20"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files


def test_format_is_detected_from_content_not_name(tmp_path, emb):
    misnamed = tmp_path / "really_binary.vec"
    save_vectors(emb, misnamed, binary=True, write_counts=False)
    back = load_vectors(misnamed)
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    assert back.counts is None


def test_max_rows_keeps_the_most_frequent(tmp_path, emb):
    for binary in (False, True):
        path = tmp_path / f"s{int(binary)}.vec"
        save_vectors(emb, path, binary=binary)
        back = load_vectors(path, max_rows=2)
        assert back.words == WORDS[:2]
        np.testing.assert_array_equal(back.counts, [50, 20])
        np.testing.assert_array_equal(back.vectors, emb.vectors[:2])


def test_reads_word2vec_c_style_files(tmp_path):
    # The C tool writes a trailing space after each text value, and binary rows may lack "\n".
    text = tmp_path / "c.vec"
    text.write_bytes(b"2 3\r\nfoo 0.5 -1 2e-3 \r\nbar 1 2 3 \r\n\n")
    back = load_vectors(text)
    assert back.words == ["foo", "bar"]
    np.testing.assert_allclose(back.vectors, [[0.5, -1, 0.002], [1, 2, 3]])
    binary = tmp_path / "c.bin"
    rows = np.array([[1, 2, 3], [4, 5, 6]], dtype="<f4")
    binary.write_bytes(b"2 3\n" + b"foo " + rows[0].tobytes() + b"bar " + rows[1].tobytes())
    np.testing.assert_array_equal(load_vectors(binary).vectors, rows)


def test_gensim_reads_what_we_write(tmp_path, emb):
    keyed = pytest.importorskip("gensim.models").KeyedVectors
    for binary in (False, True):
        path = tmp_path / f"g{int(binary)}.vec"
        save_vectors(emb, path, binary=binary)
        kv = keyed.load_word2vec_format(str(path), binary=binary)
        assert kv.index_to_key == WORDS
        np.testing.assert_array_equal(kv.vectors, emb.vectors)


def test_save_refuses_words_with_spaces(tmp_path):
    bad = Embeddings(["new york"], np.zeros((1, 2)))
    with pytest.raises(WordbridgeError, match="whitespace"):
        save_vectors(bad, tmp_path / "x.vec")
    assert not (tmp_path / "x.vec").exists()


MALFORMED_TEXT = [
    (b"", r"bad\.vec:1: empty file"),
    (b"hello world\nfoo 1 2\n", r"bad\.vec:1: bad header 'hello world'"),
    (b"2\nfoo 1 2\n", r"bad\.vec:1: bad header"),
    (b"0 3\n", r"bad\.vec:1: bad header: 0 words"),
    (b"2 3\nfoo 1 2 3\nbar 1 2\n", r"bad\.vec:3: 2 values but the header says 3"),
    (b"2 3\nfoo 1 2 3\nbar 1 2 3 4\n", r"bad\.vec:3: 4 values but the header says 3"),
    (b"2 3\nfoo 1 2 3\nbar 1 two 3\n", r"bad\.vec:3: non-numeric value 'two'"),
    (b"2 3\nfoo 1 2 3\nbar 1,5 2 3\n", r"bad\.vec:3: non-numeric value '1,5'"),
    (b"2 3\nfoo 1 2 3\nbar\n", r"bad\.vec:3: 0 values"),
    (b"2 3\nfoo 1 2 3\nfoo 4 5 6\n", r"bad\.vec:3: duplicate word 'foo' \(first on line 2\)"),
    (b"2 3\nfoo 1 2 3\nt\xe9 4 5 6\n", r"bad\.vec:3: not UTF-8"),
    (b"3 3\nfoo 1 2 3\nbar 4 5 6\n", r"bad\.vec:3: the header says 3 rows but the file ends after 2"),
    (b"1 3\nfoo 1 2 3\nbar 4 5 6\n", r"bad\.vec:3: more rows than the header's 1"),
    (b"2 3\nfoo 1 2 3\n\nbar 4 5 6\n", r"bad\.vec:3: empty line"),
    (b"2 3\nfoo 1 2 3\nbar 4 nan 6\n", r"bad\.vec:3: NaN or infinite"),
]


@pytest.mark.parametrize("content, message", MALFORMED_TEXT)
def test_malformed_text_files_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.vec"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        load_vectors(path)


def _binary(rows: np.ndarray, words: list[bytes], header: bytes | None = None) -> bytes:
    header = header or f"{len(words)} {rows.shape[1]}\n".encode()
    return header + b"".join(w + b" " + r.astype("<f4").tobytes() + b"\n" for w, r in zip(words, rows))


def test_malformed_binary_files(tmp_path):
    rows = np.arange(8, dtype=np.float32).reshape(2, 4) + 1
    path = tmp_path / "bad.bin"
    cases = [
        (_binary(rows, [b"foo", b"bar"])[:-7], r"bad\.bin: truncated binary file: the vector of 'bar'"),
        (_binary(rows, [b"foo", b"bar"], b"3 4\n"), r"bad\.bin: truncated binary file: the header says 3 rows"),
        (_binary(rows, [b"foo", b"foo"]), r"bad\.bin: duplicate word 'foo' in binary row 2"),
        (_binary(rows, [b"foo", b"b\xe9r"]), r"bad\.bin: not UTF-8 text in binary row 2"),
        (_binary(rows, [b"foo", b"bar"], b"1 4\n"), r"bad\.bin: more data than the header's 1 rows"),
        (_binary(np.full((2, 4), np.inf), [b"foo", b"bar"]), r"bad\.bin: row 1 holds NaN"),
    ]
    for content, message in cases:
        path.write_bytes(content)
        with pytest.raises(InputFileError, match=message):
            load_vectors(path)


def test_missing_file_and_bad_max_rows(tmp_path):
    with pytest.raises(InputFileError, match=r"nothing\.vec: no such file"):
        load_vectors(tmp_path / "nothing.vec")
    with pytest.raises(InputFileError, match="not a file"):
        load_vectors(tmp_path)
    (tmp_path / "ok.vec").write_text("1 2\nfoo 1 2\n")
    with pytest.raises(WordbridgeError, match="max_rows"):
        load_vectors(tmp_path / "ok.vec", max_rows=0)


def test_counts_file_must_match_the_rows(tmp_path, emb):
    path = tmp_path / "space.vec"
    save_vectors(emb, path)
    counts_path(path).write_text("the 50\nniño 20\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"space\.counts:2: word 'niño' does not match row 2"):
        load_vectors(path)
    counts_path(path).write_text("the 50\néternel many\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"space\.counts:2: expected 'word count'"):
        load_vectors(path)
    counts_path(path).write_text("the 50\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="has 1 counts but space.vec has 5 rows"):
        load_vectors(path)


def test_unit_gives_unit_rows_and_keeps_zero_rows_zero():
    vectors = np.array([[3, 4], [0, 0], [-1, 0]], dtype=np.float32)
    out = normalize(vectors, "unit")
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), [1, 0, 1], atol=1e-6)
    np.testing.assert_allclose(out[0], [0.6, 0.8], atol=1e-6)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(vectors[0], [3, 4])  # the input is untouched
    assert out.dtype == np.float32


def test_unit_rows_keeps_the_asked_dtype_and_takes_one_vector():
    one = unit_rows([0.0, 3.0, 4.0])
    assert one.shape == (1, 3) and one.dtype == np.float32
    np.testing.assert_allclose(one[0], [0, 0.6, 0.8], atol=1e-7)
    wide = unit_rows(np.array([[1e-3, 0.0], [0.0, 0.0]]), np.float64)
    assert wide.dtype == np.float64
    np.testing.assert_array_equal(wide, [[1.0, 0.0], [0.0, 0.0]])


def test_center_gives_zero_mean():
    vectors = np.random.default_rng(1).normal(5, 2, (50, 6)).astype(np.float32)
    out = normalize(vectors, "center")
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out - out[0], vectors - vectors[0], atol=1e-5)


def test_renorm_unit_center_unit():
    vectors = np.random.default_rng(2).normal(1, 1, (40, 5)).astype(np.float32)
    vectors[7] = 0
    out = normalize(vectors, "unit,center,unit")
    norms = np.linalg.norm(out, axis=1)
    np.testing.assert_allclose(norms, 1, atol=1e-5)  # row 7 is -mean after centering, so not zero
    assert not np.isnan(out).any()
    # Centering happened: the mean is much smaller than after "unit" alone.
    assert np.linalg.norm(out.mean(axis=0)) < 0.2 * np.linalg.norm(normalize(vectors, "unit").mean(axis=0))
    np.testing.assert_array_equal(normalize(vectors, ["unit", "center", "unit"]), out)


def test_all_zero_space_stays_finite_and_unknown_step_is_an_error():
    out = normalize(np.zeros((3, 4)), "unit,center,unit")
    assert np.array_equal(out, np.zeros((3, 4)))
    with pytest.raises(WordbridgeError, match="unknown normalisation step 'length'"):
        normalize(np.ones((2, 2)), "unit,length")
