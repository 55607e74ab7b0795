"""The on-disk feature store: every segment's frames in one memory-mapped array, plus its segments.

Layout of a store folder (written by `core.corpus.build.build_feature_store`):
    header.json        format, version, feature config (null unless MFCC), "frontend" (its
                       `core.frontends` config), counts, "synthetic", metadata, reports
    features.npy       float16 [total_frames, dim]: all segments' frames, concatenated
    offsets.npy        int64 [n]: first frame of segment i
    lengths.npy        int64 [n]: frame count of segment i
    utterance_ids.npy  int64 [n]: contiguous utterance ids (0, 1, ...)
    positions.npy      int64 [n]: word index within the utterance
    segments.jsonl     the segment table (audio, start, end, label, speaker, utterance, position);
                       a store in a project names each audio file relative to the corpus folder
                       (header metadata.source), elsewhere by its absolute path (core.corpus.build)
header.json is written last, so a folder without it is not a finished store. Arrays are opened
memory-mapped: a 500-hour corpus (about 1.8e8 frames, 4.7 GB at 13 dims) is never read whole.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from core.atomic import finish_file_sets
from core.errors import InputFileError, WordbridgeError
from core.features import FeatureConfig
from core.segments import Segment, SegmentTable

FORMAT = "wordbridge-feature-store"
VERSION = 1
ARRAY_FILES = ("features.npy", "offsets.npy", "lengths.npy", "utterance_ids.npy", "positions.npy")


def read_header(path: str | os.PathLike) -> dict:
    """A finished store's header.json (counts, reader, labels, synthetic flag) without opening its
    arrays; a missing, unfinished, damaged or newer store is an InputFileError."""
    path = Path(path)
    header_path = path / "header.json"
    if not path.is_dir():
        raise InputFileError(path, "feature store folder not found")
    # a build killed while renaming its finished files into place: complete it (core.atomic)
    finish_file_sets(path, ARRAY_FILES + ("segments.jsonl", "header.json"))
    if not header_path.is_file():
        hint = " (unfinished build: run `corpus build` again to resume)" if (path / ".build").is_dir() else ""
        raise InputFileError(path, f"not a feature store: header.json missing{hint}")
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(header_path, f"damaged header ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputFileError(header_path, "not a feature store header (format "
                                          f"{header.get('format') if isinstance(header, dict) else None!r})")
    if int(header.get("version", 0)) > VERSION:
        raise InputFileError(header_path, f"store version {header.get('version')} is newer than "
                                          f"this program reads ({VERSION})")
    return header


class FeatureStore:
    """A finished store, opened read-only with memory-mapped arrays. Use `FeatureStore.open(path)`."""

    def __init__(self, path: Path, header: dict, frames: np.ndarray, offsets: np.ndarray,
                 lengths: np.ndarray, utterance_ids: np.ndarray, positions: np.ndarray):
        self.path = path
        self.header = header
        self.frames = frames  # float16 [total_frames, dim], memory-mapped
        self.offsets = offsets
        self.lengths = lengths
        self.utterance_ids = utterance_ids
        self.positions = positions
        self._table: SegmentTable | None = None

    @classmethod
    def open(cls, path: str | os.PathLike) -> "FeatureStore":
        """Open a store folder; a missing, unfinished or inconsistent store is an InputFileError."""
        path = Path(path)
        header = read_header(path)
        arrays = {}
        for name in ARRAY_FILES:
            file = path / name
            if not file.is_file():
                raise InputFileError(file, "missing from the feature store")
            try:
                arrays[name] = np.load(file, mmap_mode="r", allow_pickle=False)
            except ValueError as exc:
                raise InputFileError(file, f"damaged array ({exc})") from None
        store = cls(path, header, arrays["features.npy"], arrays["offsets.npy"], arrays["lengths.npy"],
                    arrays["utterance_ids.npy"], arrays["positions.npy"])
        store._validate()
        return store

    def _validate(self) -> None:
        n = int(self.header.get("n_segments", -1))
        sizes = {len(self.offsets), len(self.lengths), len(self.utterance_ids), len(self.positions)}
        if sizes != {n}:
            raise InputFileError(self.path, f"feature store is inconsistent: header says {n} segments, "
                                            f"arrays hold {sorted(sizes)}")
        if self.frames.ndim != 2 or self.frames.shape[1] != int(self.header.get("dim", -1)):
            raise InputFileError(self.path, f"feature store is inconsistent: features shape {self.frames.shape}")
        if n and int(self.offsets[-1] + self.lengths[-1]) > self.frames.shape[0]:
            raise InputFileError(self.path, "feature store is inconsistent: offsets point past the features")

    @property
    def n_segments(self) -> int:
        return int(len(self.lengths))

    def __len__(self) -> int:
        return self.n_segments

    @property
    def dim(self) -> int:
        return int(self.frames.shape[1])

    @property
    def config(self):
        """What the frames were computed with: the FeatureConfig of an MFCC store (as always), else
        its `core.frontends.FrontEnd` (both are accepted by `core.speech.encode.pack_type_space`)."""
        if self.header.get("feature_config") is not None:
            return FeatureConfig.from_dict(self.header["feature_config"])
        return self.frontend

    @property
    def frontend(self):
        """The store's `core.frontends.FrontEnd` (stores written before front ends existed: MFCC). An
        ssl checkpoint is found relative to the store's project (`<project>/corpora/<name>`), else
        beside the store (core.frontends.ssl_checkpoint.locate_checkpoint)."""
        from core.frontends import frontend_from_record

        folder = Path(self.path).absolute()
        in_project = folder.parent.name == "corpora" and (folder.parent.parent / "wordbridge.json").is_file()
        return frontend_from_record(self.header.get("frontend"), self.header.get("feature_config"),
                                    root=folder.parent.parent if in_project else None,
                                    near=(folder, folder.parent))

    @property
    def metadata(self) -> dict:
        """Header metadata: "synthetic" (bool), "held_out_speakers" (list), source, reader, ..."""
        meta = dict(self.header.get("metadata", {}))
        meta["synthetic"] = bool(self.header.get("synthetic", False))
        return meta

    def features(self, i: int) -> np.ndarray:
        """Frames of segment i as float32 [T, dim] (read from the memory map)."""
        o, n = int(self.offsets[i]), int(self.lengths[i])
        return np.asarray(self.frames[o:o + n], dtype=np.float32)

    @property
    def table(self) -> SegmentTable:
        """The segment table (read from segments.jsonl on first use)."""
        if self._table is None:
            self._table = SegmentTable.load(self.path / "segments.jsonl")
            if len(self._table) != self.n_segments:
                raise InputFileError(self.path / "segments.jsonl",
                                     f"holds {len(self._table)} segments, the arrays {self.n_segments}")
        return self._table

    @property
    def labels(self) -> list[str | None]:
        return self.table.label

    @property
    def speakers(self) -> list[str | None]:
        return self.table.speaker

    def segment(self, i: int) -> Segment:
        """The Segment behind row i."""
        return self.table[i]


class InMemoryFeatureStore:
    """The FeatureStore interface over arrays in memory (for tests and small experiments)."""

    def __init__(self, features: list[np.ndarray], utterance_ids, positions, labels=None,
                 speakers=None, metadata: dict | None = None, segments: list[Segment] | None = None):
        self._features = [np.asarray(f, dtype=np.float32) for f in features]
        n = len(self._features)
        dims = {f.shape[1] for f in self._features if f.ndim == 2}
        if any(f.ndim != 2 for f in self._features) or len(dims) > 1:
            raise WordbridgeError("InMemoryFeatureStore: features must be 2-D arrays of one width")
        self._dim = dims.pop() if dims else 0
        self.lengths = np.array([len(f) for f in self._features], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64) if n else \
            np.zeros(0, np.int64)
        self.utterance_ids = np.asarray(utterance_ids, dtype=np.int64).reshape(-1)
        self.positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        self.labels = list(labels) if labels is not None else [None] * n
        self.speakers = list(speakers) if speakers is not None else [None] * n
        if {len(self.utterance_ids), len(self.positions), len(self.labels), len(self.speakers)} != {n}:
            raise WordbridgeError("InMemoryFeatureStore: all columns need one entry per segment")
        meta = dict(metadata or {})
        meta["synthetic"] = bool(meta.get("synthetic", False))
        self.metadata = meta
        self._segments = segments

    @property
    def n_segments(self) -> int:
        return len(self._features)

    def __len__(self) -> int:
        return self.n_segments

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def frames(self) -> np.ndarray:
        """All frames concatenated, float32 [total_frames, dim]."""
        if not self._features:
            return np.zeros((0, self._dim), np.float32)
        return np.concatenate(self._features)

    def features(self, i: int) -> np.ndarray:
        """Frames of segment i, float32 [T, dim]."""
        return self._features[i]

    def segment(self, i: int) -> Segment:
        """The Segment of row i (given, or made up from the columns with a 100 frames/s clock)."""
        if self._segments is not None:
            return self._segments[i]
        return Segment("", 0.0, float(self.lengths[i]) / 100.0, self.labels[i], self.speakers[i],
                       str(int(self.utterance_ids[i])), int(self.positions[i]))
