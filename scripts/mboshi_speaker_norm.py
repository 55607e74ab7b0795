"""Does normalising MFCCs per speaker, or per voice cluster found without labels, raise cross-speaker
same-different AP of word segments on Mboshi dev? (issue 18, Deliver 3; session 12)

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/mboshi_speaker_norm.py --out runs/speaker-norm-s12

The sample is the session-9 one (`scripts/same_different.py --sets mboshi`: 2000 requested,
seed 0, segments >= 0.1 s of words said by >= 2 speakers: 1,508 segments). Every dev recording
(514) gets raw MFCCs (13, no CMVN, `core.features`); the frames are normalised (mean and
variance, `core.features_normalise.group_normalise`) over a group of recordings, then each word
segment is its span of the recording's normalised frames (as the feature store slices). Groups:

  utterance      each recording alone: the feature store's per-recording CMVN (the baseline)
  speaker        all dev recordings of the speaker (oracle: the corpus's speaker ids)
  voice_cluster  all dev recordings of the voice cluster: k-means on each recording's mean + std
                 of raw MFCC frames (z-scored), k in --ks, k chosen by the highest silhouette
                 (`core.features_normalise.voice_clusters`); no label of any kind is read
  corpus         all dev recordings in one group (a reference: pooled, but not per voice)

With --se-frames (session 9's cached speech-embedding frames of the same sample, 96-d, each
segment from its own audio, so there are no whole-recording frames): the same groups, but the
statistics are pooled over the sample's segment frames of the group; "none" (the frames as the
front end gives them, session 9's row) replaces "utterance".

Distances as session 9 (`core.discovery.same_different`): dtw (frame cosine DTW) and mean
(cosine of mean frames). Spread: the AP difference of each variant against the baseline (and of
speaker and voice_cluster against corpus) over --halves random halves of the segments (pairs with both segments in the half; the same halves for
both; as session 11's paired_subsample.py). Writes OUT/config.json (the cluster rule, before anything is scored),
OUT/metrics.json and OUT/log.txt; raw frames are cached in --cache.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.discovery.same_different import (average_precision, cosine_distances, cross_speaker_pairs,  # noqa: E402
                                           dtw_distances, half_pair_masks, mean_pooled, same_pairs)
from core.discovery.segments_io import cached_frames, sample_cross_speaker  # noqa: E402
from core.features import FeatureConfig, extract_features, span_frames  # noqa: E402
from core.features_normalise import group_normalise, voice_clusters  # noqa: E402

VARIANTS = ("utterance", "speaker", "voice_cluster", "corpus")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--cache", default=str(ROOT / "build" / "discovery"))
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--methods", default="dtw,mean")
    p.add_argument("--ks", default="2,3,4", help="voice clusters: candidate k (default 2,3,4)")
    p.add_argument("--segments", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--halves", type=int, default=200, help="random halves for the spread of AP differences")
    p.add_argument("--se-frames", default=str(ROOT / "build" / "discovery" / "mboshi_n2000_s0_speech-embedding.npz"),
                   help="speech-embedding frames of the sample (session 9's cache); '' to skip")
    args = p.parse_args(argv)

    import torch

    from core.audio import load_audio
    from core.corpus.readers import read_corpus

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_file = (out / "log.txt").open("w")

    def log(*parts):
        line = " ".join(str(x) for x in parts)
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    t_all = time.time()
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"error: unknown variants {sorted(unknown)} (choose from {', '.join(VARIANTS)})")
    ks = [int(k) for k in args.ks.split(",")]
    features = FeatureConfig(cmvn=False)
    config = vars(args) | {
        "torch_threads": torch.get_num_threads(),
        "features": features.to_dict(),
        "sample_rule": "session 9: segments >= 0.1 s of words said by >= 2 speakers, uniform sample "
                       "(core.discovery.segments_io.sample_cross_speaker)",
        "normalisation": "mean and variance per dimension over all frames (silence included) of every "
                         "dev recording of the group (core.features_normalise.group_normalise); a "
                         "segment = its span of the recording's normalised frames",
        "voice_cluster_rule": f"per recording mean + std of raw MFCC frames (26 dims), z-scored over "
                              f"the 514 dev recordings; sklearn KMeans (n_init 10, random_state "
                              f"{args.seed}) for k in {ks}; k = the highest mean silhouette "
                              f"(Euclidean, same space); fixed before any AP was computed",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    full, _ = read_corpus(Path(args.data) / "speech" / "mboshi", "mboshi", split="dev")
    table = sample_cross_speaker(full, args.segments, seed=args.seed)
    labels, speakers = list(table.label), list(table.speaker)
    methods = args.methods.split(",")
    pair_a, pair_b = cross_speaker_pairs(speakers)
    same = same_pairs(labels, pair_a, pair_b)
    distances = {}  # (front end, variant, method) -> distances of the pairs

    def score(frontend, name, frames):
        """same_different's result (every segment kept) and the distances, kept for the spread."""
        if any(len(f) == 0 for f in frames):
            raise SystemExit(f"error: {frontend} {name}: a segment has no frames")
        r = {"segments": len(frames), "speakers": len(set(speakers)), "word_types": len(set(labels)),
             "pairs": int(len(pair_a)), "same_pairs": int(same.sum()), "chance": float(same.mean())}
        for method in methods:
            d = (dtw_distances(frames, pair_a, pair_b) if method == "dtw"
                 else cosine_distances(mean_pooled(frames), pair_a, pair_b))
            distances[frontend, name, method] = d
            r[f"ap_{method}"] = average_precision(d, same)
        return r

    # raw MFCCs of every dev recording
    audios = sorted(full.indices_by_audio())
    speaker_of = {}
    for i in range(len(full)):
        speaker_of[full.audio[i]] = str(full.speaker[i])
    t = time.time()

    def compute():
        return extract_features([load_audio(a, 16000)[0] for a in audios], features, device="cpu")

    raw = cached_frames(Path(args.cache), f"mboshi_dev_recordings{len(audios)}_rawmfcc", compute)
    log(f"{len(audios)} dev recordings, {sum(len(f) for f in raw)} frames, raw MFCC in {time.time() - t:.0f} s; "
        f"sample: {len(table)} segments")
    rec_speaker = [speaker_of[a] for a in audios]

    # voice clusters, without labels
    t = time.time()
    clusters, info = voice_clusters(raw, ks=ks, seed=args.seed)
    table_counts = collections.Counter(zip(clusters.tolist(), rec_speaker))
    from sklearn.metrics import adjusted_rand_score

    info = {"k": info["k"], "silhouette": {str(k): round(v, 4) for k, v in info["silhouette"].items()},
            "sizes": np.bincount(clusters).tolist(),
            "cluster_x_speaker (diagnostic only)": {f"{c}|{s}": n for (c, s), n in sorted(table_counts.items())},
            "adjusted_rand_vs_speakers (diagnostic only)": round(float(adjusted_rand_score(rec_speaker, clusters)), 4),
            "time_s": round(time.time() - t, 1)}
    log("voice clusters:", json.dumps(info))
    groups_of = {"utterance": audios, "speaker": rec_speaker,
                 "voice_cluster": [f"c{c}" for c in clusters], "corpus": ["all"] * len(audios)}
    metrics = {"set": "mboshi dev", "voice_clusters": info, "variants": {}}
    row_of = {a: k for k, a in enumerate(audios)}

    for name in variants:
        t = time.time()
        normed = group_normalise(raw, groups_of[name])
        frames = []
        for i in range(len(table)):
            f = normed[row_of[table.audio[i]]]
            frames.append(f[span_frames(table.start[i], table.end[i], len(f), features)])
        if name == "utterance":  # the feature store's own frames (session 9's cache), as a check
            cached = Path(args.cache) / f"mboshi_n{args.segments}_s{args.seed}_mfcc.npz"
            if cached.is_file():
                z = np.load(cached)
                old = np.split(z["frames"], np.cumsum(z["lengths"])[:-1])
                same_len = all(len(a) == len(b) for a, b in zip(old, frames))
                diff = max(float(np.abs(a - b).max()) for a, b in zip(old, frames) if len(a)) if same_len else None
                log(f"  check vs session-9 frames: same lengths {same_len}, max |diff| {diff}")
                metrics["baseline_check_vs_session9_frames"] = {"same_lengths": same_len, "max_abs_diff": diff}
        r = score("mfcc", name, frames)
        r["groups"] = len(set(groups_of[name]))
        r["time_s"] = round(time.time() - t, 1)
        metrics["variants"][name] = r
        log(name, json.dumps(r))
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if args.se_frames and Path(args.se_frames).is_file():
        z = np.load(args.se_frames)
        se = np.split(z["frames"], np.cumsum(z["lengths"])[:-1])
        if len(se) != len(table):
            raise SystemExit(f"error: {args.se_frames} has {len(se)} segments, the sample {len(table)}")
        cluster_of_audio = dict(zip(audios, groups_of["voice_cluster"]))
        seg_groups = {"none": None, "speaker": speakers, "voice_cluster": [cluster_of_audio[a] for a in table.audio],
                      "corpus": ["all"] * len(table)}
        metrics["speech_embedding"] = {}
        for name in ["none"] + [v for v in variants if v != "utterance"]:
            t = time.time()
            frames = se if seg_groups[name] is None else group_normalise(se, seg_groups[name])
            r = score("speech-embedding", name, frames)
            r["time_s"] = round(time.time() - t, 1)
            metrics["speech_embedding"][name] = r
            log("speech-embedding", name, json.dumps(r))
            (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    # spread of AP differences against each front end's baseline, over random halves of the segments
    t = time.time()
    halves = half_pair_masks(len(table), pair_a, pair_b, args.halves, args.seed)
    spread = {}
    comparisons = []
    for frontend, name, method in distances:
        baseline = "utterance" if frontend == "mfcc" else "none"
        if name != baseline:
            comparisons.append((frontend, name, method, baseline))
        if name in ("speaker", "voice_cluster") and (frontend, "corpus", method) in distances:
            comparisons.append((frontend, name, method, "corpus"))  # per voice vs pooled over all voices
    for frontend, name, method, base in comparisons:
        d, d0 = distances[frontend, name, method], distances[frontend, base, method]
        diffs = np.array([average_precision(d[m], same[m]) - average_precision(d0[m], same[m]) for m in halves])
        spread[f"{frontend} {method}: {name} - {base}"] = {
            "diff_full": average_precision(d, same) - average_precision(d0, same),
            "diff_mean": float(diffs.mean()), "diff_p2_5": float(np.percentile(diffs, 2.5)),
            "diff_p97_5": float(np.percentile(diffs, 97.5)), "share_above": float((diffs > 0).mean())}
        log("spread", f"{frontend} {method}: {name} - {base}", json.dumps(spread[f"{frontend} {method}: {name} - {base}"]))
    metrics["spread_over_halves"] = {"halves": args.halves, "differences": spread, "time_s": round(time.time() - t, 1)}
    metrics["time_s"] = round(time.time() - t_all, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log(f"total {metrics['time_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
