"""Do a stretch's neighbours make its k-means cluster more word-like?  (session 25; a diagnosis)

Every-valley stretches are syllable-like: "un" of "unto" and "un" of "under" sound alike and land in one
cluster, which the units oracle (session 24: 90.4 %) keeps apart as `unto#0` and `under#0`. Here each
stretch's encoding (a finished run's segments.safetensors, unit length) gets its previous and next stretch's
encodings of the same utterance appended, times WEIGHT (zeros at an utterance's ends), then: a fresh k-means
(K clusters, faiss, seed 0, spherical), a skip-gram over the cluster stream (the runner's pseudo-word
settings: gensim, 50-d, 10 negatives, 1e-4 subsampling, 10 epochs), and session 23's diag_kmeans.py measures:
word purity, speaker purity, the held-out ceiling of a perfect cluster → word lookup, held-out
classification through a map fitted WITH labels (orthogonal Procrustes on (cluster, majority word) pairs),
and — new here — through the unsupervised map (selflearn with Gromov–Wasserstein starts, the experiments'
[align]). WEIGHT 0 is the control (session 23's diag_kmeans.py with counts on the space). Before the runner's
type join and voice regression, so compare rows of this script only. Labels only score. SYNTHETIC speech.

    PYTHONPATH=. python3 diag_context.py RUN_OUT_DIR WEIGHT OUT.json [K]
"""

import glob
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-07-s23-energy-vad"))
from diag_groups import purity  # noqa: E402

from core.alignment import AlignConfig, align  # noqa: E402
from core.atomic import load_safetensors  # noqa: E402
from core.corpus.feature_store import FeatureStore  # noqa: E402
from core.embeddings import Embeddings  # noqa: E402
from core.pipeline import speech_eval as ev  # noqa: E402
from core.speech.runner import SEGMENTS_FILE, split_segments  # noqa: E402
from core.vectors import load_vectors  # noqa: E402


def with_neighbours(enc: np.ndarray, utt: np.ndarray, weight: float) -> np.ndarray:
    """[e_i, w·e_{i-1}, w·e_{i+1}] with zeros where the neighbour is in another utterance (store order =
    utterance order, stretches in time order)."""
    prev, nxt = np.zeros_like(enc), np.zeros_like(enc)
    same = utt[1:] == utt[:-1]
    prev[1:][same] = enc[:-1][same]
    nxt[:-1][same] = enc[1:][same]
    return np.concatenate([enc, weight * prev, weight * nxt], axis=1)


def cluster_stream(clusters: np.ndarray, utterances: np.ndarray) -> list[list[str]]:
    """One sentence of `#cluster` tokens per utterance, in store (= time) order (an utterance's rows are
    contiguous in the store)."""
    cuts = np.flatnonzero(utterances[1:] != utterances[:-1]) + 1
    return [[f"#{c}" for c in part] for part in np.split(clusters, cuts)]


def main():
    import faiss
    from gensim.models import Word2Vec

    out_dir, weight, out_json = Path(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])
    k = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    t0 = time.time()
    run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
    store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
    train, test = (np.asarray(r, np.int64) for r in split_segments(store, exclude_held_out=True))
    words = FeatureStore.open(glob.glob(f"{out_dir}/stages/features-textgrid-*/store")[0])
    label = lambda rows: ev.overlap_labels(store.table, rows, words)  # noqa: E731
    enc = np.ascontiguousarray(load_safetensors(run / SEGMENTS_FILE)["embedding"], dtype=np.float32)
    enc /= np.linalg.norm(enc, axis=1, keepdims=True) + 1e-9
    utt = np.asarray(store.utterance_ids)
    x = np.ascontiguousarray(with_neighbours(enc, utt, weight) if weight > 0 else enc)
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-9
    km = faiss.Kmeans(x.shape[1], k, niter=20, seed=0, spherical=True, verbose=False)
    km.train(x[train])
    cluster = km.index.search(x, 1)[1][:, 0]
    sentences = cluster_stream(cluster[train], utt[train])
    m = Word2Vec(sentences, vector_size=50, window=5, min_count=1, sg=1, negative=10, sample=1e-4, epochs=10,
                 workers=2, seed=0)
    names = list(m.wv.index_to_key)
    counts = np.array([m.wv.get_vecattr(n, "count") for n in names], np.int64)
    space = Embeddings(names, m.wv.vectors.copy(), counts, modality="speech")
    train_words, test_words = label(train), label(test)
    by = defaultdict(Counter)
    for c, w in zip(cluster[train], train_words):
        by[int(c)][w] += 1
    majority = {c: cnt.most_common(1)[0][0] for c, cnt in by.items()}
    labelled = [(c, w) for c, w in zip(cluster[test], test_words) if w]
    text = load_vectors(glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")[0], language="en")
    pairs = [(space.index[f"#{c}"], text.index[w]) for c, w in majority.items() if w in text and f"#{c}" in space.index]
    sample = np.sort(np.random.default_rng(0).choice(len(test), min(20000, len(test)), replace=False))
    queries = space.vectors[[space.index.get(f"#{cluster[test[i]]}", 0) for i in sample]]
    truth = [test_words[i] for i in sample]
    result = {"run": str(run), "weight": weight, "k": k, "clusters_in_stream": len(names),
              "purity_word": purity(cluster[train], train_words),
              "purity_speaker": purity(cluster[train], np.asarray(store.speakers)[train].tolist()),
              "ceiling_test": float(np.mean([majority.get(int(c)) == w for c, w in labelled]))}
    for name, cfg, seeds in (("supervised_map", AlignConfig(method="supervised"), np.asarray(pairs, np.int64)),
                             ("unsupervised_map", AlignConfig(method="selflearn", gw_start=True), None)):
        fit = align(space, text, cfg, seed_pairs=seeds)
        top = ev.retrieve(fit.mapping, queries, space, text, 1, 10)
        result[name] = ev.classification_scores(top, truth, text)
        if seeds is None:
            result[name]["criterion"] = fit.criterion
        print(name, result[name], flush=True)
    result["seconds"] = round(time.time() - t0)
    print(json.dumps(result, indent=1))
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
