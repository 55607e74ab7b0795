"""`train-frontend`: train a small HuBERT-style front end on a folder of untranscribed recordings."""

from __future__ import annotations

from core.cli import add_command
from core.errors import WordbridgeError


def register(sub) -> None:
    """Add the `train-frontend` subcommand."""
    from core.selfsup.train import SelfSupConfig

    d = SelfSupConfig()
    p = add_command(
        sub, "train-frontend", help="train a self-supervised front end (HuBERT-style) on untranscribed audio",
        description="Train a small HuBERT-style model (iteration 1: masked prediction of k-means units of "
        "MFCC frames, Hsu et al. 2021) on every audio file under AUDIO_DIR, no transcripts needed, and write "
        "MODEL.safetensors (+ MODEL.safetensors.json). Use it as `--frontend ssl:MODEL.safetensors`. "
        "The default size finishes in minutes on a CPU; a model trained for minutes is weak (see README, "
        "front ends): more audio and more time (a GPU) make it better.")
    p.add_argument("audio_dir", metavar="AUDIO_DIR", help="folder of recordings (searched recursively)")
    p.add_argument("--out", required=True, metavar="MODEL.safetensors", help="model file to write")
    p.add_argument("--minutes", type=float, default=5.0, help="training time budget (reading audio and k-means come on top)")
    p.add_argument("--max-steps", type=int, default=None, help="also stop after this many steps")
    p.add_argument("--max-hours", type=float, default=None, help="read at most this many hours of audio (taken from every sub-folder in turn)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to train")
    p.add_argument("--clusters", type=int, default=d.clusters, help="k-means units (the targets)")
    p.add_argument("--layers", type=int, default=d.layers, help="transformer layers")
    p.add_argument("--layer", type=int, default=None, help="the layer the front end uses (default: the last)")
    p.add_argument("--batch", type=int, default=d.batch, help="crops per step")
    p.add_argument("--lr", type=float, default=d.lr, help="peak learning rate")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    """Train and write the model; print one summary line."""
    from pathlib import Path

    from core.progress import Progress, TqdmListener
    from core.selfsup.train import SelfSupConfig, train_frontend

    folder = Path(args.audio_dir)
    if not folder.is_dir():
        raise WordbridgeError(f"{folder}: folder not found" if not folder.exists() else f"{folder}: not a folder")
    if not str(args.out).endswith(".safetensors"):
        raise WordbridgeError(f"{args.out}: the model file must end in .safetensors")
    for name in ("minutes", "clusters", "layers", "batch", "lr"):
        if getattr(args, name) <= 0:
            raise WordbridgeError(f"--{name} must be positive")
    cfg = SelfSupConfig(clusters=args.clusters, layers=args.layers, layer=args.layer, batch=args.batch,
                        lr=args.lr, seed=args.seed)
    listener = TqdmListener(disable=args.quiet)
    try:
        summary = train_frontend(folder, args.out, minutes=args.minutes, device=args.device, cfg=cfg,
                                 max_steps=args.max_steps, max_hours=args.max_hours, progress=Progress(listener))
    finally:
        listener.close()
    print(f"{args.out}: {summary['steps']} steps in {summary['train_minutes']:.1f} min on {summary['audio_hours']:.2f} h "
          f"of audio; loss {summary['loss_first50']:.3f} → {summary['loss_last50']:.3f}, masked-unit accuracy "
          f"{summary['masked_acc_last50']:.3f} (chance {summary['chance_acc']:.3f}); use --frontend ssl:{args.out}")
    return 0
