"""French P@1 / P@5 of the French evaluation's test segments through the project's classifier (its pivot),
on the project session 22's app_pivot.py built here in session 23 (CSLS; FreeDict only scores; SYNTHETIC).
With COMMIT, `ClipClassifier._pivot` is taken from core/classify.py at that commit (7099a8b: session 22's
decoding), everything else from the code as it is.

    PYTHONPATH=. .venv/bin/python $R/pivot_decoding.py RUN_OUT_DIR DICT PROJECT_DIR OUT.json [COMMIT]
"""
import glob, importlib.util, json, subprocess, sys, tempfile
from pathlib import Path
from core.classify import ClipClassifier
from core.corpus.feature_store import FeatureStore
from core.pipeline import speech_eval as ev
from core.project import Project

out_dir, dictionary, project_dir, out_json = sys.argv[1:5]
commit = sys.argv[5] if len(sys.argv) > 5 else None
if commit:
    source = subprocess.run(["git", "show", f"{commit}:core/classify.py"], capture_output=True, text=True,
                            check=True).stdout
    path = Path(tempfile.mkdtemp()) / "classify_then.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("classify_then", path)
    then = importlib.util.module_from_spec(spec)
    sys.modules["classify_then"] = then
    spec.loader.exec_module(then)
    ClipClassifier._pivot = then.ClipClassifier._pivot  # only the pivot decoding is the old one
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
res = {"project": project_dir, "decoding": f"_pivot of core/classify.py at {commit}" if commit else "the code as it is", "segments": n, "p@1": hits1 / n,
       "p@5": hits5 / n}
print(json.dumps(res, indent=1), flush=True)
json.dump(res, open(out_json, "w"), indent=1)
