"""A project's own speech encoder on real test speakers' words, through the app's code path.

    .venv/bin/python scripts/voices_project_check.py PROJECT --segments build/so762/segments_test.tsv \
        --out runs/check.json [--max-clips 0]
    # the calibration speakers (train-split speakers the recogniser's run held out), to tune on:
    .venv/bin/python scripts/voices_project_check.py PROJECT --segments build/so762/segments_train.tsv \
        --calibration-speakers 15 --seed 0 --out runs/check_calib.json [--encoder-set trim_margin_s=0.1]

Every word segment (± 0.05 s) goes through `ClipEncoder.candidates` exactly as a recorded clip in
the app does (resampling, silence trimming, the encoder's front end, nearest speech types; a fused
encoder: both recognisers and the weighted sum, core.voices.fusion; confidence); its speech types
are read as the text words the project's map gives them (NN, one per type, first occurrence kept).
Reports top-1 / top-10 over the project's whole vocabulary (words it has), the ten digit words as
a closed set, clips the app would refuse (no speech found), and "no good match" shares. Bad input: one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.errors import WordbridgeError  # noqa: E402
from core.voices.evaluate import DIGITS  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("project", help="project folder (opened read-only)")
    p.add_argument("--segments", required=True, help="segment table of the test speakers (TSV/JSONL)")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--text-space", default="text-en", help="text space the words are read in")
    p.add_argument("--max-clips", type=int, default=0, help="only the first N in-vocabulary clips (0: all)")
    p.add_argument("--calibration-speakers", type=int, default=0,
                   help="the segment table is a training split: check only the N speakers a voices run "
                        "with --seed held out for calibration (core.voices.experiment.split_calibration; "
                        "0: every segment of the table, default)")
    p.add_argument("--seed", type=int, default=0, help="seed of the voices run (with --calibration-speakers; default 0)")
    p.add_argument("--encoder-set", action="append", default=[], metavar="KEY=JSON",
                   help="override one value of the stored encoder config for this check (e.g. trim_margin_s=0.1; "
                        "the project is not changed); repeatable")
    args = p.parse_args(argv)
    try:
        result = check(args)
    except WordbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from core.atomic import write_json

    write_json(args.out, result)
    print(json.dumps(result, indent=1))
    return 0


def check(args) -> dict:
    """Run the check; returns the metrics."""
    from core.project import Project
    from core.segments import SegmentTable
    from core.speech.encode import ClipEncoder
    from core.voices.clips import segment_clips
    from core.voices.experiment import mapped_text_words, split_calibration
    from core.voices.fusion import app_cosines

    project = Project.open(args.project, read_only=True)
    encoders = [e for e in project.manifest.encoders if e.config.get("kind") != "band-energy"]
    if not encoders:
        raise WordbridgeError(f"{args.project}: no speech type encoder to check")
    weights, config = project.encoder(encoders[0].id)
    config = {**config, **_overrides(args.encoder_set)}
    embed = ClipEncoder(weights, config)
    if not hasattr(embed, "candidates"):
        raise WordbridgeError(f"{args.project}: no speech type encoder to check")
    speech_id = next(s.id for s in project.manifest.spaces if s.kind == "speech")
    speech = project.space(speech_id)
    by_word = mapped_text_words(project, speech_id, args.text_space)
    if by_word is None:
        raise WordbridgeError(f"{args.project}: no map from {speech_id} to {args.text_space}")
    type_text = [by_word[w] for w in speech.words]
    vocab = set(speech.words)
    table = SegmentTable.load(args.segments)
    if args.calibration_speakers:
        table = split_calibration(table, args.calibration_speakers, args.seed)[1]
    clips = segment_clips(table, "test", labels=vocab)
    n = len(clips) if not args.max_clips else min(args.max_clips, len(clips))
    digit_rows = [speech.index[d] for d in DIGITS if d in speech.index]
    top1 = top10 = refused = no_match = digit_n = digit_hit = 0
    fusion = getattr(embed, "fusion", None)
    second_missing = 0  # fused: clips the second recogniser found no speech in (ranked by the first alone)
    started = time.perf_counter()
    for i in range(n):
        label = clips.labels[i]
        is_digit = label in DIGITS and bool(digit_rows)
        digit_n += is_digit  # a refused digit clip counts as a wrong digit
        # ranked as the app ranks: the nearest of each type's prototypes (core.voices.fusion.app_cosines),
        # a fused encoder by the weighted sum of both recognisers'
        try:
            if fusion is not None:
                s1, s2 = fusion.parts(clips.samples[i], 16000)
                second_missing += s2 is None
                sims = fusion.combine(s1, s2)
            else:
                sims = app_cosines(embed, clips.samples[i], 16000)
        except WordbridgeError:
            refused += 1  # the app says "no speech found" for this clip: counted as wrong
            continue
        order = np.argsort(-sims)[:60]
        words = list(dict.fromkeys(type_text[t] for t in order))[:10]
        top1 += bool(words) and words[0] == label
        top10 += label in words
        if embed.calibration is not None:
            no_match += bool(embed.calibration.no_match(float(sims[order[0]])))
        if is_digit:
            digit_hit += speech.words[digit_rows[int(np.argmax(sims[digit_rows]))]] == label
    seconds = time.perf_counter() - started
    speakers = "all" if not args.calibration_speakers else f"{args.calibration_speakers} calibration (seed {args.seed})"
    fused = {} if fusion is None else {"fusion": {
        "weight": fusion.weight, "second": fusion.second.frontend.config(),
        "second_word_span": {**_word_span_defaults(), **fusion.second.word_span_settings},
        "second_found_no_speech": round(second_missing / n, 4),
        "calibration_fitted_on": getattr(embed.calibration, "fitted_on", None)}}
    return {**fused, "project": str(Path(args.project).name), "encoder": embed.frontend.config(),
            "segments": str(args.segments), "speakers": speakers,
            "trim": {k: config.get(k) for k in sorted(config) if k.startswith("trim")},
            "word_span": {**_word_span_defaults(), **getattr(embed, "word_span_settings", {})}, "clips": n,
            "skipped": clips.skipped, "top1": round(top1 / n, 4), "top10": round(top10 / n, 4),
            "refused_no_speech": round(refused / n, 4), "no_match": round(no_match / n, 4),
            "digits": {"n": digit_n, "candidates": len(digit_rows),
                       "top1": round(digit_hit / digit_n, 4) if digit_n else None},
            "ms_per_clip": round(1000 * seconds / max(n, 1), 2)}


def _word_span_defaults() -> dict:
    """core.audio.word_span's default levels (what an encoder whose config sets none uses)."""
    from core.audio import WORD_FLOOR_RATIO, WORD_START_THRESHOLD, WORD_STOP_THRESHOLD

    return {"start_threshold": WORD_START_THRESHOLD, "stop_threshold": WORD_STOP_THRESHOLD,
            "floor_ratio": WORD_FLOOR_RATIO}


def _overrides(items: list[str]) -> dict:
    """{key: value} from KEY=JSON strings (a value that is not JSON is kept as a string)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise WordbridgeError(f"--encoder-set wants KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


if __name__ == "__main__":
    sys.exit(main())
