"""Audio files in, mono 16 kHz float32 arrays out; mono 16-bit WAV files out; silence trimming.

Everything soundfile (libsndfile) reads is accepted: WAV, FLAC, OGG/Vorbis, MP3 (libsndfile ≥ 1.1),
AIFF, ... Files are read in blocks, mixed down to mono block by block and resampled block by block
with overlapping context, so a multi-hour recording never needs several full-rate multi-channel
copies in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.atomic import atomic_path
from core.errors import InputFileError

TARGET_SR = 16000
MIN_WORD_SECONDS = 0.05  # shorter clips cannot hold a word (and give < 5 feature frames)
READ_BLOCK_FRAMES = 1 << 20  # frames per soundfile read (about 22 s at 48 kHz)
RESAMPLE_BLOCK_SECONDS = 60.0  # resampling block; the context around it keeps blocks seamless
SILENT_PEAK = 1e-4  # peak amplitude under which a clip counts as silent (−80 dBFS)
CLIPPED_LEVEL = 0.999  # |sample| at or above this counts as clipped
# where a word recogniser's clip starts and ends (`word_span`): fractions of the clip's loudest 10-ms
# frame (RMS), chosen on the speechocean762 calibration speakers (docs/RESULTS.md, people's voices)
WORD_START_THRESHOLD = 0.03
WORD_STOP_THRESHOLD = 0.02
WORD_FLOOR_RATIO = 3.0  # and at least 3x the clip's quiet level (its 10th-percentile frame)
MIN_CLIP_SECONDS = 0.1  # a shorter clip holds no word a recogniser can name


def audio_duration(path: str | os.PathLike) -> float:
    """Duration in seconds from the file header (no decoding); raises InputFileError if unreadable."""
    info = _info(path)
    return info.frames / float(info.samplerate) if info.samplerate else 0.0


def load_audio(path: str | os.PathLike, target_sr: int = TARGET_SR,
               min_seconds: float = 0.0) -> tuple[np.ndarray, int]:
    """Read an audio file as a mono float32 array at `target_sr` Hz; returns (samples, target_sr).

    Channels are averaged. Raises InputFileError (one line, naming the file) when the file is
    missing, unreadable, empty, or shorter than `min_seconds` (use MIN_WORD_SECONDS for a single
    word). Silence and clipping are not errors: see `audio_warnings`.
    """
    import soundfile as sf

    info = _info(path)
    if info.frames == 0:
        raise _error(path, "empty audio", "audio is empty (0 samples)")
    mono = np.empty(info.frames, dtype=np.float32)
    filled = 0
    try:
        with sf.SoundFile(str(path)) as fh:
            for block in fh.blocks(blocksize=READ_BLOCK_FRAMES, dtype="float32", always_2d=True):
                n = min(len(block), len(mono) - filled)
                mono[filled:filled + n] = block[:n].mean(axis=1)
                filled += n
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise _error(path, "unreadable audio", f"cannot decode audio (file damaged?): {_short(exc)}") from None
    if filled == 0:
        raise _error(path, "empty audio", "audio is empty (0 samples)")
    mono = mono[:filled]
    if not np.isfinite(mono).all():
        bad = int((~np.isfinite(mono)).sum())
        raise _error(path, "non-finite audio", f"{bad} sample(s) are NaN or infinite (damaged float audio); "
                                               "re-export the file")
    samples = resample(mono, info.samplerate, target_sr)
    duration = len(samples) / float(target_sr)
    if duration < min_seconds:
        raise _error(path, "too short", f"audio is too short ({duration:.3f} s; a word needs at least "
                                        f"{min_seconds:.2f} s)")
    return samples, target_sr


def resample(samples: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono float32 array (windowed-sinc, torchaudio), in blocks for long signals."""
    samples = np.asarray(samples, dtype=np.float32)
    if orig_sr == target_sr:
        return samples
    import math

    import torch
    import torchaudio.functional as AF

    g = math.gcd(int(orig_sr), int(target_sr))
    step_in, step_out = orig_sr // g, target_sr // g
    # blocks and context are whole multiples of step_in so each block's output starts on an
    # output sample of the whole-signal result; the context covers the sinc filter's reach
    block = max(1, int(RESAMPLE_BLOCK_SECONDS * orig_sr) // step_in) * step_in
    context = -(-max(256, int(0.02 * orig_sr)) // step_in) * step_in
    n_out = -(-len(samples) * step_out // step_in)
    if len(samples) <= block + 2 * context:
        with torch.inference_mode():
            out = AF.resample(torch.from_numpy(samples), orig_sr, target_sr)
        return out.numpy()[:n_out].astype(np.float32, copy=False)
    out = np.empty(n_out, dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(samples), block):
            lo = max(0, start - context)
            hi = min(len(samples), start + block + context)
            piece = AF.resample(torch.from_numpy(np.ascontiguousarray(samples[lo:hi])),
                                orig_sr, target_sr).numpy()
            skip = (start - lo) // step_in * step_out
            o0 = start // step_in * step_out
            o1 = min(n_out, (start + block) // step_in * step_out)
            out[o0:o1] = piece[skip:skip + (o1 - o0)]
    return out


def audio_warnings(samples: np.ndarray) -> list[str]:
    """Warnings about a loaded clip that do not stop processing: 'silent', 'clipped'."""
    if len(samples) == 0:
        return ["empty"]
    peak = float(np.max(np.abs(samples)))
    warnings = []
    if peak < SILENT_PEAK:
        warnings.append("silent")
    if np.count_nonzero(np.abs(samples) >= CLIPPED_LEVEL) > max(2, len(samples) // 10000):
        warnings.append("clipped")
    return warnings


def is_silent(samples: np.ndarray) -> bool:
    """True when the clip's peak amplitude is below −80 dBFS (or it has no samples)."""
    return len(samples) == 0 or float(np.max(np.abs(samples))) < SILENT_PEAK


def wav_bytes(n_samples: int) -> int:
    """Size of a mono 16-bit PCM WAV file of `n_samples` samples (44-byte header)."""
    return 44 + 2 * int(n_samples)


def save_wav(path: str | os.PathLike, samples: np.ndarray, sr: int = TARGET_SR) -> Path:
    """Write mono 16-bit PCM WAV atomically; float samples are clipped to [-1, 1]."""
    import soundfile as sf

    samples = np.asarray(samples)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if samples.ndim != 1:
        raise ValueError(f"save_wav wants a 1-D array, got shape {samples.shape}")
    if samples.dtype.kind == "f":
        samples = np.clip(samples, -1.0, 1.0)
    path = Path(path)
    with atomic_path(path, expected_bytes=wav_bytes(len(samples))) as tmp:
        sf.write(str(tmp), samples, int(sr), subtype="PCM_16", format="WAV")
    return path


def frame_rms(samples: np.ndarray, hop: int) -> np.ndarray:
    """RMS of consecutive `hop`-sample frames (float64; a last partial frame is dropped)."""
    n = len(samples) // hop
    frames = np.asarray(samples[:n * hop], dtype=np.float64).reshape(n, hop)
    return np.sqrt(np.mean(frames ** 2, axis=1))


def trim_silence(samples: np.ndarray, sr: int = TARGET_SR, start_threshold: float = 0.1,
                 stop_threshold: float = 0.05, stop_hold: float = 0.3, margin: float = 0.25,
                 min_duration: float = 0.15) -> tuple[int, int] | None:
    """Find the spoken word in a clip; returns (start, end) sample indices, or None if none.

    Lingua Libre's auto-trim rules. The level is the RMS envelope over 10-ms frames divided by the
    loudest frame's RMS (so thresholds are fractions of the clip's peak level, independent of the
    recording gain). The word starts at the first frame at or above `start_threshold`, and ends
    where the level stays below `stop_threshold` for `stop_hold` seconds (or at the last frame at
    or above `stop_threshold`). `margin` seconds are kept on each side. Returns None for a silent
    clip or when the word (without margins) is shorter than `min_duration` seconds.
    """
    samples = np.asarray(samples, dtype=np.float32)
    hop = max(1, int(round(0.01 * sr)))
    n_frames = len(samples) // hop
    if n_frames == 0 or is_silent(samples):
        return None
    rms = frame_rms(samples, hop)
    level = rms / rms.max()
    loud = np.flatnonzero(level >= start_threshold)
    if len(loud) == 0:
        return None
    first = int(loud[0])
    above_stop = level >= stop_threshold
    hold = max(1, int(round(stop_hold / 0.01)))
    last = first
    quiet_run = 0
    for i in range(first, n_frames):
        if above_stop[i]:
            last, quiet_run = i, 0
        else:
            quiet_run += 1
            if quiet_run >= hold:
                break
    start, end = first * hop, min(len(samples), (last + 1) * hop)
    if (end - start) / sr < min_duration:
        return None
    pad = int(round(margin * sr))
    return max(0, start - pad), min(len(samples), end + pad)


def word_span(samples: np.ndarray, sr: int = TARGET_SR, start_threshold: float = WORD_START_THRESHOLD,
              stop_threshold: float = WORD_STOP_THRESHOLD, floor_ratio: float = WORD_FLOOR_RATIO,
              min_duration: float = 0.15, min_clip: float = MIN_CLIP_SECONDS) -> tuple[int, int] | None:
    """The stretch of a clip that a word recogniser should hear; (start, end) sample indices, or None.

    `trim_silence` (no margin) with lower thresholds than the recorder's auto-trim: a quiet onset or
    ending (/s/, /h/, /f/, a released stop) is part of the word, and cutting it was the largest loss
    between words as a recogniser learned them and the same words through the app. Both levels are
    at least `floor_ratio` times the clip's quiet level (its 10th-percentile frame), so steady
    background noise is not taken for a quiet onset, and never above the recorder's (0.1, 0.05).
    A clip with sound is never refused for being short: a word shorter than `min_duration` is
    widened to it around the sound (within the clip). None only for a clip shorter than `min_clip`
    seconds, a silent one (peak under −80 dBFS), or one with NaN / infinite samples.
    """
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if len(samples) < min_clip * sr or not np.isfinite(samples).all() or is_silent(samples):
        return None
    rms = frame_rms(samples, max(1, int(round(0.01 * sr))))
    quiet = floor_ratio * float(np.percentile(rms, 10)) / float(rms.max())
    # never above the recorder's own levels: a noisy clip is cut no tighter than auto-trim cuts it
    start_threshold = min(max(start_threshold, quiet), 0.1)
    stop_threshold = min(max(stop_threshold, quiet), 0.05)
    span = trim_silence(samples, sr, start_threshold, stop_threshold, margin=0.0, min_duration=0.0)
    if span is None:
        return None
    start, end = span
    need = min(len(samples), int(round(min_duration * sr)))
    if end - start < need:
        start = min(max(0, (start + end) // 2 - need // 2), len(samples) - need)
        end = start + need
    return start, end


def _info(path):
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise _error(path, "missing audio", "file not found")
    if p.is_dir():
        raise _error(path, "unreadable audio", "is a folder, not an audio file")
    if p.stat().st_size == 0:
        raise _error(path, "empty audio", "audio is empty (0 bytes)")
    try:
        return sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise _error(path, "unreadable audio", f"cannot read audio (unknown format or damaged file): "
                                               f"{_short(exc)}") from None


def _error(path, reason: str, message: str) -> InputFileError:
    """An InputFileError whose `reason` ("missing audio", "empty audio", "unreadable audio",
    "too short") lets corpus readers count skipped files by kind."""
    error = InputFileError(path, message)
    error.reason = reason
    return error


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text[:160]
