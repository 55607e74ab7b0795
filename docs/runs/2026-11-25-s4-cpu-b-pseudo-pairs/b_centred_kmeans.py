"""Offline probe: configuration B's clusters split words by speaker (b_split_by_speaker.txt), so
cluster speaker-centred embeddings instead: k-means (K as the run) on each speaker's mean-removed
segment embeddings, then skip-gram, selflearn and held-out classification as b_merged_types.py
(held-out voices centred with their own means: per-speaker normalisation, as CMVN). SYNTHETIC.

    PYTHONPATH=.:docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs .venv/bin/python \
        docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/b_centred_kmeans.py [EXPERIMENT_RUN]
"""
import glob
import json
import sys

import numpy as np
from safetensors.numpy import load_file

from b_merged_types import classify_held_out, split_and_purity
from core.corpus.feature_store import FeatureStore
from core.speech import pair_mining
from core.speech.clustering import kmeans, nearest_centroid
from core.vectors import unit_rows


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
    median_split, purity = split_and_purity(labels, type_all, train_idx)
    print(f"centred k-means K {len(centroids)}: top-50 words split over median {median_split} types; "
          f"train purity {purity:.3f}", flush=True)
    criterion, acc, n = classify_held_out(store, sp, run_root, type_all, len(centroids), train_idx, is_held, labels)
    print(f"centred types: unsupervised selflearn criterion {criterion:.3f}, held-out classification (CSLS) "
          f"{100 * acc:.1f} % of {n} segments")


if __name__ == "__main__":
    main()
