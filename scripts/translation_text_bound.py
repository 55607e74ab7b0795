"""What spoken word translation could reach at best: the same pipeline with the speech space
replaced by the TEXT space of its own transcripts (an analysis, never a speech result).

In configuration A the speech type space stands in for a word2vec space of the transcripts (at
500k tokens the two give the same classification accuracy, A = A* = 82.5 %). So EN-transcripts →
FR text, aligned and scored the way speech_eval scores speech — CSLS, any FreeDict gold
translation, every *token* counted (frequent words weigh as their spoken segments do) — bounds the
speech result from above: speech adds the acoustic step (segment → right type, 83 % at 500k).

    .venv/bin/python scripts/translation_text_bound.py experiments/kjv_500k.toml --text fr_lsg \\
        --seeds 0,1,2 --out bench_out/translation_bound

Writes OUT/metrics.json (one row per alignment) and prints a table. Unsupervised rows use the
config's [align] settings; "supervised-all" is Procrustes on EVERY FreeDict pair found in both
vocabularies, test words included: an oracle that shows how well an orthogonal map can fit.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.alignment import align  # noqa: E402
from core.alignment.base import AlignConfig  # noqa: E402
from core.atomic import write_json  # noqa: E402
from core.pipeline.config import load_experiment  # noqa: E402
from core.pipeline.speech_eval import gold_dictionary, retrieve, translation_scores  # noqa: E402
from core.pipeline.text_space import read_sentences, train_text  # noqa: E402


def token_weighted_scores(top: dict[str, np.ndarray], src_words: list[str], counts: Counter, tgt, gold) -> dict:
    """speech_eval's P@k with every source *token* counted (each word weighted by its count), and
    per word type (`type_` keys); `token_coverage` is the share of tokens with a gold translation."""
    weights = np.array([counts[w] for w in src_words], dtype=np.float64)
    tokens = translation_scores(top, src_words, tgt, gold, weights=weights)
    types = translation_scores(top, src_words, tgt, gold)
    covered = sum(counts[w] for w in src_words if any(t in tgt for t in gold.get(w, ())))
    return {**{k: v for k, v in tokens.items() if k.startswith("p@")}, "test_words": types["test_words"],
            **{f"type_{k}": v for k, v in types.items() if k.startswith("p@")},
            "tokens_evaluated": int(covered), "token_coverage": covered / weights.sum()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", help="experiment TOML whose corpus, [text_training] and [align] are used")
    p.add_argument("--text", default="fr_lsg", help="the [[text]] entry (a translation task) to align to "
                                                   "(default: fr_lsg)")
    p.add_argument("--seeds", default="0", help="alignment / skip-gram seeds, comma-separated (default: 0)")
    p.add_argument("--out", required=True, help="folder for metrics.json")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto (default: cpu)")
    args = p.parse_args()

    cfg = load_experiment(args.config)
    text = next((t for t in cfg.texts if t.name == args.text), None)
    if text is None or text.task != "translation":
        raise SystemExit(f"error: {args.config} has no translation text named {args.text!r}")
    corpus = cfg.corpus
    gold = gold_dictionary(text.dictionary)
    rows = []
    t0 = time.perf_counter()
    en_sentences = read_sentences(corpus["text"], corpus.get("chapters", "all"), corpus.get("max_tokens"))
    counts = Counter(w for s in en_sentences for w in s)
    tgt_sentences = read_sentences(text.path, text.chapters, text.max_tokens)
    print(f"transcripts {sum(counts.values())} tokens; {text.name} {sum(map(len, tgt_sentences))} tokens")
    for seed in [int(s) for s in args.seeds.split(",")]:
        training = {**cfg.text_training, "seed": seed}
        src, backend = train_text(en_sentences, training, "en", args.device)
        tgt, _ = train_text(tgt_sentences, training, text.language, args.device)
        pairs = [(src.index[s], tgt.index[t]) for s, ts in gold.items() if s in src for t in ts if t in tgt]
        for name, align_cfg, seed_pairs in (
                ("unsupervised", AlignConfig(**cfg.align, seed=seed, device=args.device), None),
                ("supervised-all", AlignConfig(method="supervised", seed=seed, device=args.device),
                 np.array(pairs, dtype=np.int64))):
            started = time.perf_counter()
            result = align(src, tgt, align_cfg, seed_pairs=seed_pairs)
            top = retrieve(result.mapping, src.vectors, src, tgt, k=5, device=args.device)
            scores = token_weighted_scores(top, src.words, counts, tgt, gold)
            row = {"seed": seed, "alignment": name, "method_used": result.method_used,
                   "criterion": result.criterion, "align": asdict(align_cfg), "backend": backend,
                   "src_words": len(src), "tgt_words": len(tgt), "seed_pairs": len(pairs) if seed_pairs is not None else 0,
                   "wall_s": time.perf_counter() - started, **scores}
            rows.append(row)
            print(f"seed {seed} {name:15s} criterion {row['criterion']:.4f}  token P@1/P@5 CSLS "
                  f"{100 * row['p@1_csls']:.1f} / {100 * row['p@5_csls']:.1f}  (types "
                  f"{100 * row['type_p@1_csls']:.1f}; {row['test_words']} words, "
                  f"{100 * row['token_coverage']:.1f} % of tokens)", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"config": args.config, "text": args.text, "seeds": args.seeds, "device": args.device,
              "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "wall_s": time.perf_counter() - t0, "rows": rows}
    write_json(out / "metrics.json", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
