"""The app's whole label-free path on Mboshi dev, scored as spoken-term discovery with the
ZeroSpeech 2017 track 2 measures exactly as session 9 scored its baseline (issue 18, Deliver 4):
vad reader -> store (MFCC, or the session-13 default: speech embedding standardised over the
corpus) -> `train-speech --learner unit-skipgram --config VAD` -> each VAD segment with its
k-means type -> core.discovery.zrc_eval against the silver word times (letters as units).

Exact commands (repository root, shared 2-core CPU, one job per core; wall times in README.md):

    # 1. the 514 dev recordings, one folder per speaker (the vad reader's speaker = the folder)
    mkdir -p /tmp/s13vad/dev && cd /tmp/s13vad/dev && \\
      awk -F'\\t' 'NR>1 && $3=="dev"{print $1"\\t"$2}' /work/shared/data/speech/mboshi/utterances.tsv | \\
      while IFS=$'\\t' read u s; do mkdir -p $s; ln -sf /work/shared/data/speech/mboshi/audio/$u.opus $s/$u.opus; done
    # 2. two stores, vad reader with its default options
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py corpus build /tmp/s13vad/dev --reader vad \\
        --frontend mfcc --workers 0 --quiet --out /tmp/s13vad/store_mfcc
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py corpus build /tmp/s13vad/dev --reader vad \\
        --frontend speech-embedding --standardise --workers 0 --quiet --out /tmp/s13vad/store_se
    # 3. configuration VAD on each, K = 1420 segments // 4 = 355, the CPU default epochs; seed 0 first,
    #    seeds 1 and 2 added after seed 0 was scored (out: run_mfcc, run_se for seed 0)
    for fe in mfcc se; do for s in 0 1 2; do
      OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py train-speech /tmp/s13vad/store_$fe \\
          --learner unit-skipgram --config VAD --clusters 355 --device cpu --quiet --seed $s \\
          --out /tmp/s13vad/run_$fe$( [ $s = 0 ] || echo _s$s )
    done; done
    # 4. score (word labels are read here for the first time, for the reference only)
    S=/tmp/s13vad
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python docs/runs/2026-12-06-s13-cpu-mboshi-vad-path/score_vad_path.py \\
        --system vad_path_mfcc_seed0=$S/store_mfcc,$S/run_mfcc \\
        --system vad_path_mfcc_seed1=$S/store_mfcc,$S/run_mfcc_s1 \\
        --system vad_path_mfcc_seed2=$S/store_mfcc,$S/run_mfcc_s2 \\
        --system vad_path_speech_embedding_std_seed0=$S/store_se,$S/run_se \\
        --system vad_path_speech_embedding_std_seed1=$S/store_se,$S/run_se_s1 \\
        --system vad_path_speech_embedding_std_seed2=$S/store_se,$S/run_se_s2 \\
        --out docs/runs/2026-12-06-s13-cpu-mboshi-vad-path

The same path with the energy reader (`--reader energy`, its default options; added after the vad
rows; K = 3124 segments // 4 = 781; writes metrics_energy.json instead of metrics.json, and checks
the store's segments against session 9's cached energy segments):

    S=/tmp/s13vad
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py corpus build $S/dev --reader energy \
        --frontend mfcc --workers 0 --quiet --out $S/store_energy_mfcc
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py corpus build $S/dev --reader energy \
        --frontend speech-embedding --standardise --workers 0 --quiet --out $S/store_energy_se
    for fe in mfcc se; do for s in 0 1 2; do
      OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py train-speech $S/store_energy_$fe \
          --learner unit-skipgram --config VAD --clusters 781 --device cpu --quiet --seed $s \
          --out $S/run_energy_$fe$( [ $s = 0 ] || echo _s$s )
    done; done
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python docs/runs/2026-12-06-s13-cpu-mboshi-vad-path/score_vad_path.py \
        --reader energy \
        --system energy_path_mfcc_seed0=$S/store_energy_mfcc,$S/run_energy_mfcc \
        --system energy_path_mfcc_seed1=$S/store_energy_mfcc,$S/run_energy_mfcc_s1 \
        --system energy_path_mfcc_seed2=$S/store_energy_mfcc,$S/run_energy_mfcc_s2 \
        --system energy_path_speech_embedding_std_seed0=$S/store_energy_se,$S/run_energy_se \
        --system energy_path_speech_embedding_std_seed1=$S/store_energy_se,$S/run_energy_se_s1 \
        --system energy_path_speech_embedding_std_seed2=$S/store_energy_se,$S/run_energy_se_s2 \
        --out docs/runs/2026-12-06-s13-cpu-mboshi-vad-path

Fragments are the store's segments (start/end from segments.jsonl via FeatureStore.table; the
utterance is the audio file's stem, the Mboshi utterance id); clusters are `type_of` of the run's
segments.safetensors (core.speech.runner.SEGMENTS_FILE). The reference is built with the code
scripts/term_discovery.py uses (read_corpus(..., "mboshi", split="dev") ->
zrc_eval.reference_from_table). Controls added per system: the same fragments with random
cluster labels (same K), which isolates what the k-means types add (only NED depends on the
clustering). Session 9's rows are copied from its metrics.json for context.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from core.atomic import load_safetensors  # noqa: E402
from core.corpus.feature_store import FeatureStore  # noqa: E402
from core.corpus.readers import read_corpus  # noqa: E402
from core.discovery.term_discovery import clusters_from_labels  # noqa: E402
from core.discovery.zrc_eval import evaluate, reference_from_table  # noqa: E402
from core.speech.runner import SEGMENTS_FILE  # noqa: E402

SESSION9_SEGMENTS = ROOT / "build" / "discovery" / "mboshi_dev_energy_segments.json"  # scripts/term_discovery.py
SESSION9 = {"speech_embedding": ROOT / "docs/runs/2026-12-06-s9-cpu-mboshi-zrc/metrics.json",
            "mfcc": ROOT / "docs/runs/2026-12-06-s9-cpu-mboshi-zrc-mfcc/metrics.json"}


def clean(m: dict) -> dict:
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in m.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", action="append", required=True, help="NAME=STORE_DIR,RUN_DIR (repeatable)")
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reader", choices=("vad", "energy"), default="vad",
                   help="the reader the stores were built with (checked against each store's header); "
                        "vad writes metrics.json, any other reader metrics_READER.json (default: vad)")
    p.add_argument("--session9-segments", default=str(SESSION9_SEGMENTS),
                   help="energy reader only: session 9's cached energy segments, compared with each store's")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    out = Path(args.out)
    metrics_file = out / ("metrics.json" if args.reader == "vad" else f"metrics_{args.reader}.json")
    t0 = time.time()
    table, _ = read_corpus(Path(args.data) / "speech" / "mboshi", "mboshi", split="dev")
    reference = reference_from_table(table)
    metrics = {"reference": None, "systems": {}, "session9": {}}
    if args.reader != "vad":  # the vad run's metrics.json keeps its original keys
        metrics["reader"] = args.reader
        metrics["segments_vs_session9"] = {}

    def score(name, clusters, **extra):
        t = time.time()
        m = evaluate(clusters, reference)
        metrics["reference"] = m.pop("reference")
        m = clean(m)
        m.update(extra)
        m["eval_s"] = round(time.time() - t, 1)
        metrics["systems"][name] = m
        print(name, json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}), flush=True)

    rng = np.random.default_rng(args.seed)
    for spec in args.system:
        name, paths = spec.split("=", 1)
        store_dir, run_dir = paths.split(",")
        store = FeatureStore.open(store_dir)
        store_reader = (store.header.get("metadata") or {}).get("reader")
        if store_reader != args.reader:
            raise SystemExit(f"{store_dir}: built with reader {store_reader!r}, not --reader {args.reader}")
        seg = store.table
        type_of = load_safetensors(Path(run_dir) / SEGMENTS_FILE)["type_of"].astype(np.int64)
        if len(type_of) != store.n_segments:
            raise SystemExit(f"{run_dir}: {len(type_of)} types for {store.n_segments} segments")
        utts = [Path(a).stem for a in seg.audio]
        spans = list(zip(np.asarray(seg.start, float).tolist(), np.asarray(seg.end, float).tolist()))
        if args.reader == "energy" and store_dir not in metrics["segments_vs_session9"]:
            metrics["segments_vs_session9"][store_dir] = compare_segments(utts, spans, Path(args.session9_segments))
            print("segments vs session 9", store_dir, json.dumps(metrics["segments_vs_session9"][store_dir]), flush=True)
        in_ref = np.array([u in reference.units for u in utts])
        keep = in_ref & (type_of >= 0)
        dur = np.array([e - s for s, e in spans])
        # how many reference words each fragment holds (word midpoints inside it): a diagnostic of the
        # segmentation only (the boundary/token/type measures above already score it)
        mids = {u: np.array([(a + b) / 2 for a, b, _ in ws]) for u, ws in reference.words.items()}
        n_mid = np.array([int(((mids[u] >= s) & (mids[u] < e)).sum()) for u, (s, e) in zip(utts, spans)])
        run_cfg = json.loads((Path(run_dir) / "config.json").read_text())
        fe = store.header.get("frontend") or {}
        extra = {"store": store_dir, "run": run_dir,
                 "frontend": fe.get("name") + (f"({fe['inner']['name']})" if "inner" in fe else ""),
                 "k": int(type_of.max()) + 1, "left_out_not_in_reference": int((~in_ref).sum()),
                 "left_out_no_type": int((type_of < 0).sum()),
                 "fragments_holding_0_1_2_3plus_word_midpoints": [int((n_mid == 0).sum()), int((n_mid == 1).sum()),
                                                                  int((n_mid == 2).sum()), int((n_mid >= 3).sum())],
                 "segment_s_mean": round(float(dur.mean()), 3), "segment_s_median": round(float(np.median(dur)), 3),
                 "speakers": sorted({s for s in store.speakers if s}),
                 "speech_config": {k: run_cfg["speech"].get(k) for k in
                                   ("learner", "grouping", "clusters", "ac_epochs", "batch_size", "ac_pair_rounds",
                                    "sg_epochs", "seed")}}
        score(name, clusters_from_labels(utts, spans, type_of, keep=keep), **extra)
        k = extra["k"]
        score(f"{name}__random_labels", clusters_from_labels(utts, spans, rng.integers(0, k, len(utts)), keep=keep),
              k=k, note="same fragments, random cluster labels (control for the clustering)")
    # seeds: systems named PREFIX_seedN are summarised per PREFIX (mean, sample std, min, max)
    groups: dict = {}
    for name, m in metrics["systems"].items():
        if "_seed" in name and "__" not in name:
            groups.setdefault(name.rsplit("_seed", 1)[0], []).append(m)
    metrics["over_seeds"] = {
        prefix: {key: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else None,
                       "min": float(np.min(v)), "max": float(np.max(v)), "n": len(v)}
                 for key in ("ned", "coverage", "boundary_f", "token_f", "type_f")
                 for v in [[m[key] for m in ms]]}
        for prefix, ms in groups.items()}
    for fe, path in SESSION9.items():
        s9 = json.loads(path.read_text())["systems"]
        for row in ("energy_kmeans_all", "gold_words_kmeans", "gold_words_random_labels"):
            metrics["session9"][f"{row}__{fe}"] = s9[row] | {"from": str(path.relative_to(ROOT))}
    metrics["time_s"] = round(time.time() - t0, 1)
    metrics_file.write_text(json.dumps(metrics, indent=2) + "\n")
    print_table(metrics)
    return 0


def compare_segments(utts: list, spans: list, path: Path) -> dict:
    """A store's (utterance, start, end) segments against session 9's cached energy segments
    (scripts/term_discovery.py: energy_segments of each dev utterance's audio, read by the mboshi reader)."""
    if not path.is_file():
        return {"session9_segments": str(path), "found": False}
    s9 = {u: sorted(map(tuple, v["spans"])) for u, v in json.loads(path.read_text()).items()}
    ours: dict = {}
    for u, sp in zip(utts, spans):
        ours.setdefault(u, []).append(tuple(sp))
    ours = {u: sorted(v) for u, v in ours.items()}
    count_differs = sorted(u for u in set(s9) | set(ours) if len(s9.get(u, [])) != len(ours.get(u, [])))
    max_diff = max((max(abs(a - c), abs(b - d)) for u in s9 if u not in count_differs
                    for (a, b), (c, d) in zip(s9[u], ours.get(u, []))), default=0.0)
    return {"session9_segments": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
            "found": True, "utterances": [len(s9), len(ours)],
            "segments": [sum(map(len, s9.values())), sum(map(len, ours.values()))],
            "utterances_with_other_count": len(count_differs), "max_abs_time_diff_s": float(max_diff),
            "identical": not count_differs and max_diff == 0.0}


def print_table(metrics: dict) -> None:
    def pct(v):
        return "–" if v is None else f"{100 * v:.1f}"

    print("| system | fragments / clusters | NED | coverage | boundary P / R / F | token P / R / F | type P / R / F |")
    print("|---|---|---|---|---|---|---|")
    rows = list(metrics["systems"].items()) + list(metrics["session9"].items())
    for name, m in rows:
        print(f"| {name} | {m['fragments']:,} / {m['clusters']:,} | {pct(m['ned'])} | {pct(m['coverage'])} | "
              + " | ".join(" / ".join(pct(m[f"{kind}_{x}"]) for x in ("precision", "recall", "f"))
                           for kind in ("boundary", "token", "type")) + " |")


if __name__ == "__main__":
    sys.exit(main())
