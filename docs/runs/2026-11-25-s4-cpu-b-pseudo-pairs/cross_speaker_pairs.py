"""Offline diagnostic for configuration B (no word identities): can positives mined from the audio
itself — cross-speaker mutual nearest neighbours of the view-only embeddings — teach the acoustic
encoder speaker invariance, as word identities do in configuration A?

    PYTHONPATH=.:docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs .venv/bin/python \
        docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/cross_speaker_pairs.py STORE [--miner dtw] [--rounds 2]

Round 0 trains B's view-only encoder (the b50k.toml settings of session 3). Each round then: embed
the training voices' segments, centre each speaker, and mine pairs across speakers:
`--miner mnn`: every segment's nearest segment of ANOTHER speaker, mutual pairs only, the top
`--keep` share by similarity; `--miner dtw`: every segment's 5 nearest segments of other speakers,
kept where their frame-level DTW cost is in the lowest `--keep` share (dtw_verified_pairs.py).
The pairs are joined into groups (union-find; groups larger than `--max-group` are dropped) and
the same encoder trains further with "other member of the group" as the positive.
Word labels are used only to SCORE (pair precision, AP, purity), never to train. SYNTHETIC speech.
"""
import argparse
import json
import sys
import time

import numpy as np
import torch

from core.corpus.feature_store import FeatureStore
from core.speech.acoustic import AugmentSettings, ContrastiveAWE, ContrastiveTask
from core.speech.batching import load_frames
from core.speech.clustering import kmeans, label_ids, nearest_centroid
from core.speech.metrics import cluster_purity, same_different_ap
from core.speech.runner import split_segments
from core.speech.speech2vec import embed_segments
from core.speech.training import LoopSettings, train
from core.vectors import unit_rows


def centred(emb, speakers):
    e = unit_rows(emb).copy()
    for s in np.unique(speakers):
        m = speakers == s
        e[m] -= e[m].mean(0)
    return unit_rows(e)


def cross_speaker_pairs(e, speakers):
    """Mutual nearest neighbours across speakers: (a, b, similarity) with a < b."""
    x, codes = torch.from_numpy(e), torch.from_numpy(np.unique(speakers, return_inverse=True)[1])
    n = len(x)
    nn_idx, nn_sim = torch.empty(n, dtype=torch.long), torch.empty(n)
    for i in range(0, n, 2048):
        sims = x[i:i + 2048] @ x.T
        sims[codes[i:i + 2048, None] == codes[None, :]] = -2
        nn_sim[i:i + 2048], nn_idx[i:i + 2048] = sims.max(1)
    a = torch.arange(n)
    mutual = (nn_idx[nn_idx] == a) & (a < nn_idx)
    return a[mutual].numpy(), nn_idx[mutual].numpy(), nn_sim[mutual].numpy(), nn_idx.numpy()


def dtw_pairs(e, speakers, dtw_frames, seg_ids, k=5):
    """Each segment's k nearest segments of other speakers: (a, b, -DTW cost) with a < b."""
    from dtw_verified_pairs import dtw_costs

    x, codes = torch.from_numpy(e), torch.from_numpy(np.unique(speakers, return_inverse=True)[1])
    n = len(x)
    nbr = torch.empty(n, k, dtype=torch.long)
    for i in range(0, n, 2048):
        sims = x[i:i + 2048] @ x.T
        sims[codes[i:i + 2048, None] == codes[None, :]] = -2
        nbr[i:i + 2048] = sims.topk(k, dim=1).indices
    a, b = np.repeat(np.arange(n), k), nbr.reshape(-1).numpy()
    a, b = a[a < b], b[a < b]
    return a, b, -dtw_costs(dtw_frames, seg_ids[a], seg_ids[b])


def groups_of(n, a, b):
    """Union-find over the pairs: a group id per segment, -1 for segments in no pair."""
    parent = np.arange(n)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for i, j in zip(a, b):
        parent[find(i)] = find(j)
    roots = np.array([find(i) for i in range(n)])
    in_pair = np.zeros(n, bool)
    in_pair[a] = in_pair[b] = True
    return np.where(in_pair, roots, -1)


def scores(model, frames, train_idx, held_idx, labels, speakers, k):
    model.eval()
    emb = embed_segments(model.encode, frames, batch_size=4096, device=torch.device("cpu"))
    out = {}
    for name, e in (("raw", unit_rows(emb)), ("centred", centred(emb, speakers))):
        c, _ = kmeans(e[train_idx], k, 15, 0, "auto", "cpu")
        assign = nearest_centroid(e, unit_rows(c))
        out[name] = {"held_out_ap": same_different_ap(e[held_idx], labels[held_idx])["ap"],
                     "purity_train": cluster_purity(assign[train_idx], labels[train_idx]),
                     "purity_held_out": cluster_purity(assign[held_idx], labels[held_idx])}
    model.train()
    return emb, out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("store")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--epochs", type=int, default=3, help="view-only epochs, and epochs per round")
    p.add_argument("--keep", type=float, default=0.5, help="share of the mutual pairs kept (most similar)")
    p.add_argument("--clusters", type=int, default=1500)
    p.add_argument("--miner", choices=("mnn", "dtw"), default="mnn")
    p.add_argument("--max-group", type=int, default=100, help="drop pair groups larger than this")
    p.add_argument("--out", default="")
    args = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    store = FeatureStore.open(args.store)
    frames = load_frames(store, 80, None)
    train_idx, held_idx = split_segments(store, True)
    labels, speakers = label_ids(store.labels), np.asarray(store.speakers)
    if args.miner == "dtw":  # frames normalised per speaker (mean/variance) for DTW
        from dtw_verified_pairs import speaker_normalised_frames

        dtw_frames = speaker_normalised_frames(frames, speakers)
    model = ContrastiveAWE(store.dim, "conv", 128, 64, 0.1)
    aug = AugmentSettings(0.2, 0.2, 0.1, 0.1, 80)
    report, t0 = {"store": args.store, "args": vars(args), "rounds": []}, time.time()

    def fit(round_no, pseudo):
        task = ContrastiveTask(model, frames, train_idx, aug, 256, 50, round_no, labels=pseudo)
        train(task, LoopSettings(epochs=args.epochs, optimizer="adam", lr=1e-3, device="cpu", seed=round_no,
                                 checkpoints=False, name=f"round{round_no}"), "/tmp/unused-checkpoints")
        return len(task.train_idx)

    fit(0, None)
    for round_no in range(args.rounds + 1):
        emb, quality = scores(model, frames, train_idx, held_idx, labels, speakers, args.clusters)
        e = centred(emb[train_idx], speakers[train_idx])
        a, b, sim, nn = cross_speaker_pairs(e, speakers[train_idx])
        if args.miner == "dtw":
            a, b, sim = dtw_pairs(e, speakers[train_idx], dtw_frames, train_idx)
        lab = labels[train_idx]
        keep = sim >= np.quantile(sim, 1 - args.keep)
        row = {"round": round_no, "minutes": round((time.time() - t0) / 60, 1), **quality,
               "nn_same_word": float(np.mean(lab == lab[nn])), "mutual_pairs": int(len(a)),
               "pair_precision": float(np.mean(lab[a] == lab[b])), "kept_pairs": int(keep.sum()),
               "kept_precision": float(np.mean(lab[a[keep]] == lab[b[keep]]))}
        print(json.dumps(row), flush=True)
        report["rounds"].append(row)
        if round_no == args.rounds:
            break
        groups = groups_of(len(train_idx), a[keep], b[keep])
        ids, sizes = np.unique(groups[groups >= 0], return_counts=True)
        too_big = ids[sizes > args.max_group]
        groups[np.isin(groups, too_big)] = -1
        in_group = groups >= 0
        majority = {g: np.bincount(lab[groups == g][lab[groups == g] >= 0]).max() if (lab[groups == g] >= 0).any() else 0
                    for g in np.unique(groups[in_group])}
        row.update({"groups": int(len(majority)), "grouped_segments": int(in_group.sum()),
                    "dropped_groups": int(len(too_big)), "largest_group": int(sizes.max()) if len(sizes) else 0,
                    "group_purity": float(sum(majority.values()) / max(1, in_group.sum()))})
        print(json.dumps({k: row[k] for k in ("groups", "grouped_segments", "dropped_groups", "largest_group",
                                               "group_purity")}), flush=True)
        pseudo = np.full(store.n_segments, -1, dtype=np.int64)
        pseudo[train_idx] = groups
        row["trained_segments"] = fit(round_no + 1, pseudo)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
