"""Type exemplars: every training segment is a prototype of its speech type (nearest-neighbour types).

A unit-skipgram encoder names a clip's speech type by the nearest type centroid: the mean of the
type's training encodings. A frequent Mboshi word said by three speakers in many contexts is not
one cloud but several, and the averaged centroid can sit between them. Keeping the training
segments' encodings themselves ("exemplars") and scoring a type by its nearest exemplar (and its
centroid, whichever is nearer) is a 1-nearest-neighbour classifier over the training segments.
On the Mboshi calibration slice (10 % of the train utterances held out from the exemplars and the
centroids, session 11, the 2-epoch CPU encoder) it put the right type first 36.5 % of the time
against 17.7 % for centroids, 21.7 % with per-speaker prototypes and 24.7–27.5 % with 3–5 k-means
sub-centroids per type; with soft votes of the 200 nearest exemplars and 10 merged types, dev
written-word top-1 / top-10 went from 13.2 / 23.7 % to 33.8 / 59.4 %
(docs/runs/2026-12-06-s11-cpu-mboshi-ranking).

Stored beside `assign_centroids` in the encoder's weights (core.speech.encode.ClipEncoder reads
them): `assign_exemplars` [N, dim] unit rows in float16 (half the size; cosines move by ~1e-3) and
`assign_exemplar_types` [N] int32, the type row of each exemplar. The encoder's config may also
carry `type_candidates`: how many nearest types a clip's word list is merged from
(core.classify.ClipClassifier.classify_clip), and `type_votes` {"k", "tau"}: order the types by
soft votes of the clip's k nearest exemplars instead of by nearest exemplar, both chosen on
calibration (`calibrate`). Only speech segments and their speech-type labels go in: no text.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

EXEMPLARS = "assign_exemplars"
EXEMPLAR_TYPES = "assign_exemplar_types"


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def encode_segments(encoder, frames: Sequence[np.ndarray], batch: int = 256) -> np.ndarray:
    """Unit encodings [n, dim] of feature matrices with a `core.speech.encode.ClipEncoder`'s model,
    in length-sorted batches (what `encode_features` gives one at a time, ~20× faster on a CPU)."""
    import torch
    from torch.nn.utils.rnn import pad_sequence

    cap = encoder.max_frames
    lengths = np.array([min(len(f), cap) for f in frames])
    out = np.zeros((len(frames), 0), dtype=np.float32)
    order = np.argsort(lengths, kind="stable")  # similar lengths together: less padding
    parts = []
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            x = pad_sequence([torch.from_numpy(np.ascontiguousarray(frames[i][:cap], dtype=np.float32))
                              for i in idx], batch_first=True)
            parts.append(encoder.model.encode(x, torch.as_tensor(lengths[idx])).float().numpy())
    if parts:
        out = np.zeros((len(frames), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(parts)
    return _unit(out)


def check_exemplars(exemplars: np.ndarray, types: np.ndarray, n_types: int, dim: int) -> str | None:
    """Why stored exemplars cannot be used (None when they can): shapes, type rows, finite values."""
    e, t = np.asarray(exemplars), np.asarray(types)
    if e.ndim != 2 or e.shape[1] != dim or t.shape != (len(e),):
        return f"exemplars of shape {tuple(e.shape)} with {tuple(t.shape)} type rows, expected [N, {dim}] and [N]"
    if len(t) and (t.min() < 0 or t.max() >= n_types):
        return f"exemplar type rows outside 0..{n_types - 1}"
    if not np.isfinite(e).all():
        return "exemplars hold NaN or infinite values"
    return None


class ExemplarIndex:
    """Cosine of encodings to each type's nearest exemplar; types without one score -2 (below any
    cosine, so a type is never chosen for lack of exemplars over one that has them)."""

    def __init__(self, exemplars: np.ndarray, types: np.ndarray, n_types: int):
        order = np.argsort(np.asarray(types), kind="stable")  # each type's exemplars side by side
        self.types = np.asarray(types, dtype=np.int64)[order]
        self.exemplars = _unit(np.asarray(exemplars, dtype=np.float32)[order])
        self.n_types = int(n_types)
        self._starts = np.flatnonzero(np.r_[True, self.types[1:] != self.types[:-1]]) if len(self.types) else \
            np.zeros(0, dtype=np.int64)

    def votes(self, enc: np.ndarray, k: int, tau: float, chunk: int = 256) -> np.ndarray:
        """[n, n_types] soft k-nearest-neighbour votes: the sum, over each encoding's `k` nearest
        exemplars, of exp((cosine - the nearest one's cosine) / tau) for the exemplar's type (0 for
        types without a vote). Several near exemplars of one type outvote a single stray one."""
        enc = np.atleast_2d(np.asarray(enc, dtype=np.float32))
        out = np.zeros((len(enc), self.n_types), dtype=np.float64)
        k = min(int(k), len(self.types))
        if k < 1:
            return out
        for a in range(0, len(enc), chunk):
            sims = enc[a:a + chunk] @ self.exemplars.T
            near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            s = np.take_along_axis(sims, near, axis=1)
            w = np.exp((s - s.max(axis=1, keepdims=True)) / float(tau))
            rows = np.repeat(np.arange(a, a + len(near)), k)
            np.add.at(out, (rows, self.types[near].ravel()), w.ravel())
        return out

    def similarities(self, enc: np.ndarray, chunk: int = 256) -> np.ndarray:
        """[n, n_types] max cosine of each unit encoding to each type's exemplars."""
        enc = np.atleast_2d(np.asarray(enc, dtype=np.float32))
        out = np.full((len(enc), self.n_types), -2.0, dtype=np.float32)
        if not len(self.types):
            return out
        owners = self.types[self._starts]
        for a in range(0, len(enc), chunk):  # chunks keep memory at chunk × N
            sims = enc[a:a + chunk] @ self.exemplars.T
            out[a:a + chunk, owners] = np.maximum.reduceat(sims, self._starts, axis=1)
        return out


def ranking_key(sims: np.ndarray, votes: np.ndarray | None) -> np.ndarray:
    """What types are ordered by: their cosines `sims`, or with `votes` the votes first (every voted
    type, > 0) and then the other types by cosine (shifted below 0, under every voted type)."""
    if votes is None:
        return sims
    return np.where(votes > 0, votes, np.asarray(sims, dtype=np.float64) - 3.0)


def type_centroids(enc: np.ndarray, types: np.ndarray, n_types: int) -> np.ndarray:
    """Unit mean of each type's unit encodings (zero rows for types without any): configuration A's
    `assign_centroids` (core.speech.type_space.label_centroids), here for a calibration subset."""
    sums = np.zeros((n_types, enc.shape[1]), dtype=np.float64)
    np.add.at(sums, np.asarray(types), _unit(enc))
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return np.where(norms > 0, sums / np.maximum(norms, 1e-12), 0.0).astype(np.float32)


def held_out_mask(groups: Sequence[str], fraction: float = 0.1) -> np.ndarray:
    """A fixed calibration slice: whole groups (utterances), chosen by a hash of their name so the
    same utterances are held out on every run and machine (no random state)."""
    import zlib

    cut = int(round(fraction * 1000))
    return np.array([zlib.crc32(str(g).encode("utf-8")) % 1000 < cut for g in groups])


def merged_top(word_lists: Sequence[Sequence[str]], k: int = 10) -> list[str]:
    """Word lists of several types (nearest first) merged by rank, each word once: what
    core.classify.merge_by_rank does with the types' classifications."""
    merged, seen = [], set()
    for rank in range(max(map(len, word_lists), default=0)):
        for words in word_lists:
            if rank < len(words) and words[rank] not in seen:
                seen.add(words[rank])
                merged.append(words[rank])
    return merged[:k]


VOTES = ((20, 0.02), (50, 0.05), (200, 0.03))  # (k, tau) tried by `calibrate`


def calibrate(enc: np.ndarray, types: np.ndarray, n_types: int, groups: Sequence[str], truths: Sequence[str],
              type_words: Callable[[int], list[str]], candidates: Sequence[int] = (1, 3, 5, 10, 20),
              fraction: float = 0.1, k: int = 10, votes: Sequence[tuple[int, float]] = VOTES) -> dict:
    """Choose how a clip's nearest types are found and how many are merged, on held-out training
    segments (never on a dev or test split).

    enc, types: unit encodings of the training segments and their type rows; groups: each
    segment's utterance (a `fraction` of utterances is held out, `held_out_mask`); truths: the
    right written word of each segment; type_words(row): the ranked written words of a type (the
    classifier's list for the type's vector; cached by the caller). Centroids and exemplars are
    rebuilt from the other utterances only, so a held-out segment is scored like a new clip.
    Variants: "centroids"; "exemplars" (a type as near as its nearest exemplar or centroid);
    "votes k=K tau=T" (soft kNN votes of the K nearest exemplars, `ExemplarIndex.votes`, then the
    other types by cosine). Returns {"variants": {name: {M: {"top1", "top10"}}}, "chosen": {...}};
    the choice is the highest top-10, then top-1, then the smaller M.
    """
    cal = held_out_mask(groups, fraction)
    fit = ~cal
    if not cal.any() or not fit.any():
        raise ValueError("calibration needs segments in both the held-out and the kept utterances")
    query = _unit(enc[cal])
    index = ExemplarIndex(enc[fit], types[fit], n_types)
    sims = {"centroids": query @ type_centroids(enc[fit], types[fit], n_types).T}
    sims["exemplars"] = np.maximum(sims["centroids"], index.similarities(query))
    settings: dict = {"centroids": None, "exemplars": None}
    for kv, tau in votes:
        name = f"votes k={kv} tau={tau:g}"
        sims[name] = ranking_key(sims["exemplars"], index.votes(query, kv, tau))
        settings[name] = {"k": int(kv), "tau": float(tau)}
    truth = [t for t, c in zip(truths, cal) if c]
    cache: dict[int, list[str]] = {}
    out: dict = {"segments": int(cal.sum()), "fit_segments": int(fit.sum()), "variants": {}}
    best = None
    for name, s in sims.items():
        near = np.argsort(-s, axis=1)[:, :max(candidates)]
        out["variants"][name] = {}
        for m in candidates:
            h1 = h10 = 0
            for row, right in zip(near, truth):
                words = merged_top([cache.setdefault(int(t), type_words(int(t))) for t in row[:m]], k)
                h1 += words[:1] == [right]
                h10 += right in words
            score = {"top1": h1 / len(truth), f"top{k}": h10 / len(truth)}
            out["variants"][name][m] = score
            key = (score[f"top{k}"], score["top1"], -m)
            if best is None or key > best[0]:
                best = (key, {"similarity": "centroids" if name == "centroids" else "exemplars",
                              "votes": settings[name], "variant": name, "type_candidates": int(m), **score})
    out["chosen"] = best[1]
    return out


def add_to_encoder(project, exemplars: np.ndarray | None, types: np.ndarray | None,
                   type_candidates: int | None = None, encoder_id: str | None = None, note: str = "",
                   votes: dict | None = None) -> dict:
    """Store exemplars (and the chosen `type_candidates`) in a project's type encoder, replacing any
    it had (exemplars None: remove them, keep centroids only); the app's clip path (ClipEncoder,
    ClipClassifier) uses them from the next load; `votes` {"k", "tau"}: order types by soft kNN
    votes (`ExemplarIndex.votes`). Returns the encoder's new config."""
    from core.errors import WordbridgeError

    entries = [e for e in project.manifest.encoders if encoder_id in (None, e.id)]
    if not entries:
        raise WordbridgeError("this project has no speech encoder to add exemplars to")
    entry = entries[0]
    weights, config = project.encoder(entry.id)
    if config.get("learner") != "unit-skipgram":
        raise WordbridgeError("exemplars name speech types: only a unit-skipgram encoder has them")
    config = {k: v for k, v in config.items() if k not in ("type_exemplars", "type_candidates", "type_votes")}
    weights.pop(EXEMPLARS, None)
    weights.pop(EXEMPLAR_TYPES, None)
    if exemplars is not None:
        problem = check_exemplars(exemplars, types, *np.asarray(weights["assign_centroids"]).shape)
        if problem:
            raise WordbridgeError(f"cannot store exemplars: {problem}")
        weights[EXEMPLARS] = _unit(exemplars).astype(np.float16)
        weights[EXEMPLAR_TYPES] = np.asarray(types, dtype=np.int32)
        config["type_exemplars"] = {"n": int(len(types)), "note": note}
        if votes:
            config["type_votes"] = {"k": int(votes["k"]), "tau": float(votes["tau"])}
    if type_candidates is not None:
        config["type_candidates"] = int(type_candidates)
    project.set_encoder(entry.id, weights, config, entry.provenance)
    return config
