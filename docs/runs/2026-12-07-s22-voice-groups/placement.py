"""Test segments placed by their joined type's mean centroid vs by their nearest cluster (the joined
type's prototypes), under one and the same map (issue 18, session 22; SYNTHETIC; labels only score).

Reads a finished B experiment (its speech stage must hold `assign_prototypes`) and its English
evaluation's map, takes the evaluation's own test segments (the same seeded sample) and classifies them
both ways with the product's retrieval (core.pipeline.speech_eval): CSLS and NN top-1.

    PYTHONPATH=. .venv/bin/python $R/placement.py RUN_OUT_DIR OUT.json
"""
import glob, json, sys
from pathlib import Path
import numpy as np
from core.alignment.mapping import Mapping
from core.atomic import load_safetensors
from core.corpus.feature_store import FeatureStore
from core.pipeline import speech_eval as ev
from core.speech.runner import SEGMENTS_FILE
from core.speech.type_space import ASSIGN_FILE
from core.vectors import load_vectors, unit_rows

out_dir, out_json = sys.argv[1:3]
run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
evaluation = Path(glob.glob(f"{out_dir}/stages/eval-*-en_same-*")[0])
scores = json.loads((evaluation / "scores.json").read_text())
store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
rows = ev.test_segments(store, scores["scores"]["test_segments"], 0)
truth = [store.labels[i] for i in rows]
text = load_vectors(next(p for p in glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")))
mapping = Mapping.load(evaluation / "mapping.safetensors")
with_protos, speech, _ = ev.segment_vectors(run, rows)                     # the product's placement
arrays = load_safetensors(run / ASSIGN_FILE)
enc = load_safetensors(run / SEGMENTS_FILE)["embedding"][rows]
by_mean = speech.vectors[(unit_rows(enc) @ arrays["assign_centroids"].T).argmax(1)]  # one centroid per type
res = {"run": str(run), "evaluation": str(evaluation), "test_segments": int(len(rows)),
       "prototypes_shape": list(arrays["assign_prototypes"].shape),
       "experiment_scores": {k: scores["scores"][k] for k in ("accuracy_nn", "accuracy_csls", "evaluated")}}
for name, q in (("mean_centroid", by_mean), ("nearest_cluster", with_protos)):
    top = ev.retrieve(mapping, q, speech, text, 5, 10, "cpu")
    res[name] = {k: v for k, v in ev.classification_scores(top, truth, text).items() if k.startswith("accuracy")}
    print(name, res[name], flush=True)
json.dump(res, open(out_json, "w"), indent=1)
