"""A front end whose frames are another front end's, standardised per dimension with fixed statistics.

Why: the speech embedding's frames carry no normalisation, and standardising each dimension
(mean removed, divided by the standard deviation) with statistics of the whole corpus made the
same word match across speakers far better: Mboshi dev cross-speaker same-different AP,
mean-pooled, 0.057 raw → 0.114 standardised corpus-wide (docs/RESULTS.md, "Words without labels:
speaker and voice-cluster normalisation (session 12, 2-core CPU)"; there the statistics came from
the evaluated segments themselves); fitted as a store build fits them, on 200 Mboshi train
recordings, 0.108 ("... the standardised front end in the app (session 13)"). No labels are needed.

The statistics are fitted once (`fit_standardiser`, or `core.corpus.standardise` for a corpus
being built into a store) and then fixed: they are part of `config()`, so a store's header and an
encoder's config carry them, and a clip classified later is standardised exactly as the store was.
Config: {"name": "standardised", "inner": inner.config(), "mean": [...], "std": [...],
"fitted_on": {"recordings": N, "frames": M}}.
"""

from __future__ import annotations

import numpy as np

from core.errors import WordbridgeError
from core.frontends.base import FrontEnd, check_keys

MIN_STD = 1e-5  # a constant dimension is divided by this instead of 0


def _rounded(values) -> np.ndarray:
    """8 significant digits: what config() writes, so a rebuilt front end is the same to the bit."""
    return np.array([float(f"{float(v):.8g}") for v in values], dtype=np.float64)


class StandardisedFrontEnd(FrontEnd):
    """`inner`'s frames, then (x - mean) / max(std, 1e-5) per dimension, with fixed `mean` and `std`."""

    name = "standardised"

    def __init__(self, inner: FrontEnd, mean, std, fitted_on: dict | None = None):
        """`mean`, `std`: inner.dim finite numbers (std >= 0); `fitted_on`: {"recordings", "frames"} counts."""
        if not isinstance(inner, FrontEnd):
            raise WordbridgeError("standardised front end: the inner front end is missing")
        for key, values in (("mean", mean), ("std", std)):
            try:
                array = np.asarray(values, dtype=np.float64)
            except (TypeError, ValueError):
                array = np.zeros(0)
            if array.shape != (inner.dim,) or not np.isfinite(array).all():
                raise WordbridgeError(f"standardised front-end config: {key!r} must be {inner.dim} finite "
                                      f"numbers (the {inner.name} front end's width)")
            if key == "std" and (array < 0).any():
                raise WordbridgeError("standardised front-end config: 'std' must not be negative")
        fitted = dict(fitted_on or {})
        if set(fitted) - {"recordings", "frames"} or not all(isinstance(v, int) and v >= 0 for v in fitted.values()):
            raise WordbridgeError("standardised front-end config: 'fitted_on' must be "
                                  "{\"recordings\": N, \"frames\": M} (counts)")
        self.inner, self.fitted_on = inner, {"recordings": 0, "frames": 0, **fitted}
        self.mean, self.std = _rounded(mean), _rounded(std)
        self._mean32 = self.mean.astype(np.float32)
        self._scale32 = np.maximum(self.std, MIN_STD).astype(np.float32)

    @classmethod
    def from_config(cls, config: dict, root=None, near=()) -> StandardisedFrontEnd:
        """Rebuild from `config()`; the inner front end through `core.frontends.make_frontend`."""
        from core.frontends import make_frontend

        check_keys("standardised", config, ("inner", "mean", "std", "fitted_on"))
        if not isinstance(config.get("inner"), dict) or not config["inner"].get("name"):
            raise WordbridgeError("standardised front-end config: 'inner' must be a front-end config")
        if not isinstance(config.get("fitted_on", {}), dict):
            raise WordbridgeError("standardised front-end config: 'fitted_on' must be an object")
        return cls(make_frontend(config["inner"], root, near), config.get("mean"), config.get("std"),
                   config.get("fitted_on"))

    @property
    def dim(self) -> int:
        """The inner front end's width."""
        return self.inner.dim

    @property
    def frame_rate(self) -> float:
        """The inner front end's frame rate."""
        return self.inner.frame_rate

    @property
    def sample_rate(self) -> int:  # type: ignore[override]
        """The inner front end's sample rate."""
        return self.inner.sample_rate

    @property
    def segment_mode(self) -> str:  # type: ignore[override]
        """The inner front end's rule for word segments ("slice" or "own-audio")."""
        return self.inner.segment_mode

    @property
    def segment_margin_s(self) -> float:  # type: ignore[override]
        """The inner front end's margin around an own-audio segment."""
        return self.inner.segment_margin_s

    def config(self) -> dict:
        """{"name": "standardised", "inner", "mean", "std", "fitted_on"} (see the module docstring)."""
        return {"name": self.name, "inner": self.inner.config(), "mean": [float(v) for v in self.mean],
                "std": [float(v) for v in self.std], "fitted_on": dict(self.fitted_on)}

    def provenance(self) -> str:
        """The inner front end's provenance, plus where the statistics came from."""
        return (f"{self.inner.provenance()} Frames are then standardised per dimension (mean removed, "
                f"divided by the standard deviation) with statistics of {self.fitted_on['recordings']} "
                f"recordings ({self.fitted_on['frames']} frames) of the corpus the store was built from "
                f"(no labels used).")

    def standardise(self, frames: np.ndarray) -> np.ndarray:
        """(frames - mean) / max(std, 1e-5), float32."""
        return ((np.asarray(frames, dtype=np.float32) - self._mean32) / self._scale32).astype(np.float32, copy=False)

    def batch_frames(self, signals, device=None) -> list[np.ndarray]:
        """The inner front end's frames of each signal, standardised."""
        return [self.standardise(f) for f in self.inner.batch_frames(signals, device=device)]

    def segment_frames(self, samples_16k: np.ndarray, spans, device="cpu") -> list[np.ndarray]:
        """The inner front end's frames of each span (by its own segment rule), standardised."""
        return [self.standardise(f) for f in self.inner.segment_frames(samples_16k, spans, device=device)]


class FrameMoments:
    """Running per-dimension mean and variance (1/N) of frames, accumulated in float64."""

    def __init__(self, dim: int):
        """Empty statistics of `dim`-wide frames."""
        self.n, self.mean, self.m2 = 0, np.zeros(dim), np.zeros(dim)

    def add(self, frames: np.ndarray) -> None:
        """Merge a [T, dim] block (Chan et al.'s pairwise update: no loss from large sums)."""
        x = np.asarray(frames, dtype=np.float64).reshape(-1, len(self.mean))
        if len(x) == 0:
            return
        mean, n = x.mean(axis=0), len(x)
        delta, total = mean - self.mean, self.n + n
        self.m2 += ((x - mean) ** 2).sum(axis=0) + delta ** 2 * self.n * n / total
        self.mean += delta * n / total
        self.n = total

    def front_end(self, inner: FrontEnd, recordings: int) -> StandardisedFrontEnd:
        """The `StandardisedFrontEnd` of these statistics (an error when there are no frames)."""
        if self.n == 0:
            raise WordbridgeError("no frames to fit the standardisation on")
        return StandardisedFrontEnd(inner, self.mean, np.sqrt(self.m2 / self.n),
                                    {"recordings": int(recordings), "frames": int(self.n)})


def fit_standardiser(inner: FrontEnd, signals, device=None) -> StandardisedFrontEnd:
    """`inner` standardised with the mean and std (1/N, float64) over all frames of the 16-kHz
    `signals` (any iterable; each computed alone, so the result does not depend on batching)."""
    moments, count = FrameMoments(inner.dim), 0
    for signal in signals:
        moments.add(inner.batch_frames([np.asarray(signal, dtype=np.float32).reshape(-1)], device=device)[0])
        count += 1
    return moments.front_end(inner, count)
