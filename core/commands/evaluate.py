"""`evaluate`: P@1/5/10 (NN and CSLS) and coverage of a saved mapping on a test dictionary."""

from __future__ import annotations

from core.atomic import write_json
from core.cli import add_command
from core.retrieval import BACKENDS, DEVICES


def register(sub) -> None:
    """Add the `evaluate` subcommand."""
    p = add_command(sub, "evaluate", help="word-translation P@1/5/10 of a mapping on a dictionary")
    p.add_argument("src", help="source vectors (the space the mapping was learned from)")
    p.add_argument("tgt", help="target vectors")
    p.add_argument("--mapping", required=True, help="mapping.safetensors written by `align`")
    p.add_argument("--eval-dict", required=True, help="test dictionary, 'src tgt' per line (MUSE format)")
    p.add_argument("--max-vocab", type=int, default=200_000, help="read only the most frequent N words of each file")
    p.add_argument("--csls-knn", type=int, default=10, help="neighbours in the CSLS penalty")
    p.add_argument("--device", choices=DEVICES, default="auto", help="where to compute")
    p.add_argument("--backend", choices=BACKENDS, default="auto", help="nearest-neighbour backend")
    p.add_argument("--out", default=None, help="also write the metrics to this JSON file (default: %(default)s = print only)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Load, evaluate, print and optionally write the metrics."""
    from core.alignment.mapping import Mapping
    from core.dictionary import load_dictionary
    from core.evaluation import check_mapping_fits, evaluate_mapping, format_metrics
    from core.vectors import load_vectors

    mapping = Mapping.load(args.mapping)
    src = load_vectors(args.src, max_rows=args.max_vocab)
    tgt = load_vectors(args.tgt, max_rows=args.max_vocab)
    check_mapping_fits(src, tgt, mapping)
    pairs = load_dictionary(args.eval_dict)
    metrics = evaluate_mapping(src, tgt, mapping, pairs, knn=args.csls_knn, backend=args.backend, device=args.device)
    metrics = {"src": str(args.src), "tgt": str(args.tgt), "mapping": str(args.mapping),
               "eval_dict": str(args.eval_dict), **metrics}
    print(format_metrics(metrics))
    if args.out:
        write_json(args.out, metrics)
    return 0
