"""Frame-level speech features: 13 MFCCs every 10 ms over 25-ms windows (the paper's input).

Options: Δ and ΔΔ appended (39 dims), or 40 log-mel energies instead of MFCCs; per-utterance mean
and variance normalisation (CMVN: every dimension zero mean, unit variance over the utterance).

Frame t is centred on sample t·hop; the signal is reflect-padded by half a window at each end
(what torchaudio does with center=True), so an utterance of n samples has n // hop + 1 frames:
100 frames per second. Padding is done here rather than inside torchaudio so that a batch of
utterances of different lengths, and a long utterance cut into blocks, give exactly the frames
each utterance gives on its own.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from core.errors import WordbridgeError

FEATURE_KINDS = ("mfcc", "logmel")
BLOCK_FRAMES = 6000  # frames per block for long utterances (60 s), bounds the spectrogram's memory
LOG_FLOOR = 1e-6  # added to mel energies before the log (torchaudio's log_mels offset)


@dataclass(frozen=True)
class FeatureConfig:
    """What features to compute. `dim` is 13 (mfcc), 39 (mfcc + deltas), 40 (logmel), 120, ..."""

    kind: str = "mfcc"
    deltas: bool = False
    cmvn: bool = True
    n_mfcc: int = 13
    n_mels: int = 40
    sample_rate: int = 16000
    win_ms: float = 25.0
    hop_ms: float = 10.0

    def __post_init__(self):
        if self.kind not in FEATURE_KINDS:
            raise WordbridgeError(f"unknown feature kind {self.kind!r} (choose from {', '.join(FEATURE_KINDS)})")
        if self.kind == "mfcc" and not 1 <= self.n_mfcc <= self.n_mels:
            raise WordbridgeError(f"n_mfcc must be between 1 and n_mels ({self.n_mels}), got {self.n_mfcc}")
        if self.hop_ms <= 0 or self.win_ms < self.hop_ms:
            raise WordbridgeError(f"feature window {self.win_ms} ms / hop {self.hop_ms} ms are not usable")

    @property
    def base_dim(self) -> int:
        return self.n_mfcc if self.kind == "mfcc" else self.n_mels

    @property
    def dim(self) -> int:
        return self.base_dim * (3 if self.deltas else 1)

    @property
    def hop(self) -> int:
        """Hop in samples (160 at 16 kHz)."""
        return int(round(self.sample_rate * self.hop_ms / 1000))

    @property
    def win(self) -> int:
        """Window (and FFT) length in samples (400 at 16 kHz)."""
        return int(round(self.sample_rate * self.win_ms / 1000))

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop

    def to_dict(self) -> dict:
        """A plain dict (JSON-serialisable)."""
        return asdict(self)

    def to_json(self) -> str:
        """The config as a JSON string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "FeatureConfig":
        """Rebuild from `to_dict()` output; unknown keys are a WordbridgeError."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise WordbridgeError(f"feature config: unknown keys {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "FeatureConfig":
        """Rebuild from `to_json()` output."""
        return cls.from_dict(json.loads(text))


def frame_count(n_samples: int, config: FeatureConfig = FeatureConfig()) -> int:
    """Number of feature frames for an utterance of `n_samples` samples."""
    return int(n_samples) // config.hop + 1


def span_frames(start: float, end: float, n_frames: int, config: FeatureConfig = FeatureConfig()) -> slice:
    """The frames of a [start, end) span in seconds within an utterance of `n_frames` frames.

    Frames whose centre lies in the span; at least one frame when the span lies inside the audio,
    an empty slice when it lies wholly outside.
    """
    rate = config.frame_rate
    first = max(0, int(np.ceil(start * rate - 1e-6)))
    last = min(n_frames, int(np.ceil(end * rate - 1e-6)))
    if first >= n_frames or end <= 0 or end <= start:
        empty = min(first, n_frames)
        return slice(empty, empty)
    return slice(first, max(last, first + 1))


def default_device():
    """CUDA when present, else CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def extract_features(waveforms, config: FeatureConfig = FeatureConfig(), device=None,
                     max_batch_samples: int = 16000 * 600) -> list[np.ndarray]:
    """Features of each waveform (mono float at config.sample_rate): float32 arrays [T_i, dim].

    Waveforms are sorted by length and padded into batches of at most `max_batch_samples`
    samples (padding included), each computed in one call on `device` (default: CUDA when
    present). Utterances longer than BLOCK_FRAMES frames are computed in blocks. CMVN is per
    utterance. The result is in input order with T_i = frame_count(len(waveform_i)).
    """
    import torch

    if isinstance(waveforms, np.ndarray) and waveforms.ndim == 1:
        raise TypeError("extract_features takes a list of waveforms; use extract_one for one")
    device = torch.device(device) if device is not None else default_device()
    items = [np.asarray(w, dtype=np.float32).reshape(-1) for w in waveforms]
    results: list[np.ndarray | None] = [None] * len(items)
    order = sorted(range(len(items)), key=lambda i: len(items[i]))
    block_samples = BLOCK_FRAMES * config.hop
    batch: list[int] = []
    with torch.inference_mode():
        for i in order:
            if len(items[i]) > block_samples:
                results[i] = _finish(_raw_long(items[i], config, device), config)
                continue
            padded_len = len(items[i]) + config.win
            if batch and padded_len * (len(batch) + 1) > max_batch_samples:
                _run_batch(batch, items, results, config, device)
                batch = []
            batch.append(i)
        if batch:
            _run_batch(batch, items, results, config, device)
    return results  # type: ignore[return-value]


def extract_one(waveform: np.ndarray, config: FeatureConfig = FeatureConfig(), device=None) -> np.ndarray:
    """Features of one waveform: float32 [frame_count(len(waveform)), dim]."""
    return extract_features([waveform], config, device=device)[0]


def span_features(samples: np.ndarray, spans, config: FeatureConfig = FeatureConfig(),
                  device=None) -> list[np.ndarray]:
    """Features of [start, end) spans (seconds) of one recording, CMVN over the whole recording.

    This is how the feature store computes word segments, so a word cut out of a recording in
    the app gets the same features as in the store.
    """
    utterance = extract_one(samples, config, device=device)
    return [utterance[span_frames(s, e, len(utterance), config)] for s, e in spans]


def _run_batch(batch, items, results, config, device) -> None:
    import torch

    half = config.win // 2
    padded = [_pad_ends(items[i], half) for i in batch]
    width = max(len(p) for p in padded)
    stack = np.zeros((len(batch), width), dtype=np.float32)
    for row, p in enumerate(padded):
        stack[row, :len(p)] = p
    raw = _apply(config, device, torch.from_numpy(stack).to(device))  # [B, base_dim, T]
    for row, i in enumerate(batch):
        results[i] = _finish(raw[row, :, :frame_count(len(items[i]), config)], config)


def _raw_long(samples: np.ndarray, config: FeatureConfig, device):
    import torch

    padded = _pad_ends(samples, config.win // 2)
    n = frame_count(len(samples), config)
    parts = []
    for f0 in range(0, n, BLOCK_FRAMES):
        f1 = min(n, f0 + BLOCK_FRAMES)
        piece = padded[f0 * config.hop:(f1 - 1) * config.hop + config.win]
        parts.append(_apply(config, device, torch.from_numpy(np.ascontiguousarray(piece)).to(device))[:, :f1 - f0])
    return torch.cat(parts, dim=1)


def _finish(raw, config: FeatureConfig) -> np.ndarray:
    """[base_dim, T] tensor → deltas, CMVN → float32 numpy [T, dim]."""
    import torch
    import torchaudio.functional as AF

    feats = raw
    if config.deltas:
        d1 = AF.compute_deltas(feats.unsqueeze(0), win_length=5)[0]
        d2 = AF.compute_deltas(d1.unsqueeze(0), win_length=5)[0]
        feats = torch.cat([feats, d1, d2], dim=0)
    feats = feats.T
    if config.cmvn:
        mean = feats.mean(dim=0, keepdim=True)
        std = feats.std(dim=0, unbiased=False, keepdim=True)
        feats = (feats - mean) / std.clamp_min(1e-5)
    return feats.float().cpu().numpy().astype(np.float32, copy=False)


def _pad_ends(x: np.ndarray, half: int) -> np.ndarray:
    # reflect needs more samples than the pad; very short inputs (< 12.5 ms) are zero-padded
    return np.pad(x, half, mode="reflect" if len(x) > half else "constant")


def _apply(config: FeatureConfig, device, x):
    transform, take_log = _transform(config, device)
    out = transform(x)
    return (out + LOG_FLOOR).log() if take_log else out


@lru_cache(maxsize=8)
def _transform(config: FeatureConfig, device):
    import torchaudio.transforms as T

    mel = dict(n_fft=config.win, win_length=config.win, hop_length=config.hop,
               n_mels=config.n_mels, center=False, power=2.0)
    if config.kind == "mfcc":
        # log_mels=True: log(mel + 1e-6). The default dB scaling clamps to 80 dB below the
        # maximum of the whole batch, which would make an utterance depend on its batch-mates.
        transform = T.MFCC(sample_rate=config.sample_rate, n_mfcc=config.n_mfcc, log_mels=True,
                           melkwargs=mel)
    else:
        transform = T.MelSpectrogram(sample_rate=config.sample_rate, **mel)
    return transform.to(device), config.kind == "logmel"
