"""The "people's voices" experiment (docs/RESULTS.md): a front end × training speech × every test set.

    .venv/bin/python scripts/voices_experiment.py --out runs/voices-se-real \
        --frontend speech-embedding --train-real --real-segments build/so762 \
        --real-audio ../shared/data/speech/speechocean762 [--stages train,evaluate]

Training (synthesis, simulated microphones, the encoder) wants a GPU and many cores: run
`--stages train` there (scripts/gpu_voices.sh) and `--stages evaluate` where the test recordings
are. The segment tables come from `scripts/align_corpus.py` (forced alignment of speechocean762).
Every stage is cached in --out; a rerun resumes. Bad input: one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.errors import WordbridgeError  # noqa: E402
from core.progress import Progress  # noqa: E402
from core.voices.experiment import VoicesConfig, run_voices  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True, help="run folder (created; reused to resume)")
    p.add_argument("--project", default=str(ROOT / "resources" / "demo"),
                   help="project whose speech vocabulary and text map are the target")
    p.add_argument("--frontend", default="speech-embedding", help="front end: mfcc | speech-embedding | a JSON config")
    p.add_argument("--voices", type=int, default=12, help="synthetic training voices (every word said alone by each)")
    p.add_argument("--copies", type=int, default=2, help="simulated-microphone copies of every training clip")
    p.add_argument("--train-real", action="store_true", help="train on the real training speakers too")
    p.add_argument("--real-segments", default="", help="folder with segments_train.tsv and segments_test.tsv")
    p.add_argument("--real-audio", default="", help="folder the segment tables' audio paths are relative to")
    p.add_argument("--calib-speakers", type=int, default=15, help="real training speakers kept apart for calibration")
    p.add_argument("--epochs", type=int, default=10, help="encoder training epochs")
    p.add_argument("--hidden", type=int, default=256, help="encoder width (128 trains about 4x faster on a CPU)")
    p.add_argument("--real-repeat", type=int, default=4, help="times each recorded clip is seen per epoch")
    p.add_argument("--seed", type=int, default=0, help="seed of voices, microphones and training")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--workers", type=int, default=0, help="processes for synthesis and microphone simulation")
    p.add_argument("--frames-cache", default="", help="folder of frame caches shared by runs (default: OUT/frames)")
    p.add_argument("--max-vocabulary", type=int, default=0, help="only the most frequent N speech types (smoke runs)")
    p.add_argument("--stages", default="train,evaluate",
                   help="comma list of train, prototypes (recompute a stored recogniser's type prototypes from the "
                        "training frames these options describe), evaluate")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    args = p.parse_args(argv)
    try:
        frontend = (json.loads(args.frontend) if args.frontend.lstrip().startswith("{")
                    else {"name": args.frontend})
        stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
        if not stages or set(stages) - {"train", "prototypes", "evaluate"}:
            raise WordbridgeError(f"--stages must name train, prototypes and/or evaluate, got {args.stages!r}")
        cfg = VoicesConfig(project=args.project, frontend=frontend, voices=args.voices, copies=args.copies,
                           train_real=args.train_real, real_segments=args.real_segments, real_audio=args.real_audio,
                           calib_speakers=args.calib_speakers, epochs=args.epochs,
                           hidden=args.hidden, real_repeat=args.real_repeat, seed=args.seed, device=args.device,
                           workers=args.workers, max_vocabulary=args.max_vocabulary,
                           frames_cache=args.frames_cache)
        progress = Progress(None if args.quiet else _print_messages)
        metrics = run_voices(cfg, args.out, stages, progress)
    except (WordbridgeError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(metrics.get("tests", {}), indent=1))
    return 0


def _print_messages(stage, done, total, metrics) -> None:
    """Log lines only (a run's progress is in its log lines; no bars in a GPU log)."""
    if "message" in metrics:
        print(f"{stage}: {metrics['message']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
