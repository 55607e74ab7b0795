"""`wordbridge synthesize`: build a synthetic multi-voice speech corpus from text with espeak-ng."""

from __future__ import annotations

import argparse

from core.cli import add_command

DESCRIPTION = """\
Speak a text with many synthetic espeak-ng voices (from the espeakng-loader wheel) and write a
corpus of 16 kHz WAV files with Praat TextGrids (tier "words") with word timings, one folder per
speaker, plus corpus.json (labelled synthetic) and segments.tsv. TEXT is plain text (one
utterance per line) or a verse TSV (book, chapter, verse, text; .xz/.gz allowed). Rerunning with
the same settings resumes an interrupted build."""


def register(sub) -> None:
    """Add the `synthesize` subcommand."""
    p = add_command(sub, "synthesize", help="build a synthetic speech corpus (espeak-ng) from text",
                    description=DESCRIPTION)
    p.add_argument("text", metavar="TEXT", help="plain text file or verse TSV (.tsv, .tsv.xz)")
    p.add_argument("--out", required=True, metavar="CORPUS_DIR", help="output folder (new, empty, or a corpus to resume)")
    p.add_argument("--language", default="en",
                   help="espeak language code (en, fr, es, ...: all its accents are used) or one accent (en-GB-x-rp)")
    p.add_argument("--chapters", choices=("all", "odd", "even"), default="all",
                   help="keep only odd- or even-numbered chapters (verse TSV only)")
    p.add_argument("--max-tokens", type=int, default=0,
                   help="stop reading text after the verse/line that reaches this many word tokens "
                        "(spoken tokens = this × --repeats); 0 = no limit")
    p.add_argument("--max-verses", type=int, default=0, help="read at most this many verses/lines; 0 = no limit")
    p.add_argument("--speakers", type=int, default=24, help="number of synthetic speakers")
    p.add_argument("--held-out-speakers", type=int, default=4,
                   help="how many of the speakers are reserved as test speakers (recorded in corpus.json)")
    p.add_argument("--repeats", type=int, default=1, help="how many different speakers say each text")
    p.add_argument("--noise-snr", default="none",
                   help="additive noise: 'none', an SNR in dB, or a range like 10-30 drawn per utterance")
    p.add_argument("--reverb", type=float, default=0.0,
                   help="largest reverberation time RT60 in seconds, drawn per utterance from [0.1, this]; 0 = none")
    p.add_argument("--pad", type=float, default=0.2, help="seconds of silence before and after each utterance")
    p.add_argument("--isolated-words", type=int, default=0,
                   help="also speak the N most frequent words alone, once by every training voice "
                        "(what a word said into a microphone sounds like); 0 = none")
    p.add_argument("--workers", type=int, default=2, help="worker processes (one espeak-ng instance each)")
    p.add_argument("--seed", type=int, default=0, help="seed for voices, speaker assignment and augmentation")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the corpus and print a summary."""
    from core.progress import Progress, TqdmListener
    from core.synth.builder import SYNTH_OPTIONS, build_corpus, synth_config

    options = {name: getattr(args, name) for name in SYNTH_OPTIONS}
    options.update(max_tokens=args.max_tokens or None, max_verses=args.max_verses or None)  # 0 = no limit
    config = synth_config(options)
    listener = TqdmListener(disable=args.quiet)
    try:
        meta = build_corpus(config, args.out, workers=args.workers, progress=Progress(listener))
    finally:
        listener.close()
    counts = meta["counts"]
    print(f"synthetic corpus ({meta['made_by']}) in {args.out}")
    print(f"  {counts['utterances']} utterances ({counts['made_now']} made now, "
          f"{counts['already_present']} already present), {counts['word_tokens']} word tokens, "
          f"{counts['audio_hours']:.2f} h of audio")
    accents = sorted({v["accent"] for v in meta["speakers"].values()})
    print(f"  {len(meta['speakers'])} speakers over {len(accents)} accents ({', '.join(accents)}); "
          f"held out: {', '.join(meta['held_out_speakers']) or 'none'} "
          f"({counts['held_out_utterances']} utterances)")
    return 0
