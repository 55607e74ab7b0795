"""A learned mapping with the preprocessing it was learned on, and its safetensors file.

To map new vectors the same steps must be replayed: (1) `normalize` (e.g. "unit,center,unit",
with the centring mean of each space stored so a single word maps exactly as in training),
(2) PCA when the two spaces had different dimensions (only the larger space is reduced, to the
smaller dimension), (3) unit length, (4) for the source side, ``x @ W.T``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from core.atomic import read_safetensors, save_safetensors
from core.errors import InputFileError, WordbridgeError
from core.vectors import unit_rows

FORMAT = "wordbridge-mapping-1"


@dataclass
class SidePreprocess:
    """How one space is turned into the aligned space's coordinates (before W)."""

    steps: str                              # normalisation steps, e.g. "unit,center,unit"
    center_means: list                      # one mean vector per "center" step, in order
    pca_mean: np.ndarray | None = None      # set when this side was reduced with PCA
    pca_components: np.ndarray | None = None  # [d_out, d_in]

    @classmethod
    def fit(cls, vectors: np.ndarray, steps: str) -> tuple["SidePreprocess", np.ndarray]:
        """Learn the normalisation of `vectors` (means of centring steps); return it and the result."""
        names = [s.strip() for s in steps.split(",") if s.strip() and s.strip() != "none"]
        out = np.array(vectors, dtype=np.float32, copy=True)
        means = []
        for name in names:
            if name == "unit":
                out = _unit(out)
            elif name == "center":
                mean = out.mean(axis=0) if len(out) else np.zeros(out.shape[1], np.float32)
                means.append(mean.astype(np.float32))
                out -= mean
            else:
                raise WordbridgeError(f"unknown normalisation step {name!r}; use unit, center or none, "
                                      "comma-separated (e.g. unit,center,unit)")
        return cls(steps, means), out

    def fit_pca(self, vectors: np.ndarray, dim: int) -> np.ndarray:
        """Reduce (already normalised) `vectors` to `dim` principal components; remember them."""
        x = vectors.astype(np.float64)
        mean = x.mean(axis=0)
        cov = (x - mean).T @ (x - mean) / max(1, len(x) - 1)
        vals, vecs = np.linalg.eigh(cov)
        order = np.argsort(vals)[::-1][:dim]
        comps = vecs[:, order].T
        # eigh's sign is arbitrary: fix it so the result is reproducible across machines
        signs = np.sign(comps[np.arange(dim), np.abs(comps).argmax(axis=1)])
        comps *= signs[:, None]
        self.pca_mean = mean.astype(np.float32)
        self.pca_components = comps.astype(np.float32)
        self.explained_variance = float(vals[order].sum() / max(vals.sum(), 1e-30))
        return ((x - mean) @ comps.T).astype(np.float32)

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Replay normalisation, PCA and unit length on new `vectors`."""
        out = np.array(vectors, dtype=np.float32, copy=True)
        means = iter(self.center_means)
        for name in [s.strip() for s in self.steps.split(",") if s.strip() and s.strip() != "none"]:
            out = _unit(out) if name == "unit" else out - next(means)
        if self.pca_components is not None:
            out = (out - self.pca_mean) @ self.pca_components.T
        return _unit(out)


def _unit(x: np.ndarray) -> np.ndarray:
    """Unit rows computed in `x`'s own precision, stored as float32."""
    return unit_rows(x, dtype=x.dtype).astype(np.float32, copy=False)


def preprocess_pair(src: np.ndarray, tgt: np.ndarray, steps: str, reduce_dim: bool, log=None):
    """Normalise both spaces and bring them to one dimension; return (src_pre, tgt_pre, x, y)."""
    src_pre, x = SidePreprocess.fit(src, steps)
    tgt_pre, y = SidePreprocess.fit(tgt, steps)
    if x.shape[1] != y.shape[1]:
        if not reduce_dim:
            raise WordbridgeError(
                f"the spaces have different dimensions (source {x.shape[1]}, target {y.shape[1]}); "
                "a linear map between them needs equal dimensions: allow PCA reduction of the larger "
                "space (drop --no-reduce-dim) or retrain one space with the other's dimension")
        dim = min(x.shape[1], y.shape[1])
        side, pre = ("source", src_pre) if x.shape[1] > dim else ("target", tgt_pre)
        if side == "source":
            x = pre.fit_pca(x, dim)
        else:
            y = pre.fit_pca(y, dim)
        if log is not None:
            log(f"dimensions differ: reduced the {side} space to {dim} dimensions with PCA "
                f"({100 * pre.explained_variance:.1f}% of its variance kept)")
    return src_pre, tgt_pre, _unit(x), _unit(y)


def _checked_steps(steps: dict, side: str, n_means: int) -> str:
    """The `{side}_steps` entry, checked: known steps only, one stored mean per "center" step."""
    value = steps.get(f"{side}_steps")
    if not isinstance(value, str):
        raise WordbridgeError(f"the header lacks '{side}_steps' (the normalisation to replay)")
    names = [s.strip() for s in value.split(",") if s.strip() and s.strip() != "none"]
    unknown = sorted({n for n in names if n not in ("unit", "center")})
    if unknown:
        raise WordbridgeError(f"'{side}_steps' names unknown step(s) {', '.join(unknown)} (known: unit, center, none)")
    if names.count("center") != n_means:
        raise WordbridgeError(f"'{side}_steps' has {names.count('center')} centring step(s) but the file holds "
                              f"{n_means} mean(s)")
    return value


@dataclass
class Mapping:
    """W (d × d; target ≈ source @ W.T) plus each side's preprocessing."""

    W: np.ndarray
    src: SidePreprocess
    tgt: SidePreprocess
    meta: dict

    def map_source(self, vectors: np.ndarray) -> np.ndarray:
        """Source vectors in the aligned space (unit rows, then W)."""
        return self.src.apply(vectors) @ self.W.T

    def map_target(self, vectors: np.ndarray) -> np.ndarray:
        """Target vectors in the aligned space (unit rows)."""
        return self.tgt.apply(vectors)

    def preprocessing_arrays(self) -> dict[str, np.ndarray]:
        """The arrays that replay each side's preprocessing (centring means, PCA), named as in the file."""
        arrays = {}
        for side, pre in (("src", self.src), ("tgt", self.tgt)):
            for i, mean in enumerate(pre.center_means):
                arrays[f"{side}.center_mean.{i}"] = np.ascontiguousarray(mean, np.float32)
            if pre.pca_components is not None:
                arrays[f"{side}.pca_mean"] = np.ascontiguousarray(pre.pca_mean, np.float32)
                arrays[f"{side}.pca_components"] = np.ascontiguousarray(pre.pca_components, np.float32)
        return arrays

    def save(self, path: str | os.PathLike) -> None:
        """Write the mapping atomically as safetensors (tensors + JSON metadata)."""
        tensors = {"W": np.ascontiguousarray(self.W, np.float32), **self.preprocessing_arrays()}
        metadata = {"format": FORMAT, "convention": "target ~ source @ W.T",
                    "src_steps": self.src.steps, "tgt_steps": self.tgt.steps,
                    "meta": json.dumps(self.meta)}
        save_safetensors(path, tensors, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Mapping":
        """Read a mapping written by `save`; a wrong or damaged file is an InputFileError."""
        if not os.path.isfile(path):
            raise InputFileError(path, "no such mapping file")
        tensors, metadata = read_safetensors(path)  # a damaged file: one line (core.atomic)
        if metadata.get("format") != FORMAT or "W" not in tensors:
            raise InputFileError(path, "not a Wordbridge mapping (written by `align`)")
        try:
            meta = json.loads(metadata.get("meta", "{}"))
        except json.JSONDecodeError as exc:
            raise InputFileError(path, f"header 'meta' is not JSON ({exc.msg})") from None
        if not isinstance(meta, dict):
            raise InputFileError(path, "header 'meta' must be a JSON object")
        try:
            return cls.from_arrays(tensors["W"], tensors, metadata, meta)
        except WordbridgeError as exc:
            raise InputFileError(path, str(exc)) from None

    @classmethod
    def from_arrays(cls, W: np.ndarray, arrays: dict, steps: dict, meta: dict | None = None) -> "Mapping":
        """Rebuild a mapping from W, the arrays of `preprocessing_arrays` and {"src_steps", "tgt_steps"}.

        Checked (WordbridgeError, one line): both step lists present and made of known steps, one
        centring mean per "center" step, a 2-D W, and every array finite (a NaN map is refused)."""
        W = np.asarray(W)
        if W.ndim != 2:
            raise WordbridgeError(f"W must be a matrix, not of shape {tuple(W.shape)}")
        sides = {}
        for side in ("src", "tgt"):
            means = []
            while f"{side}.center_mean.{len(means)}" in arrays:
                means.append(arrays[f"{side}.center_mean.{len(means)}"])
            step_list = _checked_steps(steps, side, len(means))
            sides[side] = SidePreprocess(step_list, means,
                                         arrays.get(f"{side}.pca_mean"), arrays.get(f"{side}.pca_components"))
        for name, array in [("W", W), *arrays.items()]:
            if isinstance(array, np.ndarray) and array.dtype.kind == "f" and not np.isfinite(array).all():
                raise WordbridgeError(f"array {name!r} holds NaN or infinite values (a failed run?)")
        return cls(W, sides["src"], sides["tgt"], meta or {})
