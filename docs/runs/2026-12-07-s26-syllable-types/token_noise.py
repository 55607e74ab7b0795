"""Is it the grouping or the encodings?  Oracle sound groups, each stretch placed by its own encoding
(session 26; an ORACLE diagnosis, labels build the groups)

Session 25's oracle put every perfect unit (each training stretch's `word`, `word#k` or `w1+w2`) into K groups
by spherical k-means of the units' MEAN encodings (session 24's CPU stand-in): word purity 0.775 and 22.9 % at
K 6,000. Here the same groups' centroids place each stretch by its OWN encoding (nearest centroid, cosine), as
a learnt grouping must: if purity stays near the oracle's, the learnt k-means and join lose what the
encodings hold; if it falls to the learnt types' (0.60 at 6,000), the encodings themselves are the limit.
(Read it beside the same test on B's word segments, README section 4: placement fails there too.)
Then word2vec, the unsupervised map and per-stretch accuracy on the training voices, as the oracles.
With WEIGHT, every encoding is first followed by WEIGHT × its previous and next stretch's encodings (session
25's `diag_context.with_neighbours`): does a wider window hold the word part? SYNTHETIC speech.

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 token_noise.py RUN_OUT_DIR K OUT.json [WEIGHT]
"""
import glob
import json
import sys
import time
from pathlib import Path

import numpy as np

RUNS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(RUNS / "2026-12-07-s23-energy-vad"))
sys.path.insert(0, str(RUNS / "2026-12-07-s25-context"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from diag_context import with_neighbours  # noqa: E402
from diag_groups import purity  # noqa: E402
from oracle_merge_noise import oracle_units  # noqa: E402
from oracle_units import score  # noqa: E402

from boundary_probe import learnt_types  # noqa: E402

from core.atomic import load_safetensors  # noqa: E402
from core.speech.runner import SEGMENTS_FILE  # noqa: E402
from core.vectors import load_vectors  # noqa: E402


def group_centroids(units: list[str], enc: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(each stretch's group by its unit, the groups' unit-length centroids): oracle_merge_noise.grouped's
    k-means of the units' mean encodings, keeping its centroids."""
    import faiss

    names, ids = np.unique(units, return_inverse=True)
    sums = np.zeros((len(names), enc.shape[1]))
    np.add.at(sums, ids, enc)
    means = np.ascontiguousarray(sums / np.linalg.norm(sums, axis=1, keepdims=True).clip(1e-9), np.float32)
    km = faiss.Kmeans(means.shape[1], k, niter=20, seed=0, spherical=True, verbose=False)
    km.train(means)
    group = km.index.search(means, 1)[1][:, 0]
    c = km.centroids / np.linalg.norm(km.centroids, axis=1, keepdims=True).clip(1e-9)
    return group[ids], c


def placed(enc: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each row's nearest centroid by dot product (rows and centroids unit length: cosine), in blocks."""
    return np.concatenate([(enc[a:a + 50000] @ centroids.T).argmax(1) for a in range(0, len(enc), 50000)])


def score_groups(groups: np.ndarray, labels: list, utt: np.ndarray, out_dir: Path) -> dict:
    """Session 23's oracle scoring of a grouping: one sentence of `g<group>` tokens per utterance (rows in
    utterance order), word2vec, the unsupervised map onto the run's English text space, per-row accuracy."""
    cuts = np.flatnonzero(utt[1:] != utt[:-1]) + 1
    pairs = [(f"g{g}", [lab]) for g, lab in zip(groups.tolist(), labels)]
    stream = [pairs[a:b] for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(pairs)])]
    text = load_vectors(glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")[0], language="en")
    return score(stream, text)


def main():
    out_dir, k, out_json = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    weight = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    t0 = time.time()
    run, store, words, train, _ = learnt_types(out_dir)
    units, labels = oracle_units(store.table, train, words)
    enc = np.asarray(load_safetensors(run / SEGMENTS_FILE)["embedding"], dtype=np.float64)[train]
    enc /= np.linalg.norm(enc, axis=1, keepdims=True).clip(1e-9)
    utt = np.asarray(store.utterance_ids)[train]
    if weight:
        enc = with_neighbours(enc, utt, weight)
        enc /= np.linalg.norm(enc, axis=1, keepdims=True).clip(1e-9)
    by_unit, centroids = group_centroids(units, enc, k)
    own = placed(enc, centroids)
    speakers = np.asarray(store.speakers)[train].tolist()
    result = {"run": str(run), "k": k, "weight": weight, "stretches": len(units),
              "by_unit": {"purity_word": purity(by_unit, labels), "purity_speaker": purity(by_unit, speakers)},
              "by_own_encoding": {"purity_word": purity(own, labels), "purity_speaker": purity(own, speakers),
                                  "same_group_as_unit": float(np.mean(own == by_unit))}}
    print(result, flush=True)
    result["by_own_encoding"]["units"] = score_groups(own, labels, utt, out_dir)
    result["seconds"] = round(time.time() - t0)
    print(json.dumps(result, indent=1), flush=True)
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
