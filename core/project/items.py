"""Reading and writing the array files behind manifest entries: spaces, mappings, projections, encoders.

Each `write_*` writes its files atomically (all files of one item are complete before any is
renamed into place) and returns the manifest entry describing them; each `read_*` checks the files
against that entry and names the file in every error. Paths in entries are relative to the
project folder and always use "/".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.atomic import atomic_path
from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError
from core.project.manifest import EncoderEntry, MappingEntry, ProjectionEntry, SpaceEntry, now
from core.project.paths import inside
from core.project.store import (atomic_pair, check_vocabulary, load_arrays, read_raw_header, read_vocabulary,
                                require_finite, vocabulary_text, write_arrays_to)

MAPPING_RESERVED = ("W",)


@dataclass
class Mapping:
    """A stored linear map: target ≈ W @ source for column vectors (rows: source @ W.T).

    W is [d_out, d_in] with d_in ≤ source dim and d_out ≤ target dim: a smaller side means that
    side was reduced (e.g. by PCA) first, with the matrices to do so among `arrays`.
    """

    entry: MappingEntry
    W: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # src_mean, tgt_mean, PCA matrices, ...
    metadata: dict = field(default_factory=dict)
    header: dict[str, str] = field(default_factory=dict)  # raw safetensors header entries kept as given


@dataclass
class ProjectionGroup:
    """Consecutive rows [start, start + len(words)) of a projection: points of one space, one per word."""

    space: str
    words: list[str]
    start: int = 0

    @property
    def rows(self) -> slice:
        """The group's rows in `Projection.coords`."""
        return slice(self.start, self.start + len(self.words))


@dataclass
class Projection:
    """Cached 2-D coordinates (`coords`, float32 [n, 2]) and which rows are which space's words."""

    entry: ProjectionEntry
    coords: np.ndarray
    groups: list[ProjectionGroup]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # e.g. PCA components and mean

    def group(self, space: str) -> ProjectionGroup:
        """The rows of one space; a space not in this projection is a user error."""
        for group in self.groups:
            if group.space == space:
                return group
        raise WordbridgeError(f"projection {self.entry.id!r} has no points of space {space!r}")


def _vocab_digest(words: list[str]) -> str:
    return hashlib.sha1(vocabulary_text(words).encode("utf-8")).hexdigest()


# --- spaces -----------------------------------------------------------------------------------

def write_space(root: Path, stem: str, space_id: str, embeddings: Embeddings, kind: str, language: str,
                provenance: dict, synthetic: bool) -> SpaceEntry:
    """Write <stem>.safetensors ("vectors", optional "counts") and <stem>.vocab.txt (stem: "spaces/<id>")."""
    files = {"vectors": f"{stem}.safetensors", "vocab": f"{stem}.vocab.txt"}
    words = list(embeddings.words)
    check_vocabulary(words, f"space {space_id!r}")
    arrays = {"vectors": embeddings.vectors}
    if embeddings.counts is not None:
        counts = np.asarray(embeddings.counts)
        if counts.shape != (len(words),):
            raise WordbridgeError(f"space {space_id!r}: {len(words)} words but counts of shape {counts.shape}")
        arrays["counts"] = counts.astype(np.int64)
    if not np.all(np.isfinite(embeddings.vectors)):
        raise WordbridgeError(f"space {space_id!r}: vectors contain NaN or infinity")
    metadata = {"id": space_id, "kind": kind, "language": language, "n_words": len(words),
                "dim": embeddings.dim, "vocab_sha1": _vocab_digest(words)}
    with atomic_pair(root / files["vectors"], root / files["vocab"]) as (tmp_vectors, tmp_vocab):
        write_arrays_to(tmp_vectors, arrays, metadata, shown_as=files["vectors"])
        tmp_vocab.write_text(vocabulary_text(words), encoding="utf-8")
    return SpaceEntry(space_id, kind, language, embeddings.dim, len(words), files, dict(provenance),
                      bool(synthetic), now())


def item_file(root: Path, entry, key: str) -> Path:
    """The file `entry.files[key]` under `root`, refused (UnsafePathError) when it leads outside."""
    if key not in entry.files:
        return root / ""  # reading it fails with the reader's own "missing" message
    return inside(root, entry.files[key], f"{entry.id} {key}")


def read_space(root: Path, entry: SpaceEntry) -> Embeddings:
    """Load a space and check it against its manifest entry and its own vocabulary."""
    vectors_path, vocab_path = item_file(root, entry, "vectors"), item_file(root, entry, "vocab")
    arrays, metadata = load_arrays(vectors_path, required=["vectors"])
    require_finite(vectors_path, arrays)
    words = read_vocabulary(vocab_path)
    vectors = arrays["vectors"]
    if vectors.ndim != 2 or vectors.dtype.kind != "f":
        raise InputFileError(vectors_path, f"'vectors' must be a 2-D float array, not {vectors.dtype} {vectors.shape}")
    if vectors.shape[0] != len(words):
        raise InputFileError(vectors_path, f"{vectors.shape[0]} vectors but {len(words)} words in {vocab_path.name}")
    if "vocab_sha1" in metadata and metadata["vocab_sha1"] != _vocab_digest(words):
        raise InputFileError(vocab_path, f"vocabulary does not belong to {vectors_path.name} (written by another save)")
    if (vectors.shape[0], vectors.shape[1]) != (entry.n_words, entry.dim):
        raise InputFileError(vectors_path, f"holds {vectors.shape[0]} × {vectors.shape[1]} vectors but the manifest "
                                           f"says {entry.n_words} × {entry.dim}")
    counts = arrays.get("counts")
    if counts is not None and counts.shape != (len(words),):
        raise InputFileError(vectors_path, f"'counts' has shape {counts.shape}, expected ({len(words)},)")
    return Embeddings(words, vectors, counts, entry.language, entry.kind)


# --- mappings ---------------------------------------------------------------------------------

def _check_w_shape(W: np.ndarray, source: SpaceEntry, target: SpaceEntry) -> str | None:
    """Why W cannot map `source` to `target`, or None when its shape fits."""
    if W.ndim != 2 or not (0 < W.shape[1] <= source.dim and 0 < W.shape[0] <= target.dim):
        return (f"W has shape {W.shape}; {source.id} → {target.id} needs [target dim, source dim] = "
                f"[{target.dim}, {source.dim}] (or smaller, after a dimension reduction)")
    return None


def write_mapping(root: Path, stem: str, mapping_id: str, source: SpaceEntry, target: SpaceEntry, W: np.ndarray,
                  method: str, metrics: dict, extra_arrays: dict | None, metadata: dict | None,
                  header: dict[str, str] | None = None) -> MappingEntry:
    """Write <stem>.safetensors (stem: "mappings/<id>") with "W" ([target dim, source dim]) and extras."""
    W = np.asarray(W, dtype=np.float32)
    problem = _check_w_shape(W, source, target)
    if problem:
        raise WordbridgeError(f"mapping {mapping_id!r}: {problem}")
    if not np.all(np.isfinite(W)):
        raise WordbridgeError(f"mapping {mapping_id!r}: W contains NaN or infinity")
    extra = dict(extra_arrays or {})
    clash = [name for name in extra if name in MAPPING_RESERVED]
    if clash:
        raise WordbridgeError(f"mapping {mapping_id!r}: extra array names clash with {', '.join(clash)}")
    _check_json(metrics, f"mapping {mapping_id!r} metrics")
    files = {"arrays": f"{stem}.safetensors"}
    info = {"id": mapping_id, "source": source.id, "target": target.id, "method": method,
            "convention": "target ~ source @ W.T", "metrics": metrics, **(metadata or {})}
    _check_json(info, f"mapping {mapping_id!r} metadata")
    with atomic_path(root / files["arrays"]) as tmp:
        write_arrays_to(tmp, {"W": W, **extra}, info, shown_as=files["arrays"], header=header)
    return MappingEntry(mapping_id, source.id, target.id, method, files, dict(metrics), now())


def read_mapping(root: Path, entry: MappingEntry, source: SpaceEntry | None, target: SpaceEntry | None) -> Mapping:
    """Load a mapping and check W against the dimensions of its spaces (when they are known)."""
    path = item_file(root, entry, "arrays")
    arrays, metadata = load_arrays(path, required=["W"])
    require_finite(path, arrays)
    W = arrays.pop("W")
    if W.ndim != 2:
        raise InputFileError(path, f"'W' must be a matrix, not shape {W.shape}")
    problem = _check_w_shape(W, source, target) if source is not None and target is not None else None
    if problem:
        raise InputFileError(path, problem)
    return Mapping(entry, W, arrays, metadata, read_raw_header(path))


# --- projections ------------------------------------------------------------------------------

def write_projection(root: Path, stem: str, entry: ProjectionEntry, coords: np.ndarray, groups: list[ProjectionGroup],
                     extra_arrays: dict | None) -> ProjectionEntry:
    """Write <stem>.safetensors ("coords" + extras) and <stem>.index.json (stem: "projections/<id>")."""
    coords = np.asarray(coords, dtype=np.float32)
    total = sum(len(g.words) for g in groups)
    if coords.ndim != 2 or coords.shape[1] != 2 or coords.shape[0] != total:
        raise WordbridgeError(f"projection {entry.id!r}: coords of shape {coords.shape} but the groups "
                              f"hold {total} points (expected [{total}, 2])")
    if "coords" in (extra_arrays or {}):
        raise WordbridgeError(f"projection {entry.id!r}: an extra array may not be called 'coords'")
    index, start = [], 0
    for group in groups:
        index.append({"space": group.space, "start": start, "count": len(group.words), "words": list(group.words)})
        start += len(group.words)
    files = {"coords": f"{stem}.safetensors", "index": f"{stem}.index.json"}
    with atomic_pair(root / files["coords"], root / files["index"]) as (tmp_coords, tmp_index):
        write_arrays_to(tmp_coords, {"coords": coords, **(extra_arrays or {})},
                        {"id": entry.id, "method": entry.method, "n_points": total}, shown_as=files["coords"])
        tmp_index.write_text(json.dumps({"n_points": total, "groups": index}, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    entry.files, entry.n_points = files, total
    entry.spaces = list(dict.fromkeys(g.space for g in groups))
    return entry


def read_projection(root: Path, entry: ProjectionEntry) -> Projection:
    """Load cached coordinates and their row index, checking that they agree."""
    coords_path, index_path = item_file(root, entry, "coords"), item_file(root, entry, "index")
    arrays, _ = load_arrays(coords_path, required=["coords"])
    require_finite(coords_path, arrays)
    coords = arrays.pop("coords")
    if not index_path.is_file():
        raise InputFileError(index_path, "file is missing")
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        groups = [ProjectionGroup(str(g["space"]), [str(w) for w in g["words"]], int(g["start"]))
                  for g in index["groups"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputFileError(index_path, f"damaged projection index ({type(exc).__name__}: {exc})") from None
    expected = 0
    for group in groups:
        if group.start != expected:
            raise InputFileError(index_path, f"group {group.space!r} starts at row {group.start}, expected {expected}")
        expected += len(group.words)
    if coords.ndim != 2 or coords.shape != (expected, 2):
        raise InputFileError(coords_path, f"'coords' has shape {coords.shape} but the index lists {expected} points")
    return Projection(entry, coords, groups, arrays)


# --- encoders ---------------------------------------------------------------------------------

def write_encoder(root: Path, stem: str, encoder_id: str, state_dict: dict, config: dict,
                  provenance: dict) -> EncoderEntry:
    """Write <stem>.safetensors (stem: "encoders/<id>") from a state dict (torch tensors or numpy arrays)."""
    arrays = {str(name): _as_numpy(value, name) for name, value in state_dict.items()}
    if not arrays:
        raise WordbridgeError(f"encoder {encoder_id!r}: the state dict is empty")
    _check_json(config, f"encoder {encoder_id!r} config")
    files = {"weights": f"{stem}.safetensors"}
    with atomic_path(root / files["weights"]) as tmp:
        write_arrays_to(tmp, arrays, {"id": encoder_id, "config": config}, shown_as=files["weights"])
    return EncoderEntry(encoder_id, files, dict(config), dict(provenance), now())


def read_encoder(root: Path, entry: EncoderEntry) -> dict[str, np.ndarray]:
    """The encoder's weights as numpy arrays (name → array)."""
    arrays, _ = load_arrays(item_file(root, entry, "weights"))
    return arrays


def _as_numpy(value, name: str) -> np.ndarray:
    """A numpy copy of a numpy array or torch tensor, without importing torch."""
    if hasattr(value, "detach"):  # a torch tensor
        tensor = value.detach().cpu()
        if str(tensor.dtype) == "torch.bfloat16":
            tensor = tensor.float()
        value = tensor.numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise WordbridgeError(f"encoder weight {name!r} has dtype {array.dtype}; only numbers can be stored")
    return array


def plain_json(value):
    """`value` with numpy scalars and arrays turned into Python numbers and lists (ready for json.dumps)."""
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _check_json(value, what: str) -> None:
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise WordbridgeError(f"{what} must be JSON-serialisable ({exc})") from None
