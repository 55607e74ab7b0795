"""Log-magnitude spectrogram for display (the recorder's view), in numpy only."""

from __future__ import annotations

import numpy as np


def spectrogram_db(samples: np.ndarray, sr: int, window_s: float = 0.025, hop_s: float = 0.01,
                   floor_db: float = -80.0, max_hz: float = 8000.0) -> tuple[np.ndarray, float, float]:
    """Hann-windowed STFT magnitude in dB relative to the loudest bin, clipped at `floor_db`.

    Returns (image [frames, bins], seconds per frame, Hz per bin). A clip shorter than one window
    gives a single zero-padded frame, so callers never need a special case.
    """
    x = np.asarray(samples, dtype=np.float32)
    win = max(16, int(round(window_s * sr)))
    hop = max(1, int(round(hop_s * sr)))
    n_fft = 1 << (win - 1).bit_length()
    if len(x) < win:
        x = np.pad(x, (0, win - len(x)))
    n_frames = 1 + (len(x) - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n_frames)[:, None]
    frames = x[idx] * np.hanning(win).astype(np.float32)
    mag = np.abs(np.fft.rfft(frames, n=n_fft, axis=1))
    hz_per_bin = sr / n_fft
    keep = min(mag.shape[1], int(max_hz / hz_per_bin) + 1)
    db = 20 * np.log10(np.maximum(mag[:, :keep], 1e-10))
    db -= db.max()
    return np.maximum(db, floor_db).astype(np.float32), hop / sr, hz_per_bin
