"""Text alignment benchmark: every method on every textbench pair, a SYNTHETIC rotation test and a
CSLS-at-scale timing. Needs only torch + numpy + safetensors (faiss optional).

    .venv/bin/python scripts/bench_text.py --out bench_out/textbench            # everything
    .venv/bin/python scripts/bench_text.py --only synthetic --device cuda       # 20k x 300 rotation
    .venv/bin/python scripts/bench_text.py --only csls --csls-n 200000 --device cuda

Results are written after every row (JSON + Markdown), so a long run can be read while it goes.
When both `adversarial` and `auto` are asked for, the adversarial row is auto's adversarial
candidate (auto trains those very maps; running them twice would double the longest part).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.alignment import AlignConfig, align  # noqa: E402
from core.alignment.synthetic import noisy_rotation, structured_space  # noqa: E402
from core.atomic import write_json, write_text  # noqa: E402
from core.dictionary import dictionary_to_indices, load_dictionary  # noqa: E402
from core.evaluation import evaluate_mapping  # noqa: E402
from core.progress import Progress  # noqa: E402
from core.retrieval import resolve_device, topk_csls, unit_tensor  # noqa: E402
from core.vectors import load_vectors  # noqa: E402

# (name, setting, source space, target space, dictionary prefix)
PAIRS = [
    ("en_kjv_odd→en_kjv_odd_seed2", "same corpus", "en_kjv_odd", "en_kjv_odd_seed2", "en-en.same"),
    ("en_kjv→en_web", "parallel", "en_kjv", "en_web", "en-en"),
    ("en_kjv_odd→en_web_even", "comparable", "en_kjv_odd", "en_web_even", "en-en"),
    ("en_kjv→fr_lsg", "parallel", "en_kjv", "fr_lsg", "en-fr"),
    ("en_kjv_odd→fr_lsg_even", "comparable", "en_kjv_odd", "fr_lsg_even", "en-fr"),
    ("en_kjv→es_rv", "parallel", "en_kjv", "es_rv", "en-es"),
    ("en_kjv_odd→es_rv_even", "comparable", "en_kjv_odd", "es_rv_even", "en-es"),
]
METHODS = ["supervised", "semisupervised", "selflearn", "adversarial", "auto"]


def environment(device: torch.device) -> dict:
    """Machine facts recorded with every result file."""
    env = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
           "cpu_threads": torch.get_num_threads(), "device": str(device)}
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    return env


STARTED = time.perf_counter()


def print_log_lines(stage: str, done, total, metrics: dict) -> None:
    """Progress listener for --log: print the aligner's log lines as they come (stderr), timed."""
    if "message" in metrics:
        print(f"  [{time.perf_counter() - STARTED:7.1f}s {stage}] {metrics['message']}", file=sys.stderr, flush=True)


def run_textbench(args, device, report):
    root = Path(args.textbench)
    for name, setting, s, t, dico in PAIRS:
        if args.pairs and not any(p in name for p in args.pairs.split(",")):
            continue
        src = load_vectors(root / "vectors" / f"{s}.vec")
        tgt = load_vectors(root / "vectors" / f"{t}.vec")
        test = load_dictionary(root / "dicts" / f"{dico}.test.txt")
        train_rows, _ = dictionary_to_indices(load_dictionary(root / "dicts" / f"{dico}.train.txt"), src, tgt)
        methods = args.methods.split(",")
        for method in methods:
            if method == "adversarial" and "auto" in methods:
                continue  # auto trains the same adversarial maps: its candidate gives this row
            cfg = AlignConfig(method=method, seed=args.seed, device=str(device), restarts=args.restarts,
                              adv_epochs=args.adv_epochs, adv_epoch_size=args.adv_epoch_size,
                              multistep=args.multistep)
            t0 = time.perf_counter()
            result = align(src, tgt, cfg, seed_pairs=train_rows if method in ("supervised", "semisupervised") else None,
                           progress=args.progress)
            metrics = evaluate_mapping(src, tgt, result.mapping, test, device=str(device))
            wall = time.perf_counter() - t0
            common = {"pair": name, "setting": setting, "device": str(device), "adv_epoch_size": cfg.adv_epoch_size,
                      "adv_epochs": cfg.adv_epochs, "restarts": cfg.n_restarts(method), "multistep": cfg.multistep}
            rows = [{**common, "method": method, "method_used": result.method_used, "fallback": result.fallback,
                     "criterion": result.criterion, "wall_s": wall, **_scores(metrics),
                     "restart_criteria": [r["criterion"] for r in result.restarts]}]
            candidate = result.candidates.get("adversarial")
            if "adversarial" in methods and candidate:
                adv_metrics = evaluate_mapping(src, tgt, candidate["mapping"], test, device=str(device))
                rows.append({**common, "method": "adversarial", "method_used": "adversarial", "fallback": False,
                             "criterion": candidate["criterion"], "wall_s": candidate["seconds"],
                             "from": "auto's adversarial candidate (wall_s: its training + refinement only)",
                             **_scores(adv_metrics),
                             "restart_criteria": [r["criterion"] for r in result.restarts if "criterion_adversarial" in r]})
            for row in rows:
                report["textbench"].append(row)
                print(f"{name:30s} {row['method']:15s} CSLS P@1 {row['csls']['p@1']:5.1f}  NN P@1 "
                      f"{row['nn']['p@1']:5.1f}  crit {row['criterion']:.3f}  {row['wall_s']:6.1f}s"
                      + ("  (fallback)" if row["fallback"] else ""), flush=True)
            save(report, args.out)


def _scores(metrics: dict) -> dict:
    return {key: metrics[key] for key in ("nn", "csls", "coverage", "n_words")}


def run_synthetic(args, device, report):
    src = structured_space(args.synthetic_n, args.synthetic_dim, seed=0)
    tgt, _ = noisy_rotation(src, noise=0.05, seed=1)
    gold = [(w, w) for w in src.words]
    methods = args.synthetic_methods.split(",")
    for method in methods:
        if method == "adversarial" and "auto" in methods:
            continue  # auto trains the same adversarial maps: its candidate gives this row
        cfg = AlignConfig(method=method, seed=args.seed, device=str(device), restarts=args.restarts,
                          adv_epochs=args.adv_epochs, adv_epoch_size=args.adv_epoch_size)
        t0 = time.perf_counter()
        result = align(src, tgt, cfg, progress=args.progress)
        metrics = evaluate_mapping(src, tgt, result.mapping, gold, ks=(1,), device=str(device))
        common = {"n": args.synthetic_n, "dim": args.synthetic_dim, "noise": 0.05, "device": str(device),
                  "restarts": cfg.n_restarts(method), "adv_epochs": cfg.adv_epochs, "adv_epoch_size": cfg.adv_epoch_size}
        rows = [{**common, "method": method, "method_used": result.method_used, "fallback": result.fallback,
                 "csls_p@1": metrics["csls"]["p@1"], "nn_p@1": metrics["nn"]["p@1"], "criterion": result.criterion,
                 "wall_s": time.perf_counter() - t0, "align_s": result.timings.get("align"),
                 "restart_criteria": [r["criterion"] for r in result.restarts], "log": result.log}]
        candidate = result.candidates.get("adversarial")
        if "adversarial" in methods and candidate:
            adv = evaluate_mapping(src, tgt, candidate["mapping"], gold, ks=(1,), device=str(device))
            rows.append({**common, "method": "adversarial", "method_used": "adversarial", "fallback": False,
                         "csls_p@1": adv["csls"]["p@1"], "nn_p@1": adv["nn"]["p@1"],
                         "criterion": candidate["criterion"], "wall_s": candidate["seconds"],
                         "align_s": candidate["seconds"],
                         "from": "auto's adversarial candidate (wall_s: its training + refinement only)"})
        for row in rows:
            report["synthetic"].append(row)
            print(f"synthetic {args.synthetic_n}x{args.synthetic_dim} {row['method']:12s} CSLS P@1 "
                  f"{row['csls_p@1']:.2f} NN P@1 {row['nn_p@1']:.2f} {row['wall_s']:.1f}s", flush=True)
        save(report, args.out)


def run_csls_scale(args, device, report):
    n, d = args.csls_n, 300
    gen = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(n, d, generator=gen).to(device)
    y = torch.randn(n, d, generator=gen).to(device)
    x, y = unit_tensor(x), unit_tensor(y)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.max_memory_allocated(device)
    t0 = time.perf_counter()
    scores, idx = topk_csls(x, y, k=10, knn=10, backend="torch" if device.type == "cuda" else "auto", device=device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    row = {"n": n, "dim": d, "k": 10, "knn": 10, "seconds": time.perf_counter() - t0, "device": str(device)}
    if device.type == "cuda":
        row["max_memory_allocated_gb"] = torch.cuda.max_memory_allocated(device) / 2**30
        row["inputs_gb"] = base / 2**30
    report["csls_scale"].append(row)
    print(f"CSLS top-10 {n}x{n}x{d} on {device}: {row['seconds']:.2f}s"
          + (f", peak GPU memory {row['max_memory_allocated_gb']:.2f} GB" if "max_memory_allocated_gb" in row else ""),
          flush=True)
    save(report, args.out)


def save(report, out: str) -> None:
    out = Path(out)
    write_json(out / "textbench.json", report)
    write_text(out / "textbench.md", markdown(report))


def markdown(report) -> str:
    lines = [f"Environment: `{json.dumps(report['environment'])}`", ""]
    if report["textbench"]:
        lines += ["| pair | setting | method | used | CSLS P@1/5/10 | NN P@1/5/10 | coverage | criterion | wall s |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in report["textbench"]:
            c, nn = r["csls"], r["nn"]
            used = r["method_used"] + (" (fallback)" if r["fallback"] else "")
            lines.append(f"| {r['pair']} | {r['setting']} | {r['method']} | {used} | "
                         f"{c['p@1']:.1f} / {c['p@5']:.1f} / {c['p@10']:.1f} | "
                         f"{nn['p@1']:.1f} / {nn['p@5']:.1f} / {nn['p@10']:.1f} | {100 * r['coverage']:.1f}% | "
                         f"{r['criterion']:.3f} | {r['wall_s']:.0f} |")
        lines.append("")
    if report["synthetic"]:
        lines += ["| SYNTHETIC rotation + 5% noise | method | used | CSLS P@1 | NN P@1 | criterion | wall s |",
                  "|---|---|---|---|---|---|---|"]
        for r in report["synthetic"]:
            lines.append(f"| {r['n']}×{r['dim']} | {r['method']} | {r['method_used']} | {r['csls_p@1']:.2f} | "
                         f"{r['nn_p@1']:.2f} | {r['criterion']:.3f} | {r['wall_s']:.0f} |")
        lines.append("")
    for r in report["csls_scale"]:
        lines.append(f"CSLS top-10 over {r['n']}×{r['n']}×{r['dim']} on {r['device']}: {r['seconds']:.2f} s"
                     + (f", peak GPU memory {r['max_memory_allocated_gb']:.2f} GB" if "max_memory_allocated_gb" in r else ""))
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--textbench", default="/work/shared/bench/textbench", help="textbench folder")
    p.add_argument("--out", default=str(ROOT / "bench_out" / "textbench"), help="output folder")
    p.add_argument("--only", default="textbench,synthetic,csls", help="parts to run (comma-separated)")
    p.add_argument("--methods", default=",".join(METHODS), help="methods on the textbench pairs")
    p.add_argument("--pairs", default="", help="substrings selecting textbench pairs (default: all)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--restarts", type=int, default=None,
                   help="default: 3 for adversarial, selflearn and auto, 1 otherwise")
    p.add_argument("--multistep", action="store_true",
                   help="final AAAI-2018 multi-step map (whitening, re-weighting 0.5, de-whitening) for every method")
    p.add_argument("--adv-epochs", type=int, default=5)
    p.add_argument("--adv-epoch-size", type=int, default=1_000_000)
    p.add_argument("--synthetic-n", type=int, default=20_000)
    p.add_argument("--synthetic-dim", type=int, default=300)
    p.add_argument("--synthetic-methods", default="selflearn,adversarial,auto")
    p.add_argument("--csls-n", type=int, default=None, help="default: 200000 on CUDA, 20000 on CPU")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--log", action="store_true", help="print the aligners' log lines while they run")
    args = p.parse_args()
    args.progress = Progress(print_log_lines) if args.log else None
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    args.csls_n = args.csls_n or (200_000 if device.type == "cuda" else 20_000)
    settings = {k: v for k, v in vars(args).items() if k != "progress"}
    report = {"environment": environment(device), "args": settings, "textbench": [], "synthetic": [], "csls_scale": []}
    parts = args.only.split(",")
    if "csls" in parts:
        run_csls_scale(args, device, report)
    if "textbench" in parts:
        run_textbench(args, device, report)
    if "synthetic" in parts:
        run_synthetic(args, device, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
