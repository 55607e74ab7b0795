"""How much the map search varies with the alignment's seed on one B space (issue 18, session 22;
SYNTHETIC; labels only score): the experiment's English alignment (selflearn, gw_start, AlignConfig
defaults otherwise) repeated with other seeds on the same speech and text spaces, each map scored on the
evaluation's own test segments placed as the product places them.

    PYTHONPATH=. .venv/bin/python $R/align_seeds.py RUN_OUT_DIR OUT.json SEED [SEED ...]
"""
import glob, json, sys, time
from pathlib import Path
import torch
from core.alignment import align
from core.alignment.base import AlignConfig
from core.corpus.feature_store import FeatureStore
from core.pipeline import speech_eval as ev
from core.vectors import load_vectors

torch.set_num_threads(2)
out_dir, out_json, *seeds = sys.argv[1:]
run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
en = load_vectors(glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")[0])
store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
rows = ev.test_segments(store, 20000, 0)
truth = [store.labels[i] for i in rows]
queries, speech, _ = ev.segment_vectors(run, rows)
res = []
for seed in map(int, seeds):
    t = time.time()
    result = align(speech, en, AlignConfig(method="selflearn", gw_start=True, seed=seed, device="cpu"))
    scores = ev.classification_scores(ev.retrieve(result.mapping, queries, speech, en, 1, 10, "cpu"), truth, en)
    kept = max(result.restarts, key=lambda r: r["criterion"])
    rec = {"seed": seed, "criterion": round(float(result.criterion), 4), "kept_start": kept["start"],
           "accuracy_nn": scores["accuracy_nn"], "accuracy_csls": scores["accuracy_csls"],
           "seconds": round(time.time() - t)}
    print(rec, flush=True)
    res.append(rec)
    json.dump({"run": str(run), "rows": res}, open(out_json, "w"), indent=1)
