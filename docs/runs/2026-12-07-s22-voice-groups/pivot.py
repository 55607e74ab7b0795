"""French through the English text space on the product's B space (issue 18, session 22; SYNTHETIC;
labels and the FreeDict dictionary only score).

The English evaluation's map (speech types → English text) is composed with an English text → French text
map learnt without labels (selflearn, AlignConfig defaults, seed 0); the French evaluation's own test
segments (the same seeded sample), placed as the product places them, are translated by CSLS over the
French words: P@1 / P@5 against any FreeDict translation — either their mapped speech vectors
("pivot") or the text vector of their CSLS top-1 English word ("pivot_through_english_word"). For scale: the same composed map applied to each
test segment's true English word (what a perfect speech → English step would give), and the English →
French text map alone over the 5,000 most frequent English words with a dictionary entry.

    PYTHONPATH=. .venv/bin/python $R/pivot.py RUN_OUT_DIR DICT OUT.json
"""
import glob, json, sys, time
from pathlib import Path
import numpy as np, torch
from core.alignment.base import AlignConfig
from core.alignment.mapping import Mapping
from core.alignment.pipeline import align
from core.corpus.feature_store import FeatureStore
from core.pipeline import speech_eval as ev
from core.retrieval import topk_csls
from core.vectors import load_vectors, unit_rows

torch.set_num_threads(2)
out_dir, dictionary, out_json = sys.argv[1:4]
run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
en = load_vectors(glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")[0])
fr = load_vectors(glob.glob(f"{out_dir}/stages/text-fr_lsg-*/vectors.vec")[0])
en_map = Mapping.load(Path(glob.glob(f"{out_dir}/stages/eval-*-en_same-*")[0]) / "mapping.safetensors")
fr_scores = json.loads((Path(glob.glob(f"{out_dir}/stages/eval-*-fr_lsg-*")[0]) / "scores.json").read_text())
gold = ev.gold_dictionary(dictionary)
store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
rows = ev.test_segments(store, fr_scores["scores"]["test_segments"], 0)
truth = [store.labels[i] for i in rows]
t = time.time()
en_fr = align(en, fr, AlignConfig(method="selflearn", device="cpu", seed=0))
res = {"run": str(run), "en_fr_criterion": float(en_fr.criterion), "en_fr_seconds": round(time.time() - t, 1),
       "direct_experiment": {k: fr_scores["scores"].get(k) for k in ("p@1_csls", "p@5_csls", "evaluated")}}
keys = torch.from_numpy(unit_rows(en_fr.mapping.map_target(fr.vectors)))


def translate(queries_en_space):
    """Top-5 French rows (CSLS) of queries already in the English text map's space."""
    q = torch.from_numpy(unit_rows(queries_en_space @ en_fr.mapping.W.T))
    return topk_csls(q, keys, 5, 10, device="cpu")[1].numpy()


targets = {w: {g for g in gold.get(w, ()) if g in fr.index} for w in set(truth)}
covered = [i for i, w in enumerate(truth) if targets.get(w)]
queries, speech, _ = ev.segment_vectors(run, rows)
top = translate(en_map.map_source(queries[covered]))
hits = lambda top, k: float(np.mean([any(fr.words[j] in targets[truth[i]] for j in top[n, :k]) for n, i in enumerate(covered)]))
res["pivot"] = {"p@1": hits(top, 1), "p@5": hits(top, 5), "segments": len(covered)}
# through the English *word*: each segment's CSLS top-1 English word (as the classification decodes it),
# whose text vector is then translated
en_top = ev.retrieve(en_map, queries[covered], speech, en, 1, 10, "cpu")["csls"][:, 0]
top_word = translate(en_map.map_target(en.vectors[en_top]))
res["pivot_through_english_word"] = {"p@1": hits(top_word, 1), "p@5": hits(top_word, 5), "segments": len(covered)}
with_word = [n for n, i in enumerate(covered) if truth[i] in en.index]
true_en = en_map.map_target(en.vectors[[en.index[truth[covered[n]]] for n in with_word]])
top_true = translate(true_en)
res["true_english_word"] = {"p@1": float(np.mean([any(fr.words[j] in targets[truth[covered[n]]] for j in top_true[m, :1]) for m, n in enumerate(with_word)])),
                            "p@5": float(np.mean([any(fr.words[j] in targets[truth[covered[n]]] for j in top_true[m, :5]) for m, n in enumerate(with_word)])),
                            "segments": len(with_word)}
words = [w for w in en.words[:5000] if any(g in fr.index for g in gold.get(w, ()))]
top_words = translate(en_map.map_target(en.vectors[[en.index[w] for w in words]]))
res["text_en_to_fr_types"] = {"p@1": float(np.mean([fr.words[j] in gold[w] for w, j in zip(words, top_words[:, 0])])),
                              "words": len(words)}
print(json.dumps(res, indent=1), flush=True)
json.dump(res, open(out_json, "w"), indent=1)
