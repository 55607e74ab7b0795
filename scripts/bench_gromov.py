"""Time the Gromov–Wasserstein start (core.alignment.gromov.gromov_start) on the CPU and, when there is
one, the GPU, in one run: medians of --repeats, and the pairs of the two devices compared.

    .venv/bin/python scripts/bench_gromov.py [--source 1000] [--target 2000] [--eps 0.005 0.01] [--repeats 3]

Inputs: SYNTHETIC spaces (core.alignment.synthetic: a structured 50-d space and a noisy rotation of it,
rows shuffled), the sizes B's alignment uses (1,000 speech types × 2,000 text words). Prints one JSON
line per (device, ε) and a table last.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.alignment.base import AlignConfig, RunLog
from core.alignment.gromov import gromov_start
from core.alignment.synthetic import noisy_rotation, structured_space


def unit(a: torch.Tensor) -> torch.Tensor:
    return a / a.norm(dim=1, keepdim=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=int, default=1000)
    ap.add_argument("--target", type=int, default=2000)
    ap.add_argument("--eps", type=float, nargs="+", default=[0.005, 0.01])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    src = structured_space(args.target, 50, seed=0)
    tgt, _ = noisy_rotation(src, noise=0.3, seed=1)
    x = unit(torch.from_numpy(src.vectors))
    y = unit(torch.from_numpy(tgt.vectors))
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for eps in args.eps:
        cfg = AlignConfig(gw_source_words=args.source, gw_target_words=args.target)
        pairs = {}
        for dev in devices:
            xd, yd = x.to(dev), y.to(dev)
            gromov_start(xd[:50], yd[:100], AlignConfig(gw_source_words=50, gw_target_words=100), RunLog(), eps)  # warm-up
            times = []
            for _ in range(args.repeats):
                if dev == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                p = gromov_start(xd, yd, cfg, RunLog(), eps)
                if dev == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - t)
            pairs[dev] = p.cpu()
            row = {"device": dev, "eps": eps, "source": args.source, "target": args.target,
                   "median_s": statistics.median(times), "runs_s": [round(v, 3) for v in times],
                   "torch_threads": torch.get_num_threads(),
                   "name": torch.cuda.get_device_name() if dev == "cuda" else "cpu"}
            rows.append(row)
            print(json.dumps(row), flush=True)
        if "cuda" in pairs:
            same = float((pairs["cpu"][:, 1] == pairs["cuda"][:, 1]).float().mean())
            print(json.dumps({"eps": eps, "cpu_cuda_same_target": same}), flush=True)
    print("| device | ε | median s | runs |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} ({r['torch_threads']} threads) | {r['eps']:g} | {r['median_s']:.2f} | {r['runs_s']} |")


if __name__ == "__main__":
    main()
