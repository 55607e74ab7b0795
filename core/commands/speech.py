"""`train-speech` and `export-vec`: learn a speech type space from a feature store, export it as .vec."""

from __future__ import annotations

from pathlib import Path

from core.cli import add_command
from core.errors import WordbridgeError
from core.progress import Progress, TqdmListener, sigint_cancels
from core.speech.config import (CPU_SIZES, CPU_SIZES_OF, DEFAULT_CPU_TIME, GROUPINGS,
                                UNIT_SKIPGRAM_CPU_SIZES, SpeechConfig, preset, read_config_dict,
                                voice_free_settings)

DEFAULTS = SpeechConfig()
LEARNER_PRESETS = {"speech2vec": "paper", "unit-skipgram": "unit-skipgram"}


def register(sub) -> None:
    """Add the `train-speech` and `export-vec` subcommands."""
    p = add_command(
        sub, "train-speech", help="learn a speech type space (Speech2Vec or unit-skipgram) from a feature store",
        description="Learn a speech embedding space from a feature store (`corpus build`). "
        "--learner speech2vec is the paper's model (BiLSTM encoder, LSTM decoder reconstructing "
        "neighbouring words, SGD lr 1e-3, 50-d); unit-skipgram learns acoustic word embeddings from "
        "audio alone, clusters them into pseudo-words and runs skip-gram over the pseudo-word stream. "
        "--config A takes word types from the labels; B, VAD and F cluster with k-means, after the "
        "unit-skipgram encoder has also learnt from pairs of segments by different speakers that match "
        "frame by frame (DTW; ac_pair_rounds in --config-file, default 2). Writes "
        "checkpoints, config.json, metrics.json, log.txt, types.vec and encoder.safetensors into "
        "--out, built in the hidden folder .NAME.partial beside it and renamed to --out when the run "
        "finishes. Rerunning the same command after a kill continues from the last checkpoint. "
        f"On a CPU, speech2vec's sizes that are not given are CPU-sized (hidden {CPU_SIZES['s2v_hidden']}, "
        f"batch size {CPU_SIZES['batch_size']}, {CPU_SIZES['epochs']} epochs, instead of the paper's "
        f"{DEFAULTS.s2v_hidden}, {DEFAULTS.batch_size}, {DEFAULTS.epochs}, which take ~17 min for 3,000 segments "
        "on 2 cores); unit-skipgram's encoder likewise "
        f"({UNIT_SKIPGRAM_CPU_SIZES['ac_epochs']} epochs of batch size {UNIT_SKIPGRAM_CPU_SIZES['batch_size']} "
        f"instead of {DEFAULTS.ac_epochs} of {DEFAULTS.batch_size}, ~8-9 min on that store); "
        "a line says so and config.json records it; --paper-settings keeps the defaults. "
        "Several GPUs: torchrun --nproc_per_node=N main.py train-speech ...")
    p.add_argument("store", metavar="STORE_DIR", help="feature store folder")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder to write (or continue)")
    p.add_argument("--learner", choices=tuple(LEARNER_PRESETS), default="speech2vec", help="which learner")
    p.add_argument("--config", dest="grouping", choices=GROUPINGS, default=_dflt("A"),
                   help="grouping configuration: A = labels, B/VAD/F = k-means over segment embeddings")
    p.add_argument("--config-file", default=None, metavar="FILE",
                   help="JSON or TOML file of settings (any SpeechConfig field); options given here win")
    p.add_argument("--epochs", type=int, default=_dflt(DEFAULTS.epochs),
                   help="encoder epochs (Speech2Vec, or the acoustic encoder of unit-skipgram)")
    p.add_argument("--sg-epochs", type=int, default=_dflt(DEFAULTS.sg_epochs), help="skip-gram epochs (unit-skipgram)")
    p.add_argument("--batch-size", type=int, default=_dflt(DEFAULTS.batch_size),
                   help="center segments (speech2vec) or segments (acoustic) per step")
    p.add_argument("--hidden", type=int, default=_dflt(DEFAULTS.s2v_hidden),
                   help="hidden size of Speech2Vec's LSTMs (or of unit-skipgram's acoustic encoder)")
    p.add_argument("--paper-settings", action="store_true",
                   help="keep the default sizes (speech2vec: the paper's --hidden, --batch-size, --epochs; "
                   "unit-skipgram: --epochs, --batch-size) on a CPU too")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default=_dflt(DEFAULTS.optimizer),
                   help="Speech2Vec optimiser (the paper: sgd)")
    p.add_argument("--lr", type=float, default=_dflt(DEFAULTS.lr), help="Speech2Vec learning rate")
    p.add_argument("--dim", type=int, default=_dflt(DEFAULTS.dim), help="dimension of the type space")
    p.add_argument("--clusters", type=int, default=_dflt(DEFAULTS.clusters), help="k-means K (configs B, VAD, F)")
    p.add_argument("--device", default=_dflt(DEFAULTS.device), help="auto, cpu, cuda or cuda:N")
    p.add_argument("--precision", choices=("bf16", "fp32"), default=_dflt(DEFAULTS.precision),
                   help="bf16 autocast on CUDA (ignored on the CPU)")
    p.add_argument("--checkpoint-every", type=int, default=_dflt(DEFAULTS.checkpoint_every), help="steps between checkpoints")
    p.add_argument("--num-workers", type=int, default=_dflt(DEFAULTS.num_workers),
                   help="DataLoader workers cutting batches on the CPU (0: cut on the device)")
    p.add_argument("--max-frames", type=int, default=_dflt(DEFAULTS.max_frames), help="segments are cut to this many frames")
    p.add_argument("--seed", type=int, default=_dflt(DEFAULTS.seed), help="random seed")
    p.add_argument("--voice-free", action="store_true",
                   help="unit-skipgram, configurations B / VAD / F: voice-free word types (voice_groups, join_types "
                        "K/2, regress_voices); what made B align on synthetic voices at 500k tokens (align with "
                        "--gw-start too)")
    p.add_argument("--resume", action="store_true",
                   help="require an existing run in RUN_DIR to continue (a rerun continues anyway)")
    p.add_argument("--text-vec", default=None, metavar="TEXT.vec",
                   help="text space used ONLY to report isomorphism in metrics.json (never for training)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_train)

    e = add_command(sub, "export-vec", help="write a train-speech run's type space as a word2vec file")
    e.add_argument("run_dir", metavar="RUN_DIR", help="finished train-speech run folder")
    e.add_argument("--out", required=True, metavar="OUT.vec", help="vectors file to write")
    e.add_argument("--binary", action="store_true", help="word2vec binary format instead of text")
    e.set_defaults(func=run_export)


def config_from_args(args) -> SpeechConfig:
    """The run's SpeechConfig: learner preset, then --config-file, then the options given.

    An option left at its default does not override a setting the config file names. On a CPU,
    speech2vec's sizes named by neither are CPU-sized (see `config_and_cpu_sizing`).
    """
    return config_and_cpu_sizing(args)[0]


def config_and_cpu_sizing(args) -> tuple[SpeechConfig, dict, dict]:
    """(the run's SpeechConfig, {setting: {"used": CPU size, "paper": the paper's}} for each setting of
    CPU_SIZES that was CPU-sized: speech2vec on the CPU, not given as an option or in --config-file,
    and no --paper-settings, {} otherwise; the settings --config-file names, {} without one)."""
    base = preset(LEARNER_PRESETS[args.learner]).to_dict()
    from_file = _file_settings(args.config_file) if args.config_file else {}
    base.update(from_file)
    epochs_key = "epochs" if args.learner == "speech2vec" else "ac_epochs"
    hidden_key = "s2v_hidden" if args.learner == "speech2vec" else "ac_hidden"
    options = {"grouping": args.grouping, epochs_key: args.epochs, "sg_epochs": args.sg_epochs,
               "batch_size": args.batch_size, hidden_key: args.hidden, "optimizer": args.optimizer, "lr": args.lr,
               "dim": args.dim, "clusters": args.clusters, "device": args.device, "precision": args.precision,
               "checkpoint_every": args.checkpoint_every, "num_workers": args.num_workers,
               "max_frames": args.max_frames, "seed": args.seed}
    for key, value in options.items():
        if not (key in from_file and isinstance(value, _Default)):
            base[key] = _plain(value)
    base["learner"] = args.learner
    if getattr(args, "voice_free", False):
        if args.learner != "unit-skipgram" or base["grouping"] == "A":
            raise WordbridgeError("--voice-free is for the unit-skipgram learner in configurations B, VAD and F")
        base.update(voice_free_settings(base["clusters"]))
    cfg = SpeechConfig.from_dict(base)
    sized: dict = {}
    cpu_sizes = CPU_SIZES_OF.get(args.learner, {})
    if cpu_sizes and not args.paper_settings and _on_cpu(cfg.device):
        given = {key for key in cpu_sizes if key in from_file}
        given |= {key for key, value in options.items() if key in cpu_sizes and not isinstance(value, _Default)}
        sized = {key: {"used": size, "paper": getattr(cfg, key)} for key, size in cpu_sizes.items()
                 if key not in given and size != getattr(cfg, key)}
        cfg = cfg.replace(**{key: value["used"] for key, value in sized.items()})
    return cfg, sized, from_file


def cpu_sized_note(sized: dict, learner: str = "speech2vec") -> str:
    """The one line `train-speech` prints when it CPU-sized the learner."""
    names = {"s2v_hidden": "hidden", "batch_size": "batch size", "epochs": "epochs", "ac_epochs": "epochs"}
    used = ", ".join(f"{names[k]} {v['used']}" for k, v in sized.items())
    paper = ", ".join(f"{v['paper']}" for v in sized.values())
    options = " ".join(f"--{names[k].replace(' ', '-')} {v['paper']}" for k, v in sized.items())
    whose, wanted = ("the paper's", "the paper's sizes") if learner == "speech2vec" else ("its defaults", "the defaults")
    return (f"note: training on the CPU, so {learner} is CPU-sized ({used}; {whose}: {paper}, which "
            f"take {DEFAULT_CPU_TIME[learner]} for 3,000 word segments on 2 cores); for {wanted} "
            f"add --paper-settings (or {options})")


def _on_cpu(device: str) -> bool:
    """Whether a run with this device setting trains on the CPU (auto without a CUDA GPU)."""
    if device == "cpu":
        return True
    if device != "auto":
        return False
    import torch

    return not torch.cuda.is_available()


class _Default:
    """Marks an option value as argparse's default (not typed by the user)."""


def _dflt(value):
    """`value` wrapped so that it prints as itself but is recognisable as a default."""
    kind = type(value)
    return type(f"Default{kind.__name__}", (_Default, kind), {})(value)


def _plain(value):
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _file_settings(path: str) -> dict:
    """Only the settings a config file names (so the options' defaults don't hide them)."""
    settings = read_config_dict(path)
    SpeechConfig.from_dict(settings, source=path)  # validates the values, with file-named errors
    return settings


def run_train(args) -> int:
    """Open the store, train, write the run folder."""
    from core.corpus.feature_store import FeatureStore
    from core.run_folder import current_run_folder
    from core.speech.runner import train_speech_space

    cfg, sized, from_file = config_and_cpu_sizing(args)
    if sized and _started_with_paper_sizes(current_run_folder(args.out), sized):
        # a run begun with the paper's sizes (before CPU sizing, or with --paper-settings) is continued as begun
        cfg, sized = cfg.replace(**{key: value["paper"] for key, value in sized.items()}), {}
        print(f"note: {args.out} holds a run with the default sizes: continuing it with them", flush=True)
    store = FeatureStore.open(args.store)
    if cfg.learner == "unit-skipgram" and "ac_encoder" not in from_file:
        # the encoder the app's Train dialog defaults to for this store and configuration
        from core.speech.expectations import encoder_for

        kind, note = encoder_for(store.header, cfg.grouping)
        if kind != cfg.ac_encoder:
            cfg = cfg.replace(ac_encoder=kind)
            print(f"note: {note} (set ac_encoder in --config-file to choose another)", flush=True)
    if cfg.grouping != "A":  # how well B / VAD / F are expected to work, from our measurements
        from core.speech.expectations import expectation
        print(expectation(cfg.grouping, synthetic=bool(store.header.get("synthetic"))).line(), flush=True)
        if cfg.grouping == "B" and cfg.learner == "unit-skipgram" and not cfg.join_types:
            print("note: without --voice-free (or its settings in --config-file) configuration B stayed at chance "
                  "on synthetic voices; add --voice-free, and align with --gw-start", flush=True)
    if sized:
        print(cpu_sized_note(sized, args.learner), flush=True)
    text = None
    if args.text_vec:
        from core.vectors import load_vectors

        text = load_vectors(args.text_vec)
    listener = TqdmListener(disable=args.quiet)
    progress = Progress(listener)
    try:
        with sigint_cancels(progress, "interrupted: writing a checkpoint (Ctrl-C again to stop at once)"):
            metrics = train_speech_space(store, cfg, args.out, progress, resume=args.resume,
                                         store_path=str(Path(args.store).resolve()), text_vectors=text,
                                         run_notes={"cpu_sized": sized} if sized else None)
    finally:
        listener.close()
        _leave_process_group()
    if metrics:
        sd = metrics.get("same_different")
        # a store without word labels has no same-different AP to report (nothing to compare against)
        quality = (f"same-different AP {sd['ap']:.3f} (chance {sd['chance']:.3f})" if sd else
                   "same-different AP: not measured (no word labels in the store)")
        print(f"{args.out}: {metrics.get('types')} types; {quality}")
    return 0


def _started_with_paper_sizes(run_dir: Path, sized: dict) -> bool:
    """Whether `run_dir` holds a run whose config.json has the paper's value for every CPU-sized setting
    (a damaged or missing config.json says no; the runner reports it)."""
    import json

    try:
        stored = json.loads((run_dir / "config.json").read_text(encoding="utf-8")).get("speech")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(stored, dict) and all(stored.get(key) == value["paper"] for key, value in sized.items())


def _leave_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def run_export(args) -> int:
    """Copy the run's type space into a word2vec file."""
    from core.speech.type_space import TYPES_VEC
    from core.vectors import load_vectors, save_vectors

    src = Path(args.run_dir) / TYPES_VEC
    if not src.is_file():
        raise WordbridgeError(f"{args.run_dir}: no {TYPES_VEC} (is the train-speech run finished?)")
    emb = load_vectors(src, modality="speech")
    save_vectors(emb, args.out, binary=args.binary)
    print(f"{args.out}: {len(emb)} speech types × {emb.dim}")
    return 0
