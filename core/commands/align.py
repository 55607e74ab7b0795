"""`align`: learn a linear map from a source embedding space to a target space.

Writes to --out: mapping.safetensors (W and the preprocessing to replay), dictionary.txt (the
induced translation of every source word: "source target csls_score"), metrics.json, config.json
and align.log. The folder is built in a hidden temporary folder next to --out and renamed into
place when complete (core.run_folder), so a killed rerun never leaves a new map beside old metrics;
--out is checked (not a file, writable, no foreign files, no other run writing it) before computing.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from core.alignment.base import METHODS, AlignConfig
from core.atomic import write_json, write_text
from core.cli import add_command
from core.errors import WordbridgeError
from core.retrieval import BACKENDS, DEVICES
from core.run_folder import staged_run_folder

OUTPUT_FILES = ("mapping.safetensors", "dictionary.txt", "metrics.json", "config.json", "align.log")

DESCRIPTION = """Learn a mapping W from the source space to the target space (target ≈ source @ W.T).

methods:
  auto            the paper's adversarial pipeline, judged by the unsupervised criterion; falls back
                  to selflearn when adversarial training collapses (the result says so)
  adversarial     MUSE: adversarial training + Procrustes refinement, --restarts runs (default 3)
  selflearn       robust start from similarity distributions + stochastic self-learning + refinement,
                  --restarts runs from different start dictionaries (default 3)
  supervised      Procrustes on --seed-dict
  semisupervised  --seed-dict + self-learning + refinement

Spaces of different dimensions: the larger one is reduced with PCA to the smaller dimension
(--no-reduce-dim refuses instead). Sampling limits larger than a vocabulary are clipped, with a
warning. Adversarial defaults (1M samples x 5 epochs x 3 restarts) are sized for a GPU; on a CPU
they take hours: without --method a CPU runs selflearn (auto on a GPU); --method auto on a CPU asks for
the adversarial pipeline anyway (or use fewer/shorter epochs, --adv-epoch-size)."""


def register(sub) -> None:
    """Add the `align` subcommand."""
    p = add_command(sub, "align", help="align two embedding spaces (unsupervised or from a seed dictionary)",
                    description=DESCRIPTION)
    p.add_argument("src", help="source vectors (word2vec .vec text or .bin)")
    p.add_argument("tgt", help="target vectors (word2vec .vec text or .bin)")
    p.add_argument("--out", required=True, help="run folder to write (created if missing)")
    p.add_argument("--method", choices=METHODS, default=None,
                   help="alignment method (default: auto on a GPU, selflearn on a CPU, where auto takes hours)")
    p.add_argument("--seed-dict", default=None, help="seed dictionary 'src tgt' per line, for supervised and semisupervised (default: %(default)s)")
    p.add_argument("--eval-dict", default=None, help="test dictionary for P@1/5/10 in metrics.json (default: %(default)s = no evaluation)")
    p.add_argument("--normalize", default="unit,center,unit", help="normalisation steps before alignment")
    p.add_argument("--no-reduce-dim", action="store_true", help="refuse spaces of different dimensions instead of PCA")
    p.add_argument("--max-vocab", type=int, default=200_000, help="read only the most frequent N words of each file")
    p.add_argument("--seed", type=int, default=0, help="random seed (results are deterministic given it)")
    p.add_argument("--device", choices=DEVICES, default="auto", help="where to compute")
    p.add_argument("--backend", choices=BACKENDS, default="auto", help="nearest-neighbour backend")
    p.add_argument("--restarts", type=int, default=None, help="runs picked by the criterion; None = 3 for adversarial, selflearn and auto, 1 otherwise (default: %(default)s)")
    d = AlignConfig()
    p.add_argument("--csls-knn", type=int, default=d.csls_knn, help="neighbours in the CSLS penalty")
    p.add_argument("--n-refinement", type=int, default=d.n_refinement, help="Procrustes refinement steps")
    p.add_argument("--refine-max-rank", type=int, default=d.refine_max_rank, help="words per side in refinement dictionaries")
    p.add_argument("--criterion-words", type=int, default=d.criterion_words, help="source words scored by the criterion")
    p.add_argument("--adv-epochs", type=int, default=d.adv_epochs, help="adversarial epochs")
    p.add_argument("--adv-epoch-size", type=int, default=d.adv_epoch_size, help="samples per adversarial epoch")
    p.add_argument("--adv-batch-size", type=int, default=d.adv_batch_size, help="adversarial batch size")
    p.add_argument("--dis-most-frequent", type=int, default=d.dis_most_frequent, help="words the discriminator samples from")
    p.add_argument("--dis-hidden-dim", type=int, default=d.dis_hidden_dim, help="discriminator hidden width")
    p.add_argument("--dis-steps", type=int, default=d.dis_steps, help="discriminator steps per map step")
    p.add_argument("--map-lr", type=float, default=d.map_lr, help="mapping SGD learning rate")
    p.add_argument("--dis-lr", type=float, default=d.dis_lr, help="discriminator SGD learning rate")
    p.add_argument("--map-beta", type=float, default=d.map_beta, help="orthogonalisation beta")
    p.add_argument("--init-vocab", type=int, default=d.init_vocab, help="words per side in the robust start")
    p.add_argument("--selflearn-vocab", type=int, default=d.selflearn_vocab, help="words per side in self-learning dictionaries")
    p.add_argument("--keep-prob", type=float, default=d.keep_prob_start, help="initial keep probability of self-learning")
    p.add_argument("--stall-iterations", type=int, default=d.stall_iterations, help="iterations without improvement before the keep probability doubles")
    p.add_argument("--max-selflearn-iterations", type=int, default=d.max_selflearn_iterations, help="cap on self-learning iterations")
    p.add_argument("--gw-start", action="store_true",
                   help="selflearn and auto: runs from Gromov-Wasserstein starts first (one per entropy "
                        f"{', '.join(str(e) for e in d.gw_epsilons)} and number of target words "
                        f"{', '.join(str(m) for m in d.gw_target_words)}), the criterion keeps the best; what made "
                        "speech spaces trained without word labels align")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def default_method(device: str) -> str:
    """The method when --method is not given: `auto` where it runs on CUDA, else the robust `selflearn`
    (auto's adversarial defaults take hours on a CPU; the app chooses the same way)."""
    import torch

    return "auto" if device in ("auto", "cuda") and torch.cuda.is_available() else "selflearn"


def config_from_args(args) -> AlignConfig:
    """AlignConfig from the parsed options."""
    return AlignConfig(
        method=args.method or default_method(args.device), seed=args.seed, device=args.device, backend=args.backend, normalize=args.normalize,
        reduce_dim=not args.no_reduce_dim, csls_knn=args.csls_knn, criterion_words=args.criterion_words,
        restarts=args.restarts, n_refinement=args.n_refinement, refine_max_rank=args.refine_max_rank,
        adv_epochs=args.adv_epochs, adv_epoch_size=args.adv_epoch_size, adv_batch_size=args.adv_batch_size,
        dis_most_frequent=args.dis_most_frequent, dis_hidden_dim=args.dis_hidden_dim, dis_steps=args.dis_steps,
        map_lr=args.map_lr, dis_lr=args.dis_lr, map_beta=args.map_beta, init_vocab=args.init_vocab,
        selflearn_vocab=args.selflearn_vocab, keep_prob_start=args.keep_prob,
        stall_iterations=args.stall_iterations, max_selflearn_iterations=args.max_selflearn_iterations,
        gw_start=args.gw_start)


def seed_pairs_for(path, src, tgt):
    """Rows of the seed dictionary found in both spaces; no overlap is an error with the counts."""
    from core.dictionary import dictionary_to_indices, load_dictionary

    rows, stats = dictionary_to_indices(load_dictionary(path), src, tgt)
    if len(rows) == 0:
        raise WordbridgeError(
            f"{path}: the seed dictionary has no pair with both words in the spaces: 0 of "
            f"{stats['pairs_total']} pairs and 0 of {stats['src_words_total']} source words found "
            f"(source vocabulary {len(src)} words, target vocabulary {len(tgt)} words)")
    return rows, stats


def run(args) -> int:
    """Run the alignment and write the run folder."""
    from core.evaluation import format_metrics

    cfg = config_from_args(args)
    cfg.validate()
    if cfg.method in ("supervised", "semisupervised") and not args.seed_dict:
        raise WordbridgeError(f"--method {cfg.method} needs --seed-dict")
    out = Path(args.out)
    with staged_run_folder(out, OUTPUT_FILES) as stage:  # checks --out before any computing
        result, metrics, cfg, eval_pairs = _align_into(stage, args, cfg)
    print(f"{result.method_used}: criterion {result.criterion:.4f}"
          + (f" (fallback: {result.fallback_reason})" if result.fallback else ""))
    if eval_pairs is not None:
        print(format_metrics(metrics["eval"]))
    print(f"wrote {out}/mapping.safetensors, dictionary.txt, metrics.json, config.json, align.log")
    return 0


def _align_into(stage: Path, args, cfg: AlignConfig):
    """Load, align, evaluate and write every output file into the staging folder `stage`."""
    from core.alignment import align
    from core.evaluation import evaluate_mapping, export_induced_dictionary
    from core.progress import Progress, TqdmListener
    from core.vectors import load_vectors

    t0 = time.perf_counter()
    src = load_vectors(args.src, max_rows=args.max_vocab)
    tgt = load_vectors(args.tgt, max_rows=args.max_vocab)
    if src.dim != tgt.dim and args.no_reduce_dim:
        raise WordbridgeError(
            f"{args.src} has {src.dim}-d vectors but {args.tgt} has {tgt.dim}-d: a linear map needs equal "
            "dimensions; drop --no-reduce-dim to reduce the larger space with PCA")
    seed_rows, seed_stats = (None, None)
    if args.seed_dict:
        seed_rows, seed_stats = seed_pairs_for(args.seed_dict, src, tgt)
    eval_pairs = None
    if args.eval_dict:
        from core.dictionary import load_dictionary

        eval_pairs = load_dictionary(args.eval_dict)
    load_s = time.perf_counter() - t0

    listener = TqdmListener(disable=args.quiet)
    try:
        result = align(src, tgt, cfg, seed_pairs=seed_rows, progress=Progress(listener))
    finally:
        listener.close()

    run_id = uuid.uuid4().hex  # stamped on every file: the mapping's header says which run it is
    result.mapping.meta.update(run_id=run_id, supervised=result.method_used in ("supervised", "semisupervised"))
    result.mapping.save(stage / "mapping.safetensors")
    export_induced_dictionary(result.dictionary, result.dictionary_scores, src, tgt, stage / "dictionary.txt")
    metrics = {"run_id": run_id, "src": str(args.src), "tgt": str(args.tgt), **result.summary()}
    metrics["timings_s"]["load"] = load_s
    if seed_stats is not None:
        metrics["seed_dict"] = {"path": str(args.seed_dict), **seed_stats}
    if eval_pairs is not None:
        t1 = time.perf_counter()
        metrics["eval"] = {"path": str(args.eval_dict),
                           **evaluate_mapping(src, tgt, result.mapping, eval_pairs, knn=cfg.csls_knn,
                                              backend=cfg.backend, device=cfg.device)}
        metrics["timings_s"]["evaluate"] = time.perf_counter() - t1
    write_json(stage / "metrics.json", metrics)
    write_json(stage / "config.json", {"command": "align", "run_id": run_id, "src": str(args.src),
                                       "tgt": str(args.tgt), "seed_dict": args.seed_dict,
                                       "eval_dict": args.eval_dict, "max_vocab": args.max_vocab, **cfg.to_dict()})
    write_text(stage / "align.log", "\n".join(result.log) + "\n")
    return result, metrics, cfg, eval_pairs
