"""How pure must syllable-like types be for the unsupervised map to find them?  (session 25; an oracle)

Session 24's units oracle on every-valley stretches (each training-voice stretch named by the unit a perfect
grouping would give it: the `word` it holds alone, `word#k` for the k-th part of a word cut into several,
`w1+w2` for several words) classified 90.4 % of stretches; the learnt types are at word purity ~0.5 and
chance. Between the two: a share Q of the oracle's unit types is merged into the acoustically nearest other
unit type (cosine of the units' mean encodings in session 24's CPU stand-in run — every-valley stretches
through session 22's B encoder — so the confusions are the ones an acoustic grouping makes; no chains),
then word2vec over the stream and the experiments' unsupervised map (selflearn + GW starts), scored per stretch
like the oracle (right when its token's nearest text word, CSLS, is the word it overlaps most). Reports the
word purity of the merged types (token-weighted share of a type's stretches that carry its majority word).
Session 17 did the same for B's word clusters (20 % noise kept 48 %, 25 % fell to 15 %, 30 % to 1 %).
With Q = kK instead (e.g. k2000), every unit type joins one of K groups: spherical k-means (faiss, seed 0) of
the units' mean encodings — perfect units, grouped by sound alone.
Labels build the oracle and score it only. SYNTHETIC speech.

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 oracle_merge_noise.py RUN_OUT_DIR Q|kK OUT.json
"""

import glob
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

S23 = Path(__file__).resolve().parents[1] / "2026-12-07-s23-energy-vad"
sys.path.insert(0, str(S23))
from diag_groups import purity  # noqa: E402
from oracle_units import score  # noqa: E402

from core.atomic import load_safetensors  # noqa: E402
from core.corpus.feature_store import FeatureStore  # noqa: E402
from core.speech.runner import SEGMENTS_FILE, split_segments  # noqa: E402
from core.vectors import load_vectors  # noqa: E402


def oracle_units(table, rows, words_store) -> tuple[list[str], list[str]]:
    """Each stretch's unit (as session 23's utterance_units names it) and the word it overlaps most."""
    by_audio = defaultdict(list)
    wt = words_store.table
    for a, s, e, lab in zip(wt.audio, wt.start, wt.end, wt.label):
        if lab:
            by_audio[str(Path(a).resolve())].append((float(s), float(e), lab))
    units, labels, parts, last_audio = [], [], Counter(), None
    for i in rows:
        audio = str(Path(table.audio[i]).resolve())
        if audio != last_audio:  # parts are numbered on across an utterance, as session 23's oracle did
            parts, last_audio = Counter(), audio
        s, e = float(table.start[i]), float(table.end[i])
        held, best, lab = [], 0.0, None
        for ws, we, w in by_audio.get(audio, []):
            o = min(e, we) - max(s, ws)
            if o > best:
                best, lab = o, w
            if o > 0.5 * (we - ws):
                held.append(w)
        if len(held) >= 2:
            units.append("+".join(held))
        elif held:
            units.append(held[0])
        elif lab is not None:
            units.append(f"{lab}#{parts[lab]}")
            parts[lab] += 1
        else:
            units.append("<sil>")
        labels.append(lab or "<sil>")
    return units, labels


def merged(units: list[str], enc: np.ndarray, share: float, seed: int = 0) -> tuple[list[str], dict]:
    """A random `share` of unit types renamed to their acoustically nearest other unit type."""
    names = sorted(set(units))
    index = {u: k for k, u in enumerate(names)}
    ids = np.array([index[u] for u in units])
    sums = np.zeros((len(names), enc.shape[1]))
    np.add.at(sums, ids, enc)
    centroids = sums / np.linalg.norm(sums, axis=1, keepdims=True).clip(1e-9)
    moved = np.random.default_rng(seed).random(len(names)) < share
    target = np.arange(len(names))
    for k in np.flatnonzero(moved):
        sims = centroids @ centroids[k]
        sims[k] = -np.inf
        target[k] = int(sims.argmax())
    out = [names[target[i]] for i in ids]
    return out, {"types_moved": int(moved.sum()), "tokens_moved": float(moved[ids].mean())}


def grouped(units: list[str], enc: np.ndarray, k: int) -> tuple[list[str], dict]:
    """Every unit type renamed to its group: spherical k-means (K groups) of the units' mean encodings."""
    import faiss

    names = sorted(set(units))
    index = {u: j for j, u in enumerate(names)}
    ids = np.array([index[u] for u in units])
    sums = np.zeros((len(names), enc.shape[1]))
    np.add.at(sums, ids, enc)
    centroids = np.ascontiguousarray(sums / np.linalg.norm(sums, axis=1, keepdims=True).clip(1e-9), np.float32)
    km = faiss.Kmeans(centroids.shape[1], k, niter=20, seed=0, spherical=True, verbose=False)
    km.train(centroids)
    group = km.index.search(centroids, 1)[1][:, 0]
    return [f"g{group[i]}" for i in ids], {"groups": k}


def main():
    out_dir, mode, out_json = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    t0 = time.time()
    run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
    store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
    train = np.asarray(split_segments(store, exclude_held_out=True)[0], np.int64)
    words = FeatureStore.open(glob.glob(f"{out_dir}/stages/features-textgrid-*/store")[0])
    units, labels = oracle_units(store.table, train, words)
    enc = np.asarray(load_safetensors(run / SEGMENTS_FILE)["embedding"], dtype=np.float64)[train]
    enc /= np.linalg.norm(enc, axis=1, keepdims=True).clip(1e-9)
    tokens, moves = grouped(units, enc, int(mode[1:])) if mode.startswith("k") else merged(units, enc, float(mode))
    utt = np.asarray(store.utterance_ids)[train]
    stream, current, last = [], [], None
    for tok, lab, u in zip(tokens, labels, utt):
        if u != last and current:
            stream.append(current)
            current = []
        current.append((tok, [lab]))
        last = u
    stream.append(current)
    text = load_vectors(glob.glob(f"{out_dir}/stages/text-en_same-*/vectors.vec")[0], language="en")
    result = {"run": str(run), "share": mode, "stretches": len(tokens), "unit_types": len(set(units)),
              "types": len(set(tokens)), **moves,
              "purity_word_units": purity(np.unique(units, return_inverse=True)[1], labels),
              "purity_word": purity(np.unique(tokens, return_inverse=True)[1], labels)}
    result["units"] = score(stream, text)
    result["seconds"] = round(time.time() - t0)
    print(json.dumps(result, indent=1), flush=True)
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
