"""Offline probe: does configuration B align once k-means clusters linked by DTW-verified
cross-speaker pairs are merged into one type (so that one word is closer to one type)?

    PYTHONPATH=. .venv/bin/python docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/b_merged_types.py [EXPERIMENT_RUN] [LINK]

Reads a B run of `main.py experiment` (default /tmp/b50k_pairs): its segment embeddings, k-means
types and centroids, and its en_same text space. Mines pairs with the final encoder's embeddings
(core/speech/pair_mining.py), links two clusters when the kept pairs between them are at least
LINK (default 0.1) of the smaller cluster's size, merges linked clusters (union-find), trains
skip-gram over the merged type stream (gensim, the run's settings), aligns it with selflearn and
scores held-out segments (nearest centroid → merged type → CSLS nearest text word). Word labels
only score. SYNTHETIC speech.
"""
import collections
import glob
import json
import sys

import numpy as np
import torch
from safetensors.numpy import load_file

from core.alignment import AlignConfig, align
from core.corpus.feature_store import FeatureStore
from core.retrieval import topk_csls
from core.speech import pair_mining
from core.speech.batching import load_frames
from core.speech.clustering import nearest_centroid
from core.speech.pseudo_skipgram import token_stream, train_skipgram
from core.vectors import load_vectors, unit_rows


def main():
    run_root = sys.argv[1] if len(sys.argv) > 1 else "/tmp/b50k_pairs"
    link = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    run = glob.glob(f"{run_root}/stages/speech-unit-skipgram-B-s0-*/run")[0]
    cfg = json.load(open(f"{run}/config.json"))
    store = FeatureStore.open(cfg["store"])
    seg = load_file(f"{run}/segments.safetensors")
    emb, type_of, centroids = seg["embedding"], seg["type_of"], seg["centroids"]
    labels = np.array(store.labels, dtype=object)
    speakers = np.asarray(store.speakers)
    held = set(store.metadata.get("held_out_speakers", []))
    is_held = np.array([s in held for s in speakers])
    train_idx = np.flatnonzero(~is_held)
    frames = load_frames(store, cfg["speech"]["max_frames"], None)
    dtw_frames = pair_mining.speaker_normalised(frames, speakers)
    spk = speakers[train_idx]
    a, b = pair_mining.cross_speaker_neighbours(pair_mining.speaker_centred(emb[train_idx], spk), spk)
    cost = pair_mining.dtw_costs(dtw_frames, train_idx[a], train_idx[b])
    keep = cost <= np.quantile(cost, pair_mining.KEEP_SHARE)
    ta, tb = type_of[train_idx[a[keep]]], type_of[train_idx[b[keep]]]
    k = int(type_of.max()) + 1
    size = np.bincount(type_of[train_idx][type_of[train_idx] >= 0], minlength=k)
    edges = collections.Counter((min(x, y), max(x, y)) for x, y in zip(ta.tolist(), tb.tolist()) if x != y and x >= 0 and y >= 0)
    linked = [(x, y) for (x, y), n in edges.items() if n >= link * min(size[x], size[y])]
    merged = pair_mining.pair_groups(k, np.array([x for x, _ in linked], dtype=np.int64),
                                     np.array([y for _, y in linked], dtype=np.int64), max_group=10**9)
    merged = np.where(merged >= 0, merged, np.arange(k))          # unlinked clusters stay themselves
    _, new_of_cluster = np.unique(merged, return_inverse=True)
    new_type = np.where(type_of >= 0, new_of_cluster[np.maximum(type_of, 0)], -1)
    n_types = int(new_of_cluster.max()) + 1
    median_split, purity = split_and_purity(labels, new_type, train_idx[new_type[train_idx] >= 0])
    print(f"link {link}: {len(linked)} cluster links, {k} clusters → {n_types} types; top-50 words split over "
          f"median {median_split} types; train purity {purity:.3f}", flush=True)
    held_rows = np.flatnonzero(is_held)
    new_type[held_rows] = new_of_cluster[nearest_centroid(unit_rows(emb[held_rows]), unit_rows(centroids))]
    criterion, acc, n = classify_held_out(store, cfg["speech"], run_root, new_type, n_types, train_idx, is_held, labels)
    print(f"merged types: unsupervised selflearn criterion {criterion:.3f}, held-out classification (CSLS) "
          f"{100 * acc:.1f} % of {n} segments")


def split_and_purity(labels, types, rows):
    """Median number of types holding ≥ 10 % of each of the 50 most frequent words' tokens among
    `rows`, and the types' purity (majority-word share) over `rows`."""
    splits = []
    for w, n in collections.Counter(labels[rows]).most_common(50):
        c = collections.Counter(types[rows][labels[rows] == w])
        splits.append(sum(1 for v in c.values() if v >= 0.1 * n))
    purity = sum(collections.Counter(labels[rows][types[rows] == t]).most_common(1)[0][1]
                 for t in np.unique(types[rows])) / len(rows)
    return np.median(splits), purity


def classify_held_out(store, sp, run_root, types, n_types, train_idx, is_held, labels):
    """Skip-gram over the training segments' `types` (renumbered in frequency order, as the pipeline
    keeps them; the run's settings), selflearn against the run's en_same space, then each held-out
    segment's type → CSLS nearest text word. Returns (criterion, accuracy, evaluated segments)."""
    tr = train_idx[types[train_idx] >= 0]
    counts = np.bincount(types[tr], minlength=n_types)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(n_types, dtype=np.int64)
    rank[order] = np.arange(n_types)
    ranked_type = np.where(types >= 0, rank[np.maximum(types, 0)], -1)
    names = [f"#{i}" for i in range(n_types)]
    tokens, sentences = token_stream(ranked_type, np.asarray(store.utterance_ids), train_idx)
    space = train_skipgram(tokens, sentences, names, counts[order], dim=sp["dim"], window=sp["sg_window"],
                           negatives=sp["sg_negatives"], subsample=sp["sg_subsample"], epochs=sp["sg_epochs"],
                           seed=0, backend="gensim")
    text = load_vectors(glob.glob(f"{run_root}/stages/text-en_same-*/*.vec")[0])
    result = align(space, text, AlignConfig(method="selflearn", device="cpu", init_vocab=2000, selflearn_vocab=5000))
    held_rows = np.flatnonzero(is_held & np.array([lab is not None and lab in text.index for lab in labels]))
    x = result.mapping.map_source(space.vectors)
    y = result.mapping.map_target(text.vectors)
    _, top = topk_csls(torch.from_numpy(unit_rows(np.asarray(x, np.float32))),
                       torch.from_numpy(unit_rows(np.asarray(y, np.float32))), 1, 10)
    predicted = np.array(text.words, dtype=object)[top[:, 0].numpy()][ranked_type[held_rows]]
    return result.criterion, float(np.mean(predicted == labels[held_rows])), len(held_rows)


if __name__ == "__main__":
    main()
