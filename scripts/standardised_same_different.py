"""Standardised speech embedding on the so762 test and SYNTHETIC sets: cross-speaker same-different
AP of word segments (issue 18, Deliver 1; session 13)

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/standardised_same_different.py --out runs/sd-std-s13

Segments and their frames: session 9's samples and cached speech-embedding frames
(`scripts/same_different.py` defaults: so762 test 2,000 segments seed 0; synthetic 200 words x 6
held-out voices). Statistics: mean / std per dimension over all frames of --recordings whole
speechocean762 TRAIN recordings (seed --fit-seed), the sample and cache of
scripts/mboshi_standardise_fit.py (what a store built from so762 train would carry). The synthetic
set gets the same so762-train statistics (another corpus's statistics). AP: core.discovery.same_different
(dtw and mean), for "none" (raw frames) and the standardised frames.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mboshi_standardise_fit import ROOT, recordings, standardise  # noqa: E402

from core.corpus.standardise import sample_recordings  # noqa: E402
from core.discovery.same_different import same_different  # noqa: E402
from core.discovery.segments_io import cached_frames, sample_cross_speaker  # noqa: E402
from core.features_normalise import group_stats  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--cache", default=str(ROOT / "build" / "discovery"))
    p.add_argument("--so762-table", default=str(ROOT / "build" / "so762" / "segments_test.tsv"))
    p.add_argument("--sets", default="so762,synthetic")
    p.add_argument("--segments", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--recordings", type=int, default=200)
    p.add_argument("--fit-seed", type=int, default=0)
    p.add_argument("--methods", default="dtw,mean")
    args = p.parse_args(argv)
    from core.segments import SegmentTable

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(args.cache)
    t_all = time.time()
    paths = sample_recordings(recordings(Path(args.data), "so762-train"), args.recordings, args.fit_seed)
    key = f"so762-train_rec{len(paths)}_s{args.fit_seed}_speech-embedding"

    def missing():
        raise SystemExit("error: cached frames missing (session 9's samples / scripts/mboshi_standardise_fit.py)")

    fit_frames = cached_frames(cache, key, missing)
    if len(fit_frames) != len(paths):
        raise SystemExit(f"error: {key} has {len(fit_frames)} recordings, the sample {len(paths)}")
    mean, std = group_stats(fit_frames, ["all"] * len(fit_frames))["all"]
    config = vars(args) | {"fit": "so762-train", "fit_cache": key,
                           "fit_frames": int(sum(len(f) for f in fit_frames)),
                           "recordings_picked": [Path(a).stem for a in paths],
                           "fit_rule": "mean and std (1/N) per dimension over all frames of the sampled whole "
                                       "recordings; applied as (x - mean) / max(std, STD_FLOOR)"}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    metrics = {"fit": {"corpus": "so762-train", "recordings": len(paths), "frames": config["fit_frames"]},
               "sets": {}}
    for set_name in args.sets.split(","):
        if set_name == "so762":
            table = sample_cross_speaker(SegmentTable.load(args.so762_table), args.segments, seed=args.seed)
            labels, speakers = list(table.label), list(table.speaker)
            frames_key = f"so762_n{args.segments}_s{args.seed}_speech-embedding"
        elif set_name == "synthetic":
            meta = json.loads((cache / "synthetic_w200_v6.labels.json").read_text())
            labels, speakers = meta["labels"], meta["speakers"]
            frames_key = "synthetic_w200_v6_speech-embedding"
        else:
            raise SystemExit(f"error: unknown set {set_name!r}")
        se = cached_frames(cache, frames_key, missing)
        if len(se) != len(labels):
            raise SystemExit(f"error: {frames_key} has {len(se)} segments, the sample {len(labels)}")
        metrics["sets"][set_name] = {}
        for row, frames in (("none", se), ("so762-train", standardise(se, mean, std))):
            t = time.time()
            r = same_different(frames, labels, speakers, methods=args.methods.split(","))
            r["time_s"] = round(time.time() - t, 1)
            metrics["sets"][set_name][row] = r
            print(set_name, row, json.dumps(r), flush=True)
            (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    metrics["time_s"] = round(time.time() - t_all, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"total {metrics['time_s']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
