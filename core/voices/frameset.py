"""Front-end frames of many word clips, with their words, speakers and sources, in one flat array.

`featurize` runs a front end (core.frontends) over a ClipSet, optionally `copies` more times under
random microphone conditions (core.voices.microphone), and returns a `FrameSet`: every clip's
frames concatenated `[total, dim]` with offsets and lengths, as core.speech.batching.SegmentFrames
wants them for training. A FrameSet is saved as safetensors (arrays) + JSON (strings): no pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InputFileError, WordbridgeError
from core.progress import Progress, ensure


@dataclass
class FrameSet:
    """Frames of clips: `frames[offsets[i]:offsets[i] + lengths[i]]` is clip i (copy `copy[i]`)."""

    frames: np.ndarray  # [total, dim] float16 (halves the memory; the encoder computes in float32)
    offsets: np.ndarray  # [n] int64
    lengths: np.ndarray  # [n] int64
    labels: list[str]
    speakers: list[str]
    sources: list[str]
    copy: np.ndarray  # [n] int: 0 = the clip as recorded, 1.. = simulated microphone conditions
    frontend: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def dim(self) -> int:
        return int(self.frames.shape[1])

    def clip(self, i: int) -> np.ndarray:
        """Frames of clip i as float32 `[T, dim]`."""
        return self.frames[self.offsets[i]:self.offsets[i] + self.lengths[i]].astype(np.float32)

    def subset(self, rows) -> "FrameSet":
        """The clips at `rows`, frames copied into a new flat array."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths[rows]
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        frames = (np.concatenate([self.frames[self.offsets[i]:self.offsets[i] + self.lengths[i]] for i in rows])
                  if len(rows) else np.zeros((0, self.dim), np.float16))
        pick = rows.tolist()
        return FrameSet(frames, offsets, lengths.copy(), [self.labels[i] for i in pick],
                        [self.speakers[i] for i in pick], [self.sources[i] for i in pick],
                        self.copy[rows].copy(), dict(self.frontend))

    @staticmethod
    def concat(parts: list["FrameSet"]) -> "FrameSet":
        """One FrameSet of several made with the same front end."""
        parts = [p for p in parts if len(p)]
        if not parts:
            raise WordbridgeError("no clips to join")
        if any(p.frontend != parts[0].frontend for p in parts):
            raise WordbridgeError("frame sets made with different front ends cannot be joined")
        lengths = np.concatenate([p.lengths for p in parts])
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return FrameSet(np.concatenate([p.frames for p in parts]), offsets, lengths,
                        sum((p.labels for p in parts), []), sum((p.speakers for p in parts), []),
                        sum((p.sources for p in parts), []), np.concatenate([p.copy for p in parts]),
                        dict(parts[0].frontend))

    def segment_frames(self, device="cpu"):
        """A core.speech.batching.SegmentFrames of these clips (float32) on `device`."""
        import torch

        from core.speech.batching import SegmentFrames

        return SegmentFrames(torch.from_numpy(self.frames.astype(np.float32)).to(device),
                             torch.from_numpy(self.offsets).to(device), torch.from_numpy(self.lengths).to(device),
                             self.lengths.copy())

    def save(self, path: str | Path) -> Path:
        """Write `path` (.safetensors) and `path`.json atomically."""
        from core.atomic import save_safetensors, write_json

        path = Path(path)
        save_safetensors(path, {"frames": np.ascontiguousarray(self.frames), "offsets": self.offsets,
                                "lengths": self.lengths, "copy": self.copy.astype(np.int64)})
        write_json(path.with_suffix(".json"), {"labels": self.labels, "speakers": self.speakers,
                                               "sources": self.sources, "frontend": self.frontend})
        return path

    @classmethod
    def load(cls, path: str | Path) -> "FrameSet":
        """Read a FrameSet written by `save`; a damaged file is a one-line InputFileError."""
        from core.atomic import load_safetensors

        path = Path(path)
        arrays = load_safetensors(path)  # a missing or damaged file: one-line InputFileError
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            out = cls(arrays["frames"], arrays["offsets"], arrays["lengths"], meta["labels"], meta["speakers"],
                      meta["sources"], arrays["copy"], meta.get("frontend", {}))
        except (OSError, ValueError, KeyError) as exc:
            raise InputFileError(path, f"not a readable frame set ({type(exc).__name__}: {exc})") from None
        n = len(out.lengths)
        if not (len(out.offsets) == len(out.labels) == len(out.speakers) == len(out.sources) == len(out.copy) == n):
            raise InputFileError(path, "frame set columns differ in length")
        if n and int(out.offsets[-1] + out.lengths[-1]) > len(out.frames):
            raise InputFileError(path, "frame set offsets point past its frames")
        return out


def featurize(clips, frontend, copies: int = 0, conditions=None, seed: int = 0, device="cpu",
              batch_clips: int = 2048, keep_clean: bool = True, workers: int = 0,
              progress: Progress | None = None) -> FrameSet:
    """Frames of every clip of a ClipSet through `frontend` (a core.frontends front end).

    With `copies` > 0 each clip is also simulated that many times under random microphone
    conditions (`conditions`, core.voices.microphone; seeded by `seed`, the clip's row and the
    copy, so the result does not depend on `workers`), each copy a row of its own with `copy` =
    1..copies. `keep_clean` False drops the clip as recorded. `workers` > 0 simulates the
    microphones in that many processes (the front end runs in this one, batched on `device`)."""
    from core.voices.microphone import MicrophoneConditions

    progress = ensure(progress)
    conditions = conditions or MicrophoneConditions()
    variants = ([0] if keep_clean else []) + list(range(1, copies + 1))
    if not variants:
        raise WordbridgeError("nothing to compute: no clean clips and no simulated copies")
    jobs = [(i, v) for i in range(len(clips)) for v in variants]
    chunks, rows, copy_of = [], [], []
    pool = None
    if workers > 0 and copies > 0:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(workers)
    try:
        for start in range(0, len(jobs), batch_clips):
            batch = jobs[start:start + batch_clips]
            chunks += list(frontend.batch_frames(_simulated(clips, batch, conditions, seed, pool), device=device))
            rows += [i for i, _ in batch]
            copy_of += [v for _, v in batch]
            progress.update(min(start + batch_clips, len(jobs)), len(jobs))
    finally:
        if pool is not None:
            pool.shutdown()
    lengths = np.array([len(c) for c in chunks], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    frames = np.concatenate(chunks).astype(np.float16) if chunks else np.zeros((0, frontend.dim), np.float16)
    return FrameSet(frames, offsets, lengths, [clips.labels[i] for i in rows], [clips.speakers[i] for i in rows],
                    [clips.sources[i] for i in rows], np.array(copy_of, dtype=np.int64), frontend.config())


def _simulate_one(args):
    from core.voices.microphone import simulate

    x, seed, i, v, conditions = args
    return simulate(x, np.random.default_rng([seed, i, v]), conditions)


def _simulated(clips, batch, conditions, seed, pool) -> list[np.ndarray]:
    """The batch's signals: clean clips as they are, copies through a simulated microphone."""
    todo = [(clips.samples[i], seed, i, v, conditions) for i, v in batch if v > 0]
    done = iter(pool.map(_simulate_one, todo, chunksize=64) if pool is not None else map(_simulate_one, todo))
    return [clips.samples[i] if v == 0 else next(done) for i, v in batch]
