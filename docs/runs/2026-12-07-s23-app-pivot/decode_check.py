"""Does the app's pivot now decode as the experiment's? (session 23; SYNTHETIC; labels and FreeDict only score)

On the project app_pivot.py built, French P@1 / P@5 of the same test segments (as app_pivot.py counts them):
  app      the project's ClipClassifier (core.classify, CSLS), as app_pivot.py measures it;
  same     core.pipeline.pivot.pivot_topk (the experiment's decoding) on the project's own spaces and maps
           (speech-en, text-en, text-fr; speech-en__text-en, text-en__text-fr): equal to `app` if the
           decodings are the same;
  exp      pivot_topk on the experiment's own French space and text map (stage text-fr_lsg_pivot and the
           eval-*-fr_lsg_pivot mapping; app_pivot.py imports stage text-fr_lsg's French space, another file).

    PYTHONPATH=. .venv/bin/python $R/decode_check.py RUN_OUT_DIR DICT PROJECT_DIR OUT.json
"""
import glob, json, sys
from pathlib import Path
from types import SimpleNamespace
import numpy as np
import torch
from core.alignment.mapping import Mapping
from core.classify import ClipClassifier, aligned_space_maps
from core.corpus.feature_store import FeatureStore
from core.pipeline import speech_eval as ev
from core.pipeline.pivot import pivot_topk
from core.project import Project
from core.vectors import load_vectors

torch.set_num_threads(1)
out_dir, dictionary, project_dir, out_json = sys.argv[1:5]
stage = lambda pattern: Path(glob.glob(f"{out_dir}/stages/{pattern}")[0])  # noqa: E731
run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
project = Project.open(project_dir)
fr_scores = json.loads((stage("eval-*-fr_lsg-s0-*") / "scores.json").read_text())
rows = ev.test_segments(store, fr_scores["scores"]["test_segments"], 0)
truth = [store.labels[i] for i in rows]
gold = ev.gold_dictionary(dictionary)
queries, _, _ = ev.segment_vectors(run, rows)
unique, inverse = np.unique(queries, axis=0, return_inverse=True)  # segments of one type share its vector
inverse = inverse.reshape(-1)


def scores(tops: list[list[str]], french_words: set[str]) -> dict:
    hits1 = hits5 = n = 0
    for row, word in zip(inverse, truth):
        targets = {g for g in gold.get(word, ()) if g in french_words}
        if not targets:
            continue
        top = tops[row]
        n += 1
        hits1 += bool(top[:1] and top[0] in targets)
        hits5 += any(w in targets for w in top[:5])
    return {"segments": n, "p@1": hits1 / n, "p@5": hits5 / n}


res = {"project": project_dir, "query_types": len(unique)}
classifier = ClipClassifier.load(project)
app = [[c.word for c in classifier.classify_vector(q, 5, "csls", speech_types=False).by_space["text-fr"]]
       for q in unique]
speech, english, french = project.space("speech-en"), project.space("text-en"), project.space("text-fr")
res["app"] = scores(app, set(french.words))
maps = lambda mapping_id: SimpleNamespace(**dict(zip(("map_source", "map_target"),  # noqa: E731
                                                     aligned_space_maps(project.mapping(mapping_id)))))
for m in project.manifest.mappings:
    assert m.id != "text-en__text-fr" or (m.source, m.target) == ("text-en", "text-fr"), m
same = pivot_topk(maps("speech-en__text-en"), unique, speech, english, maps("text-en__text-fr"), french, 5, 10,
                  "cpu")["csls"]
same = [[french.words[i] for i in r] for r in same]
res["same"] = {**scores(same, set(french.words)),
               "query_types_whose_5_words_differ_from_app": sum(a != s for a, s in zip(app, same)),
               "query_types_whose_top_word_differs_from_app": sum(a[:1] != s[:1] for a, s in zip(app, same))}
exp_fr = load_vectors(stage("text-fr_lsg_pivot-*") / "vectors.vec", language="fr")
exp = pivot_topk(Mapping.load(stage("eval-*-en_same-s0-4f4fd0f19d40") / "mapping.safetensors"), unique, speech,
                 english, Mapping.load(stage("eval-*-fr_lsg_pivot-*") / "mapping.safetensors"), exp_fr, 5, 10,
                 "cpu")["csls"]
res["exp"] = scores([[exp_fr.words[i] for i in r] for r in exp], set(exp_fr.words))
res["pivot_experiment"] = json.loads((stage("eval-*-fr_lsg_pivot-*") / "scores.json").read_text())["scores"]
print(json.dumps(res, indent=1, default=str), flush=True)
json.dump(res, open(out_json, "w"), indent=1, default=str)
