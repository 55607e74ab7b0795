"""Benchmark speech feature extraction: hours of audio per minute, on the CPU and (if present) CUDA.

Synthetic audio made in memory (noise plus tones, `--utterance-seconds` long utterances) goes
through `core.features.extract_features` exactly as the feature store build uses it. Prints one
JSON line per device.

    .venv/bin/python scripts/bench_features.py --hours 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def synthetic_utterances(hours: float, seconds: float, seed: int = 0) -> list[np.ndarray]:
    """Noise plus a few tones per utterance, 16 kHz float32 (speech-like levels, not speech)."""
    rng = np.random.default_rng(seed)
    n = max(1, int(round(hours * 3600 / seconds)))
    length = int(seconds * 16000)
    t = np.arange(length, dtype=np.float32) / 16000
    out = []
    for _ in range(n):
        x = 0.02 * rng.standard_normal(length).astype(np.float32)
        for f in rng.uniform(100, 3000, size=3):
            x += np.float32(0.1) * np.sin(np.float32(2 * np.pi * f) * t)
        out.append(x)
    return out


def bench(waves, config, device: str, batch_seconds: float, repeats: int, frontend=None) -> dict:
    """Time extract_features (or a front end's batch_frames) over all waves on one device (best of
    `repeats`, after a warm-up)."""
    import torch

    from core.features import extract_features

    batch = int(batch_seconds * 16000)
    if frontend is not None:
        def extract_features(w, _config, device, max_batch_samples):  # noqa: F811 - same call, other front end
            return frontend.batch_frames(w, device=device, max_batch_samples=max_batch_samples)
    extract_features(waves[:4], config, device=device, max_batch_samples=batch)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        feats = extract_features(waves, config, device=device, max_batch_samples=batch)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    hours = sum(len(w) for w in waves) / 16000 / 3600
    frames = sum(len(f) for f in feats)
    return {"device": device, "hours": round(hours, 3), "seconds": round(best, 3),
            "hours_per_minute": round(hours / (best / 60), 2), "frames": frames}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--hours", type=float, default=1.0, help="hours of synthetic audio")
    parser.add_argument("--utterance-seconds", type=float, default=10.0, help="utterance length")
    parser.add_argument("--kind", choices=["mfcc", "logmel"], default="mfcc", help="feature kind")
    parser.add_argument("--frontend", default=None,
                        help="time this core.frontends front end instead (e.g. speech-embedding)")
    parser.add_argument("--deltas", action="store_true", help="append deltas (39 dims)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    parser.add_argument("--batch-seconds", type=float, default=600.0,
                        help="audio per batch (padding included)")
    parser.add_argument("--devices", default="auto", help="comma list (cpu,cuda) or auto")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per device (best kept)")
    args = parser.parse_args(argv)

    import torch

    from core.features import FeatureConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    devices = (["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
               if args.devices == "auto" else args.devices.split(","))
    config = FeatureConfig(kind=args.kind, deltas=args.deltas)
    waves = synthetic_utterances(args.hours, args.utterance_seconds)
    frontend = None
    if args.frontend:
        from core.frontends import make_frontend

        frontend = make_frontend({"name": args.frontend})
    for device in devices:
        result = bench(waves, config, device, args.batch_seconds, args.repeats, frontend)
        result.update({
            "feature_config": frontend.config() if frontend else config.to_dict(), "utterance_seconds": args.utterance_seconds,
            "batch_seconds": args.batch_seconds, "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        })
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
