"""The app's route to French for a B space (issue 18, session 22; SYNTHETIC; labels and FreeDict only
score): a project holding the CPU experiment's speech space (speech-en), its English and French text
spaces, the English evaluation's map (speech-en → text-en) and a text-en → text-fr map made the way Train ▸
Align spaces… makes it with "Map from: text space text-en" (core.mapping_history.align_keeping_previous,
source_id; selflearn, defaults, seed 0). The project's classifier (core.classify.ClipClassifier, what the
app's Classify panel runs) then reaches French through its pivot: the French evaluation's own test
segments, each as its placed type's vector (core.pipeline.speech_eval.segment_vectors), classified with
CSLS, top-1 / top-5 French words against any FreeDict translation.

    PYTHONPATH=. .venv/bin/python $R/app_pivot.py RUN_OUT_DIR DICT PROJECT_DIR OUT.json

Session 23: a copy of docs/runs/2026-12-07-s22-voice-groups/app_pivot.py (only this note added); it built
the project and measured an intermediate pivot decoding (the top English word's k French words), not kept
(README.md here).
"""
import glob, json, sys, time
from pathlib import Path
import numpy as np
from core.alignment.mapping import Mapping
from core.classify import ClipClassifier
from core.corpus.feature_store import FeatureStore
from core.mapping_history import align_keeping_previous
from core.pipeline import speech_eval as ev
from core.project import Project
from core.refine_pairs import store_alignment_mapping
from core.speech.project_space import store_speech_space
from core.speech.type_space import load_type_space
from core.text_space_project import import_project_text_space

out_dir, dictionary, project_dir, out_json = sys.argv[1:5]
run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
project = Project.create(project_dir, "B through English", languages=["en", "fr"], synthetic_speech=True,
                         synthetic_speech_note="espeak-ng voices (kjv_500k_bvad's corpus)")
store_speech_space(project, load_type_space(run), store.config, "speech-en", "en")
import_project_text_space(project, glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")[0], "text-en", "en")
import_project_text_space(project, glob.glob(f"{out_dir}/stages/text-fr_lsg-*/vectors.vec")[0], "text-fr", "fr")
en_eval = Path(glob.glob(f"{out_dir}/stages/eval-*-en_same-*")[0])
store_alignment_mapping(project, "speech-en__text-en", "speech-en", "text-en",
                        Mapping.load(en_eval / "mapping.safetensors"), "selflearn")
t = time.time()
text_map = align_keeping_previous(project, "text-fr", source_id="text-en", method="selflearn", device="cpu")
res = {"project": project_dir, "text_map": {**text_map, "seconds": round(time.time() - t)}}
classifier = ClipClassifier.load(project)
fr_scores = json.loads((Path(glob.glob(f"{out_dir}/stages/eval-*-fr_lsg-s0-*")[0]) / "scores.json").read_text())
rows = ev.test_segments(store, fr_scores["scores"]["test_segments"], 0)
truth = [store.labels[i] for i in rows]
gold = ev.gold_dictionary(dictionary)
fr_words = set(project.space("text-fr").words)
queries, _, _ = ev.segment_vectors(run, rows)
cache, hits1, hits5, n = {}, 0, 0, 0
for q, word in zip(queries, truth):
    targets = {g for g in gold.get(word, ()) if g in fr_words}
    if not targets:
        continue
    key = q.tobytes()
    if key not in cache:  # segments of one type share its vector
        cache[key] = [c.word for c in classifier.classify_vector(q, 5, "csls", speech_types=False).by_space["text-fr"]]
    top = cache[key]
    n += 1
    hits1 += bool(top[:1] and top[0] in targets)
    hits5 += any(w in targets for w in top[:5])
res.update({"segments": n, "p@1": hits1 / n, "p@5": hits5 / n, "pivot_experiment": 
            json.loads((Path(glob.glob(f"{out_dir}/stages/eval-*-fr_lsg_pivot-*")[0]) / "scores.json").read_text())["scores"]["p@1_csls"]})
print(json.dumps(res, indent=1, default=str), flush=True)
json.dump(res, open(out_json, "w"), indent=1, default=str)
