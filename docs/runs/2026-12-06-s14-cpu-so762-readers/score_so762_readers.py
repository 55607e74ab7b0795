"""The app's label-free readers (energy, vad) with their DEFAULT options on English read speech
(speechocean762 test speakers), scored as spoken-term discovery with the ZeroSpeech 2017 track 2
measures exactly as session 13 scored them on Mboshi dev (docs/runs/2026-12-06-s13-cpu-mboshi-vad-path,
score_vad_path.py): core.discovery.zrc_eval.evaluate, reference from a labelled SegmentTable via
reference_from_table (letters spread evenly over each word as units). The reference here is the
forced alignment build/so762/segments_test.tsv (scripts/align_corpus.py --reader speechocean762).

Exact commands (repository root, shared 2-core CPU, one job per core; wall times in README.md):

    # 1. the 2,500 test utterances, one folder per speaker (the readers' speaker = the sub-folder)
    mkdir -p /tmp/s14so/test && cd /tmp/s14so/test && \\
      awk -F'\\t' 'NR>1{print $1"\\t"$2}' /work/shared/data/speech/speechocean762/test.tsv | \\
      while IFS=$'\\t' read u s; do mkdir -p $s; ln -sf /work/shared/data/speech/speechocean762/audio/$u.opus $s/$u.opus; done
    # 2. two stores, each reader with its default options
    export WORDBRIDGE_SPEECH_EMBEDDING=/work/main/carry/speech_embedding.safetensors
    S=/tmp/s14so
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py corpus build $S/test --reader energy \\
        --frontend speech-embedding --standardise --workers 0 --quiet --out $S/store_energy_se
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py corpus build $S/test --reader vad \\
        --frontend mfcc --workers 0 --quiet --out $S/store_vad_mfcc
    # 3. configuration VAD on the energy store, the app's default encoder there (mean), K = segments // 4
    K=$(( $(wc -l < $S/store_energy_se/segments.jsonl) / 4 ))
    for s in 0 1 2; do
      OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py train-speech $S/store_energy_se \\
          --learner unit-skipgram --config VAD --clusters $K --device cpu --quiet --seed $s \\
          --out $S/run_mean_energy_se_s$s
    done
    # 4. score (word times are read here for the first time)
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python docs/runs/2026-12-06-s14-cpu-so762-readers/score_so762_readers.py

Rows: each reader's segments with random cluster labels (K = segments // 4): the boundary, token and
type measures and coverage depend only on the fragments, and that row's NED is the random-label
control; then the energy path's k-means types per seed (only NED differs from the energy row).
Diagnostics per store: segment durations, reference word durations, and how many reference word
midpoints each fragment holds. The Mboshi dev rows are copied from the session-13 run's metrics.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from core.atomic import load_safetensors  # noqa: E402
from core.corpus.feature_store import FeatureStore  # noqa: E402
from core.discovery.term_discovery import clusters_from_labels  # noqa: E402
from core.discovery.zrc_eval import evaluate, reference_from_table  # noqa: E402
from core.segments import SegmentTable  # noqa: E402
from core.speech.runner import SEGMENTS_FILE  # noqa: E402

S13 = ROOT / "docs/runs/2026-12-06-s13-cpu-mboshi-vad-path"


def clean(m: dict) -> dict:
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in m.items()}


def fragments(store_dir: str, reference) -> dict:
    store = FeatureStore.open(store_dir)
    seg = store.table
    utts = [Path(a).stem for a in seg.audio]
    spans = list(zip(np.asarray(seg.start, float).tolist(), np.asarray(seg.end, float).tolist()))
    in_ref = np.array([u in reference.units for u in utts])
    dur = np.array([e - s for s, e in spans])
    mids = {u: np.array([(a + b) / 2 for a, b, _ in ws]) for u, ws in reference.words.items()}
    n_mid = np.array([int(((mids[u] >= s) & (mids[u] < e)).sum()) if u in mids else -1
                      for u, (s, e) in zip(utts, spans)])
    r = n_mid[in_ref]
    counts = [int((r == 0).sum()), int((r == 1).sum()), int((r == 2).sum()), int((r >= 3).sum())]
    fe = store.header.get("frontend") or {}
    meta = store.header.get("metadata") or {}
    return {"store": store, "utts": utts, "spans": spans, "in_ref": in_ref,
            "info": {"store": store_dir, "reader": meta.get("reader"),
                     "frontend": fe.get("name") + (f"({fe['inner']['name']})" if "inner" in fe else ""),
                     "segments": len(utts), "utterances": len(set(utts)),
                     "left_out_not_in_reference": int((~in_ref).sum()),
                     "segment_s_mean": round(float(dur[in_ref].mean()), 3),
                     "segment_s_median": round(float(np.median(dur[in_ref])), 3),
                     "fragments_holding_0_1_2_3plus_word_midpoints": counts,
                     "share_holding_exactly_one_word": round(counts[1] / max(1, sum(counts)), 4),
                     "speakers": len({s for s in store.speakers if s})}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default=str(ROOT / "build/so762/segments_test.tsv"))
    p.add_argument("--energy-store", default="/tmp/s14so/store_energy_se")
    p.add_argument("--vad-store", default="/tmp/s14so/store_vad_mfcc")
    p.add_argument("--runs", default="/tmp/s14so/run_mean_energy_se_s{seed}")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seed", type=int, default=0, help="seed of the random-label controls")
    p.add_argument("--out", default=str(HERE / "metrics.json"))
    args = p.parse_args(argv)
    t0 = time.time()
    table = SegmentTable.load(args.reference)
    reference = reference_from_table(table)
    wdur = np.asarray(table.end, float) - np.asarray(table.start, float)
    metrics = {"reference": None,
               "reference_words": {"file": str(Path(args.reference).relative_to(ROOT))
                                   if Path(args.reference).is_relative_to(ROOT) else args.reference,
                                   "words": len(table), "utterances": len(reference.words),
                                   "types": len(set(map(str, table.label))),
                                   "word_s_mean": round(float(wdur.mean()), 4),
                                   "word_s_median": round(float(np.median(wdur)), 4)},
               "stores": {}, "systems": {}}
    rng = np.random.default_rng(args.seed)

    def score(name, clusters, **extra):
        t = time.time()
        m = evaluate(clusters, reference)
        metrics["reference"] = m.pop("reference")
        m = clean(m)
        m.update(extra)
        m["eval_s"] = round(time.time() - t, 1)
        metrics["systems"][name] = m
        print(name, json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}), flush=True)

    frags = {}
    for reader, store_dir in (("energy", args.energy_store), ("vad", args.vad_store)):
        f = fragments(store_dir, reference)
        if f["info"]["reader"] != reader:
            raise SystemExit(f"{store_dir}: built with reader {f['info']['reader']!r}, not {reader}")
        frags[reader] = f
        metrics["stores"][reader] = f["info"]
        print(reader, json.dumps(f["info"]), flush=True)
        k = len(f["utts"]) // 4
        score(f"{reader}_reader_segments__random_labels",
              clusters_from_labels(f["utts"], f["spans"], rng.integers(0, k, len(f["utts"])), keep=f["in_ref"]),
              k=k, note="the reader's segments with random cluster labels: boundary/token/type/coverage are the "
                        "reader's; NED is the random-label control")
    f = frags["energy"]
    for s in [int(x) for x in args.seeds.split(",") if x]:
        run = Path(args.runs.format(seed=s))
        if not (run / SEGMENTS_FILE).is_file():
            print("missing", run, flush=True)
            continue
        type_of = load_safetensors(run / SEGMENTS_FILE)["type_of"].astype(np.int64)
        if len(type_of) != len(f["utts"]):
            raise SystemExit(f"{run}: {len(type_of)} types for {len(f['utts'])} segments")
        run_cfg = json.loads((run / "config.json").read_text())
        keep = f["in_ref"] & (type_of >= 0)
        score(f"energy_path_mean_encoder_speech_embedding_std_seed{s}",
              clusters_from_labels(f["utts"], f["spans"], type_of, keep=keep),
              run=str(run), k=int(type_of.max()) + 1, left_out_no_type=int((type_of < 0).sum()),
              speech_config={k: run_cfg["speech"].get(k) for k in
                             ("learner", "grouping", "clusters", "ac_encoder", "ac_epochs", "seed")})
    ms = [m for n, m in metrics["systems"].items() if n.startswith("energy_path_") and "__" not in n]
    if ms:
        metrics["over_seeds"] = {"energy_path_mean_encoder_speech_embedding_std": {
            key: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else None,
                  "min": float(np.min(v)), "max": float(np.max(v)), "n": len(v)}
            for key in ("ned", "coverage", "boundary_f", "token_f", "type_f") for v in [[m[key] for m in ms]]}}
    metrics["mboshi_dev_session13"] = mboshi_rows()
    metrics["time_s"] = round(time.time() - t0, 1)
    Path(args.out).write_text(json.dumps(metrics, indent=2) + "\n")
    print_table(metrics)
    return 0


def mboshi_rows() -> dict:
    """Session 13's Mboshi dev rows for the same readers (default options) and the same mean-encoder path."""
    out = {}
    keys = ("ned", "coverage", "fragments", "clusters", "boundary_precision", "boundary_recall", "boundary_f",
            "token_precision", "token_recall", "token_f", "type_precision", "type_recall", "type_f",
            "segment_s_mean", "segment_s_median", "fragments_holding_0_1_2_3plus_word_midpoints")
    for file, name in (("metrics.json", "vad_path_speech_embedding_std_seed0"),
                       ("metrics.json", "vad_path_speech_embedding_std_seed0__random_labels"),
                       ("metrics_energy.json", "energy_path_speech_embedding_std_seed0"),
                       ("metrics_energy.json", "energy_path_speech_embedding_std_seed0__random_labels"),
                       ("metrics_mean_encoder.json", "energy_path_mean_encoder_speech_embedding_std_seed0"),
                       ("metrics_mean_encoder.json", "energy_path_mean_encoder_speech_embedding_std_seed1"),
                       ("metrics_mean_encoder.json", "energy_path_mean_encoder_speech_embedding_std_seed2")):
        m = json.loads((S13 / file).read_text())["systems"][name]
        out[name] = {k: m[k] for k in keys if k in m} | {"from": str((S13 / file).relative_to(ROOT))}
    return out


def print_table(metrics: dict) -> None:
    def pct(v):
        return "–" if v is None else f"{100 * v:.1f}"

    print("| system | fragments / clusters | NED | coverage | boundary P / R / F | token P / R / F | type P / R / F |")
    print("|---|---|---|---|---|---|---|")
    rows = [(f"so762 {n}", m) for n, m in metrics["systems"].items()] + \
           [(f"Mboshi {n}", m) for n, m in metrics["mboshi_dev_session13"].items()]
    for name, m in rows:
        print(f"| {name} | {m['fragments']:,} / {m['clusters']:,} | {pct(m['ned'])} | {pct(m['coverage'])} | "
              + " | ".join(" / ".join(pct(m[f"{kind}_{x}"]) for x in ("precision", "recall", "f"))
                           for kind in ("boundary", "token", "type")) + " |")


if __name__ == "__main__":
    sys.exit(main())
