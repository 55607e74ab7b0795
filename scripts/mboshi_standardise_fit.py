"""Speech-embedding frames standardised with statistics fitted at store-build time, not on the
evaluated segments: cross-speaker same-different AP on Mboshi dev (issue 18; session 13)

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/mboshi_standardise_fit.py --out runs/standardise-fit-s13

Segments: session 9's sample (`scripts/same_different.py --sets mboshi`: 1,508 Mboshi dev
segments) and its cached speech-embedding frames (each segment from its own audio). Every row
divides the frames, per dimension, by nothing ("none") or by (x - mean) / std with:

  corpus        mean / std over the evaluated segments' own frames (session 12's transductive row)
  mboshi-train  over all frames of --recordings whole Mboshi train recordings (seed --fit-seed sample)
  mboshi-dev    the same over Mboshi dev recordings (the evaluated segments' recordings among them)
  so762-train   the same over speechocean762 train recordings (another corpus and language)

"Whole recording": the front end's frames of the recording's full audio (silence included), as a
store build would see them. Sample rule (fixed in OUT/config.json before any AP): the corpus
split's recordings sorted by path, numpy default_rng(seed).choice(n, min(--recordings, n),
replace=False). Distances and AP: `core.discovery.same_different` (dtw: frame cosine DTW; mean:
cosine of mean frames). Spread: the AP difference of --spread rows against "none" and "corpus"
over --halves random halves of the segments (as scripts/mboshi_speaker_norm.py).
Writes OUT/config.json, OUT/metrics.json, OUT/log.txt; recording frames are cached in --cache.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("WORDBRIDGE_SPEECH_EMBEDDING", str(ROOT / "carry" / "speech_embedding.safetensors"))

from core.discovery.same_different import (average_precision, cosine_distances, cross_speaker_pairs,  # noqa: E402
                                           dtw_distances, half_pair_masks, mean_pooled, same_pairs)
from core.discovery.segments_io import cached_frames, sample_cross_speaker, table_frames  # noqa: E402
from core.features_normalise import STD_FLOOR, group_stats  # noqa: E402
from core.corpus.standardise import sample_recordings  # noqa: E402

FITS = ("mboshi-train", "mboshi-dev", "so762-train")


def recordings(data: Path, fit: str) -> list[str]:
    """Audio paths of the split's recordings, sorted: Mboshi as its reader reads the split (what a
    store of it holds); speechocean762 from train.tsv (its reader force-aligns, which the fit
    does not need)."""
    if fit.startswith("mboshi"):
        from core.corpus.readers import read_corpus

        table, _ = read_corpus(data / "speech" / "mboshi", "mboshi", split=fit.split("-")[1])
        return sorted(table.indices_by_audio())
    root = data / "speech" / "speechocean762"
    with (root / "train.tsv").open(encoding="utf-8") as f:
        utts = [r["utterance"] for r in csv.DictReader(f, delimiter="\t")]
    return sorted(str(root / "audio" / f"{u}.opus") for u in utts if (root / "audio" / f"{u}.opus").is_file())


def standardise(frames, mean, std) -> list[np.ndarray]:
    return [((f.astype(np.float64) - mean) / np.maximum(std, STD_FLOOR)).astype(np.float32) for f in frames]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--cache", default=str(ROOT / "build" / "discovery"))
    p.add_argument("--se-frames", default=str(ROOT / "build" / "discovery" / "mboshi_n2000_s0_speech-embedding.npz"))
    p.add_argument("--segments", type=int, default=2000, help="session 9's sample request")
    p.add_argument("--recordings", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fit-seed", type=int, default=None, help="seed of the recording samples (default --seed)")
    p.add_argument("--halves", type=int, default=200)
    p.add_argument("--spread", default="mboshi-train,so762-train", help="rows whose difference to none and corpus gets a spread")
    args = p.parse_args(argv)
    args.fit_seed = args.seed if args.fit_seed is None else args.fit_seed

    import torch

    from core.audio import load_audio
    from core.corpus.readers import read_corpus
    from core.frontends import make_frontend

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_file = (out / "log.txt").open("w")

    def log(*parts):
        line = " ".join(str(x) for x in parts)
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    t_all = time.time()
    data = Path(args.data)
    fe = make_frontend({"name": "speech-embedding"})
    picked = {fit: sample_recordings(recordings(data, fit), args.recordings, args.fit_seed) for fit in FITS}
    config = vars(args) | {
        "torch_threads": torch.get_num_threads(), "frontend": fe.config(),
        "weights": os.environ["WORDBRIDGE_SPEECH_EMBEDDING"],
        "sample_rule": f"per fit corpus: its split's recordings sorted by path; numpy default_rng({args.fit_seed})"
                       f".choice(n, min({args.recordings}, n), replace=False), sorted; fixed before any AP",
        "fit_rule": "mean and std (1/N) per dimension over all frames of the sampled whole recordings "
                    "(core.features_normalise.group_stats); applied as (x - mean) / max(std, STD_FLOOR)",
        "recordings_picked": {fit: [Path(a).stem for a in paths] for fit, paths in picked.items()},
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    full, _ = read_corpus(data / "speech" / "mboshi", "mboshi", split="dev")
    table = sample_cross_speaker(full, args.segments, seed=args.seed)
    z = np.load(args.se_frames)
    se = np.split(z["frames"], np.cumsum(z["lengths"])[:-1])
    if len(se) != len(table):
        raise SystemExit(f"error: {args.se_frames} has {len(se)} segments, the sample {len(table)}")
    check = table_frames(table.subset(np.arange(20)), fe)  # the front end still gives session 9's frames
    diff = max(float(np.abs(a - b).max()) if a.shape == b.shape else float("inf") for a, b in zip(check, se))
    log(f"sample: {len(table)} segments; first 20 re-computed vs session-9 cache: max |diff| {diff:.2e}")
    metrics = {"set": "mboshi dev", "check_vs_session9_frames_max_abs_diff": diff, "fits": {}, "rows": {}}

    stats = {"none": None, "corpus": group_stats(se, ["all"] * len(se))["all"]}
    for fit, paths in picked.items():
        t = time.time()
        frames = cached_frames(Path(args.cache), f"{fit}_rec{len(paths)}_s{args.fit_seed}_speech-embedding",
                               lambda paths=paths: fe.batch_frames([load_audio(a, 16000)[0] for a in paths],
                                                                   device="cpu"))
        stats[fit] = group_stats(frames, ["all"] * len(frames))["all"]
        metrics["fits"][fit] = {"recordings": len(paths), "frames": int(sum(len(f) for f in frames)),
                                "mean_abs_mean": float(np.abs(stats[fit][0]).mean()),
                                "mean_std": float(stats[fit][1].mean()), "time_s": round(time.time() - t, 1)}
        shift, ratio = (stats[fit][0] - stats["corpus"][0]) / stats["corpus"][1], stats[fit][1] / stats["corpus"][1]
        metrics["fits"][fit]["vs_corpus (diagnostic)"] = {  # how far the fit is from the segments' own stats
            "mean_shift_in_corpus_std": {"mean_abs": float(np.abs(shift).mean()), "max_abs": float(np.abs(shift).max())},
            "std_ratio": {"median": float(np.median(ratio)), "min": float(ratio.min()), "max": float(ratio.max())}}
        log("fit", fit, json.dumps(metrics["fits"][fit]))

    labels, speakers = list(table.label), list(table.speaker)
    pair_a, pair_b = cross_speaker_pairs(speakers)
    same = same_pairs(labels, pair_a, pair_b)
    distances = {}
    for name, st in stats.items():
        t = time.time()
        frames = se if st is None else standardise(se, *st)
        r = {"pairs": int(len(pair_a)), "same_pairs": int(same.sum()), "chance": float(same.mean())}
        for method in ("mean", "dtw"):
            d = (dtw_distances(frames, pair_a, pair_b) if method == "dtw"
                 else cosine_distances(mean_pooled(frames), pair_a, pair_b))
            distances[name, method] = d
            r[f"ap_{method}"] = average_precision(d, same)
        r["time_s"] = round(time.time() - t, 1)
        metrics["rows"][name] = r
        log(name, json.dumps(r))
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    halves = half_pair_masks(len(table), pair_a, pair_b, args.halves, args.seed)  # same halves as scripts/mboshi_speaker_norm.py
    spread = {}
    for name in filter(None, args.spread.split(",")):  # --spread "" skips it
        for base in ("none", "corpus"):
            for method in ("mean", "dtw"):
                d, d0 = distances[name, method], distances[base, method]
                diffs = np.array([average_precision(d[m], same[m]) - average_precision(d0[m], same[m]) for m in halves])
                key = f"{method}: {name} - {base}"
                spread[key] = {"diff_full": average_precision(d, same) - average_precision(d0, same),
                               "diff_mean": float(diffs.mean()), "diff_p2_5": float(np.percentile(diffs, 2.5)),
                               "diff_p97_5": float(np.percentile(diffs, 97.5)), "share_above": float((diffs > 0).mean())}
                log("spread", key, json.dumps(spread[key]))
    metrics["spread_over_halves"] = {"halves": args.halves, "differences": spread}
    metrics["time_s"] = round(time.time() - t_all, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log(f"total {metrics['time_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
