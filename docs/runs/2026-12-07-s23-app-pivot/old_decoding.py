"""Control: session 22's app decoding (core/classify.py at commit 7099a8b, `ClipClassifier._pivot`) on the
project app_pivot.py built in session 23 (same spaces and maps as the new decoding's measurement).

    PYTHONPATH=. .venv/bin/python $R/old_decoding.py RUN_OUT_DIR DICT PROJECT_DIR OUT.json
"""
import glob, importlib.util, json, subprocess, sys, tempfile
from pathlib import Path
import core.classify
from core.classify import ClipClassifier
from core.corpus.feature_store import FeatureStore
from core.pipeline import speech_eval as ev
from core.project import Project

source = subprocess.run(["git", "show", "7099a8b:core/classify.py"], capture_output=True, text=True, check=True).stdout
path = Path(tempfile.mkdtemp()) / "classify_s22.py"
path.write_text(source)
spec = importlib.util.spec_from_file_location("classify_s22", path)
old = importlib.util.module_from_spec(spec)
sys.modules["classify_s22"] = old
spec.loader.exec_module(old)
ClipClassifier._pivot = old.ClipClassifier._pivot  # only the pivot decoding is the old one

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
res = {"project": project_dir, "decoding": "core/classify.py at 7099a8b", "segments": n, "p@1": hits1 / n,
       "p@5": hits5 / n}
print(json.dumps(res, indent=1), flush=True)
json.dump(res, open(out_json, "w"), indent=1)
