"""Why the energy path's trained encoder trails plain k-means on its own front end (Mboshi dev,
energy-reader segments, K = 781). Variants fixed in config_frontend_kmeans.json before scoring.

Exact commands (repository root, shared 2-core CPU, one job per core; wall times in README.md):

    S=/tmp/s13vad   # stores and runs of the energy addendum (README), plus:
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py corpus build $S/dev --reader energy \
        --frontend speech-embedding --workers 0 --quiet --out $S/store_energy_se_raw
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py train-speech $S/store_energy_se \
        --learner unit-skipgram --config VAD --clusters 781 --device cpu --quiet --seed 0 --epochs 10 \
        --out $S/run_energy_se_ep10
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python docs/runs/2026-12-06-s13-cpu-mboshi-vad-path/kmeans_on_frontend.py

Scoring is score_vad_path.py's (same reference, zrc_eval.evaluate, clusters_from_labels, clean,
print_table). Writes metrics_frontend_kmeans.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import score_vad_path as svp  # noqa: E402  (puts the repository root on sys.path)

from core.atomic import load_safetensors  # noqa: E402
from core.corpus.feature_store import FeatureStore  # noqa: E402
from core.corpus.readers import read_corpus  # noqa: E402
from core.discovery.term_discovery import clusters_from_labels, kmeans_clusters, speaker_centred  # noqa: E402
from core.discovery.zrc_eval import evaluate, reference_from_table  # noqa: E402
from core.speech import clustering  # noqa: E402
from core.speech.runner import SEGMENTS_FILE  # noqa: E402

S = Path("/tmp/s13vad")
K = 781
SEEDS = (0, 1, 2)
ENC3 = {0: S / "run_energy_se", 1: S / "run_energy_se_s1", 2: S / "run_energy_se_s2"}
ENC10 = S / "run_energy_se_ep10"


def mean_pooled(store) -> np.ndarray:
    dim = store.dim
    return np.stack([f.mean(0) if len(f) else np.ones(dim, np.float32)
                     for f in (np.asarray(store.features(i), np.float64) for i in range(store.n_segments))])


def group(emb, seed):
    g = clustering.group_by_kmeans(emb, np.arange(len(emb)), K, 25, seed, "auto")
    return g.type_of


def main() -> int:
    cfg = json.loads((HERE / "config_frontend_kmeans.json").read_text())
    t0 = time.time()
    table, _ = read_corpus(svp.ROOT.parent / "shared" / "data" / "speech" / "mboshi", "mboshi", split="dev")
    reference = reference_from_table(table)
    out = {"config": "config_frontend_kmeans.json", "reference": None, "systems": {}}
    std = FeatureStore.open(S / "store_energy_se")
    seg = std.table
    utts = [Path(a).stem for a in seg.audio]
    spans = list(zip(np.asarray(seg.start, float).tolist(), np.asarray(seg.end, float).tolist()))
    speakers = list(std.speakers)

    def score(name, labels, **extra):
        labels = np.asarray(labels, np.int64)
        assert len(labels) == len(utts) and (labels >= 0).all()
        m = evaluate(clusters_from_labels(utts, spans, labels), reference)
        out["reference"] = m.pop("reference")
        m = svp.clean(m)
        m.update(extra)
        out["systems"][name] = m
        print(name, f"NED {100 * m['ned']:.1f}", json.dumps(extra), flush=True)

    def same_segments(store):
        t = store.table
        assert [Path(a).stem for a in t.audio] == utts
        assert np.array_equal(np.asarray(t.start, float), np.asarray(seg.start, float))
        assert np.array_equal(np.asarray(t.end, float), np.asarray(seg.end, float))

    # (a) the standardised store's mean-pooled frames; (a0) the unstandardised store's
    stores = {"a_std": std}
    if (S / "store_energy_se_raw").is_dir():
        stores["a0_raw"] = FeatureStore.open(S / "store_energy_se_raw")
        same_segments(stores["a0_raw"])
    for tag, store in stores.items():
        pooled = mean_pooled(store)
        centred = speaker_centred(pooled, speakers)
        for seed in SEEDS:
            score(f"{tag}_meanpool_seed{seed}", group(pooled, seed), frontend=store.header["frontend"]["name"])
            score(f"{tag}_meanpool_spk_seed{seed}", group(centred, seed), frontend=store.header["frontend"]["name"])
        if tag == "a0_raw":
            labels, _ = kmeans_clusters(centred.astype(np.float32), K, seed=0)
            score("a0_raw_meanpool_spk_s9kmeans_seed0", labels, note="session 9's kmeans_clusters call")
    # (b) the trained encoder's segment embeddings (3 epochs), (c) 10 epochs
    encs = [("b_enc3", seed, ENC3[seed]) for seed in SEEDS]
    if (ENC10 / SEGMENTS_FILE).is_file():
        encs.append(("c_enc10", 0, ENC10))
    for tag, seed, run in encs:
        t = load_safetensors(run / SEGMENTS_FILE)
        emb, own = t["embedding"].astype(np.float32), t["type_of"].astype(np.int64)
        run_seed = json.loads((run / "config.json").read_text())["speech"]["seed"]
        assert run_seed == seed, (run, run_seed)
        score(f"{tag}_pathtypes_seed{seed}", own, run=str(run))
        if tag == "b_enc3":
            mine = group(emb, seed)
            score(f"{tag}_seed{seed}", mine, run=str(run), same_as_path_types=bool(np.array_equal(mine, own)))
        score(f"{tag}_spk_seed{seed}", group(speaker_centred(emb, speakers), seed), run=str(run))
    groups: dict = {}
    for name, m in out["systems"].items():
        groups.setdefault(name.rsplit("_seed", 1)[0], []).append(m["ned"])
    out["over_seeds"] = {p: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else None,
                             "min": float(np.min(v)), "max": float(np.max(v)), "n": len(v)}
                         for p, v in groups.items()}
    out["variants_in_config"] = sorted(cfg["variants"])
    out["time_s"] = round(time.time() - t0, 1)
    (HERE / "metrics_frontend_kmeans.json").write_text(json.dumps(out, indent=2) + "\n")
    for p, v in out["over_seeds"].items():
        print(f"{p}: NED {100 * v['mean']:.1f}" + (f" ± {100 * v['std']:.1f}" if v["std"] is not None else "")
              + f"  ({', '.join(f'{100 * m:.1f}' for m in groups[p])})")
    svp.print_table(out | {"session9": {}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
