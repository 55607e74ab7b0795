"""Addendum 3: the app's own command with the parameter-free acoustic encoder (ac_encoder = "mean",
core/speech/acoustic.MeanPoolEncoder, commit 4b98904) on the energy stores, scored exactly as the energy
rows (score_vad_path.main with --reader energy: same reference, zrc_eval.evaluate, random-label control,
over_seeds). Writes metrics_mean_encoder.json. Also checks each run's types against addendum 2's (a):
kmeans_on_frontend.group on kmeans_on_frontend.mean_pooled, no speaker centring, same seed.

Exact commands (repository root, shared 2-core CPU, one queue per store, one job per core):

    S=/tmp/s13vad; D=docs/runs/2026-12-06-s13-cpu-mboshi-vad-path
    for fe in se mfcc; do for s in 0 1 2; do
      OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python main.py train-speech $S/store_energy_$fe \
          --learner unit-skipgram --config VAD --clusters 781 --device cpu --quiet --seed $s \
          --config-file $D/mean_encoder.toml --out $S/run_mean_energy_${fe}_s$s
    done; done
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python $D/score_mean_encoder.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import score_vad_path as svp  # noqa: E402  (puts the repository root on sys.path)
import kmeans_on_frontend as kof  # noqa: E402

from core.atomic import load_safetensors  # noqa: E402
from core.corpus.feature_store import FeatureStore  # noqa: E402
from core.speech.runner import SEGMENTS_FILE  # noqa: E402

S = Path("/tmp/s13vad")
STORES = {"speech_embedding_std": "store_energy_se", "mfcc": "store_energy_mfcc"}
SHORT = {"speech_embedding_std": "se", "mfcc": "mfcc"}


def main() -> int:
    t0 = time.time()
    systems = []
    for fe, store in STORES.items():
        for s in (0, 1, 2):
            run = S / f"run_mean_energy_{SHORT[fe]}_s{s}"
            if (run / SEGMENTS_FILE).is_file():
                systems += ["--system", f"energy_path_mean_encoder_{fe}_seed{s}={S / store},{run}"]
    with tempfile.TemporaryDirectory() as tmp:
        svp.main(["--reader", "energy", *systems, "--out", tmp])
        metrics = json.loads((Path(tmp) / "metrics_energy.json").read_text())
    metrics["encoder"] = "mean (core/speech/acoustic.MeanPoolEncoder; config file mean_encoder.toml)"
    # the run's types vs addendum 2's (a): k-means on the same mean-pooled frames, same seed, no centring
    check = {}
    pooled = {}
    for name, m in metrics["systems"].items():
        if "__" in name:
            continue
        store = FeatureStore.open(m["store"])
        if m["store"] not in pooled:
            pooled[m["store"]] = kof.mean_pooled(store)
        seed = int(name.rsplit("_seed", 1)[1])
        ref = kof.group(pooled[m["store"]], seed)
        got = load_safetensors(Path(m["run"]) / SEGMENTS_FILE)["type_of"].astype(np.int64)
        # same partition up to renaming of the types?
        pairs = set(zip(got.tolist(), np.asarray(ref).tolist()))
        same = len(pairs) == len(set(got.tolist())) == len(set(np.asarray(ref).tolist()))
        check[name] = {"same_partition_as_kmeans_on_frontend_group": bool(same),
                       "label_pairs": len(pairs)}
        print(name, check[name], flush=True)
    metrics["vs_addendum2_a"] = check
    metrics["time_s_total"] = round(time.time() - t0, 1)
    (HERE / "metrics_mean_encoder.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
