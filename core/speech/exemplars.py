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

When they are chosen. `calibrate` has two measures on one path: written-word top-1/top-10 through
the map (needs Align; scripts/mboshi_end_to_end.py after aligning), or TYPE accuracy (a held-out
segment's nearest type is its own label; no map). A speech space trained into a project
(core.speech.project_space.train_project_speech_space: Train ▸ Train speech space…) gets its
exemplars at once that way (`for_training_run`, from the run's own segment encodings; the
calibration is written to `<run>/type_exemplars.json`). On Mboshi (session-9 CPU encoder, run
encodings) both measures choose the same: votes of 200 exemplars, 10 merged types (types
38.0 / 67.6, words 36.1 / 63.1 uncapped). Only unit-skipgram spaces of configuration A get them:
speech2vec's clip vector is its encoding, not a type; in B, VAD and F the types are k-means
clusters of these very encodings (each segment in its nearest centroid's cluster), so centroids
reproduce them by construction and exemplars could only blur the cluster borders. A corpus too
small to hold utterances out (fewer than ~10) keeps centroids and the default number of types.

Size. Each exemplar costs dim × 2 + 4 bytes. Every training segment is kept while there are at
most MAX_EXEMPLARS = 100,000 (26 MB at the encoder's default 128 dims, 13 MB at 64); above that at
most MAX_PER_TYPE = 200 of a type (`resolve_cap`, `cap_per_type`: evenly spaced over the type's
segments), and calibration scores with the same exemplars. Why a cap only for big corpora: the
frequent types' many exemplars matter. Mboshi word calibration, top-1 / top-10 by cap (votes
k=200): none 36.1 / 63.1 (27,563 exemplars, 3.6 MB at 64 dims), 400: 35.8 / 63.2 (25,505), 200:
35.0 / 62.6 (22,968, 3.0 MB), 100: 33.7 / 61.5, 50: 30.8 / 58.7, 20: 25.6 / 53.4; on Mboshi dev
(checked once each, no choice made on it) the type-measure choice gave 33.8 / 59.4 uncapped and
31.6 / 57.7 at cap 200. A 500k-token corpus with a Zipf vocabulary of 40k types keeps 258k of its
~481k segments at cap 200: 67 MB at 128 dims (34 MB at 64) against 125 MB uncapped; even cap 20
keeps 156k (41 MB), because most of those segments are rare types' (which any cap keeps whole).
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

    def scores(self, enc: np.ndarray, votes: Sequence[tuple[int, float]] = (),
               chunk: int = 256) -> tuple[np.ndarray, list[np.ndarray]]:
        """(`similarities`, [`votes` for each (k, tau) of `votes`]) from one product of the encodings
        with the exemplars (the clip path needs both; each alone would compute it again)."""
        enc = np.atleast_2d(np.asarray(enc, dtype=np.float32))
        sims_out = np.full((len(enc), self.n_types), -2.0, dtype=np.float32)
        votes_out = [np.zeros((len(enc), self.n_types), dtype=np.float64) for _ in votes]
        if not len(self.types):
            return sims_out, votes_out
        owners = self.types[self._starts]
        for a in range(0, len(enc), chunk):  # chunks keep memory at chunk × N
            sims = enc[a:a + chunk] @ self.exemplars.T
            sims_out[a:a + chunk, owners] = np.maximum.reduceat(sims, self._starts, axis=1)
            for out, (k, tau) in zip(votes_out, votes):
                k = min(int(k), len(self.types))
                if k < 1:
                    continue
                near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
                s = np.take_along_axis(sims, near, axis=1)
                w = np.exp((s - s.max(axis=1, keepdims=True)) / float(tau))
                rows = np.repeat(np.arange(a, a + len(near)), k)
                np.add.at(out, (rows, self.types[near].ravel()), w.ravel())
        return sims_out, votes_out

    def votes(self, enc: np.ndarray, k: int, tau: float, chunk: int = 256) -> np.ndarray:
        """[n, n_types] soft k-nearest-neighbour votes: the sum, over each encoding's `k` nearest
        exemplars, of exp((cosine - the nearest one's cosine) / tau) for the exemplar's type (0 for
        types without a vote). Several near exemplars of one type outvote a single stray one."""
        return self.scores(enc, [(k, tau)], chunk)[1][0]

    def similarities(self, enc: np.ndarray, chunk: int = 256) -> np.ndarray:
        """[n, n_types] max cosine of each unit encoding to each type's exemplars."""
        return self.scores(enc, (), chunk)[0]


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
# every training segment is an exemplar while there are at most MAX_EXEMPLARS; above that at most
# MAX_PER_TYPE of one type are kept (stored, and used on calibration): `resolve_cap`, `cap_per_type`
MAX_EXEMPLARS = 100_000
MAX_PER_TYPE = 200
AUTO = "auto"
# held-out segments scored by `calibrate` at most (an evenly spaced subset of the held-out utterances' ones)
MAX_QUERIES = 5000
BYTES_PER_VALUE = 2  # exemplars are stored in float16


def resolve_cap(n_segments: int, max_per_type: int | str | None = AUTO) -> int | None:
    """The per-type cap for `n_segments` training segments: `max_per_type` as given, or for AUTO none
    (every segment kept) up to MAX_EXEMPLARS segments and MAX_PER_TYPE above."""
    if max_per_type != AUTO:
        return max_per_type
    return None if n_segments <= MAX_EXEMPLARS else MAX_PER_TYPE


def cap_per_type(types: np.ndarray, max_per_type: int | None = MAX_PER_TYPE) -> np.ndarray:
    """Indices (ascending) of at most `max_per_type` rows of each type in `types`: all of a type's
    rows when it has no more, else that many evenly spaced over its rows in their order (a store
    lists segments utterance by utterance, so the kept ones spread over utterances and speakers).
    No random state: the same rows on every run. None keeps every row."""
    types = np.asarray(types)
    if max_per_type is None or not len(types):
        return np.arange(len(types))
    if int(max_per_type) < 1:
        raise ValueError(f"max_per_type must be at least 1, not {max_per_type}")
    cap = int(max_per_type)
    order = np.argsort(types, kind="stable")
    sorted_types = types[order]
    starts = np.flatnonzero(np.r_[True, sorted_types[1:] != sorted_types[:-1]])
    sizes = np.diff(np.r_[starts, len(types)])
    keep = [order[a:a + n] if n <= cap else order[a + (np.arange(cap) * n) // cap] for a, n in zip(starts, sizes)]
    return np.sort(np.concatenate(keep))


def stored_megabytes(n: int, dim: int) -> float:
    """Size in MB of `n` stored exemplars of `dim` values (float16 rows plus an int32 type row each)."""
    return n * (dim * BYTES_PER_VALUE + 4) / 1e6


def calibrate(enc: np.ndarray, types: np.ndarray, n_types: int, groups: Sequence[str],
              truths: Sequence[str] | None = None, type_words: Callable[[int], list[str]] | None = None,
              candidates: Sequence[int] = (1, 3, 5, 10, 20), fraction: float = 0.1, k: int = 10,
              votes: Sequence[tuple[int, float]] = VOTES, max_per_type: int | str | None = AUTO,
              max_queries: int | None = MAX_QUERIES, chunk: int = 256) -> dict:
    """Choose how a clip's nearest types are found and how many are merged, on held-out training
    segments (never on a dev or test split).

    enc, types: unit encodings of the training segments and their type rows; groups: each
    segment's utterance (a `fraction` of utterances is held out, `held_out_mask`; of their
    segments at most `max_queries`, evenly spaced, are scored). Centroids (from every kept segment)
    and exemplars (at most `max_per_type` of each type's kept segments, `cap_per_type`, AUTO:
    `resolve_cap` of all the segments given, as `attach` stores them) are rebuilt from the other utterances only, so a held-out segment is
    scored like a new clip.

    Two measures, one path:
      * words (after Align): truths are the right written word of each segment and type_words(row)
        the ranked written words of a type (the classifier's list for the type's vector; cached here);
      * types (truths and type_words None; no map needed, so a speech space can get its exemplars
        when it is trained): a type's "list" is the type itself, and the truth is the segment's own
        type, so top-1 is "nearest type = its label" and top-k "its label among the k nearest types"
        (what the word measure would give with a map that names every type's word first).
    Variants: "centroids"; "exemplars" (a type as near as its nearest exemplar or centroid);
    "votes k=K tau=T" (soft kNN votes of the K nearest exemplars, `ExemplarIndex.votes`, then the
    other types by cosine). Returns {"measure", "segments", "fit_segments", "exemplars",
    "variants": {name: {M: {"top1", "top10"}}}, "chosen": {...}}; the choice is the highest top-10,
    then top-1, then the smaller M.
    """
    from core.retrieval import top_k_indices

    if (truths is None) != (type_words is None):
        raise ValueError("give both truths and type_words (measure: words) or neither (measure: types)")
    measure = "types" if type_words is None else "words"
    if type_words is None:
        truths = [int(t) for t in types]
        type_words = lambda row: [row]  # noqa: E731 - a type's own row is its one "word"
    types = np.asarray(types)
    max_per_type = resolve_cap(len(types), max_per_type)
    cal = held_out_mask(groups, fraction)
    fit = np.flatnonzero(~cal)
    if not cal.any() or not len(fit):
        raise ValueError("calibration needs segments in both the held-out and the kept utterances")
    queries = np.flatnonzero(cal)
    if max_queries is not None and len(queries) > max_queries:
        queries = queries[(np.arange(max_queries) * len(queries)) // max_queries]
    kept = fit[cap_per_type(types[fit], max_per_type)]
    centroids = type_centroids(enc[fit], types[fit], n_types)
    index = ExemplarIndex(enc[kept], types[kept], n_types)
    names = ["centroids", "exemplars"] + [f"votes k={kv} tau={tau:g}" for kv, tau in votes]
    settings: dict = {"centroids": None, "exemplars": None}
    settings.update({f"votes k={kv} tau={tau:g}": {"k": int(kv), "tau": float(tau)} for kv, tau in votes})
    top = max(candidates)
    near = {name: np.zeros((len(queries), min(top, n_types)), dtype=np.int64) for name in names}
    for a in range(0, len(queries), chunk):  # never all [queries × types] matrices at once
        query = _unit(enc[queries[a:a + chunk]])
        cent = query @ centroids.T
        ex_sims, ex_votes = index.scores(query, votes, chunk)
        nearest = np.maximum(cent, ex_sims)
        near["centroids"][a:a + chunk] = top_k_indices(cent, top)
        near["exemplars"][a:a + chunk] = top_k_indices(nearest, top)
        for name, v in zip(names[2:], ex_votes):
            near[name][a:a + chunk] = top_k_indices(ranking_key(nearest, v), top)
    truth = [truths[i] for i in queries]
    cache: dict[int, list] = {}
    out: dict = {"measure": measure, "segments": int(len(queries)), "held_out_segments": int(cal.sum()),
                 "fit_segments": int(len(fit)), "exemplars": int(len(kept)), "max_per_type": max_per_type,
                 "variants": {}}
    best = None
    for name in names:
        out["variants"][name] = {}
        for m in candidates:
            h1 = h10 = 0
            for row, right in zip(near[name], truth):
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


def attach(weights: dict, config: dict, exemplars: np.ndarray | None, types: np.ndarray | None,
           type_candidates: int | None = None, note: str = "", votes: dict | None = None,
           max_per_type: int | str | None = AUTO) -> tuple[dict, dict]:
    """(weights, config) of a unit-skipgram encoder with these exemplars (at most `max_per_type` of
    each type, `cap_per_type`; AUTO: `resolve_cap`), replacing any it had (exemplars None: none, centroids only), and the
    chosen `type_candidates` and `votes` {"k", "tau"}; new dicts, the given ones are not changed.
    What `add_to_encoder` and a speech space's training (core.speech.project_space) both store."""
    from core.errors import WordbridgeError

    if config.get("learner") != "unit-skipgram":
        raise WordbridgeError("exemplars name speech types: only a unit-skipgram encoder has them")
    config = {k: v for k, v in config.items() if k not in ("type_exemplars", "type_candidates", "type_votes")}
    weights = {k: v for k, v in weights.items() if k not in (EXEMPLARS, EXEMPLAR_TYPES)}
    if exemplars is not None:
        problem = check_exemplars(exemplars, types, *np.asarray(weights["assign_centroids"]).shape)
        if problem:
            raise WordbridgeError(f"cannot store exemplars: {problem}")
        max_per_type = resolve_cap(len(types), max_per_type)
        keep = cap_per_type(np.asarray(types), max_per_type)
        weights[EXEMPLARS] = _unit(np.asarray(exemplars)[keep]).astype(np.float16)
        weights[EXEMPLAR_TYPES] = np.asarray(types, dtype=np.int32)[keep]
        config["type_exemplars"] = {"n": int(len(keep)), "of": int(len(types)), "max_per_type": max_per_type,
                                    "note": note}
        if votes:
            config["type_votes"] = {"k": int(votes["k"]), "tau": float(votes["tau"])}
    if type_candidates is not None:
        config["type_candidates"] = int(type_candidates)
    return weights, config


def add_to_encoder(project, exemplars: np.ndarray | None, types: np.ndarray | None,
                   type_candidates: int | None = None, encoder_id: str | None = None, note: str = "",
                   votes: dict | None = None, max_per_type: int | str | None = AUTO) -> dict:
    """Store exemplars (and the chosen `type_candidates`) in a project's type encoder (`attach`),
    replacing any it had (exemplars None: remove them, keep centroids only); the app's clip path
    (ClipEncoder, ClipClassifier) uses them from the next load; `votes` {"k", "tau"}: order types
    by soft kNN votes (`ExemplarIndex.votes`). Returns the encoder's new config."""
    from core.errors import WordbridgeError

    entries = [e for e in project.manifest.encoders if encoder_id in (None, e.id)]
    if not entries:
        raise WordbridgeError("this project has no speech encoder to add exemplars to")
    entry = entries[0]
    weights, config = project.encoder(entry.id)
    weights, config = attach(weights, config, exemplars, types, type_candidates, note, votes, max_per_type)
    project.set_encoder(entry.id, weights, config, entry.provenance)
    return config


# why a speech space gets no exemplars when it is trained (`for_training_run`)
NOT_FOR_LEARNER = "only a unit-skipgram space names a clip by its nearest speech type"
NOT_FOR_KMEANS = ("configuration {grouping}: its types are k-means clusters of these very encodings, each "
                  "segment in the cluster of its nearest centroid, so the centroids already reproduce them "
                  "(exemplars could only blur the clusters' borders)")


def training_segments(run_dir, store, exclude_held_out: bool = True) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(unit encodings, type rows, utterance of each) of a finished train-speech run's training
    segments that have a type: the encodings the run computed with its final encoder
    (`segments.safetensors`, which its centroids were made from), the types its grouping gave."""
    from pathlib import Path

    from core.atomic import load_safetensors
    from core.errors import InputFileError
    from core.speech.runner import SEGMENTS_FILE, split_segments

    path = Path(run_dir) / SEGMENTS_FILE
    if not path.is_file():
        raise InputFileError(path, "missing: the run's segment encodings are needed for type exemplars")
    tensors = load_safetensors(path)
    enc, type_of = np.asarray(tensors["embedding"], dtype=np.float32), np.asarray(tensors["type_of"])
    if len(enc) != store.n_segments or len(type_of) != store.n_segments:
        raise InputFileError(path, f"{len(enc)} segment encodings for a store of {store.n_segments} segments")
    rows = split_segments(store, exclude_held_out)[0]
    rows = rows[type_of[rows] >= 0]
    # utterance names (as in the store's segment table) decide the held-out slice; numbers if it has none
    names = store.table.utterance if hasattr(store, "table") else [str(int(u)) for u in store.utterance_ids]
    return _unit(enc[rows]), type_of[rows].astype(np.int64), [str(names[i]) for i in rows]


def for_training_run(run_dir, store, learner: str, grouping: str, n_types: int, exclude_held_out: bool = True,
                     max_per_type: int | str | None = AUTO) -> dict:
    """Type exemplars for a speech space as it is trained (no map yet): `calibrate` on TYPE accuracy
    of held-out training utterances chooses centroids or exemplars (and votes) and the number of
    merged types. Returns {"stored": False, "why"} when the space gets none (not unit-skipgram, or a
    k-means configuration), else {"stored": bool (True when exemplars won), "exemplars", "types"
    (None when centroids won), "type_candidates", "votes", "calibration", "n", "megabytes"}."""
    if learner != "unit-skipgram":
        return {"stored": False, "why": NOT_FOR_LEARNER}
    if grouping != "A":
        return {"stored": False, "why": NOT_FOR_KMEANS.format(grouping=grouping)}
    enc, types, groups = training_segments(run_dir, store, exclude_held_out)
    max_per_type = resolve_cap(len(types), max_per_type)
    try:
        result = calibrate(enc, types, n_types, groups, max_per_type=max_per_type)
    except ValueError:  # no utterance held out (or none kept)
        return {"stored": False, "why": f"{len(set(groups))} training utterances are too few to hold some out "
                                        "and choose them on"}
    chosen = result["chosen"]
    use = chosen["similarity"] == "exemplars"
    n = len(cap_per_type(types, max_per_type)) if use else 0
    return {"stored": use, "exemplars": enc if use else None, "types": types if use else None,
            "type_candidates": chosen["type_candidates"], "votes": chosen["votes"], "calibration": result,
            "n": int(n), "of": int(len(types)), "megabytes": round(stored_megabytes(n, enc.shape[1]), 3),
            "max_per_type": max_per_type}
