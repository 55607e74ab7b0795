"""Benchmark the synthetic corpus builder: tokens/s and audio-seconds/s, extrapolated to a target.

    .venv/bin/python scripts/bench_synth.py [--text /work/shared/data/text/en_KJV1611.tsv.xz]
        [--tokens 5000] [--workers 2] [--target-tokens 500000] [--out DIR] [--json FILE]

Runs a real build (same code path as `main.py synthesize`) into a fresh folder, then times each
stage of one worker's job in this process on a sample of the same utterances (espeak, resampling
+ word timing, augmentation, WAV write, TextGrid write) to show what dominates.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", default="/work/shared/data/text/en_KJV1611.tsv.xz")
    parser.add_argument("--language", default="en")
    parser.add_argument("--tokens", type=int, default=5000, help="word tokens to synthesise")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--target-tokens", type=int, default=500_000)
    parser.add_argument("--noise-snr", default="none")
    parser.add_argument("--reverb", type=float, default=0.0)
    parser.add_argument("--out", default=None, help="corpus folder (default: a temporary one, removed)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    from core.synth.augment import parse_snr_range
    from core.synth.builder import SynthConfig, build_corpus

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_synth_"))
    config = SynthConfig(text_path=args.text, language=args.language, max_tokens=args.tokens,
                         noise_snr=parse_snr_range(args.noise_snr), reverb_rt60=args.reverb)
    start = time.perf_counter()
    meta = build_corpus(config, out, workers=args.workers)
    wall = time.perf_counter() - start
    counts = meta["counts"]
    tokens_per_s = counts["word_tokens"] / wall
    audio_s_per_s = counts["audio_hours"] * 3600 / wall
    stages = stage_breakdown(out, config)
    result = {
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load "
                   f"{os.getloadavg()[0]:.2f} at the end",
        "made_by": meta["made_by"],
        "workers": args.workers,
        "utterances": counts["utterances"],
        "word_tokens": counts["word_tokens"],
        "audio_hours": counts["audio_hours"],
        "wall_s": round(wall, 2),
        "tokens_per_s": round(tokens_per_s, 1),
        "audio_s_per_s": round(audio_s_per_s, 1),
        "extrapolated_min_for_target": round(args.target_tokens / tokens_per_s / 60, 1),
        "target_tokens": args.target_tokens,
        "per_utterance_ms_one_process": stages,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        from core.atomic import write_json

        write_json(args.json, result)
    if not args.out:
        shutil.rmtree(out, ignore_errors=True)
    return 0


def stage_breakdown(out: Path, config, sample: int = 40) -> dict:
    """Mean milliseconds per utterance of each stage, timed in this process on `sample`
    utterances of the corpus just built (the first call of each stage is excluded as warm-up)."""
    import numpy as np
    import soundfile as sf

    from core.atomic import atomic_path, write_text
    from core.synth import voices
    from core.synth.augment import AugmentConfig, apply_augmentation, draw_augmentation
    from core.synth.espeak import engine
    from core.synth.synthesize import SAMPLE_RATE, resample_to_16k, spoken_form
    from core.synth.textgrid import textgrid_text
    from core.synth.word_timing import make_valid, word_timings_from_events

    rows = (out / "segments.tsv").read_text(encoding="utf-8").splitlines()[1:sample + 2]
    speakers = {s.speaker: s for s in voices.make_speakers(config.language, config.speakers, config.seed)}
    augment = AugmentConfig(config.noise_snr, config.reverb_rt60)
    totals = dict.fromkeys(["espeak", "resample_and_timing", "augment", "wav_write_atomic",
                            "textgrid_write_atomic"], 0.0)
    scratch = Path(tempfile.mkdtemp(prefix="bench_synth_stages_"))
    eng = engine()
    for k, line in enumerate(rows):
        fields = line.split("\t")
        voice, text = speakers[fields[1]], fields[-1]
        marks = [time.perf_counter()]
        res = eng.synthesize(spoken_form(text, voice.language), voice.espeak_name, voice.rate,
                             voice.pitch, voice.pitch_range)
        marks.append(time.perf_counter())
        raw = np.frombuffer(res.samples, dtype="<i2").astype(np.float32) / 32768.0
        timings = word_timings_from_events(text, res.words, res.phonemes, res.end_sample, res.sample_rate)
        audio = resample_to_16k(raw, res.sample_rate)
        timings = make_valid(timings, audio.size / SAMPLE_RATE)
        marks.append(time.perf_counter())
        params = draw_augmentation(augment, np.random.default_rng(k))
        if params:
            audio = apply_augmentation(audio, SAMPLE_RATE, params, np.random.default_rng(k))
        marks.append(time.perf_counter())
        with atomic_path(scratch / f"{k}.wav") as tmp:
            sf.write(tmp, audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        marks.append(time.perf_counter())
        write_text(scratch / f"{k}.TextGrid", textgrid_text(timings, audio.size / SAMPLE_RATE))
        marks.append(time.perf_counter())
        if k == 0:
            continue
        for name, a, b in zip(totals, marks, marks[1:]):
            totals[name] += b - a
    shutil.rmtree(scratch, ignore_errors=True)
    n = max(len(rows) - 1, 1)
    return {name: round(v / n * 1000, 2) for name, v in totals.items()}


if __name__ == "__main__":
    sys.exit(main())
