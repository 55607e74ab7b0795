"""Every number of the B diagnosis for one experiment folder (configuration B, SYNTHETIC speech):
held-out same-different AP and k-means purity (the speech run's metrics.json), classification
(the eval stage's scores.json), the speaker's share of a frequent word's cluster entropy, clusters
per frequent word, the supervised Procrustes bound on the clusters' majority words (the s4 probes
b_split_by_speaker.py / b_supervised_bound.py, same code paths), and a linear speaker probe:
a softmax classifier on the unit-length segment embeddings of the training voices (fit on one
half of the segments, scored on the other; chance = 1 / voices). Word labels only score.

    PYTHONPATH=. .venv/bin/python docs/runs/2026-11-25-s5-cpu-b-speaker-adversary/b_probe.py EXPERIMENT_DIR [--json OUT] [--store STORE]
"""
import argparse, collections, glob, json
import numpy as np
import torch
from safetensors.numpy import load_file
from core.corpus.feature_store import FeatureStore
from core.vectors import load_vectors, unit_rows


def entropy(x):
    p = np.array(list(collections.Counter(x.tolist()).values())) / len(x)
    return -(p * np.log(p)).sum()


def explained_share(type_of, rows, attr):
    """1 - H(cluster | attr) / H(cluster) over the given rows."""
    c, a = type_of[rows], attr[rows]
    hc = entropy(c)
    if hc == 0:
        return 1.0
    return 1 - sum((a == v).mean() * entropy(c[a == v]) for v in np.unique(a)) / hc


def speaker_probe(emb, spk_codes, seed=0, epochs=300):
    """Held-out accuracy of a linear softmax speaker classifier (full-batch Adam, weight decay 1e-4)."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(emb))
    fit, test = perm[: len(perm) // 2], perm[len(perm) // 2:]
    x = torch.from_numpy(unit_rows(emb).astype(np.float32))
    y = torch.from_numpy(spk_codes)
    torch.manual_seed(seed)
    lin = torch.nn.Linear(x.shape[1], int(y.max()) + 1)
    opt = torch.optim.Adam(lin.parameters(), lr=0.05, weight_decay=1e-4)
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(lin(x[fit]), y[fit]).backward()
        opt.step()
    with torch.no_grad():
        return float((lin(x[test]).argmax(1) == y[test]).float().mean())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("experiment")
    p.add_argument("--json", default="")
    p.add_argument("--store", default="/tmp/bexp/run/stages/features-textgrid-8d492a639580/store")
    args = p.parse_args()
    run = glob.glob(f"{args.experiment}/stages/speech-unit-skipgram-B-s0-*/run")[0]
    cfg = json.load(open(f"{run}/config.json"))
    store = FeatureStore.open(args.store)  # the run's own copy may have been moved
    m = json.load(open(f"{run}/metrics.json"))
    scores = json.load(open(glob.glob(f"{args.experiment}/stages/eval-unit-skipgram-B-*/scores.json")[0]))
    seg = load_file(f"{run}/segments.safetensors")
    type_of, emb = seg["type_of"], seg["embedding"]
    labels = np.array(store.labels, dtype=object)
    spk = np.asarray(store.speakers)
    held = set(store.metadata.get("held_out_speakers", []))
    is_train = np.array([s not in held for s in spk])
    tr = np.flatnonzero(is_train & (type_of >= 0))
    out = {"experiment": args.experiment, "speech_run": run,
           "ac_speaker_adversary": cfg["speech"].get("ac_speaker_adversary"),
           "held_out_ap": m["same_different"]["ap"], "purity_train": m["purity_train"],
           "purity_held_out": m["purity_held_out"],
           "classification_csls": scores["scores"]["accuracy_csls"],
           "classification_nn": scores["scores"]["accuracy_nn"],
           "criterion": scores["alignment"]["criterion"], "encoder_s": m["timings"]["encoder_s"]}
    # speaker share of the cluster entropy, 30 most frequent words (as b_split_by_speaker.py)
    words30 = [w for w, _ in collections.Counter(labels[tr]).most_common(30)]
    share = [explained_share(type_of, tr[labels[tr] == w], spk) for w in words30]
    shuffled = np.random.default_rng(0).permutation(spk)
    share_sh = [explained_share(type_of, tr[labels[tr] == w], shuffled) for w in words30]
    out.update(speaker_share_median=float(np.median(share)), speaker_share_mean=float(np.mean(share)),
               shuffled_share_median=float(np.median(share_sh)))
    # clusters holding >= 10 % of a word's tokens, 50 most frequent words (as b_supervised_bound.py)
    train_mask = is_train & (type_of >= 0)
    wc = collections.Counter(labels[train_mask])
    splits = []
    for w, n in wc.most_common(50):
        c = collections.Counter(type_of[train_mask & (labels == w)])
        splits.append(sum(1 for v in c.values() if v >= 0.1 * n))
    out.update(clusters_per_word_median=float(np.median(splits)), clusters_per_word_mean=float(np.mean(splits)))
    # supervised Procrustes bound on the clusters' majority words
    types = load_vectors(f"{run}/types.vec")
    text = load_vectors(glob.glob(f"{args.experiment}/stages/text-en_same-*/*.vec")[0])
    maj = {t: collections.Counter(labels[train_mask & (type_of == t)]).most_common(1)[0][0]
           for t in np.unique(type_of[train_mask])}
    pairs = [(types.index[f"#{t}"], text.index[w]) for t, w in maj.items()
             if f"#{t}" in types.index and w in text.index]
    x = unit_rows(types.vectors); y = unit_rows(text.vectors)
    x -= x.mean(0); y -= y.mean(0); x = unit_rows(x); y = unit_rows(y)
    a = np.array([q[0] for q in pairs]); b = np.array([q[1] for q in pairs])
    perm = np.random.default_rng(0).permutation(len(a))
    fit, other = perm[: len(a) // 2], perm[len(a) // 2:]
    u, _, vt = np.linalg.svd(x[a[fit]].T @ y[b[fit]])
    w_map = u @ vt
    for name, idx in (("bound_fit_half", fit), ("bound_other_half", other)):
        out[name] = float(np.mean(np.argmax((x[a[idx]] @ w_map) @ y.T, 1) == b[idx]))
    out["distinct_majority_words"] = len(set(maj.values()))
    # linear speaker probe on the training voices' embeddings
    tr_all = np.flatnonzero(is_train)
    codes = np.unique(spk[tr_all], return_inverse=True)[1].astype(np.int64)
    out["speaker_probe_acc"] = speaker_probe(emb[tr_all], codes)
    out["speaker_probe_chance"] = float(np.bincount(codes).max() / len(codes))
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
