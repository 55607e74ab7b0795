"""`classify`: which text word (and translation) is each recorded word — the app's result list on the
command line, with how sure the decision is and "no good match" for a clip unlike every word."""

from __future__ import annotations

import json
import sys

from core.cli import add_command
from core.errors import WordbridgeError


def register(sub) -> None:
    """Add the `classify` subcommand."""
    p = add_command(sub, "classify", help="the nearest text words (and translations) of recorded words",
                    description="Classify word recordings (any rate, channels, level; silence around the "
                    "word is trimmed) with a project's speech encoder and alignment.")
    p.add_argument("project", help="project folder (e.g. resources/demo)")
    p.add_argument("clips", nargs="+", help="audio files, one word each (WAV, FLAC, OGG, ...); a clip with "
                   "several stretches of speech between pauses gets a warning line (or, with --split, is split)")
    p.add_argument("-k", type=int, default=5, help="words listed per text space")
    p.add_argument("--method", choices=("csls", "nn"), default="csls", help="retrieval: CSLS or plain cosine")
    p.add_argument("--json", action="store_true", help="one JSON object per clip instead of text (with --split, "
                   "one per word of a split clip, with split: {word, of, start, end}, in seconds)")
    p.add_argument("--split", action="store_true",
                   help="split a clip holding several words at the pauses between them (the cue of the warning, "
                   "core.word_split) and classify each word, printed with its time span; words said without a "
                   "pause between them stay together. Off by default: a clip is one word, and one with several "
                   "gets a warning line")
    p.set_defaults(func=run)


def run(args) -> int:
    """Classify every clip; a clip that cannot be read or holds no speech is one error line, the others
    still run; exit code 2 if any clip failed."""
    from core.audio import load_audio
    from core.classify import ClipClassifier, clip_embedder
    from core.project import Project
    from core.speech_runs import several_words_warning
    from core.word_split import split_words

    if args.k < 1:
        raise WordbridgeError(f"-k must be at least 1, got {args.k}")
    project = Project.open(args.project, read_only=True)
    embed = clip_embedder(project)
    if embed is None:
        raise WordbridgeError(f"{args.project}: the project has no speech encoder to embed recordings")
    classifier = ClipClassifier.load(project, embed=embed)
    failed = 0
    for path in args.clips:
        try:
            samples, sr = load_audio(path)
            spans = split_words(samples, sr) if args.split else []
            if len(spans) >= 2:
                failed += _classify_words(path, samples, sr, spans, classifier, args)
                continue
            result = classifier.classify_clip(samples, sr, k=args.k, method=args.method)
        except WordbridgeError as exc:
            _error(path, exc)
            failed += 1
            continue
        warning = several_words_warning(samples, sr)
        print(json.dumps(_as_dict(path, result, warning)) if args.json else _as_text(path, result, warning))
    return 2 if failed else 0


def _error(path: str, exc: Exception, where: str = "") -> None:
    message = str(exc)
    print(f"error: {message if path in message else f'{path}{where}: {message}'}", file=sys.stderr)


def _classify_words(path: str, samples, sr: int, spans: list, classifier, args) -> int:
    """Classify each word of a split clip and print it with its span; returns how many words failed."""
    from core.word_split import cut

    failed = 0
    if not args.json:
        print(f"{path}: split into {len(spans)} words at the pauses between them")
    for n, span in enumerate(spans, start=1):
        where = f" word {n} ({span.speech_start:.2f}–{span.speech_end:.2f} s)"
        try:
            result = classifier.classify_clip(cut(samples, sr, span), sr, k=args.k, method=args.method)
        except WordbridgeError as exc:
            _error(path, exc, where)
            failed += 1
            continue
        if args.json:
            print(json.dumps({**_as_dict(path, result), "split": {
                "word": n, "of": len(spans), "start": round(span.speech_start, 3), "end": round(span.speech_end, 3)}}))
        else:
            text = _as_text(path, result).split("\n")[1:]
            print(f"  word {n} of {len(spans)}, {span.speech_start:.2f}–{span.speech_end:.2f} s:")
            print("\n".join("  " + line for line in text))
    return failed


def _as_dict(path: str, result, warning: str | None = None) -> dict:
    return {"clip": path, "method": result.method, "confidence": result.confidence, "warning": warning,
            "words": {space: [{"word": c.word, "score": round(c.score, 4), **({"via": c.via} if c.via else {})}
                              for c in cands] for space, cands in result.by_space.items()}}


def _as_text(path: str, result, warning: str | None = None) -> str:
    conf = result.confidence or {}
    lines = [f"{path}:"]
    if warning:
        lines.append(f"  warning: {warning}")
    if conf.get("no_match"):
        lines.append("  no good match: the clip is unlike every word this project knows "
                     f"(closest type at cosine {conf['best']:.2f})")
    elif conf.get("probability") is not None:
        lines.append(f"  confidence {conf['probability']:.0%} (calibrated on held-out real speakers)")
    for space, cands in result.by_space.items():
        words = ", ".join(f"{c.word} {c.score:.2f}" + (f" (via {c.via})" if c.via else "") for c in cands)
        lines.append(f"  {space}: {words}")
    return "\n".join(lines)
