"""How adversarial training time grows with the number of restarts trained side by side.

Trains R stacked maps (`core.alignment.adversarial.train_adversarial`) for one short epoch on the
SYNTHETIC 20k x 300 rotation + 5 % noise pair, with the MUSE discriminator (2 x 2048), for each R
asked for, and prints seconds per 1M samples per run and per stack, side by side in one process.

    python3 scripts/bench_adversarial_stack.py --device cuda --stacks 1,2,3,4 --samples 96000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.alignment import AlignConfig, adversarial  # noqa: E402
from core.alignment.base import RunLog, random_orthogonal  # noqa: E402
from core.alignment.mapping import preprocess_pair  # noqa: E402
from core.alignment.synthetic import noisy_rotation, structured_space  # noqa: E402
from core.retrieval import resolve_device  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto")
    p.add_argument("--stacks", default="1,2,3,4", help="numbers of restarts trained side by side")
    p.add_argument("--samples", type=int, default=96_000, help="samples per timed epoch (batch 32)")
    p.add_argument("--repeats", type=int, default=3, help="timed epochs per stack size (median reported)")
    p.add_argument("--out", default="", help="JSON file for the rows")
    p.add_argument("--profile", action="store_true",
                   help="instead: torch.profiler table of GPU kernel time of 200 eager iterations per stack size")
    args = p.parse_args()
    dev = resolve_device(args.device)
    src = structured_space(20_000, 300, seed=0)
    tgt, _ = noisy_rotation(src, noise=0.05, seed=1)
    _, _, x_np, y_np = preprocess_pair(src.vectors, tgt.vectors, "unit,center,unit", True, RunLog())
    x, y = torch.from_numpy(x_np).to(dev), torch.from_numpy(y_np).to(dev)
    # one epoch of `samples`; the criterion is skipped by giving it one word (it is not what is timed)
    cfg = AlignConfig(adv_epochs=1, adv_epoch_size=args.samples, criterion_words=2, health_check_every=10**9)
    if args.profile:
        return profile(x, y, [int(s) for s in args.stacks.split(",")])
    rows = []
    for stack in (int(s) for s in args.stacks.split(",")):
        w0 = torch.stack([random_orthogonal(300, torch.Generator().manual_seed(r)) for r in range(stack)]).to(dev)
        times = []
        for _ in range(args.repeats + 1):  # the first one records the graph and warms up
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            t0 = time.perf_counter()
            adversarial.train_adversarial(x, y, w0, cfg, RunLog(), seed=0, labels=[f"run {r}" for r in range(stack)])
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            times.append(time.perf_counter() - t0)
        median = statistics.median(times[1:])
        per_million = median * 1_000_000 / args.samples
        rows.append({"restarts_side_by_side": stack, "samples": args.samples, "seconds": times,
                     "median_s": median, "s_per_1M_samples_stack": per_million,
                     "s_per_1M_samples_per_run": per_million / stack})
        print(f"{stack} side by side: {median:.2f} s per {args.samples} samples (median of {args.repeats}); "
              f"{per_million:.1f} s per 1M-sample epoch of the stack, {per_million / stack:.1f} s per run", flush=True)
    env = {"device": str(dev), "torch": torch.__version__,
           "gpu": torch.cuda.get_device_name(dev) if dev.type == "cuda" else None}
    if args.out:
        Path(args.out).write_text(json.dumps({"environment": env, "rows": rows}, indent=1))
    return 0


def profile(x, y, stacks: list[int]) -> int:
    """Kernel-time table of eager iterations (no graph, so kernels are named): is the step
    bound by kernel work or by the gaps between kernels?"""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    cfg = AlignConfig()
    bs = cfg.adv_batch_size
    targets = torch.cat([torch.full((bs,), 1 - cfg.dis_smooth), torch.full((bs,), cfg.dis_smooth)]).to(x.device)
    for stack in stacks:
        dis = adversarial.StackedDiscriminator(stack, x.shape[1], cfg, x.device)
        w = torch.eye(x.shape[1], device=x.device).repeat(stack, 1, 1)
        lr = torch.full((stack,), cfg.map_lr, device=x.device)

        def iteration():
            for _ in range(cfg.dis_steps):
                adversarial.dis_step(dis, x, y, w, 20_000, 20_000, cfg, None, targets)
            adversarial.map_step(dis, w, x, y, 20_000, 20_000, cfg, None, targets, lr)

        for _ in range(20):
            iteration()
        torch.cuda.synchronize()
        with torch_profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            t0 = time.perf_counter()
            for _ in range(200):
                iteration()
            torch.cuda.synchronize()
            wall = time.perf_counter() - t0
        events = prof.key_averages()
        on_gpu = [e for e in events if e.device_type.name == "CUDA"]  # kernel rows (op rows would count them twice)
        gpu_us = sum(e.self_device_time_total for e in on_gpu) / 200
        kernels = sum(e.count for e in on_gpu) / 200
        print(f"stack {stack}: {1e6 * wall / 200:.0f} us wall per eager iteration, {gpu_us:.0f} us of GPU kernel "
              f"time, about {kernels:.0f} kernels")
        print(events.table(sort_by="self_cuda_time_total", row_limit=15))
    return 0


if __name__ == "__main__":
    sys.exit(main())
