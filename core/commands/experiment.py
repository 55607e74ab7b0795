"""`wordbridge experiment CONFIG.toml --out RUN_DIR`: a whole speech ↔ text experiment."""

from __future__ import annotations

from core.cli import add_command
from core.errors import WordbridgeError

DESCRIPTION = """\
Run an experiment from a TOML config (see experiments/smoke.toml): synthesise (or read) the speech
corpus → feature stores → speech spaces (Speech2Vec, unit-skipgram; configurations A*, A, B, VAD,
F) → text spaces → alignment (the unsupervised method; supervised Procrustes for A*) →
evaluation on held-out voices. Writes RUN_DIR/metrics.json (every number) and RUN_DIR/results.md.
Each stage is cached under RUN_DIR/stages/: a rerun skips what is up to date, a killed run
resumes. Paths in the config may use ${WORDBRIDGE_DATA} (default /work/shared/data)."""


def register(sub) -> None:
    """Add the `experiment` subcommand."""
    from core.pipeline.experiment import STAGE_KINDS

    p = add_command(sub, "experiment", help="run a whole experiment from a TOML config", description=DESCRIPTION)
    p.add_argument("config", metavar="CONFIG.toml", help="experiment config")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder (created, or continued)")
    p.add_argument("--stages", default=",".join(STAGE_KINDS),
                   help="comma-separated stage kinds to run (what they need runs too): "
                        + ", ".join(STAGE_KINDS))
    p.add_argument("--device", default=None,
                   help="auto, cpu or cuda (default: the config's `device`, else auto)")
    p.add_argument("--workers", type=int, default=None,
                   help="synthesis and feature worker processes (default: the config's)")
    p.add_argument("--seeds", default=None, metavar="S1,S2",
                   help="run only these seeds, for every learner (default: the config's); a GPU command "
                        "that holds one seed can run the others in a second call")
    p.add_argument("--learners", default=None, metavar="L1,L2",
                   help="run only these of the config's learners (default: all of them)")
    p.add_argument("--dry-run", action="store_true", help="list the stages and whether they are done")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    """Load the config, run the selected stages, print where the results are."""
    from pathlib import Path

    from core.pipeline.config import load_experiment
    from core.pipeline.experiment import STAGE_KINDS, Runtime, plan_experiment, run_experiment
    from core.pipeline.stages import is_done
    from core.progress import Progress, TqdmListener

    cfg = narrowed(load_experiment(args.config), args.seeds, args.learners)
    kinds = tuple(k.strip() for k in args.stages.split(",") if k.strip())
    bad = [k for k in kinds if k not in STAGE_KINDS]
    if bad or not kinds:
        raise WordbridgeError(f"--stages: unknown stage kind {bad[0] if bad else '(none)'!r} "
                              f"(choose from {', '.join(STAGE_KINDS)})")
    device = args.device or cfg.device
    if device not in ("auto", "cpu", "cuda"):
        raise WordbridgeError(f"--device must be auto, cpu or cuda, not {device!r}")
    if args.workers is not None and args.workers < 0:
        raise WordbridgeError(f"--workers must be 0 or more, got {args.workers}")
    rt = Runtime(device=device,
                 synth_workers=max(1, args.workers if args.workers is not None else cfg.corpus.get("workers", 2)),
                 feature_workers=args.workers if args.workers is not None else cfg.features.get("workers", 0))
    if args.dry_run:
        plan = plan_experiment(cfg, rt)
        for kind in STAGE_KINDS[:-1]:
            for stage in plan.stages[kind]:
                done = "done" if is_done(stage, Path(args.out)) else "to do"
                print(f"{done:6} {stage.folder(Path(args.out)).name}")
        return 0
    listener = TqdmListener(disable=args.quiet)
    try:
        metrics = run_experiment(cfg, args.out, rt, kinds, Progress(listener))
    finally:
        listener.close()
    if "report" in kinds:
        print(f"{args.out}: {len(metrics['evaluations'])} evaluations; metrics.json and results.md written")
    return 0


def narrowed(cfg, seeds: str | None, learners: str | None):
    """The config restricted to `--seeds` and `--learners` (comma-separated; None keeps the config's)."""
    import dataclasses

    from core.pipeline.config import parse_seeds

    changes = {}
    if seeds is not None:
        try:
            chosen = parse_seeds(seeds)
        except ValueError:
            raise WordbridgeError(f"--seeds must be comma-separated integers, not {seeds!r}") from None
        if not chosen:
            raise WordbridgeError("--seeds names no seed")
        changes.update(seeds=chosen, learner_seeds={})
    if learners is not None:
        chosen_learners = [name.strip() for name in learners.split(",") if name.strip()]
        unknown = [name for name in chosen_learners if name not in cfg.learners]
        if unknown or not chosen_learners:
            raise WordbridgeError(f"--learners: {unknown[0] if unknown else '(none)'!r} is not a learner of "
                                  f"this config ({', '.join(cfg.learners)})")
        changes["learners"] = chosen_learners
    return dataclasses.replace(cfg, **changes) if changes else cfg
