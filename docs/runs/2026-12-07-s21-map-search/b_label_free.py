"""Configuration B without labels, end to end from a pack's k-means types (issue 18, session 21):
join the types by sound and context, take the voices out of the skip-gram space, align with a
Gromov–Wasserstein start. Product code does each step (core.speech.type_join, AlignConfig.gw_start);
this script strings them together on a B pack. SYNTHETIC speech; word labels only score.

1. skip-gram (the run's settings, seed 0) over the training stream of the run's own k-means types;
   voice-regressed vectors; types joined to --cut by sound (the pack's encoder centroids) + context.
   Held-out segments keep their k-means cluster, so they take that cluster's joined type.
2. per --sg-seeds: skip-gram over the joined stream, voices regressed out, then selflearn to the
   English text space with and without the GW start (the criterion picks among the runs either way),
   and with the GW start to the French text space for translation (FreeDict gold); also through the
   English text space as a pivot: the English text space aligned to the French one (selflearn, no
   labels, once), the speech map composed with it.
Classification: a held-out segment's type → CSLS top-1 English word = its label (segments whose word
the text space has). Translation P@k: any gold French translation in the CSLS top k.

    PYTHONPATH=. .venv/bin/python $R/b_label_free.py PACK EN.vec --fr FR.vec DICT --sg-seeds 0 1 2 --json OUT.json
"""
import argparse, json, sys, time
import numpy as np, torch
sys.path.insert(0, "scripts")
from b_pack import load_pack, log, s13_tools, type_measures
from core.alignment.base import AlignConfig
from core.alignment.pipeline import align
from core.embeddings import Embeddings
from core.pipeline.speech_eval import gold_dictionary
from core.retrieval import topk_csls
from core.speech.type_join import join_types, regress_out_voices, voice_shares
from core.speech.type_space import label_centroids
from core.vectors import load_vectors, unit_rows

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text")
ap.add_argument("--fr", nargs=2, metavar=("FR_VEC", "DICT"))
ap.add_argument("--cut", type=int, default=1000)
ap.add_argument("--sg-seeds", type=int, nargs="+", default=[0])
ap.add_argument("--only-gw", action="store_true",
                help="skip what does not depend on the GW start: selflearn alone, and the direct French map")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); en = load_vectors(args.text)
fr = load_vectors(args.fr[0]) if args.fr else None
gold = gold_dictionary(args.fr[1]) if args.fr else None
base = dict(method="selflearn", device="cpu", init_vocab=2000, selflearn_vocab=5000, seed=0)


def voice_free_space(types, seed):
    """Skip-gram space of `types` with the voices regressed out; (space, rank, training type rows)."""
    n = int(types.max()) + 1
    space, rank = bvg.skipgram_space(types, n, P.train, P.utt, P.speech_config, seed=seed)
    tr = P.train[types[P.train] >= 0]
    rows = rank[types[tr]]
    vec = regress_out_voices(space.vectors, voice_shares(rows, P.speaker[tr], n))
    return Embeddings(space.words, vec, space.counts), rank, tr, rows


def topk(space, text, res, k):
    _, top = topk_csls(torch.from_numpy(unit_rows(res.mapping.map_source(space.vectors).astype(np.float32))),
                       torch.from_numpy(unit_rows(res.mapping.map_target(text.vectors).astype(np.float32))), k, 10,
                       device="cpu")
    return top.numpy()


t0 = time.time()
own = P.global_type
space, rank, tr, rows = voice_free_space(own, 0)
# the types' unit mean encodings (session 21's runs used type_join.type_centroids, since replaced by this
# equivalent, which averages in float32 instead of float64)
group_of_row = join_types(label_centroids(P.emb[tr], rows, np.arange(len(tr)), len(rank)), space.vectors, args.cut)
types = np.where(own >= 0, group_of_row[rank[np.maximum(own, 0)]], -1)
out = {"pack": args.pack, "cut": args.cut, "own_types": type_measures(P, own), "joined_types": type_measures(P, types),
       "join_seconds": round(time.time() - t0, 1), "runs": []}
log(f"joined {len(rank)} → {int(types.max()) + 1} types: {out['joined_types']}")
held_en = P.held[np.array([P.labels[i] in en.index for i in P.held])]
if fr is not None:
    t = time.time()
    en_fr = align(en, fr, AlignConfig(**base))
    targets = {w: {g for g in gold.get(w, ()) if g in fr.index} for w in set(P.labels[P.held].tolist())}
    held_fr = np.array([i for i in P.held if targets.get(P.labels[i])])
    words_fr = [w for w in en.words[:5000] if any(g in fr.index for g in gold.get(w, ()))]
    top_tt = topk(Embeddings(words_fr, en.vectors[[en.index[w] for w in words_fr]]), fr, en_fr, 1)[:, 0]
    out["text_en_to_fr"] = {"criterion": float(en_fr.criterion), "words": len(words_fr), "seconds": round(time.time() - t, 1),
                            "p@1": float(np.mean([fr.words[j] in gold[w] for w, j in zip(words_fr, top_tt)]))}
    log(f"EN text → FR text: P@1 {out['text_en_to_fr']['p@1']:.4f} over {len(words_fr)} words (criterion {en_fr.criterion:.4f})")
for seed in args.sg_seeds:
    space, rank, tr, rows = voice_free_space(types, seed)
    rec = {"sg_seed": seed}
    for label, gw in ((("selflearn", False),) if not args.only_gw else ()) + (("selflearn_gw_start", True),):
        t = time.time()
        res = align(space, en, AlignConfig(**base, gw_start=gw))
        top = topk(space, en, res, 1)[:, 0]
        pred = np.array(en.words, dtype=object)[top[rank[types[held_en]]]]
        rec[label] = {"criterion": float(res.criterion), "restarts": res.restarts,
                      "classification": float(np.mean(pred == P.labels[held_en])), "seconds": round(time.time() - t, 1)}
        log(f"seed {seed} EN {label}: {rec[label]['classification']:.4f} (criterion {res.criterion:.4f})")
    if fr is not None:
        # pivot: the speech types mapped into the English text space, then by the English → French map
        en_pre = res.mapping.map_source(space.vectors)  # `res`: the GW-started English map above
        pivot = Embeddings(space.words, (en_pre @ en_fr.mapping.W.T).astype(np.float32))
        _, top = topk_csls(torch.from_numpy(unit_rows(pivot.vectors)),
                           torch.from_numpy(unit_rows(en_fr.mapping.map_target(fr.vectors).astype(np.float32))), 5, 10,
                           device="cpu")
        top = top.numpy()
        hits = [[any(fr.words[j] in targets[P.labels[i]] for j in top[rank[types[i]], :k]) for i in held_fr] for k in (1, 5)]
        rec["translation_fr_pivot"] = {"p@1": float(np.mean(hits[0])), "p@5": float(np.mean(hits[1])),
                                       "segments": int(len(held_fr))}
        log(f"seed {seed} FR via English text: P@1 {rec['translation_fr_pivot']['p@1']:.4f} P@5 {rec['translation_fr_pivot']['p@5']:.4f}")
    if fr is not None and not args.only_gw:
        t = time.time()
        res = align(space, fr, AlignConfig(**base, gw_start=True))
        top = topk(space, fr, res, 5)
        hits = [[any(fr.words[j] in targets[P.labels[i]] for j in top[rank[types[i]], :k]) for i in held_fr] for k in (1, 5)]
        rec["translation_fr_gw_start"] = {"criterion": float(res.criterion), "restarts": res.restarts,
                                          "p@1": float(np.mean(hits[0])), "p@5": float(np.mean(hits[1])),
                                          "segments": int(len(held_fr)), "seconds": round(time.time() - t, 1)}
        log(f"seed {seed} FR: P@1 {rec['translation_fr_gw_start']['p@1']:.4f} P@5 {rec['translation_fr_gw_start']['p@5']:.4f} "
            f"(criterion {res.criterion:.4f}, {len(held_fr)} segments)")
    out["runs"].append(rec)
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
log("finished")
