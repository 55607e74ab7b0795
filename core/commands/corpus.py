"""`corpus build` / `corpus info`: turn a speech corpus into a feature store, and describe one."""

from __future__ import annotations

import json

from core.cli import add_command
from core.corpus.clips import DEFAULT_LABEL_PATTERN
from core.corpus.readers import READERS
from core.features import FEATURE_KINDS, FeatureConfig
from core.frontends import parse_frontend_spec
from core.progress import Progress, TqdmListener


def register(sub) -> None:
    """Add the `corpus` subcommand with its `build` and `info` actions."""
    parser = add_command(sub, "corpus", help="speech corpora: build and inspect feature stores")
    actions = parser.add_subparsers(dest="corpus_action", metavar="ACTION")
    build = add_command(
        actions, "build", help="read a speech corpus and write a feature store",
        description="Read a speech corpus into word segments and compute their features into a "
        "feature store (memory-mapped, resumable: run the same command again after an "
        "interruption and it continues). Readers: textgrid (audio + Praat TextGrid word tier), "
        "clips (one word per file, label from the name or a CSV), librispeech "
        "(SPEAKER/CHAPTER/UTT.flac + MFA TextGrids), vad (unsegmented audio, split at pauses), energy "
        "(unsegmented audio cut at pauses and energy valleys into syllable-to-word-sized stretches), "
        "chunks (equal-length chunks, the paper's baseline F), transcribed (audio folder + TSV "
        "transcript, words placed by PocketSphinx forced alignment), speechocean762 (that layout: "
        "train.tsv/test.tsv, audio/*.opus, lexicon.txt; its test speakers are held out), mboshi "
        "(utterances.tsv + words.tsv with the corpus's own 'silver' word times). Files that "
        "cannot be used are skipped and summarised.")
    build.add_argument("source", metavar="SOURCE", help="corpus folder (or a CSV for --reader clips)")
    build.add_argument("--reader", choices=list(READERS), default="textgrid", help="how to find words")
    build.add_argument("--out", required=True, metavar="STORE_DIR", help="feature store folder to write")
    build.add_argument("--features", choices=FEATURE_KINDS, default="mfcc",
                       help="13 MFCCs (the paper) or 40 log-mel energies, every 10 ms")
    build.add_argument("--deltas", action="store_true", help="append Δ and ΔΔ (13 → 39 dims)")
    build.add_argument("--no-cmvn", action="store_true",
                       help="skip per-recording mean/variance normalisation")
    build.add_argument("--frontend", default="mfcc", metavar="mfcc|speech-embedding|ssl:PATH",
                       help="acoustic front end (default: mfcc, the paper's, set by --features, "
                       "--deltas, --no-cmvn); speech-embedding: Google's speech_embedding "
                       "(Apache-2.0, trained with English keyword labels; 96 dims every 40 ms; "
                       "weights from the openwakeword 0.4.0 wheel or $WORDBRIDGE_SPEECH_EMBEDDING); "
                       "ssl:PATH: one transformer layer of a wav2vec2/HuBERT/XLS-R checkpoint on "
                       "disk. Non-MFCC front ends compute each word from its own audio")
    build.add_argument("--standardise", action="store_true",
                       help="standardise the front end's frames per dimension (mean removed, divided "
                       "by the std) with statistics of this corpus, fitted before the features on the "
                       "whole audio of a fixed, seeded sample of up to 200 of its recordings (no "
                       "labels; the header names them). The statistics are part of the store's front "
                       "end, so clips classified later are standardised the same way. Speech-embedding, "
                       "Mboshi cross-speaker same-different AP, mean-pooled: 0.057 raw, 0.108 "
                       "standardised (docs/RESULTS.md, session 13)")
    build.add_argument("--workers", type=int, default=2, help="worker processes (0: in this process)")
    build.add_argument("--shard-files", type=int, default=200,
                       help="audio files per shard (the unit of resumption)")
    build.add_argument("--device", default="auto",
                       help="torch device for features; auto = cuda when present, else cpu")
    build.add_argument("--tier", default="words", help="TextGrid word tier (textgrid, librispeech)")
    build.add_argument("--alignments", default="", metavar="DIR",
                       help="folder of TextGrids parallel to the audio tree (textgrid, librispeech); "
                       "empty = TextGrids next to the audio only")
    build.add_argument("--lowercase", action="store_true", help="lower-case word labels")
    build.add_argument("--label-regex", default=DEFAULT_LABEL_PATTERN,
                       help="clips: regular expression on the file name (no extension); group "
                       "'label' is the word")
    build.add_argument("--labels-csv", default="", metavar="CSV",
                       help="clips: CSV with file,label[,speaker]; empty = labels from file names")
    build.add_argument("--trim", action="store_true", help="clips: trim silence (Lingua Libre rules)")
    build.add_argument("--vad", choices=["webrtc", "silero"], default="webrtc", help="vad: detector")
    build.add_argument("--aggressiveness", type=int, default=2, help="vad: webrtcvad mode 0-3")
    build.add_argument("--min-pause", type=float, default=0.1,
                       help="vad, energy: seconds of quiet that separate words")
    build.add_argument("--chunk-seconds", type=float, default=0.5, help="chunks: chunk length")
    build.add_argument("--speaker-pattern", default="", metavar="REGEX",
                       help="vad, energy, chunks: each recording's speaker from its file name: a regular "
                       "expression searched in the name without extension, whose first group (or whole "
                       "match) is the speaker, e.g. '^([^_]+)_' for Mboshi's "
                       "abiayi_2015-09-08-11-07-56_samsung-SM-T530_mdw_elicit_Dico18_14.wav; every file "
                       "must match; empty = the sub-folder")
    build.add_argument("--split", default="all",
                       help="speechocean762: train, test or all; mboshi: train, dev or all")
    build.add_argument("--transcript", default="transcript.tsv", metavar="TSV",
                       help="transcribed: transcript with a header row (relative to SOURCE)")
    build.add_argument("--text-column", default="text", help="transcribed: transcript column")
    build.add_argument("--speaker-column", default="speaker",
                       help="transcribed: speaker column (absent: no speakers)")
    build.add_argument("--utterance-column", default="utterance",
                       help="transcribed: utterance id column (audio file name without extension)")
    build.add_argument("--audio-folder", default="audio", help="transcribed: audio sub-folder")
    build.add_argument("--audio-ext", default="", metavar="EXT",
                       help="transcribed: audio extension; empty = the first known one that exists")
    build.add_argument("--lexicon", default="", metavar="FILE",
                       help="transcribed: ARPAbet lexicon for words the aligner's dictionary lacks; "
                       "empty = none")
    build.add_argument("--align-workers", type=int, default=0,
                       help="transcribed, speechocean762: forced-alignment processes (0: in this "
                       "process)")
    build.add_argument("--synthetic", action="store_true",
                       help="mark the store synthetic (also taken from SOURCE/corpus.json)")
    build.add_argument("--held-out-speakers", default="", metavar="A,B",
                       help="speakers to record as held out in the store's metadata")
    build.add_argument("--overwrite", action="store_true",
                       help="replace a store (or unfinished build) made with other settings")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=run_build)

    info = add_command(actions, "info", help="describe a feature store")
    info.add_argument("store", metavar="STORE_DIR", help="feature store folder")
    info.add_argument("--json", action="store_true", help="print the header as JSON")
    info.set_defaults(func=run_info)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_build(args) -> int:
    """Build (or resume) the feature store and print what was skipped."""
    from core.corpus.build import build_feature_store

    config = FeatureConfig(kind=args.features, deltas=args.deltas, cmvn=not args.no_cmvn)
    frontend = parse_frontend_spec(args.frontend, config)
    options = {"tier": args.tier, "alignments": args.alignments or None,
               "lowercase": args.lowercase or None,
               "label_pattern": args.label_regex, "csv_path": args.labels_csv or None,
               "trim": args.trim or None, "vad": args.vad, "aggressiveness": args.aggressiveness,
               "min_pause": args.min_pause, "chunk_seconds": args.chunk_seconds,
               "speaker_pattern": args.speaker_pattern or None,
               "split": args.split, "transcript": args.transcript, "text_column": args.text_column,
               "speaker_column": args.speaker_column, "utterance_column": args.utterance_column,
               "audio_folder": args.audio_folder, "audio_extension": args.audio_ext,
               "lexicon": args.lexicon or None, "align_workers": args.align_workers}
    metadata = {}
    if args.synthetic:
        metadata["synthetic"] = True
    held_out = [s.strip() for s in args.held_out_speakers.split(",") if s.strip()]
    if held_out:
        metadata["held_out_speakers"] = held_out
    listener = TqdmListener(disable=args.quiet)
    try:
        result = build_feature_store(args.source, args.out, args.reader, options, config,
                                     workers=args.workers, shard_files=args.shard_files,
                                     device=None if args.device == "auto" else args.device,
                                     overwrite=args.overwrite,
                                     metadata=metadata, progress=Progress(listener), frontend=frontend,
                                     standardise=args.standardise)
    finally:
        listener.close()
    for note in result.notes:
        print(note)
    if result.shards_resumed:
        print(f"resumed: {result.shards_resumed} of {result.shards_total} shards were already done")
    print(result.read_report.summary())
    print(result.build_report.summary())
    print(f"wrote {result.path}: {result.n_segments} segments")
    return 0


def run_info(args) -> int:
    """Print a store's counts, feature config and reports."""
    from core.corpus.feature_store import FeatureStore

    store = FeatureStore.open(args.store)
    store.table  # noqa: B018 - reads segments.jsonl: a damaged table is reported here, not in training
    if args.json:
        print(json.dumps(store.header, indent=2, ensure_ascii=False))
        return 0
    h = store.header
    print(f"{store.path}: {store.n_segments} segments, {h.get('n_utterances')} utterances, "
          f"{h.get('n_frames')} frames × {store.dim} ({h.get('segment_hours')} h of segments)")
    print(f"features: {json.dumps(h.get('feature_config'))}")
    if h.get("frontend") and h["frontend"].get("name") == "standardised":  # 2 × dim statistics: not printed
        fitted = h["frontend"].get("fitted_on", {})
        print(f"front end: standardised {json.dumps(h['frontend'].get('inner'))} (statistics of "
              f"{fitted.get('recordings')} recordings, {fitted.get('frames')} frames)")
    elif h.get("frontend") and h["frontend"].get("name") != "mfcc":
        print(f"front end: {json.dumps(h['frontend'])}")
    print(f"labelled segments: {h.get('n_labelled')} ({h.get('n_word_types')} word types); "
          f"synthetic: {'yes' if store.metadata['synthetic'] else 'no'}")
    from core.corpus.report import ReadReport

    print(ReadReport.from_dict(h.get("read_report", {})).summary())
    print(ReadReport.from_dict(h.get("build_report", {})).summary())
    return 0
