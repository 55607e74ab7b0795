"""2-D layouts of embedding spaces for the joint-space view: PCA, UMAP, and placing new points.

UMAP is slow (numba compiles on the first fit of a process, PLATFORM.md), so it only ever runs in
the background and its result is cached; a new point (the clip just recorded) is placed from the
cached coordinates of its nearest neighbours in the original space, which takes milliseconds.
Nothing here knows about Qt or the project format: vectors in, coordinates out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.errors import WordbridgeError
from core.progress import Progress, ensure
from core.retrieval import top_k_indices
from core.vectors import unit_rows

METHODS = ("umap", "pca")


@dataclass
class Layout:
    """2-D coordinates of `len(coords)` points and how they were made."""

    coords: np.ndarray  # (n, 2) float32
    method: str  # "umap" or "pca"
    explained_variance: tuple[float, float] | None = None  # PCA: fraction of variance per axis


def pca_layout(vectors: np.ndarray) -> Layout:
    """Project onto the first two principal components; records the % variance of each."""
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise WordbridgeError(f"PCA needs at least 2 points, got {x.shape[0] if x.ndim == 2 else 0}")
    x = x - x.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    var = s ** 2
    total = float(var.sum()) or 1.0
    comps = vt[:2]
    coords = x @ comps.T
    if coords.shape[1] < 2:  # 1-dimensional input
        coords = np.hstack([coords, np.zeros((len(coords), 1))])
    explained = tuple(float(v / total) for v in list(var[:2]) + [0.0] * (2 - len(var[:2])))
    return Layout(coords.astype(np.float32), "pca", explained)  # type: ignore[arg-type]


class _TqdmToProgress:
    """A file-like object for tqdm: turns UMAP's epoch bar into `progress.update` + `check()`.

    UMAP exposes no callback, but it draws its epoch loop with tqdm(**tqdm_kwds); writing the bar
    as "{n}/{total}" into this object lets us report epochs and stop between two of them.
    """

    _pattern = re.compile(r"(\d+)/(\d+)")

    def __init__(self, progress: Progress):
        self.progress = progress

    def write(self, text: str) -> int:
        match = self._pattern.search(text)
        if match:
            self.progress.update(int(match.group(1)), int(match.group(2)))
        self.progress.check()
        return len(text)

    def flush(self) -> None:
        pass


def knn_cosine(vectors: np.ndarray, k: int, progress: Progress | None = None,
               chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by cosine (self first), in chunks: (indices, 1 - cosine distances)."""
    progress = ensure(progress)
    x = unit_rows(vectors)
    n = len(x)
    k = min(k, n)
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        progress.check()
        sims = x[start:start + chunk] @ x.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = 2.0  # self is always its own first neighbour
        best = top_k_indices(sims, k)
        idx[start:start + chunk] = best
        d = 1.0 - np.take_along_axis(sims, best, axis=1)
        d[:, 0] = 0.0
        dist[start:start + chunk] = np.maximum(d, 0.0)
        progress.update(min(start + chunk, n), n)
    return idx, dist


def umap_layout(vectors: np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1, seed: int = 0,
                progress: Progress | None = None) -> Layout:
    """UMAP with cosine neighbours computed here (faster first fit); cancellable between epochs."""
    progress = ensure(progress)
    n = len(vectors)
    if n < 4:
        raise WordbridgeError(f"UMAP needs at least 4 points, got {n}")
    n_neighbors = max(2, min(n_neighbors, n - 1))
    progress.set_stage("neighbours")
    knn = knn_cosine(vectors, n_neighbors, progress)
    progress.set_stage("loading UMAP")
    progress.check()
    import warnings

    import umap  # heavy optional dependency (numba); imported only here

    progress.check()
    progress.set_stage("UMAP layout")
    reducer = umap.UMAP(
        n_components=2, n_neighbors=n_neighbors, min_dist=min_dist, metric="cosine",
        random_state=seed, precomputed_knn=knn, force_approximation_algorithm=True,
        tqdm_kwds={"disable": False, "file": _TqdmToProgress(progress), "bar_format": "{n}/{total}",
                   "mininterval": 0.2, "ascii": True},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no search index: transform unavailable" etc.
        coords = reducer.fit_transform(unit_rows(vectors))
    progress.check()
    return Layout(np.asarray(coords, dtype=np.float32), "umap")


def compute_layout(vectors: np.ndarray, method: str = "umap", progress: Progress | None = None,
                   **options) -> Layout:
    """A 2-D layout by `method` ("umap" or "pca"); `options` go to the method."""
    if method == "pca":
        ensure(progress).check()
        return pca_layout(vectors)
    if method == "umap":
        return umap_layout(vectors, progress=progress, **options)
    raise WordbridgeError(f"unknown projection method {method!r} (choose from {', '.join(METHODS)})")


def sample_counts(sizes: list[int], max_points: int) -> list[int]:
    """How many of each group's (frequency-ordered) rows to keep so the total fits `max_points`.

    Every group gets an equal share; a group smaller than its share gives the rest to the others.
    """
    if max_points <= 0 or sum(sizes) <= max_points:
        return list(sizes)
    keep = [0] * len(sizes)
    left = max_points
    open_groups = [i for i, s in enumerate(sizes) if s > 0]
    while left > 0 and open_groups:
        share = max(1, left // len(open_groups))
        for i in list(open_groups):
            take = min(share, sizes[i] - keep[i], left)
            keep[i] += take
            left -= take
            if keep[i] >= sizes[i]:
                open_groups.remove(i)
            if left == 0:
                break
    return keep


def place_points(queries: np.ndarray, reference_vectors: np.ndarray, reference_coords: np.ndarray,
                 k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Place new points among cached 2-D coordinates from their `k` nearest references (cosine).

    Returns (coords (m, 2), neighbour rows (m, k), nearest first). Each point sits at the
    similarity-weighted mean of its neighbours' coordinates, so it lands in the region UMAP or
    PCA gave to the words it resembles; no projection is recomputed.
    """
    q = unit_rows(queries)
    ref = unit_rows(reference_vectors)
    if len(ref) == 0:
        raise WordbridgeError("cannot place a point: the layout has no points")
    if len(ref) != len(reference_coords):
        raise WordbridgeError(f"{len(ref)} reference vectors but {len(reference_coords)} coordinates")
    k = max(1, min(k, len(ref)))
    sims = q @ ref.T
    nearest = top_k_indices(sims, k)
    weights = np.maximum(np.take_along_axis(sims, nearest, axis=1), 0.0) + 1e-6
    weights = weights ** 4  # lean on the closest neighbours; a plain mean drifts to the centre
    weights /= weights.sum(axis=1, keepdims=True)
    coords = np.einsum("mk,mkd->md", weights, np.asarray(reference_coords, dtype=np.float32)[nearest])
    return coords.astype(np.float32), nearest


# --- joint layouts of a project's spaces --------------------------------------------------------

@dataclass
class JointPoints:
    """Stacked vectors of several spaces with (space id, words) groups, in row order."""

    vectors: np.ndarray
    groups: list[tuple[str, list[str]]]
    sampled: bool  # True when some spaces were cut to their most frequent words
    total: int  # points before sampling
    # space id → function taking raw vectors of that space to rows comparable with `vectors`
    # (how a new clip is brought into the layout's space before `place_points`)
    transforms: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)


def _pad_to(block: np.ndarray, dim: int) -> np.ndarray:
    return np.pad(block, ((0, 0), (0, dim - block.shape[1])))


def _space_map(project, sid: str, sample: np.ndarray, aligned: bool, entry, maps, inverse):
    """Raw vectors of space `sid` → that space's side of the joint space (rows not yet unit)."""
    from core.classify import aligned_space_maps

    if not aligned:  # each space's own unit vectors, centred on the mean of the points shown
        centre = unit_rows(sample).mean(axis=0, keepdims=True)
        return lambda x: unit_rows(unit_rows(x) - centre)
    if sid == entry.source:
        return maps[0]
    if sid == entry.target:
        return maps[1]
    m = inverse[sid]
    m_src, m_tgt = aligned_space_maps(project.mapping(m.id))
    if m.source == sid:
        return m_src
    # the map is x @ W.T; W need not be orthogonal (AlignConfig.multistep), so invert, not transpose
    back = np.linalg.pinv(np.asarray(project.mapping(m.id).W, dtype=np.float64).T).astype(np.float32)
    return lambda x: m_tgt(x) @ back


def joint_points(project, mapping_id: str | None, aligned: bool, max_points: int = 20000) -> JointPoints:
    """The speech space and the text spaces in one space, for a joint layout.

    After alignment (`aligned`): the mapping's source and target go through the mapping; a text
    space with a mapping to that text space is brought in through the inverse of its map. Before
    alignment: each space's own centred unit vectors (zero-padded to one dimension), which shows
    how far apart the spaces start.
    """
    from core.classify import aligned_space_maps

    manifest = project.manifest
    kinds = {s.id: s.kind for s in manifest.spaces}
    if mapping_id is None:
        mapping_id = default_mapping(project)
    entry = next((m for m in manifest.mappings if m.id == mapping_id), None)
    if entry is None:
        raise WordbridgeError("this project has no mapping to show (run alignment first)")
    maps = aligned_space_maps(project.mapping(mapping_id))
    space_ids = [entry.source, entry.target]
    inverse: dict[str, object] = {}
    for m in manifest.mappings:  # other text spaces linked to the target text space
        ends = {m.source, m.target}
        if entry.target in ends and len(ends) == 2 and m.id != mapping_id:
            other = (ends - {entry.target}).pop()
            if kinds.get(other) == "text" and other not in space_ids:
                space_ids.append(other)
                inverse[other] = m
    embs = {sid: project.space(sid) for sid in space_ids}
    sizes = [len(embs[sid]) for sid in space_ids]
    keep = sample_counts(sizes, max_points)
    blocks, groups, space_maps = [], [], {}
    for sid, n in zip(space_ids, keep):
        emb = embs[sid]
        raw = emb.vectors[:n]
        space_maps[sid] = _space_map(project, sid, raw, aligned, entry, maps, inverse)
        blocks.append(unit_rows(space_maps[sid](raw)))
        groups.append((sid, list(emb.words[:n])))
    dim = max(b.shape[1] for b in blocks)
    vectors = np.vstack([_pad_to(b, dim) for b in blocks])
    transforms = {sid: (lambda x, f=f: _pad_to(unit_rows(f(x)), dim)) for sid, f in space_maps.items()}
    return JointPoints(vectors, groups, sum(keep) < sum(sizes), sum(sizes), transforms)


def default_mapping(project) -> str | None:
    """The first mapping that starts or ends at a speech space (else the first mapping)."""
    manifest = project.manifest
    kinds = {s.id: s.kind for s in manifest.spaces}
    for m in manifest.mappings:
        if "speech" in (kinds.get(m.source), kinds.get(m.target)):
            return m.id
    return manifest.mappings[0].id if manifest.mappings else None


def projection_id(method: str, aligned: bool) -> str:
    """The id under which the joint layout of `method` before/after alignment is cached."""
    return f"joint-{method}-{'after' if aligned else 'before'}"


def compute_joint_projection(project, method: str = "umap", aligned: bool = True, mapping_id: str | None = None,
                             max_points: int = 20000, progress: Progress | None = None, **options):
    """Compute and cache (in the project) the joint layout; returns the ProjectionEntry."""
    from core.project.items import ProjectionGroup

    progress = ensure(progress)
    progress.set_stage("collecting points")
    mapping_id = mapping_id or default_mapping(project)
    points = joint_points(project, mapping_id, aligned, max_points)
    layout = compute_layout(points.vectors, method, progress=progress, **options)
    progress.check()
    groups = [ProjectionGroup(sid, words) for sid, words in points.groups]
    params = {"max_points": max_points, "sampled": points.sampled, "total_points": points.total, **options}
    return project.add_projection(projection_id(method, aligned), layout.coords, groups, method,
                                  explained_variance=None if layout.explained_variance is None
                                  else list(layout.explained_variance),
                                  alignment="after" if aligned else "before",
                                  mapping=mapping_id if aligned else None, params=params)


def nearest_rows(vectors: np.ndarray, row: int, k: int = 10) -> list[tuple[int, float]]:
    """The `k` nearest other rows of `row` by cosine distance (1 − cos), nearest first."""
    x = unit_rows(vectors)
    sims = x @ x[row]
    sims[row] = -np.inf
    return [(int(i), float(1.0 - sims[i])) for i in top_k_indices(sims, min(k, len(x) - 1))]


def write_points_csv(path, rows: list[tuple[str, str, str, str, float, float]]) -> None:
    """Write layout coordinates as CSV: space, modality, language, word, x, y (atomic)."""
    import csv
    import io

    from core.atomic import write_text

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["space", "modality", "language", "word", "x", "y"])
    for space, modality, language, word, x, y in rows:
        writer.writerow([space, modality, language, word, f"{x:.6g}", f"{y:.6g}"])
    write_text(path, buf.getvalue())
