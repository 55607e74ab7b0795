"""Skip-gram benchmark: our torch word2vec against gensim on the experiments' en_same text.

The text is built as experiments/kjv_focus.toml builds `en_same` (core.pipeline.text_space):
the first --tokens tokens of the KJV's odd chapters. Both backends train with the same settings
(50-d, window 5, 10 negatives, sub-sampling 1e-4, 10 epochs, min count 3) for each seed; the
agreement of two spaces is the Spearman correlation of the pairwise cosines of the --top most
frequent words (core.speech.metrics.similarity_correlation). Reports seed-vs-seed agreement of
each backend, torch-vs-gensim agreement for equal seeds, and wall time per training.

    .venv/bin/python scripts/bench_skipgram.py --out bench_out/skipgram.json
    .venv/bin/python scripts/bench_skipgram.py --device cuda --backends torch --out bench_out/sg_gpu.json

The older torch path (dense Adam through the generic training loop) measured 0.713 seed-vs-seed
Spearman here on 2026-11-25 (torch word2vec 0.980, gensim 0.978) and was removed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.atomic import write_json  # noqa: E402
from core.pipeline.text_space import read_sentences  # noqa: E402
from core.speech.metrics import similarity_correlation  # noqa: E402
from core.text.skipgram import TORCH_BATCH, SkipGramParams, train_text_space  # noqa: E402

DATA = os.environ.get("WORDBRIDGE_DATA", "/work/shared/data")


def agreement(a, b, top: int) -> float:
    """Spearman of pairwise cosines over the `top` most frequent words of `a` (present in both)."""
    words = [w for w in a.words[:top] if w in b]
    return round(similarity_correlation(a.vectors[[a.index[w] for w in words]],
                                        b.vectors[[b.index[w] for w in words]]), 4)


def train(sentences, backend: str, seed: int, params: SkipGramParams, args) -> tuple:
    """One space and its wall time in seconds."""
    started = time.perf_counter()
    space = train_text_space(sentences, params, language="en", backend=backend, device=args.device,
                             batch_size=args.batch_size, seed=seed)
    return space, round(time.perf_counter() - started, 3)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--text", default=f"{DATA}/text/en_KJV1611.tsv.xz", help="verse TSV corpus")
    p.add_argument("--chapters", default="odd", choices=("all", "odd", "even"))
    p.add_argument("--tokens", type=int, default=120_000, help="first N tokens (en_same: the transcripts)")
    p.add_argument("--top", type=int, default=2000, help="most frequent words compared")
    p.add_argument("--seeds", default="1,2", help="comma-separated; every pair is compared")
    p.add_argument("--backends", default="torch,gensim", help="comma-separated: torch, gensim")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, auto)")
    p.add_argument("--batch-size", type=int, default=TORCH_BATCH, help="torch pairs per step (an upper bound)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (gensim uses workers=1)")
    p.add_argument("--out", default="bench_out/skipgram.json", help="JSON written here (atomically)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    backends = args.backends.split(",")
    params = SkipGramParams(dim=50, window=5, negative=10, sample=1e-4, epochs=10, min_count=3, workers=1)

    sentences = read_sentences(args.text, args.chapters, args.tokens)
    spaces, times = {}, {}
    for backend in backends:
        for seed in seeds:
            key = f"{backend}/seed{seed}"
            spaces[backend, seed], times[key] = train(sentences, backend, seed, params, args)
            print(f"{key}: {times[key]} s", flush=True)
    seed_vs_seed = {backend: {f"{a}-{b}": agreement(spaces[backend, a], spaces[backend, b], args.top)
                              for a, b in itertools.combinations(seeds, 2)} for backend in backends}
    across = {f"{x}-{y}/seed{s}": agreement(spaces[x, s], spaces[y, s], args.top)
              for x, y in itertools.combinations(backends, 2) for s in seeds}
    result = {
        "corpus": {"text": args.text, "chapters": args.chapters, "tokens": sum(map(len, sentences)),
                   "sentences": len(sentences), "vocabulary": len(next(iter(spaces.values())))},
        "params": {k: v for k, v in vars(params).items() if k != "seed"}, "seeds": seeds, "top_words": args.top, "device": args.device,
        "torch_batch_size": args.batch_size, "torch_threads": args.threads,
        "seed_vs_seed_spearman": seed_vs_seed, "backend_vs_backend_spearman": across,
        "wall_seconds": times, "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                           "torch": torch.__version__},
    }
    write_json(args.out, result)
    print(f"seed vs seed: {seed_vs_seed}\nbackend vs backend: {across}\nwrote {args.out}")


if __name__ == "__main__":
    main()
