"""Write the word-segment table of a whole speech corpus to a file (no features), with its report.

    .venv/bin/python scripts/align_corpus.py SOURCE --reader speechocean762 --split train \
        --out build/so762/segments_train.tsv [--align-workers 1]
    .venv/bin/python scripts/align_corpus.py SOURCE --reader mboshi --out build/mboshi/segments.tsv

Any reader of `main.py corpus build` works (transcribed, speechocean762, mboshi, textgrid, ...).
Next to OUT it writes OUT's name + `.report.json`: utterances, words placed, words skipped by
reason (with examples), wall time and — for the forced-alignment readers — the real-time
factor (alignment wall time / audio duration), plus the metadata a feature store would record
(held-out speakers, how the word times were made).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.corpus.forced_align import AlignStats  # noqa: E402
from core.corpus.readers import READERS, corpus_metadata, read_corpus, reader_options  # noqa: E402
from core.errors import WordbridgeError  # noqa: E402
from core.progress import Progress, TqdmListener  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", help="corpus folder")
    parser.add_argument("--reader", choices=list(READERS), required=True)
    parser.add_argument("--out", required=True, help="segment table to write (.tsv or .jsonl)")
    parser.add_argument("--split", default=None, help="speechocean762: train|test|all; mboshi: train|dev|all")
    parser.add_argument("--align-workers", type=int, default=0,
                        help="forced-alignment worker processes (0: in this process)")
    parser.add_argument("--transcript", default=None, help="transcribed: transcript TSV")
    parser.add_argument("--text-column", default=None)
    parser.add_argument("--speaker-column", default=None)
    parser.add_argument("--audio-folder", default=None)
    parser.add_argument("--audio-ext", default=None)
    parser.add_argument("--lexicon", default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    stats = AlignStats()
    options = {"split": args.split, "align_workers": args.align_workers, "transcript": args.transcript,
               "text_column": args.text_column, "speaker_column": args.speaker_column,
               "audio_folder": args.audio_folder, "audio_extension": args.audio_ext,
               "lexicon": args.lexicon, "stats": stats}
    listener = TqdmListener(disable=args.quiet)
    t0 = time.perf_counter()
    try:
        table, report = read_corpus(args.source, args.reader, progress=Progress(listener), **options)
        metadata = corpus_metadata(args.source, args.reader,
                                   {k: v for k, v in reader_options(args.reader, options).items() if k != "stats"})
    except WordbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        listener.close()
    wall = time.perf_counter() - t0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.save(out)
    durations = table.end - table.start
    summary = {
        "source": str(Path(args.source).resolve()), "reader": args.reader, "split": args.split,
        "out": str(out), "utterances_seen": report.files_seen, "utterances_used": report.files_used,
        "speakers": len({s for s in table.speaker if s}), "words_placed": len(table),
        "word_types": len({w for w in table.label if w}),
        "words_skipped": report.n_skipped, "skipped_by_reason": report.skipped,
        "examples": report.examples, "warnings": report.warnings,
        "mean_word_seconds": round(float(durations.mean()), 4) if len(table) else None,
        "wall_seconds": round(wall, 2),
        "metadata": metadata,
    }
    if stats.utterances:
        summary["alignment"] = {"utterances": stats.utterances, "audio_hours": round(stats.audio_seconds / 3600, 4),
                                "align_wall_seconds": round(stats.wall_seconds, 2),
                                "workers": stats.workers,
                                "real_time_factor": round(stats.real_time_factor, 5)}
    report_path = out.with_name(out.name + ".report.json")
    report_path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(report.summary())
    if stats.utterances:
        print(f"forced alignment: {stats.summary()}")
    print(f"wrote {out}: {len(table)} words from {report.files_used} utterances in {wall:.0f} s; "
          f"report {report_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
