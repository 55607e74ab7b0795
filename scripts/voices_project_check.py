"""A project's own speech encoder on real test speakers' words, through the app's code path.

    .venv/bin/python scripts/voices_project_check.py PROJECT --segments build/so762/segments_test.tsv \
        --out runs/check.json [--max-clips 0]

Every word segment (± 0.05 s) goes through `ClipEncoder.candidates` exactly as a recorded clip in
the app does (resampling, silence trimming, the encoder's front end, nearest speech types,
confidence); its speech types are read as the text words the project's map gives them (NN, one
per type, first occurrence kept). Reports top-1 / top-10 over the project's whole vocabulary (words
it has), the ten digit words as a closed set, clips the app would refuse (no speech found), and
"no good match" shares. Bad input: one line on stderr, exit code 2.
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
    from core.classify import clip_embedder
    from core.project import Project
    from core.segments import SegmentTable
    from core.voices.clips import segment_clips
    from core.voices.experiment import mapped_text_words

    project = Project.open(args.project, read_only=True)
    embed = clip_embedder(project)
    if embed is None or not hasattr(embed, "candidates"):
        raise WordbridgeError(f"{args.project}: no speech type encoder to check")
    speech_id = next(s.id for s in project.manifest.spaces if s.kind == "speech")
    speech = project.space(speech_id)
    by_word = mapped_text_words(project, speech_id, args.text_space)
    if by_word is None:
        raise WordbridgeError(f"{args.project}: no map from {speech_id} to {args.text_space}")
    type_text = [by_word[w] for w in speech.words]
    vocab = set(speech.words)
    clips = segment_clips(SegmentTable.load(args.segments), "test", labels=vocab)
    n = len(clips) if not args.max_clips else min(args.max_clips, len(clips))
    digit_rows = [speech.index[d] for d in DIGITS if d in speech.index]
    top1 = top10 = refused = no_match = digit_n = digit_hit = 0
    started = time.perf_counter()
    for i in range(n):
        label = clips.labels[i]
        try:
            frames = embed.clip_features(clips.samples[i], 16000)
        except WordbridgeError:
            refused += 1  # the app says "no speech found" for this clip: counted as wrong
            continue
        enc = embed.encode_features(frames)
        e = enc / max(float(np.linalg.norm(enc)), 1e-12)
        sims = embed.centroids @ e
        order = np.argsort(-sims)[:60]
        words = list(dict.fromkeys(type_text[t] for t in order))[:10]
        top1 += bool(words) and words[0] == label
        top10 += label in words
        if embed.calibration is not None:
            no_match += bool(embed.calibration.no_match(float(sims[order[0]])))
        if label in DIGITS and digit_rows:
            digit_n += 1
            digit_hit += speech.words[digit_rows[int(np.argmax(sims[digit_rows]))]] == label
    seconds = time.perf_counter() - started
    return {"project": str(Path(args.project).name), "encoder": embed.frontend.config(), "clips": n,
            "skipped": clips.skipped, "top1": round(top1 / n, 4), "top10": round(top10 / n, 4),
            "refused_no_speech": round(refused / n, 4), "no_match": round(no_match / n, 4),
            "digits": {"n": digit_n, "candidates": len(digit_rows),
                       "top1": round(digit_hit / digit_n, 4) if digit_n else None},
            "ms_per_clip": round(1000 * seconds / max(n, 1), 2)}


if __name__ == "__main__":
    sys.exit(main())
