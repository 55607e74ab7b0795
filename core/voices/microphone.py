"""Random real-microphone conditions for a word clip: what separates a recording from a clean voice.

Each call of `simulate` draws one condition and applies it to a 16-kHz mono clip, in this order:
1. speed perturbation (resampling by a factor in [1 - speed, 1 + speed]; pitch and tempo move
   together, as in Kaldi's speed perturbation — a second source of pitch variety besides the
   synthetic voices' own pitch settings),
2. reverberation (a synthetic room, core.synth.augment.add_reverb),
3. telephone band (down to 8 kHz and back up, with a 300-3400 Hz band-pass: the 8-kHz
   recordings our users have, which carry nothing above 4 kHz),
4. additive noise (white, pink or brown, at an SNR drawn in `snr_db`),
5. silence or room noise before and after the word (a user's clip is rarely cut tight),
6. level (gain in `gain_db`) and, sometimes, hard clipping (a microphone driven too hot).

All randomness comes from the `numpy.random.Generator` passed in, so a dataset built from a seed
is the same every time. The clip's length changes only by steps 1 and 5.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.errors import WordbridgeError
from core.synth.augment import NOISE_COLOURS, add_noise, add_reverb

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class MicrophoneConditions:
    """How strong each perturbation may be; each is drawn per clip with its probability `p_*`."""

    speed: float = 0.12  # speed factor in [1 - speed, 1 + speed]
    p_reverb: float = 0.4
    reverb_rt60: float = 0.6  # largest reverberation time (s)
    p_telephone: float = 0.3
    p_noise: float = 0.6
    snr_db: tuple[float, float] = (5.0, 35.0)
    p_padding: float = 0.7
    padding_s: float = 0.4  # largest silence added at each end
    gain_db: tuple[float, float] = (-30.0, 6.0)
    p_clip: float = 0.1

    def __post_init__(self):
        for name in ("p_reverb", "p_telephone", "p_noise", "p_padding", "p_clip"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise WordbridgeError(f"microphone condition {name} must be a probability, got {value}")
        if not 0.0 <= self.speed < 0.5:
            raise WordbridgeError(f"speed perturbation must be in [0, 0.5), got {self.speed}")
        if self.snr_db[0] > self.snr_db[1] or self.gain_db[0] > self.gain_db[1]:
            raise WordbridgeError("SNR and gain ranges must be (low, high)")

    def to_dict(self) -> dict:
        """Plain dict for run configs."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "MicrophoneConditions":
        """Rebuild from `to_dict` output (unknown keys are an error)."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise WordbridgeError(f"unknown microphone condition(s): {', '.join(sorted(unknown))}")
        values = dict(data)
        for key in ("snr_db", "gain_db"):
            if key in values:
                values[key] = tuple(float(v) for v in values[key])
        return cls(**values)


def simulate(samples: np.ndarray, rng: np.random.Generator,
             conditions: MicrophoneConditions = MicrophoneConditions()) -> np.ndarray:
    """One random microphone condition applied to a 16-kHz mono float32 clip (see the module doc)."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size == 0:
        raise WordbridgeError("cannot simulate a microphone on an empty clip")
    c = conditions
    if c.speed > 0:
        x = change_speed(x, float(rng.uniform(1 - c.speed, 1 + c.speed)))
    if c.p_reverb > 0 and rng.random() < c.p_reverb:
        x = add_reverb(x, SAMPLE_RATE, float(rng.uniform(0.1, max(c.reverb_rt60, 0.1))), rng)
    if c.p_telephone > 0 and rng.random() < c.p_telephone:
        x = telephone_band(x)
    if c.p_padding > 0 and rng.random() < c.p_padding:
        before, after = (int(rng.uniform(0, c.padding_s) * SAMPLE_RATE) for _ in range(2))
        x = np.concatenate([np.zeros(before, np.float32), x, np.zeros(after, np.float32)])
    if c.p_noise > 0 and rng.random() < c.p_noise:
        colour = list(NOISE_COLOURS)[int(rng.integers(len(NOISE_COLOURS)))]
        x = add_noise(x, float(rng.uniform(*c.snr_db)), rng, NOISE_COLOURS[colour])
    peak = float(np.max(np.abs(x))) or 1.0
    x = x * (10 ** (float(rng.uniform(*c.gain_db)) / 20) / peak)  # peak level in dBFS
    if c.p_clip > 0 and rng.random() < c.p_clip:
        limit = float(np.max(np.abs(x))) * float(rng.uniform(0.3, 0.8))
        x = np.clip(x, -limit, limit)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def change_speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """Play `samples` `factor` times faster (factor 1.1: 10 % shorter, pitch up by the same)."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    if abs(factor - 1.0) < 1e-3:
        return samples.astype(np.float32, copy=False)
    ratio = Fraction(factor).limit_denominator(50)
    return resample_poly(samples, ratio.denominator, ratio.numerator).astype(np.float32)


def telephone_band(samples: np.ndarray) -> np.ndarray:
    """What an 8-kHz telephone recording keeps of a 16-kHz clip: 300-3400 Hz, back at 16 kHz."""
    from scipy.signal import butter, resample_poly, sosfiltfilt

    narrow = resample_poly(samples, 1, 2)  # 8 kHz: nothing above 4 kHz survives
    sos = butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos")
    if narrow.size > 27:  # sosfiltfilt needs a few samples more than the filter's padding
        narrow = sosfiltfilt(sos, narrow)
    return resample_poly(narrow, 2, 1)[: samples.size].astype(np.float32)
