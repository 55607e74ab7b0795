"""Grouping segments into types: k-means over segment embeddings, or the given labels.

k-means runs on L2-normalised embeddings (cosine geometry, which is what contrastive and
Speech2Vec embeddings are compared with). faiss is used when installed and allowed; otherwise a
torch implementation that runs on the GPU or the CPU. Types are renumbered in frequency order,
so type 0 is the most frequent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.errors import WordbridgeError
from core.progress import Progress, ensure
from core.vectors import unit_rows


@dataclass
class Grouping:
    """Each segment's type (-1: none), the type names in frequency order and their counts."""

    type_of: np.ndarray  # int64 [n_segments]
    names: list[str]
    counts: np.ndarray  # int64 [n_types]
    centroids: np.ndarray | None = None  # [n_types, d] k-means centroids (normalised space), if any
    # [P, n_types, d]: several unit prototypes per type (zero rows where a type has fewer), when a
    # type is a union of k-means clusters (core.speech.type_join): a clip takes the type of its
    # nearest prototype, i.e. of its nearest cluster
    prototypes: np.ndarray | None = None


def kmeans(x: np.ndarray, k: int, iters: int = 25, seed: int = 0, backend: str = "auto",
           device: str | torch.device = "cpu", progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means: returns (centroids [k, d], assignment [n]). Backend "auto" prefers faiss."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if k > x.shape[0]:
        raise WordbridgeError(f"k-means: {k} clusters but only {x.shape[0]} segments; lower --clusters")
    if backend in ("auto", "faiss"):
        try:
            import faiss  # noqa: F401
        except ImportError:
            if backend == "faiss":
                raise WordbridgeError("k-means: faiss is not installed (use backend torch)") from None
        else:
            if torch.device(device).type == "cpu" or backend == "faiss":
                return _kmeans_faiss(x, k, iters, seed)
    return kmeans_torch(x, k, iters, seed, device, progress)


def kmeanspp_init(x: torch.Tensor, k: int, seed: int, sample: int = 100_000) -> torch.Tensor:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) on a random sample of at most `sample` rows."""
    gen = np.random.default_rng(seed)
    if x.shape[0] > sample:
        x = x[torch.as_tensor(np.sort(gen.choice(x.shape[0], sample, replace=False)), device=x.device)]
    chosen = [int(gen.integers(x.shape[0]))]
    best = ((x - x[chosen[0]]) ** 2).sum(1)
    for _ in range(1, k):
        p = best.double().cpu().numpy()
        total = p.sum()
        nxt = int(gen.choice(len(p), p=p / total)) if total > 0 else int(gen.integers(len(p)))
        chosen.append(nxt)
        best = torch.minimum(best, ((x - x[nxt]) ** 2).sum(1))
    return x[torch.as_tensor(chosen, device=x.device)].clone()


def _kmeans_faiss(x: np.ndarray, k: int, iters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    km = faiss.Kmeans(x.shape[1], k, niter=iters, seed=seed, verbose=False, spherical=False,
                      max_points_per_centroid=max(256, x.shape[0] // k + 1), min_points_per_centroid=1)
    km.train(x, init_centroids=kmeanspp_init(torch.from_numpy(x), k, seed).numpy())
    _, assign = km.index.search(x, 1)
    return km.centroids.astype(np.float32), assign[:, 0].astype(np.int64)


def kmeans_torch(x: np.ndarray, k: int, iters: int = 25, seed: int = 0, device="cpu",
                 progress: Progress | None = None, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """k-means in torch (GPU or CPU), k-means++ seeding; empty clusters take the worst-fitted points."""
    progress = ensure(progress)
    dev = torch.device(device)
    xt = torch.as_tensor(x, device=dev)
    cent = kmeanspp_init(xt, k, seed)
    assign = torch.zeros(x.shape[0], dtype=torch.long, device=dev)
    best = torch.zeros(x.shape[0], device=dev)
    for it in range(iters + 1):
        progress.check()
        c_sq = (cent * cent).sum(1)
        for a in range(0, x.shape[0], chunk):
            part = xt[a:a + chunk]
            d = c_sq[None, :] - 2 * part @ cent.T  # + |x|^2, constant per row
            best[a:a + chunk], assign[a:a + chunk] = d.min(1)
        if it == iters:
            break
        sums = torch.zeros_like(cent).index_add_(0, assign, xt)
        count = torch.bincount(assign, minlength=k).to(xt.dtype)
        empty = (count == 0).nonzero().flatten()
        cent = sums / count.clamp_min(1)[:, None]
        if len(empty):
            worst = torch.topk(best + (xt * xt).sum(1), len(empty)).indices
            cent[empty] = xt[worst]
        progress.update(it + 1, iters)
    return cent.cpu().numpy(), assign.cpu().numpy()


def group_by_kmeans(emb: np.ndarray, members: np.ndarray, k: int, iters: int, seed: int, backend: str,
                    device="cpu", progress: Progress | None = None) -> Grouping:
    """Cluster the (normalised) embeddings of `members` and give every segment its nearest cluster.

    Only `members` (the training segments) shape the centroids; all segments get an assignment.
    """
    normed = unit_rows(emb)
    centroids, _ = kmeans(normed[members], k, iters, seed, backend, device, progress)
    # unit centroids: the final assignment is by cosine, as for new clips later
    centroids = unit_rows(centroids)
    assign = nearest_centroid(normed, centroids)
    type_of, counts, order = frequency_order(assign, members, k)
    return Grouping(type_of, [f"#{i}" for i in range(len(order))], counts, centroids[order])


def frequency_order(assign: np.ndarray, members: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups 0..k-1 of every segment (`assign`, -1 = none) renumbered by their count among `members`,
    most frequent first, empty groups dropped: (type of every segment, -1 = none; counts in the new
    order; the old group of each new type)."""
    counts = np.bincount(assign[members][assign[members] >= 0], minlength=k)
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] > 0]
    rank = np.full(k, -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    type_of = np.where(assign >= 0, rank[np.maximum(assign, 0)], -1).astype(np.int64)
    return type_of, counts[order].astype(np.int64), order


def nearest_centroid(x: np.ndarray, centroids: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Index of the nearest centroid (Euclidean) of every row."""
    c = torch.as_tensor(centroids)
    c_sq = (c * c).sum(1)
    out = np.empty(x.shape[0], dtype=np.int64)
    for a in range(0, x.shape[0], chunk):
        part = torch.as_tensor(x[a:a + chunk])
        out[a:a + chunk] = (c_sq[None, :] - 2 * part @ c.T).argmin(1).numpy()
    return out


def group_by_labels(labels: list, members: np.ndarray) -> Grouping:
    """Configuration A: a segment's type is its label; types ordered by count among `members`."""
    n = len(labels)
    member_mask = np.zeros(n, dtype=bool)
    member_mask[members] = True
    counts: dict[str, int] = {}
    for i in np.flatnonzero(member_mask):
        lab = labels[i]
        if lab:
            counts[lab] = counts.get(lab, 0) + 1
    if not counts:
        raise WordbridgeError("configuration A needs word labels, but no training segment has one "
                              "(use configuration B, VAD or F for unlabelled corpora)")
    names = sorted(counts, key=lambda w: (-counts[w], w))
    index = {w: i for i, w in enumerate(names)}
    type_of = np.array([index.get(lab, -1) if lab else -1 for lab in labels], dtype=np.int64)
    return Grouping(type_of, names, np.array([counts[w] for w in names], dtype=np.int64))


def type_means(emb: np.ndarray, type_of: np.ndarray, members: np.ndarray, n_types: int) -> np.ndarray:
    """Mean embedding of each type over its member segments (the paper's type embedding)."""
    sel = members[type_of[members] >= 0]
    sums = np.zeros((n_types, emb.shape[1]), dtype=np.float64)
    np.add.at(sums, type_of[sel], emb[sel])
    count = np.bincount(type_of[sel], minlength=n_types)
    return (sums / np.maximum(count, 1)[:, None]).astype(np.float32)


def label_ids(labels: list) -> np.ndarray:
    """Labels as integers (-1 for None), for metrics and label-positive training."""
    index: dict[str, int] = {}
    return np.array([index.setdefault(lab, len(index)) if lab else -1 for lab in labels], dtype=np.int64)
