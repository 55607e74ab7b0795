"""Audio files of a project: mono 16-bit PCM WAV under `recordings/`, written atomically.

Samples come in as numpy arrays (float in [-1, 1] or int16; several channels are averaged to one)
and are stored at their own sample rate; resampling is the feature extractor's job.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from core.atomic import atomic_path
from core.audio import wav_bytes
from core.errors import InputFileError, WordbridgeError

RECORDINGS_DIR = "recordings"


def as_mono_float(samples: np.ndarray, where: str = "recording") -> np.ndarray:
    """Samples as a float32 mono array in [-1, 1]: int16 scaled, channels (frames × channels) averaged."""
    array = np.asarray(samples)
    if array.dtype.kind not in "iuf":
        raise WordbridgeError(f"{where}: samples must be numbers, not {array.dtype}")
    if array.dtype == np.int16:
        array = array.astype(np.float32) / 32768.0
    elif array.dtype.kind in "iu":
        raise WordbridgeError(f"{where}: integer samples must be int16, not {array.dtype}")
    if array.ndim == 2:
        array = array.mean(axis=1)
    if array.ndim != 1 or array.size == 0:
        raise WordbridgeError(f"{where}: expected a non-empty 1-D (or frames × channels) array, got shape {array.shape}")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise WordbridgeError(f"{where}: samples contain NaN or infinity")
    return np.clip(array, -1.0, 1.0)


def new_wav_name() -> str:
    """A fresh file name, unique even across crashes: recordings/<UTC time>-<random>.wav."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{RECORDINGS_DIR}/{stamp}-{uuid.uuid4().hex[:8]}.wav"


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int) -> float:
    """Atomically write mono 16-bit PCM WAV; returns the duration in seconds."""
    import soundfile

    if int(sample_rate) <= 0:
        raise WordbridgeError(f"{path}: sample rate must be positive, not {sample_rate}")
    mono = as_mono_float(samples, str(path))
    with atomic_path(path, expected_bytes=wav_bytes(mono.size)) as tmp:
        soundfile.write(str(tmp), mono, int(sample_rate), subtype="PCM_16", format="WAV")
    return mono.size / int(sample_rate)


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read any audio file libsndfile knows (WAV, FLAC, OGG, ...) → (float32 mono samples, sample rate)."""
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "audio file is missing")
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise InputFileError(path, f"cannot read audio ({str(exc).splitlines()[0]})") from None
    if samples.shape[0] == 0:
        raise InputFileError(path, "audio file has no samples")
    return as_mono_float(samples, str(path)), int(rate)
