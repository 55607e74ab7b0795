"""The decoding kept (session 23's core/classify.py `ClipClassifier._pivot`: every pair of one of the k top
English words and one of its k best French translations, ranked by the mean of both scores) on the project
app_pivot.py built in session 23 — old_decoding.py with the code as it is, nothing patched.

    PYTHONPATH=. .venv/bin/python $R/mean_pairs.py RUN_OUT_DIR DICT PROJECT_DIR OUT.json
"""
import glob, json, sys
from pathlib import Path
from core.classify import ClipClassifier
from core.corpus.feature_store import FeatureStore
from core.pipeline import speech_eval as ev
from core.project import Project

out_dir, dictionary, project_dir, out_json = sys.argv[1:5]
run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
project = Project.open(project_dir)
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
    if key not in cache:
        cache[key] = [c.word for c in classifier.classify_vector(q, 5, "csls", speech_types=False).by_space["text-fr"]]
    top = cache[key]
    n += 1
    hits1 += bool(top[:1] and top[0] in targets)
    hits5 += any(w in targets for w in top[:5])
res = {"project": project_dir, "decoding": "every (English word, translation) pair of the top k by mean score", "segments": n, "p@1": hits1 / n,
       "p@5": hits5 / n}
print(json.dumps(res, indent=1), flush=True)
json.dump(res, open(out_json, "w"), indent=1)
