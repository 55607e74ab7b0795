"""Label-free statistics that might tell B's right map from the wrong one it finds (issue 18, s21).
SYNTHETIC speech; labels fit only the *supervised* reference map and score.

For the pack's own types: the skip-gram space, the unsupervised (selflearn) map and the labelled
Procrustes map; for each map, statistics that use no labels: the criterion (mean CSLS cosine),
distinct target words among the 1,000 most frequent types (hubness), the Spearman correlation of a
type's log count with its mapped word's log count, and acoustic agreement (mean cosine of the encoder
centroids of types mapped to the same word, minus that of random type pairs). Then one change to the
space: the voices' offsets regressed out of the skip-gram vectors (each type's share of each training
voice as regressors; speaker ids are metadata), aligned again.

    PYTHONPATH=. .venv/bin/python $R/criterion_probe.py PACK TEXT.vec --json OUT.json
"""
import argparse, json, sys
import numpy as np, torch
from scipy.stats import spearmanr
sys.path.insert(0, "scripts")
from b_pack import load_pack, log, s13_tools
from core.alignment.base import AlignConfig
from core.alignment.pipeline import align
from core.embeddings import Embeddings
from core.vectors import load_vectors

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("text"); ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
bvg = s13_tools()
P = load_pack(args.pack); text = load_vectors(args.text)
types = P.global_type; n = int(types.max()) + 1
space, rank = bvg.skipgram_space(types, n, P.train, P.utt, P.speech_config)
tr = P.train[types[P.train] >= 0]
row = rank[types[tr]]                                     # skip-gram row of each training segment
counts = np.bincount(row, minlength=n)
cent = np.zeros((n, P.emb.shape[1])); np.add.at(cent, row, P.emb[tr]); cent /= np.linalg.norm(cent, axis=1, keepdims=True) + 1e-9
voices = P.train_speakers; vidx = {s: i for i, s in enumerate(voices)}
share = np.zeros((n, len(voices))); np.add.at(share, (row, np.array([vidx[s] for s in P.speaker[tr]])), 1.0)
share /= np.maximum(share.sum(1, keepdims=True), 1)
maj = bvg.majority(P.labels, types, tr)
maj_rows = {int(rank[t]): w for t, w in maj.items() if w in text.index}
seeds = np.array([[r, text.index[w]] for r, w in maj_rows.items()])
tcount = np.asarray(text.counts, float)
rng = np.random.default_rng(0)
base_cos = float(np.mean(np.sum(cent[rng.integers(0, n, 20000)] * cent[rng.integers(0, n, 20000)], 1)))


def stats(sp, mapping):
    top = bvg.csls_top1(mapping.map_source(sp.vectors), mapping.map_target(text.vectors))
    rows = P.held[np.array([P.labels[i] in text.index for i in P.held])]
    acc = float(np.mean(np.array(text.words, dtype=object)[top[rank[types[rows]]]] == P.labels[rows]))
    r = np.array(list(maj_rows)); w = np.array([text.index[maj_rows[i]] for i in r])
    f = top[:1000]
    same = [(i, j) for i in range(1000) for j in range(i + 1, 1000) if f[i] == f[j]]
    ac = float(np.mean([cent[i] @ cent[j] for i, j in same])) - base_cos if same else float("nan")
    return {"accuracy": acc, "type_p1": float(np.mean(top[r] == w)),
            "distinct_targets_top1000": int(len(set(f.tolist()))),
            "freq_spearman_top1000": float(spearmanr(np.log(counts[:1000] + 1), np.log(tcount[f] + 1))[0]),
            "acoustic_agreement_top1000": ac, "same_target_pairs_top1000": len(same)}


def both(sp, name):
    rec = {}
    for label, cfg, s in (("unsupervised", bvg.align_cfg(), None),
                          ("supervised", AlignConfig(method="supervised", device="cpu", init_vocab=2000,
                                                     selflearn_vocab=5000, seed=0), seeds)):
        res = align(sp, text, cfg, seed_pairs=s)
        rec[label] = {"criterion": float(res.criterion), **stats(sp, res.mapping)}
        log(f"{name} {label}: {rec[label]}")
    return rec


out = {"pack": args.pack, "types": n, "random_pair_acoustic_cosine": base_cos}
out["skipgram"] = both(space, "skipgram")
X = np.hstack([share, np.ones((n, 1))])
coef, *_ = np.linalg.lstsq(X, space.vectors.astype(float), rcond=None)
resid = (space.vectors - X @ coef).astype(np.float32)
out["voice_regressed"] = both(Embeddings(space.words, resid, space.counts), "voice_regressed")
if args.json:
    json.dump(out, open(args.json, "w"), indent=2)
log("finished")
