"""Text spaces: tokenizer, corpus readers, skip-gram training and the `text-space` command."""

from __future__ import annotations

import gzip
import json
import lzma
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import main as entry
from core.errors import Cancelled, InputFileError, WordbridgeError
from core.progress import Progress
from core.text import detect_format, load_corpus, read_corpus, tokenize, train_text_space
from core.vectors import load_vectors

FIXTURES = Path(__file__).parent / "fixtures" / "text"
VERSES = FIXTURES / "verses_fr.tsv"


def test_tokenizer_french_accents_and_apostrophes():
    assert tokenize("L'Éternel dit: «Qu'il soit!» Œuvre achevée.") == [
        "l", "éternel", "dit", "qu", "il", "soit", "œuvre", "achevée"]


def test_tokenizer_spanish_digits_underscores_hyphens_soft_hyphen():
    assert tokenize("¿Dónde está el NIÑO? Año 1909, señor_x; medio-día pe\u00adcado") == [
        "dónde", "está", "el", "niño", "año", "señor", "x", "medio", "día", "pe", "cado"]
    assert tokenize("3:16 -- ... 42") == []


def test_verse_tsv_reader_splits_on_first_three_tabs():
    verses = list(read_corpus(VERSES))
    assert len(verses) == 6
    assert verses[0] == ["au", "commencement", "dieu", "créa", "les", "cieux", "et", "la", "terre"]
    # The tab inside this verse's text belongs to the text (and separates tokens like a space).
    assert verses[4] == ["le", "serpent", "était", "le", "plus", "rusé", "de", "tous", "les",
                         "animaux", "des", "champs", "que", "l", "éternel", "dieu", "avait", "faits"]
    assert verses[5] == ["prophétie", "d", "abdias"]


def test_chapter_parity_filter():
    odd = load_corpus(VERSES, chapters="odd")
    even = load_corpus(VERSES, chapters="even")
    assert [v[0] for v in odd] == ["au", "la", "le", "prophétie"]  # chapters 1, 1, 3 and book 31 ch. 1
    assert [v[0] for v in even] == ["ainsi", "dieu"]
    assert len(odd) + len(even) == len(load_corpus(VERSES, chapters="all"))


@pytest.mark.parametrize("opener", [lzma.open, gzip.open])
def test_compressed_verse_files_are_detected_by_content(tmp_path, opener):
    packed = tmp_path / "verses.data"  # no telling extension on purpose
    with opener(packed, "wb") as out:
        out.write(VERSES.read_bytes())
    assert detect_format(packed) == "tsv"
    assert load_corpus(packed, chapters="even") == load_corpus(VERSES, chapters="even")


def test_truncated_xz_is_a_clear_error(tmp_path):
    packed = tmp_path / "verses.tsv.xz"
    with lzma.open(packed, "wb") as out:
        out.write(VERSES.read_bytes() * 50)
    packed.write_bytes(packed.read_bytes()[:-40])
    with pytest.raises(InputFileError, match=r"verses\.tsv\.xz:\d+: damaged or truncated"):
        load_corpus(packed)


def test_plain_text_reader_and_auto_detection(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("\ufeffUne phrase ici.\n\n1 2 3\nL'autre phrase\r\n", encoding="utf-8")
    assert detect_format(text) == "txt"
    assert load_corpus(text) == [["une", "phrase", "ici"], ["l", "autre", "phrase"]]
    with pytest.raises(WordbridgeError, match="needs a verse TSV corpus"):
        load_corpus(text, chapters="odd")


@pytest.mark.parametrize("line, message", [
    ("1\t2\tonly three fields", r"bad\.tsv:2: expected book<TAB>chapter<TAB>verse<TAB>text"),
    ("1\ttwo\t3\ttext", r"bad\.tsv:2: chapter and verse must be whole numbers, got 'two'"),
])
def test_malformed_verse_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.tsv"
    path.write_text(f"1\t1\t1\tgood verse\n{line}\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        load_corpus(path, format="tsv")


def test_not_utf8_and_empty_corpora(tmp_path):
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("ok line\ncréa\n".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"latin1\.txt:2: not UTF-8"):
        load_corpus(latin)
    empty = tmp_path / "empty.txt"
    empty.write_text("123\n\n--\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"empty\.txt: no words in corpus"):
        load_corpus(empty)
    only_odd = tmp_path / "odd.tsv"
    only_odd.write_text("1\t1\t1\tAu commencement\n1\t3\t1\tEt puis\n", encoding="utf-8")
    assert len(load_corpus(only_odd, chapters="odd")) == 2
    with pytest.raises(InputFileError, match=r"odd\.tsv: no words in corpus in even-numbered chapters"):
        load_corpus(only_odd, chapters="even")


FRUIT = ["apple", "pear", "plum", "fig", "lime", "kiwi"]
VEHICLES = ["car", "bus", "train", "boat", "plane", "bike"]


def _topic_corpus(n_sentences: int = 400, seed: int = 0) -> list[list[str]]:
    """Sentences drawn from one of two disjoint topics, Zipf-like word frequencies."""
    rng = np.random.default_rng(seed)
    topics = [FRUIT, VEHICLES]
    weights = 1 / np.arange(1, 7)
    weights /= weights.sum()
    sentences = []
    for k in range(n_sentences):
        words = topics[k % 2]
        sentences.append([words[i] for i in rng.choice(6, size=8, p=weights)])
    sentences.append(["rare"])  # below min_count
    return sentences


FAST = dict(dim=12, epochs=4, min_count=2, sample=0, workers=1, window=3, negative=5)


@pytest.fixture(params=["gensim", "torch"])
def backend(request):
    """Both skip-gram backends (gensim only where installed); torch on the CPU."""
    if request.param == "gensim":
        pytest.importorskip("gensim")
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return dict(backend=request.param, device="cpu")


def test_training_gives_frequency_ordered_rows_with_counts(backend):
    sentences = _topic_corpus()
    emb = train_text_space(sentences, language="xx", **FAST, **backend)
    expected = Counter(w for s in sentences for w in s)
    assert "rare" not in emb and len(emb) == 12
    assert list(emb.counts) == [expected[w] for w in emb.words]
    assert all(a >= b for a, b in zip(emb.counts, emb.counts[1:]))
    assert emb.vectors.shape == (12, 12) and emb.vectors.dtype == np.float32
    assert np.isfinite(emb.vectors).all() and emb.language == "xx" and emb.modality == "text"
    # Words of one topic end up closer to each other than to the other topic's words.
    unit = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    topic = np.array([w in FRUIT for w in emb.words])
    sims = unit @ unit.T
    same = sims[(topic[:, None] == topic[None, :]) & ~np.eye(12, dtype=bool)].mean()
    other = sims[topic[:, None] != topic[None, :]].mean()
    assert same > other + 0.3


def test_training_with_one_worker_is_reproducible(backend):
    sentences = _topic_corpus(200)
    first = train_text_space(sentences, **FAST, **backend)
    second = train_text_space(sentences, **FAST, **backend)
    np.testing.assert_array_equal(first.vectors, second.vectors)
    third = train_text_space(sentences, **{**FAST, "seed": 7}, **backend)
    assert not np.array_equal(first.vectors, third.vectors)


def test_training_reports_epochs_and_can_be_cancelled(backend):
    seen = []

    def listener(stage, done, total, metrics):
        seen.append((stage, done, total))
        if stage == "training skip-gram" and done == 2:
            progress.cancel()

    progress = Progress(listener)
    with pytest.raises(Cancelled):
        train_text_space(_topic_corpus(100), progress=progress, **FAST, **backend)
    epochs = [done for stage, done, total in seen if stage == "training skip-gram" and total == 4]
    assert epochs == [0, 1, 2]


def test_training_errors_for_too_few_words(backend):
    with pytest.raises(WordbridgeError, match="no word occurs at least min_count=50"):
        train_text_space(_topic_corpus(10), **{**FAST, "min_count": 50}, **backend)
    with pytest.raises(WordbridgeError, match="epochs must be at least 1"):
        train_text_space(_topic_corpus(10), **{**FAST, "epochs": 0}, **backend)
    with pytest.raises(WordbridgeError, match="no words in the corpus"):
        train_text_space([[], []], **FAST, **backend)


def _write_verse_corpus(path: Path) -> None:
    lines = []
    for k, sentence in enumerate(_topic_corpus(300)):
        lines.append(f"1\t{k // 20 + 1}\t{k % 20 + 1}\t{' '.join(sentence).capitalize()}.")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


CLI_FAST = ["--dim", "8", "--epochs", "2", "--min-count", "2", "--sample", "0", "--workers", "1",
            "--quiet"]


@pytest.mark.parametrize("binary", [False, True])
def test_command_writes_vectors_counts_and_record(tmp_path, binary):
    corpus = tmp_path / "bible.tsv"
    _write_verse_corpus(corpus)
    out = tmp_path / "out" / "space.vec"
    argv = ["text-space", str(corpus), "--out", str(out), "--chapters", "odd"] + CLI_FAST
    assert entry.main(argv + (["--binary"] if binary else [])) == 0
    emb = load_vectors(out)
    assert emb.dim == 8 and len(emb) == 12 and emb.counts is not None
    assert all(a >= b for a, b in zip(emb.counts, emb.counts[1:]))
    record = json.loads((tmp_path / "out" / "space.json").read_text())
    assert record["params"]["dim"] == 8 and record["params"]["window"] == 5
    assert record["format"] == "tsv" and record["chapters"] == "odd"
    assert record["sentences"] == 160  # chapters 1, 3, 5, ... of 20 verses each
    assert record["tokens"] == 160 * 8 == int(emb.counts.sum())  # every word occurs twice or more
    assert set(record["timings_s"]) == {"read", "train", "save"}


def test_command_bad_input_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\t1\t1\tfine\n1\t1\tbroken\n", encoding="utf-8")
    assert entry.main(["text-space", str(bad), "--out", str(tmp_path / "o.vec")] + CLI_FAST) == 2
    err = capsys.readouterr().err
    assert "error: " in err and "bad.tsv:2: expected book<TAB>chapter" in err
    assert "Traceback" not in err and not (tmp_path / "o.vec").exists()

    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    assert entry.main(["text-space", str(empty), "--out", str(tmp_path / "o.vec")] + CLI_FAST) == 2
    assert "empty.txt: no words in corpus" in capsys.readouterr().err

    shutil.copy(VERSES, tmp_path / "v.tsv")
    argv = ["text-space", str(tmp_path / "v.tsv"), "--out", str(tmp_path / "o.vec"), "--format", "txt",
            "--chapters", "even"] + CLI_FAST
    assert entry.main(argv) == 2
    assert "needs a verse TSV corpus" in capsys.readouterr().err
