"""Before the join: are the k-means clusters of a run's segment encodings text-shaped?  (session 23; a diagnosis)

A finished unit-skipgram run keeps every segment's encoding (segments.safetensors) but only the joined
types. Here the training segments' encodings get a fresh k-means (K clusters, faiss, seed 0), a skip-gram
over the cluster stream (the runner's pseudo-word skip-gram settings: gensim, 50-d, 10 negatives, 1e-4
subsampling, 10 epochs), and the same measures as diag_groups.py: word purity, the held-out ceiling of a
perfect cluster → word lookup, and held-out classification through a map fitted WITH labels (orthogonal
Procrustes on (cluster, its majority word) pairs). Labels only score. SYNTHETIC speech.

    PYTHONPATH=. python3 diag_kmeans.py RUN_OUT_DIR OUT.json [K]
"""

import glob
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diag_groups import purity  # noqa: E402

from core.alignment import AlignConfig, align  # noqa: E402
from core.atomic import load_safetensors  # noqa: E402
from core.corpus.feature_store import FeatureStore  # noqa: E402
from core.embeddings import Embeddings  # noqa: E402
from core.pipeline import speech_eval as ev  # noqa: E402
from core.speech.runner import SEGMENTS_FILE, split_segments  # noqa: E402
from core.vectors import load_vectors  # noqa: E402


def main():
    import faiss
    from gensim.models import Word2Vec

    out_dir, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
    store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
    train, test = (np.asarray(r, np.int64) for r in split_segments(store, exclude_held_out=True))
    if any(store.labels[i] for i in train[:100]):
        label = lambda rows: [store.labels[i] for i in rows]  # noqa: E731
    else:
        words = FeatureStore.open(glob.glob(f"{out_dir}/stages/features-textgrid-*/store")[0])
        label = lambda rows: ev.overlap_labels(store.table, rows, words)  # noqa: E731
    enc = np.ascontiguousarray(load_safetensors(run / SEGMENTS_FILE)["embedding"], dtype=np.float32)
    enc /= np.linalg.norm(enc, axis=1, keepdims=True) + 1e-9
    km = faiss.Kmeans(enc.shape[1], k, niter=20, seed=0, spherical=True, verbose=False)
    km.train(enc[train])
    _, assign = km.index.search(enc, 1)
    cluster = assign[:, 0]
    # the cluster stream, utterance by utterance in segment order
    utt, pos = np.asarray(store.utterance_ids), np.asarray(store.table.position)
    order = train[np.lexsort((pos[train], utt[train]))]
    sentences, current, last = [], [], None
    for i in order:
        if utt[i] != last and current:
            sentences.append(current)
            current = []
        current.append(f"#{cluster[i]}")
        last = utt[i]
    sentences.append(current)
    m = Word2Vec(sentences, vector_size=50, window=5, min_count=1, sg=1, negative=10, sample=1e-4, epochs=10,
                 workers=2, seed=0)
    names = list(m.wv.index_to_key)
    space = Embeddings(names, m.wv.vectors.copy(), modality="speech")
    train_words, test_words = label(train), label(test)
    by = defaultdict(Counter)
    for c, w in zip(cluster[train], train_words):
        by[int(c)][w] += 1
    majority = {c: cnt.most_common(1)[0][0] for c, cnt in by.items()}
    labelled = [(c, w) for c, w in zip(cluster[test], test_words) if w]
    text = load_vectors(glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")[0], language="en")
    pairs = [(space.index[f"#{c}"], text.index[w]) for c, w in majority.items() if w in text and f"#{c}" in space.index]
    fit = align(space, text, AlignConfig(method="supervised"), seed_pairs=np.asarray(pairs, np.int64))
    sample = np.sort(np.random.default_rng(0).choice(len(test), min(20000, len(test)), replace=False))
    queries = space.vectors[[space.index.get(f"#{cluster[test[i]]}", 0) for i in sample]]
    top = ev.retrieve(fit.mapping, queries, space, text, 1, 10)
    result = {"run": str(run), "k": k, "clusters_in_stream": len(names),
              "purity_word": purity(cluster[train], train_words),
              "purity_speaker": purity(cluster[train], np.asarray(store.speakers)[train].tolist()),
              "ceiling_test": float(np.mean([majority.get(int(c)) == w for c, w in labelled])),
              "supervised_map": ev.classification_scores(top, [test_words[i] for i in sample], text)}
    print(json.dumps(result, indent=1))
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
