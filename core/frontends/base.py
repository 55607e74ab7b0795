"""The acoustic front-end interface: 16-kHz samples in, a sequence of frame vectors out.

Every front end has a `name` (its key in `core.frontends.FRONTENDS`), a frame width `dim`, a
`frame_rate` (frames per second) and a JSON `config()` that `core.frontends.make_frontend` turns
back into an equal front end, so a stored speech space always embeds new clips the way it was
built. `provenance()` says what the front end is, its licence and what it was trained on.

Word segments. A front end also decides how a word segment [start, end) of a longer recording
becomes frames (`segment_frames`), and the feature store and `core.speech.encode.ClipEncoder`
both go through it, so training segments and a new clip are computed the same way:
- "slice" (MFCC, the paper): the frames of the span within the frames of the whole recording
  (CMVN over the recording), as `core.features.span_features` does;
- "own-audio" (pretrained networks with long receptive fields): the segment's own audio, cut
  with `segment_margin_s` seconds of context on each side, computed on its own. A 0.76-s window
  of the speech embedding would otherwise see as much of the neighbouring words as of the word,
  while the clips the app embeds are single words said alone (silence around them).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from core.errors import WordbridgeError

SAMPLE_RATE = 16000
SEGMENT_MODES = ("slice", "own-audio")


class FrontEnd(ABC):
    """One acoustic front end. Subclasses set `name`, `segment_mode` and implement the abstract methods."""

    name: str = ""
    sample_rate: int = SAMPLE_RATE
    segment_mode: str = "own-audio"
    segment_margin_s: float = 0.0

    @property
    @abstractmethod
    def dim(self) -> int:
        """Width of one frame vector."""

    @property
    @abstractmethod
    def frame_rate(self) -> float:
        """Frames per second."""

    @abstractmethod
    def config(self) -> dict:
        """A JSON-serialisable dict with a "name" key; `make_frontend(config)` rebuilds this front end."""

    @abstractmethod
    def provenance(self) -> str:
        """What this front end is, its licence and what it was trained on (one paragraph)."""

    @abstractmethod
    def batch_frames(self, signals, device=None) -> list[np.ndarray]:
        """Frames of each 16-kHz mono signal: float32 arrays [T_i, dim], in input order.

        Signals are batched (padded) on `device` (None: CUDA when present), and each result is
        the same as `frames` of that signal alone, up to float rounding.
        """

    def frames(self, samples_16k: np.ndarray, device="cpu") -> np.ndarray:
        """Frames of one 16-kHz mono signal: float32 [T, dim] with T >= 1 for any non-empty signal."""
        signal = np.asarray(samples_16k, dtype=np.float32).reshape(-1)
        if signal.size == 0:
            raise WordbridgeError("cannot compute frames of an empty signal")
        return self.batch_frames([signal], device=device)[0]

    def segment_audio(self, samples_16k: np.ndarray, spans) -> list[np.ndarray | None]:
        """The audio an "own-audio" front end computes each [start, end) span (seconds) from: the
        span plus `segment_margin_s` on each side, clipped to the recording; None for a span that
        lies wholly outside the recording (or is empty)."""
        x = np.asarray(samples_16k, dtype=np.float32).reshape(-1)
        pieces: list[np.ndarray | None] = []
        for start, end in spans:
            a = max(0, int(round((float(start) - self.segment_margin_s) * self.sample_rate)))
            b = min(len(x), int(round((float(end) + self.segment_margin_s) * self.sample_rate)))
            inside = end > start and end > 0 and start * self.sample_rate < len(x) and b > a
            pieces.append(x[a:b] if inside else None)
        return pieces

    def segment_frames(self, samples_16k: np.ndarray, spans, device="cpu") -> list[np.ndarray]:
        """Frames of [start, end) spans (seconds) of one recording, as the feature store computes them.

        "own-audio" front ends compute each span from `segment_audio` (all spans in one batch); a
        span wholly outside the recording gives an empty [0, dim] array. "slice" front ends override this.
        """
        pieces = self.segment_audio(samples_16k, spans)
        out = [np.zeros((0, self.dim), np.float32) for _ in pieces]
        where = [k for k, p in enumerate(pieces) if p is not None]
        if where:
            for k, frames in zip(where, self.batch_frames([pieces[k] for k in where], device=device)):
                out[k] = frames
        return out

    def describe(self) -> str:
        """A short one-line description: name, dim, frame rate."""
        return f"{self.name} ({self.dim} dims, {self.frame_rate:g} frames/s)"

    def __eq__(self, other) -> bool:
        return isinstance(other, FrontEnd) and self.config() == other.config()

    def __hash__(self) -> int:
        import json

        return hash(json.dumps(self.config(), sort_keys=True))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config()!r})"


def resolve_device(device):
    """A torch.device: `device` as given, or CUDA when present for None / "auto"."""
    import torch

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def check_keys(kind: str, config: dict, allowed) -> None:
    """A WordbridgeError when `config` has keys outside `allowed` (plus "name")."""
    unknown = set(config) - set(allowed) - {"name"}
    if unknown:
        raise WordbridgeError(f"{kind} front-end config: unknown keys {sorted(unknown)}")
