"""Offline probe: configuration B's clusters split words by speaker (b_split_by_speaker.txt), so
cluster speaker-centred embeddings instead: k-means (K as the run) on each speaker's mean-removed
segment embeddings, then skip-gram, selflearn and held-out classification as b_merged_types.py
(held-out voices centred with their own means: per-speaker normalisation, as CMVN). SYNTHETIC.

    PYTHONPATH=. .venv/bin/python docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/b_centred_kmeans.py [EXPERIMENT_RUN]
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
from core.speech.clustering import kmeans, nearest_centroid
from core.speech.pseudo_skipgram import token_stream, train_skipgram
from core.vectors import load_vectors, unit_rows


def main():
    run_root = sys.argv[1] if len(sys.argv) > 1 else "/tmp/b50k_pairs"
    run = glob.glob(f"{run_root}/stages/speech-unit-skipgram-B-s0-*/run")[0]
    cfg = json.load(open(f"{run}/config.json"))
    sp = cfg["speech"]
    store = FeatureStore.open(cfg["store"])
    emb = load_file(f"{run}/segments.safetensors")["embedding"]
    labels = np.array(store.labels, dtype=object)
    speakers = np.asarray(store.speakers)
    held = set(store.metadata.get("held_out_speakers", []))
    is_held = np.array([s in held for s in speakers])
    train_idx = np.flatnonzero(~is_held)
    e = pair_mining.speaker_centred(emb, speakers)            # every speaker centred on its own mean
    centroids, _ = kmeans(e[train_idx], sp["clusters"], sp["kmeans_iters"], 0, "auto", "cpu")
    type_all = nearest_centroid(e, unit_rows(centroids))
    counts = np.bincount(type_all[train_idx], minlength=len(centroids))
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    ranked = rank[type_all]
    tr = train_idx
    splits = []
    for w, n in collections.Counter(labels[tr]).most_common(50):
        c = collections.Counter(ranked[tr][labels[tr] == w])
        splits.append(sum(1 for v in c.values() if v >= 0.1 * n))
    purity = sum(collections.Counter(labels[tr][ranked[tr] == t]).most_common(1)[0][1]
                 for t in np.unique(ranked[tr])) / len(tr)
    print(f"centred k-means K {len(order)}: top-50 words split over median {np.median(splits)} types; "
          f"train purity {purity:.3f}", flush=True)
    names = [f"#{i}" for i in range(len(order))]
    tokens, sentences = token_stream(ranked, np.asarray(store.utterance_ids), train_idx)
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
    predicted = np.array(text.words, dtype=object)[top[:, 0].numpy()][ranked[held_rows]]
    acc = float(np.mean(predicted == labels[held_rows]))
    print(f"centred types: unsupervised selflearn criterion {result.criterion:.3f}, held-out classification (CSLS) "
          f"{100 * acc:.1f} % of {len(held_rows)} segments")


if __name__ == "__main__":
    main()
