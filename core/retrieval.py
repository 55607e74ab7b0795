"""Nearest-neighbour and CSLS retrieval between two embedding spaces, computed in chunks.

Every function takes row vectors (numpy or torch), compares them by cosine similarity and never
builds the full V × V similarity matrix: queries are processed `chunk` rows at a time, so memory is
O(chunk × V). Backends:

* ``"torch"``: chunked matrix products and top-k on the chosen device (CUDA when present);
* ``"faiss"``: exact inner-product search (``IndexFlatIP``) on the CPU;
* ``"auto"``: torch on CUDA when a GPU is there, else faiss when installed, else torch on the CPU.

CSLS (Conneau et al. 2018): ``CSLS(x, y) = 2 cos(x, y) − r_T(x) − r_S(y)`` where ``r_T(x)`` is the
mean cosine of x to its `knn` nearest neighbours among the keys (target space) and ``r_S(y)`` the
mean cosine of y to its `knn` nearest neighbours among the queries (mapped source space). The
scores returned include both penalties. With faiss, CSLS ranking is an inner-product search on
augmented vectors: ``[2x, −1] · [y, r_S(y)] = 2 cos(x, y) − r_S(y)``.

`as_unit_tensor` is the torch unit-rows helper (`core.vectors.unit_rows` is the numpy one), and
`top_k_indices` ranks scores already computed in numpy (one clip against a vocabulary).
"""

from __future__ import annotations

import numpy as np
import torch

from core.errors import WordbridgeError

BACKENDS = ("auto", "torch", "faiss")
DEVICES = ("auto", "cpu", "cuda")
# Bytes of similarity scores held at once per chunk; sets the rows per chunk from the key count.
CHUNK_BYTES = {"cpu": 256 << 20, "cuda": 1 << 30}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' → CUDA when available, else CPU; 'cuda' without a GPU is a user error."""
    if isinstance(device, torch.device):
        return device
    if device not in DEVICES:
        raise WordbridgeError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise WordbridgeError("--device cuda was asked for but no CUDA GPU is available")
    return torch.device(device)


def faiss_available() -> bool:
    """True when the optional faiss package can be imported."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str, device: torch.device) -> str:
    """Pick the concrete backend ('torch' or 'faiss') for `backend` on `device`."""
    if backend not in BACKENDS:
        raise WordbridgeError(f"unknown retrieval backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "torch" if device.type == "cuda" or not faiss_available() else "faiss"
    if backend == "faiss" and not faiss_available():
        raise WordbridgeError("retrieval backend 'faiss' needs the faiss package (pip install faiss-cpu)")
    return backend


def unit_tensor(t: torch.Tensor) -> torch.Tensor:
    """`t` with its rows scaled to unit length (zero rows stay zero); torch's `core.vectors.unit_rows`."""
    return t / t.norm(dim=1, keepdim=True).clamp_min(1e-12)


def as_unit_tensor(x, device: torch.device) -> torch.Tensor:
    """float32 tensor on `device` with unit-length rows (zero rows stay zero)."""
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    return unit_tensor(t.to(device=device, dtype=torch.float32))


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` largest of numpy `scores` along the last axis (1-D or 2-D), best first."""
    scores = np.asarray(scores)
    k = min(k, scores.shape[-1])
    if k <= 0:
        return np.zeros(scores.shape[:-1] + (0,), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=-1)[..., :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=-1), axis=-1)
    return np.take_along_axis(part, order, axis=-1)


def chunk_rows(n_keys: int, device: torch.device, chunk: int | None = None) -> int:
    """Rows of queries per chunk so that a chunk of scores stays within CHUNK_BYTES."""
    if chunk:
        return max(1, int(chunk))
    budget = CHUNK_BYTES["cuda" if device.type == "cuda" else "cpu"]
    return int(max(1, min(65536, budget // (4 * max(1, n_keys)))))


def mutual_topk_mean(q: torch.Tensor, keys: torch.Tensor, k: int = 10, chunk: int | None = None,
                     progress=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cosine of each query to its k nearest keys and of each key to its k nearest queries.

    One chunked pass over ``q @ keys.T`` (torch); both inputs must already have unit rows.
    Returns (r_queries [n], r_keys [m]).
    """
    n, m = q.shape[0], keys.shape[0]
    kq, kk = min(k, m), min(k, n)
    step = chunk_rows(m, q.device, chunk)
    r_q = torch.empty(n, device=q.device)
    col_v = None
    for start in range(0, n, step):
        if progress is not None:
            progress.check()
        sim = q[start:start + step] @ keys.T
        r_q[start:start + step] = sim.topk(kq, dim=1).values.mean(1)
        v = sim.topk(min(kk, sim.shape[0]), dim=0).values
        col_v = v if col_v is None else torch.cat([col_v, v], 0).topk(min(kk, col_v.shape[0] + v.shape[0]), dim=0).values
    return r_q, col_v.mean(0)


def _faiss_search(queries: torch.Tensor, keys: torch.Tensor, k: int):
    import faiss

    index = faiss.IndexFlatIP(keys.shape[1])
    index.add(np.ascontiguousarray(keys.detach().cpu().numpy(), dtype=np.float32))
    scores, idx = index.search(np.ascontiguousarray(queries.detach().cpu().numpy(), dtype=np.float32), k)
    return (torch.from_numpy(scores).to(queries.device), torch.from_numpy(idx.astype(np.int64)).to(queries.device))


def _prepare(queries, keys, backend: str, device) -> tuple[str, torch.Tensor, torch.Tensor]:
    """Pick the backend and put both sides as unit-length rows on its device (faiss works on the CPU)."""
    dev = resolve_device(device)
    kind = resolve_backend(backend, dev)
    if kind == "faiss":
        dev = torch.device("cpu")
    return kind, as_unit_tensor(queries, dev), as_unit_tensor(keys, dev)


def topk_cosine(queries, keys, k: int = 10, *, backend: str = "auto", device="auto",
                chunk: int | None = None, progress=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest keys of every query by cosine: (scores [n, k], indices [n, k] int64)."""
    kind, q, keys_t = _prepare(queries, keys, backend, device)
    k = min(k, keys_t.shape[0])
    if kind == "faiss":
        return _faiss_search(q, keys_t, k)
    return _chunked_topk(q, keys_t, k, None, chunk, progress)


def _chunked_topk(q, keys, k, key_penalty, chunk, progress, query_weight: float = 1.0):
    """Top-k of ``query_weight·(q·key) − key_penalty`` per query row, in chunks."""
    step = chunk_rows(keys.shape[0], q.device, chunk)
    scores = torch.empty(q.shape[0], k, device=q.device)
    idx = torch.empty(q.shape[0], k, dtype=torch.int64, device=q.device)
    for start in range(0, q.shape[0], step):
        if progress is not None:
            progress.check()
        sim = q[start:start + step] @ keys.T
        if query_weight != 1.0:
            sim.mul_(query_weight)
        if key_penalty is not None:
            sim.sub_(key_penalty)
        v, i = sim.topk(k, dim=1)
        scores[start:start + step], idx[start:start + step] = v, i
    return scores, idx


def csls_penalties(queries, keys, knn: int = 10, *, backend: str = "auto", device="auto",
                   chunk: int | None = None, progress=None) -> tuple[torch.Tensor, torch.Tensor]:
    """CSLS neighbourhood terms: (r_T of each query [n], r_S of each key [m])."""
    kind, q, keys_t = _prepare(queries, keys, backend, device)
    if kind == "faiss":
        r_q = _faiss_search(q, keys_t, min(knn, keys_t.shape[0]))[0].mean(1)
        r_k = _faiss_search(keys_t, q, min(knn, q.shape[0]))[0].mean(1)
        return r_q, r_k
    return mutual_topk_mean(q, keys_t, knn, chunk, progress)


def topk_csls(queries, keys, k: int = 10, knn: int = 10, *, backend: str = "auto", device="auto",
              chunk: int | None = None, penalties=None, progress=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The k best keys of every query by CSLS: (scores [n, k] with both penalties, indices [n, k]).

    `penalties` = (r_queries, r_keys) from `csls_penalties` can be passed to skip recomputing them.
    """
    kind, q, keys_t = _prepare(queries, keys, backend, device)
    k = min(k, keys_t.shape[0])
    if penalties is None:
        penalties = csls_penalties(q, keys_t, knn, backend=kind, device=q.device, chunk=chunk, progress=progress)
    r_q, r_k = (p.to(q.device) for p in penalties)
    if kind == "faiss":
        q_aug = torch.cat([2 * q, -torch.ones(q.shape[0], 1)], 1)
        k_aug = torch.cat([keys_t, r_k[:, None]], 1)
        scores, idx = _faiss_search(q_aug, k_aug, k)
    else:
        scores, idx = _chunked_topk(q, keys_t, k, r_k, chunk, progress, query_weight=2.0)
    return scores - r_q[:, None], idx


def translate(queries, keys, k: int = 10, method: str = "csls", knn: int = 10, **kwargs):
    """Top-k translations by 'nn' (cosine) or 'csls'; same return as `topk_cosine`/`topk_csls`."""
    if method == "nn":
        return topk_cosine(queries, keys, k, **kwargs)
    if method == "csls":
        return topk_csls(queries, keys, k, knn, **kwargs)
    raise WordbridgeError(f"unknown retrieval method {method!r}; choose 'nn' or 'csls'")


def rank_pivot_pairs(via: list[tuple[int, float]], translations: dict[int, list[tuple[int, float]]],
                     k: int) -> list[tuple[int, float, int, float, float]]:
    """Translation through a pivot: every pair of a pivot word (`via`: its row and the query's score
    for it, best first) and one of its translations (`translations[row]`: target rows and the link's
    scores, best first), ranked by the mean of the two scores; a target reached twice keeps its best
    pair. Returns at most k (target row, mean, pivot row, pivot score, link score), best first.

    The first target is the best pivot word's or a close second's top translation (a pivot word's best
    pair is its top-1), and places 2–k can hold the top pivot word's other translations. One rule for
    the app's classifier and the experiment's pivot evaluation (issue 18, session 23: on synthetic
    test voices of a B space, 26.7 % P@1 / 39.9 % P@5 in French, against 26.7 / 29.2 % when each
    pivot word gave only its top-1 translation and 23.8 / 36.2 % with only the top pivot word's
    translations; docs/runs/2026-12-07-s23-app-pivot)."""
    best: dict[int, tuple[int, float, int, float, float]] = {}
    for row, via_score in via:
        for target, link_score in translations.get(row, ()):
            mean = 0.5 * (via_score + link_score)
            if target not in best or best[target][1] < mean:
                best[target] = (target, mean, row, via_score, link_score)
    return sorted(best.values(), key=lambda pair: -pair[1])[:k]
