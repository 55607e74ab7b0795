"""Read a configuration-B segment pack and cluster each voice on its own (issue 18 analyses).

A pack is what session 14/15's export_b_segments.py wrote from a B run: emb_0.npy … (int8 unit rows
× 127, in parts), meta.npz (the run's global k-means type of each segment, its word label, speaker,
utterance, the held-out speakers and the run's config). Word labels only ever score; speaker ids
are metadata every recording has. SYNTHETIC speech in every pack made so far.

Session 15's xvoice_merge.py and session 14's b_groups_to_text.py (frozen run-folder records) each
read packs their own way; analyses from session 17 on read them here.
"""
from __future__ import annotations

import collections
import functools
import glob
import importlib.util
import json
import os
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage

from core.speech.clustering import kmeans
# the same maths the product's voice normalisation uses (session 22 moved it into core)
from core.speech.voice_space.normalise import orthogonal_procrustes as procrustes, zca_whitening  # noqa: F401
from core.vectors import unit_rows


_T0 = time.time()


def log(message: str) -> None:
    """Print `message` with the seconds since this module was loaded."""
    print(f"[{time.time() - _T0:6.0f} s] {message}", flush=True)


@functools.lru_cache(maxsize=None)
def s13_tools():
    """Session 13's b_voice_groups.py (a frozen run-folder record) as a module: its classify()
    (skip-gram over a type stream, selflearn to the text, CSLS on held-out rows) and split_and_purity()."""
    path = os.path.join(os.path.dirname(__file__), "..", "docs", "runs", "2026-12-06-s13-cpu-b-voice-groups",
                        "b_voice_groups.py")
    spec = importlib.util.spec_from_file_location("b_voice_groups", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class BPack:
    """One pack in memory; `train` / `held` are row indices of segments with a type (≥ 0)."""
    emb: np.ndarray          # float32 unit rows
    labels: np.ndarray       # word of each segment (object array; scoring only)
    global_type: np.ndarray  # the run's own k-means type, -1 where none
    speaker: np.ndarray      # index into `speakers`
    speakers: np.ndarray
    utt: np.ndarray
    train: np.ndarray
    held: np.ndarray
    speech_config: dict      # the run's [speech] settings (clusters, skip-gram settings …)

    @property
    def train_speakers(self) -> list[int]:
        return sorted(set(self.speaker[self.train].tolist()))


def load_pack(path: str) -> BPack:
    """Read the pack folder `path` (see the module docstring)."""
    meta = np.load(os.path.join(path, "meta.npz"))
    parts = sorted(glob.glob(os.path.join(path, "emb_[0-9]*.npy")), key=lambda p: int(p.rsplit("_", 1)[1][:-4]))
    if not parts:
        raise FileNotFoundError(f"{path}: no emb_0.npy … parts")
    emb = unit_rows(np.concatenate([np.load(p) for p in parts]).astype(np.float32))
    gtype = meta["type_of"].astype(np.int64)
    speaker, names = meta["speaker"].astype(np.int64), meta["speakers"]
    held_names = set(meta["held_out"].tolist())
    is_held = np.array([names[s] in held_names for s in speaker])
    return BPack(emb=emb, labels=meta["vocab"][meta["word"]].astype(object), global_type=gtype,
                 speaker=speaker, speakers=names, utt=meta["utt"], train=np.flatnonzero(~is_held & (gtype >= 0)),
                 held=np.flatnonzero(is_held & (gtype >= 0)), speech_config=json.loads(str(meta["config"]))["speech"])


@dataclass
class VoiceClusters:
    """Each training voice's own k-means: cluster c's centroid, size, speaker; `local` maps a training
    segment to its cluster (-1 elsewhere)."""
    centroids: np.ndarray
    size: np.ndarray
    speaker: np.ndarray
    local: np.ndarray


def cluster_each_voice(pack: BPack, kmult: float, cache: str | None = None, seed: int = 0) -> VoiceClusters:
    """k-means per training voice with K_s = kmult × the run's K × the voice's share of training
    tokens (session 15's rule); cached in the .npz `cache` when given, because it takes minutes."""
    if cache and os.path.exists(cache):
        z = np.load(cache)
        return VoiceClusters(z["centroids"], z["size"], z["speaker"], z["local"])
    K = int(pack.speech_config["clusters"])
    cent, size, spk = [], [], []
    local = np.full(len(pack.labels), -1, np.int64)
    for s in pack.train_speakers:
        rows = pack.train[pack.speaker[pack.train] == s]
        ks = max(20, int(round(kmult * K * len(rows) / len(pack.train))))
        c, a = kmeans(pack.emb[rows], ks, pack.speech_config.get("kmeans_iters", 25), seed, "torch")
        a = np.asarray(a)
        local[rows] = len(cent) + a
        cent += list(np.asarray(c)); size += np.bincount(a, minlength=ks).tolist(); spk += [s] * ks
    out = VoiceClusters(unit_rows(np.stack(cent).astype(np.float32)), np.array(size), np.array(spk), local)
    if cache:
        tmp = cache + ".tmp.npz"
        np.savez(tmp, centroids=out.centroids, size=out.size, speaker=out.speaker, local=out.local)
        os.replace(tmp, cache)
    return out


def majority_word(labels: np.ndarray, group: np.ndarray, rows: np.ndarray) -> dict:
    """Most frequent word among `rows` of each group id in `group[rows]` (scoring only)."""
    out: dict = {}
    for g, w in zip(group[rows].tolist(), labels[rows].tolist()):
        out.setdefault(g, collections.Counter())[w] += 1
    return {g: c.most_common(1)[0][0] for g, c in out.items()}


def voice_pair_blocks(vc: VoiceClusters, centroids: np.ndarray | None = None, both_orders: bool = True,
                      similarity=None):
    """Yield (a, b, ia, ib, S) for every pair of voices a ≠ b: their cluster indices and the cosine
    block of `centroids` (default the clusters' own), or `similarity(ia, ib)` when given.
    both_orders=False: each pair once, a < b."""
    C = vc.centroids if centroids is None else centroids
    voices = sorted(set(vc.speaker.tolist()))
    index = {v: np.flatnonzero(vc.speaker == v) for v in voices}
    for a in voices:
        for b in voices:
            if a != b and (both_orders or a < b):
                ia, ib = index[a], index[b]
                yield a, b, ia, ib, similarity(ia, ib) if similarity is not None else C[ia] @ C[ib].T


def merge_mutual_nearest(vc: VoiceClusters, pair_sim=None) -> np.ndarray:
    """Session 15's merge: greedy union of cross-voice mutual-nearest cluster pairs, most similar
    first, never two clusters of one voice in a merged type. `pair_sim(ia, ib)` (cluster index arrays
    of two voices → similarity matrix) replaces the centroid cosine when given. Returns each cluster's
    merged type, numbered 0 … n-1."""
    n = len(vc.centroids)
    parent = np.arange(n)
    members = {i: {int(vc.speaker[i])} for i in range(n)}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    edges = []
    for _, _, ia, ib, S in voice_pair_blocks(vc, both_orders=False, similarity=pair_sim):
        f, r = S.argmax(1), S.argmax(0)
        edges += [(float(S[i, f[i]]), int(ia[i]), int(ib[f[i]])) for i in range(len(ia)) if r[f[i]] == i]
    for _, i, j in sorted(edges, reverse=True):
        gi, gj = find(i), find(j)
        if gi != gj and not (members[gi] & members[gj]):
            parent[gj] = gi
            members[gi] |= members.pop(gj)
    return np.unique([find(i) for i in range(n)], return_inverse=True)[1]


def inverse_purity(types: np.ndarray, words: np.ndarray) -> float:
    """Share of tokens that lie in their word's largest type (1 = no word split at all)."""
    _, wi = np.unique(words, return_inverse=True)
    M = sparse.coo_matrix((np.ones(len(wi)), (wi, types)), shape=(wi.max() + 1, types.max() + 1)).tocsr()
    return float(M.max(1).toarray().sum() / len(wi))


def type_measures(pack: BPack, types: np.ndarray) -> dict:
    """How well segment `types` (-1 = none) stand for words: held-out ceiling (share of held-out
    segments whose type's training majority word is their own), purity and inverse purity over the
    training segments (labels score only)."""
    tmaj = majority_word(pack.labels, types, pack.train)
    return {"held_out_ceiling": float(np.mean([tmaj.get(t) == w for t, w in zip(types[pack.held], pack.labels[pack.held])])),
            "purity": s13_tools().split_and_purity(pack.labels, types, pack.train)[2],
            "inverse_purity": inverse_purity(types[pack.train], pack.labels[pack.train])}


def agglomerate_centroids(centroids: np.ndarray, cuts: list[int]) -> dict[int, np.ndarray]:
    """Average linkage (cosine) of the k-means `centroids`, cut at each number of types in `cuts`:
    {cut: the type 0 … m-1 of every centroid} (session 18's joining of the shared-space clusters)."""
    unit = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
    Z = linkage(unit, "average", metric="cosine")
    return {n: np.unique(fcluster(Z, n, "maxclust") - 1, return_inverse=True)[1] for n in cuts}


def mutual_nearest(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows i of `a` and j of `b` that are each other's most similar (dot product): (i, j)."""
    S = a @ b.T
    f, r = S.argmax(1), S.argmax(0)
    i = np.flatnonzero(r[f] == np.arange(len(a)))
    return i, f[i]


def partner_mean(a: np.ndarray, others: list) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `a` with a mutual-nearest row in at least one matrix of `others` (mask), and for each
    the mean of those partners: the target a voice is rotated onto in generalised Procrustes."""
    T, n = np.zeros_like(a), np.zeros(len(a))
    for b in others:
        i, j = mutual_nearest(a, b)
        T[i] += b[j]
        n[i] += 1
    k = n > 0
    return k, T[k] / n[k, None]


def rotate_onto(points: np.ndarray, shared: list, rounds: int) -> np.ndarray:
    """Orthogonal R for one voice's (whitened) cluster rows `points` onto fixed voices `shared`:
    each round R maps the rows onto the mean of their mutual-nearest partners there."""
    R = np.eye(points.shape[1])
    for _ in range(rounds):
        k, T = partner_mean(points @ R, shared)
        R = procrustes(T, points[k])
    return R
