"""How much of a new voice's audio does its normalisation need? (issue 18, session 18). SYNTHETIC
speech; speaker ids are metadata, word labels only score.

For each held-out voice: its whitening and generalised-Procrustes rotation (as normalised_types.py:
k-means of its segments, K = one cluster per 10 segments, at least 20; rotated onto the training voices'
clusters in the shared space, ROUNDS rounds) are fitted on N of its segments drawn at random (seed 0),
then ALL its segments are transformed and take their nearest shared-space k-means centroid (the K 5,000
of shared_space_frontier.py --kcache). Score: the held-out ceiling (share of segments whose centroid's
training majority word is their own), against the same with all of the voice's segments.

    PYTHONPATH=. .venv/bin/python $R/new_voice_audio.py PACK E.npy VC.npz KMEANS.npz --n 100 300 1000 3000 0 --json OUT.json
"""
import argparse, json, sys
import numpy as np, torch
sys.path.insert(0, "scripts")
from b_pack import cluster_each_voice, load_pack, log, majority_word, rotate_onto, zca_whitening
from core.speech.clustering import kmeans, nearest_centroid
from core.vectors import unit_rows

ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("emb"); ap.add_argument("vc"); ap.add_argument("kmeans")
ap.add_argument("--n", type=int, nargs="+", default=[100, 300, 1000, 3000, 0], help="0 = all")
ap.add_argument("--rounds", type=int, default=15)
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
P = load_pack(args.pack); E = np.load(args.emb).astype(np.float32)
vc = cluster_each_voice(P, 20.0, args.vc)
z = np.load(args.kmeans); cent = z["cent"]
clus = np.full(len(P.labels), -1); clus[P.train] = z["a"]
cm = majority_word(P.labels, clus, P.train)
# the training voices' own clusters, in the shared space: the mean of their members' shared-space rows
shared = []
for v in P.train_speakers:
    rows = P.train[P.speaker[P.train] == v]; loc = vc.local[rows]; ids = np.unique(loc)
    S = np.zeros((loc.max() + 1, E.shape[1])); np.add.at(S, loc, E[rows]); shared.append(unit_rows(S[ids].astype(np.float32)))
rng = np.random.default_rng(0)
out = {"pack": args.pack, "rounds": args.rounds, "runs": []}
for h in sorted(set(P.speaker[P.held].tolist())):
    rows = P.held[P.speaker[P.held] == h]
    for n in args.n:
        fit = rows if n == 0 or n >= len(rows) else rng.choice(rows, n, replace=False)
        mu, Z = zca_whitening(P.emb[fit])
        c, _ = kmeans(P.emb[fit], max(20, len(fit) // 10), 25, 0, "torch")
        R = rotate_onto(unit_rows((unit_rows(np.asarray(c)) - mu) @ Z), shared, args.rounds)
        Eh = unit_rows(((P.emb[rows] - mu) @ Z @ R).astype(np.float32))
        got = nearest_centroid(Eh, cent)
        rec = {"voice": str(P.speakers[h]), "n": int(len(fit)),
               "held_out_ceiling": float(np.mean([cm.get(int(t)) == w for t, w in zip(got, P.labels[rows])]))}
        log(rec); out["runs"].append(rec)
        if args.json:
            json.dump(out, open(args.json, "w"), indent=2)
log("finished")
