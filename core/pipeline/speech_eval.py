"""Speech → text evaluation: spoken word classification (paper Table 3) and translation (Table 6).

Test segments come only from the corpus's held-out speakers (voices never seen in training: the
speech learners drop those speakers' segments from training, `exclude_held_out`).

True word of a test segment: for the forced-alignment segmentations (A*, A, B) the TextGrid
label of the segment. For VAD and equal chunks (F), which know no words, the TextGrid word of the
same recording that overlaps the segment's span the most (ties: the earlier word); a segment that
overlaps no word is unlabelled and left out (counted as `unlabelled`).

Embedding a test segment: Speech2Vec — its encoder output (the type space is the mean of those
encodings, so the vector lives in that space). unit-skipgram — its acoustic embedding → the
nearest type centroid (cosine; for joined types, the nearest of their clusters' centroids) → that
type's skip-gram vector. The learners store every
segment's encoding in `segments.safetensors`; a new clip gets the same vector through
`core.speech.type_space.SpeechTypeSpace.encode`.

Scoring: the vector is mapped with W; its nearest text word is found by NN (cosine) and by CSLS
(k = 10; the text words' neighbourhood term is taken against the mapped speech *types*, as in
MUSE). Classification: correct when the top word equals the true word; accuracy over test
segments whose true word is in the text vocabulary; coverage = that fraction of labelled test
segments. Translation: P@k = correct when any gold translation (FreeDict, any listed target
word in the text vocabulary) is among the top k; over test segments whose word has such a gold
translation; coverage likewise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.retrieval import csls_penalties, resolve_device, topk_cosine, topk_csls


def test_segments(store, max_segments: int | None = None, seed: int = 0) -> np.ndarray:
    """Rows of the store spoken by held-out speakers (at most `max_segments`, a seeded sample)."""
    held = set(store.metadata.get("held_out_speakers") or [])
    if not held:
        raise WordbridgeError(f"{getattr(store, 'path', 'store')}: the corpus names no held-out speakers; "
                              "evaluation needs voices unseen in training")
    from core.speech.runner import split_segments

    rows = split_segments(store, exclude_held_out=True)[1].astype(np.int64)  # the rows training leaves out
    if max_segments is not None and len(rows) > max_segments:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_segments, replace=False))
    return rows


def overlap_labels(table, rows: np.ndarray, words_store) -> list[str | None]:
    """True words of segments `rows` of `table` (VAD / chunks): the label of the word-store
    segment of the same audio file that overlaps the most; None when nothing overlaps."""
    by_audio: dict[str, list[tuple[float, float, str]]] = {}
    wt = words_store.table
    for a, s, e, lab in zip(wt.audio, wt.start, wt.end, wt.label):
        if lab:
            by_audio.setdefault(str(Path(a).resolve()), []).append((float(s), float(e), lab))
    out: list[str | None] = []
    for i in rows:
        spans = by_audio.get(str(Path(table.audio[i]).resolve()), [])
        s, e = float(table.start[i]), float(table.end[i])
        best, best_ov = None, 0.0
        for ws, we, lab in spans:
            ov = min(e, we) - max(s, ws)
            if ov > best_ov:
                best, best_ov = lab, ov
        out.append(best)
    return out


def segment_vectors(run_dir: Path, rows: np.ndarray) -> tuple[np.ndarray, Embeddings, dict]:
    """Type-space vectors of segments `rows` of a finished speech run, the run's type space, info."""
    from core.atomic import load_safetensors
    from core.speech.runner import SEGMENTS_FILE
    from core.speech.type_space import ASSIGN_FILE, INFO_FILE, TYPES_VEC
    from core.vectors import load_vectors

    run_dir = Path(run_dir)
    info = json.loads((run_dir / INFO_FILE).read_text(encoding="utf-8"))
    types = load_vectors(run_dir / TYPES_VEC, modality="speech")
    enc = load_safetensors(run_dir / SEGMENTS_FILE, torch=True)["embedding"].numpy()[rows]
    if info["learner"] == "speech2vec":
        return enc.astype(np.float32), types, info
    from core.speech.type_space import placement_similarities

    arrays = load_safetensors(run_dir / ASSIGN_FILE)
    # joined types: the nearest of their clusters' prototypes places a segment (core.speech.type_space)
    nearest = placement_similarities(enc, arrays["assign_centroids"], arrays.get("assign_prototypes")).argmax(1)
    return types.vectors[nearest], types, info


def retrieve(mapping, queries: np.ndarray, speech: Embeddings, text: Embeddings, k: int = 5,
             knn: int = 10, device: str = "auto") -> dict[str, np.ndarray]:
    """Top-k text rows of each query (raw speech vectors) by NN and by CSLS, after mapping."""
    return {method: idx for method, (_, idx) in retrieve_scored(mapping, queries, speech, text, k, knn,
                                                                 device).items()}


def retrieve_scored(mapping, queries: np.ndarray, speech: Embeddings, text: Embeddings, k: int = 5,
                    knn: int = 10, device: str = "auto") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(scores, rows) of the top-k text rows of each query by NN (cosine) and by CSLS, after mapping;
    the CSLS neighbourhood term of the text rows is taken against the mapped `speech` rows."""
    dev = resolve_device(device)
    q = torch.from_numpy(mapping.map_source(queries)).to(dev)
    types = torch.from_numpy(mapping.map_source(speech.vectors)).to(dev)
    keys = torch.from_numpy(mapping.map_target(text.vectors)).to(dev)
    k = min(k, len(text))
    nn = topk_cosine(q, keys, k, backend="torch", device=dev)
    _, r_keys = csls_penalties(types, keys, knn, backend="torch", device=dev)
    r_q = topk_cosine(q, keys, min(knn, len(text)), backend="torch", device=dev)[0].mean(1)
    csls = topk_csls(q, keys, k, knn, backend="torch", device=dev, penalties=(r_q, r_keys))
    return {name: (scores.cpu().numpy(), idx.cpu().numpy()) for name, (scores, idx) in (("nn", nn), ("csls", csls))}


def classification_scores(top: dict[str, np.ndarray], truth: list[str | None], text: Embeddings) -> dict:
    """Accuracy of the top-1 word = true word, over test segments whose word the text space has."""
    labelled = [i for i, w in enumerate(truth) if w]
    covered = [i for i in labelled if truth[i] in text]
    out = {"test_segments": len(truth), "labelled": len(labelled), "evaluated": len(covered),
           "coverage": len(covered) / len(labelled) if labelled else 0.0}
    for method, idx in top.items():
        hits = [text.words[idx[i, 0]] == truth[i] for i in covered]
        out[f"accuracy_{method}"] = float(np.mean(hits)) if hits else None
    return out


def translation_scores(top: dict[str, np.ndarray], truth: list[str | None], text: Embeddings,
                       gold: dict[str, set[str]], ks=(1, 5), weights: np.ndarray | None = None) -> dict:
    """P@k: any gold translation among the top k, over test segments with a gold word in `text`.

    `weights` (one per query, e.g. a word type's token count) turns the mean into a weighted mean."""
    labelled = [i for i, w in enumerate(truth) if w]
    targets = {w: {t for t in gold.get(w, ()) if t in text} for w in {truth[i] for i in labelled}}
    covered = [i for i in labelled if targets[truth[i]]]
    out = {"test_segments": len(truth), "labelled": len(labelled), "evaluated": len(covered),
           "coverage": len(covered) / len(labelled) if labelled else 0.0,
           "test_words": len({truth[i] for i in covered})}
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[covered]
    for method, idx in top.items():
        for k in ks:
            hits = [any(text.words[j] in targets[truth[i]] for j in idx[i, :k]) for i in covered]
            out[f"p@{k}_{method}"] = float(np.average(hits, weights=w)) if hits else None
    return out


def gold_dictionary(path: str) -> dict[str, set[str]]:
    """FreeDict pairs as source word → set of target words."""
    from core.dictionary import load_dictionary

    gold: dict[str, set[str]] = {}
    for s, t in load_dictionary(path):
        gold.setdefault(s, set()).add(t)
    return gold


def supervised_seed_pairs(speech: Embeddings, text: Embeddings, task: str, gold: dict | None,
                          test_words: set[str]) -> np.ndarray:
    """A*'s seed dictionary [n, 2] (speech row, text row): identity pairs of every training type
    for classification; for translation the FreeDict pairs whose source word is no test word."""
    rows = []
    for i, w in enumerate(speech.words):
        if task == "classification":
            if w in text:
                rows.append((i, text.index[w]))
        elif w not in test_words:
            rows += [(i, text.index[t]) for t in sorted((gold or {}).get(w, ())) if t in text]
    return np.array(rows, dtype=np.int64).reshape(-1, 2)
