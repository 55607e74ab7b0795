"""Optional acoustic augmentation of synthetic utterances: additive noise and simple reverberation.

Both keep the word timings valid: noise is added sample by sample, and the reverberation's
impulse response starts with the direct sound at lag 0 (its tail is cut at the end of the clip).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.errors import WordbridgeError


NOISE_COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # spectral exponent of each


@dataclass(frozen=True)
class AugmentConfig:
    """What to do to each utterance: `snr_db` = (low, high) range drawn per utterance, or None
    for no noise; `reverb_rt60` = the largest reverberation time in seconds (drawn per utterance
    from [0.1, reverb_rt60]), 0 for none."""

    snr_db: tuple[float, float] | None = None
    reverb_rt60: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.snr_db is not None or self.reverb_rt60 > 0

    def to_dict(self) -> dict:
        """Plain dict for corpus metadata."""
        return asdict(self)


def parse_snr_range(value: str) -> tuple[float, float] | None:
    """Parse --noise-snr: "none", "20" or "10-30" (dB)."""
    text = value.strip().lower()
    if text in ("", "none", "off"):
        return None
    try:
        if "-" in text[1:]:
            cut = text.index("-", 1)
            low, high = float(text[:cut]), float(text[cut + 1:])
        else:
            low = high = float(text)
    except ValueError:
        raise WordbridgeError(f"--noise-snr must be 'none', a number or a range like 10-30, got {value!r}")
    if low > high:
        raise WordbridgeError(f"--noise-snr range {value!r} has its low end above its high end")
    return (low, high)


def draw_augmentation(config: AugmentConfig, rng: np.random.Generator) -> dict:
    """Draw one utterance's augmentation parameters (empty when `config` does nothing). Drawn
    apart from the audio so that the corpus index can list them without synthesising."""
    params: dict = {}
    if config.reverb_rt60 > 0:
        params["reverb_rt60"] = round(float(rng.uniform(min(0.1, config.reverb_rt60), config.reverb_rt60)), 3)
    if config.snr_db is not None:
        params["snr_db"] = round(float(rng.uniform(*config.snr_db)), 2)
        params["noise"] = str(rng.choice(list(NOISE_COLOURS)))
    return params


def apply_augmentation(samples: np.ndarray, sample_rate: int, params: dict,
                       rng: np.random.Generator) -> np.ndarray:
    """Apply drawn `params` (reverberation, then noise) to float32 `samples`; the result never
    clips at 16 bits."""
    out = samples.astype(np.float32, copy=True)
    if "reverb_rt60" in params:
        out = add_reverb(out, sample_rate, params["reverb_rt60"], rng)
    if "snr_db" in params:
        out = add_noise(out, params["snr_db"], rng, NOISE_COLOURS[params.get("noise", "white")])
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 0.99:
        out *= 0.99 / peak
    return out


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator, exponent: float = 0.0) -> np.ndarray:
    """Add Gaussian noise with spectrum 1/f^exponent at `snr_db` relative to the power of the
    sounding part of `samples`."""
    active = samples[np.abs(samples) > 0.01 * (np.max(np.abs(samples)) + 1e-12)]
    power = float(np.mean(active ** 2)) if active.size else 0.0
    if power == 0.0:
        return samples.copy()
    noise = coloured_noise(samples.size, exponent, rng)
    noise *= np.sqrt(power / 10 ** (snr_db / 10) / (np.mean(noise ** 2) + 1e-20))
    return (samples + noise).astype(np.float32)


def coloured_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with power spectrum ∝ 1/f^exponent (0 white, 1 pink, 2 brown)."""
    if exponent == 0.0 or n < 2:
        return rng.standard_normal(n, dtype=np.float32)
    from scipy import fft

    # Shape the spectrum at an FFT-friendly length and cut: lengths with large prime factors
    # make the FFT ten times slower.
    m = fft.next_fast_len(n, real=True)
    spectrum = fft.rfft(rng.standard_normal(m, dtype=np.float32))
    freqs = fft.rfftfreq(m).astype(np.float32)
    freqs[0] = freqs[1]
    spectrum /= freqs ** (exponent / 2)
    return fft.irfft(spectrum, m)[:n].astype(np.float32)


def reverb_impulse_response(sample_rate: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """A synthetic room: a unit direct path followed, after a few ms, by Gaussian noise whose
    envelope decays by 60 dB over `rt60` seconds (scaled so the tail is about as loud as the
    direct sound)."""
    n = max(int(rt60 * sample_rate), 2)
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # ln(1000) = 6.9078 → -60 dB
    tail[: int(0.003 * sample_rate)] = 0.0  # a short gap before the first reflections
    tail *= 1.0 / (np.sqrt(np.sum(tail ** 2)) + 1e-12)
    ir = 0.8 * tail
    ir[0] = 1.0
    return ir.astype(np.float32)


def add_reverb(samples: np.ndarray, sample_rate: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic impulse response; same length and peak level as the input."""
    from scipy.signal import fftconvolve

    ir = reverb_impulse_response(sample_rate, rt60, rng)
    wet = fftconvolve(samples, ir)[: samples.size]
    peak_in = float(np.max(np.abs(samples))) if samples.size else 0.0
    peak_out = float(np.max(np.abs(wet))) if wet.size else 0.0
    if peak_out > 0:
        wet *= peak_in / peak_out
    return wet.astype(np.float32)
