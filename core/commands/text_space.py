"""`text-space`: train a skip-gram text space on a corpus and write OUT.vec, OUT.counts, OUT.json."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict
from pathlib import Path

from core.atomic import atomic_file_set
from core.cli import add_command
from core.errors import WordbridgeError
from core.progress import Progress, TqdmListener
from core.text import (CHAPTER_FILTERS, CORPUS_FORMATS, SkipGramParams, detect_format,
                       load_corpus, train_text_space)
from core.vectors import check_words, counts_path, write_counts_file, write_vectors_file

DEFAULTS = SkipGramParams()


def register(sub) -> None:
    """Add the `text-space` subcommand."""
    parser = add_command(
        sub, "text-space", help="train a word2vec skip-gram text space on a corpus",
        description="Train a word2vec skip-gram text space (the paper's text side: 50-d, no "
        "subwords) on a plain-text corpus (one sentence per line) or a verse TSV "
        "(book<TAB>chapter<TAB>verse<TAB>text, optionally .xz/.gz). Writes OUT (word2vec "
        "format, rows by descending frequency), OUT's .counts and a .json with parameters "
        "and timings.")
    parser.add_argument("corpus", metavar="CORPUS", help="text corpus (plain text or verse TSV)")
    parser.add_argument("--out", required=True, metavar="OUT.vec", help="vectors file to write")
    parser.add_argument("--format", choices=CORPUS_FORMATS, default="auto",
                        help="corpus format; auto detects a verse TSV by its first line")
    parser.add_argument("--chapters", choices=CHAPTER_FILTERS, default="all",
                        help="keep verses of odd- or even-numbered chapters only (verse TSV)")
    parser.add_argument("--language", default="", help="language code recorded in OUT.json")
    parser.add_argument("--dim", type=int, default=DEFAULTS.dim, help="vector dimension")
    parser.add_argument("--window", type=int, default=DEFAULTS.window, help="context window")
    parser.add_argument("--min-count", type=int, default=DEFAULTS.min_count,
                        help="ignore words with fewer occurrences")
    parser.add_argument("--negative", type=int, default=DEFAULTS.negative,
                        help="negative samples per positive")
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs, help="passes over the corpus")
    parser.add_argument("--sample", type=float, default=DEFAULTS.sample,
                        help="sub-sampling threshold for frequent words")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="random seed")
    parser.add_argument("--workers", type=int, default=DEFAULTS.workers,
                        help="training threads (more than 1 is not bit-reproducible)")
    parser.add_argument("--binary", action="store_true",
                        help="write the word2vec binary format instead of text")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Read the corpus, train, and write the vectors, counts and run record."""
    out = Path(args.out)
    if out.suffix in (".counts", ".json"):
        raise WordbridgeError(f"--out {out}: the {out.suffix} name is taken by a side file; "
                              "use .vec or .bin")
    params = SkipGramParams(dim=args.dim, window=args.window, min_count=args.min_count,
                            negative=args.negative, epochs=args.epochs, sample=args.sample,
                            seed=args.seed, workers=args.workers)
    params.check()
    listener = TqdmListener(disable=args.quiet)
    progress = Progress(listener)
    try:
        t0 = time.perf_counter()
        corpus_format = detect_format(args.corpus) if args.format == "auto" else args.format
        progress.set_stage("reading corpus")
        sentences = load_corpus(args.corpus, corpus_format, args.chapters, progress)
        t1 = time.perf_counter()
        emb = train_text_space(sentences, params, language=args.language, progress=progress)
        t2 = time.perf_counter()
        check_words(emb, out)
        # OUT.vec, OUT.counts and OUT.json replace an earlier run's as a set: a full disk while
        # writing any of them leaves all three old files as they were
        with atomic_file_set([out, counts_path(out), out.with_suffix(".json")]) as (vec_tmp, counts_tmp, json_tmp):
            write_vectors_file(emb, vec_tmp, binary=args.binary)
            write_counts_file(emb.words, emb.counts, counts_tmp)
            t3 = time.perf_counter()
            record = {
                "command": "text-space",
                "corpus": str(Path(args.corpus).resolve()),
                "format": corpus_format,
                "chapters": args.chapters,
                "language": args.language,
                "params": asdict(params),
                "sentences": len(sentences),
                "tokens": sum(len(s) for s in sentences),
                "vocab_size": len(emb),
                "outputs": {"vectors": out.name, "counts": counts_path(out).name,
                            "format": "word2vec binary" if args.binary else "word2vec text"},
                "timings_s": {"read": round(t1 - t0, 3), "train": round(t2 - t1, 3),
                              "save": round(t3 - t2, 3)},
                "versions": _versions(),
            }
            json_tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    finally:
        listener.close()
    print(f"wrote {out} ({len(emb)} words x {emb.dim} dims from {record['tokens']} tokens)")
    return 0


def _versions() -> dict:
    import gensim
    import numpy

    return {"python": platform.python_version(), "gensim": gensim.__version__,
            "numpy": numpy.__version__}
