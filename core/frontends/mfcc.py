"""The paper's front end: MFCCs (or log-mel energies) every 10 ms, from `core.features` unchanged.

A word segment is the frames of its span within the frames of its whole recording, with CMVN
over the recording ("slice"; `core.features.span_features`), exactly what the feature store
has always done, so stores and encoders made before front ends existed behave as before.
Configs: {"name": "mfcc", "features": FeatureConfig.to_dict()}; a bare FeatureConfig dict
(what old encoders store under "features") is accepted too.
"""

from __future__ import annotations

import numpy as np

from core.features import FeatureConfig, extract_features, span_features
from core.frontends.base import FrontEnd, check_keys, resolve_device


class MfccFrontEnd(FrontEnd):
    """13 MFCCs (optionally + Δ, ΔΔ) or 40 log-mel energies at 100 frames/s, per-recording CMVN."""

    name = "mfcc"
    segment_mode = "slice"

    def __init__(self, features: FeatureConfig | None = None):
        """Wrap a `core.features.FeatureConfig` (default: 13 MFCCs, CMVN, as in the paper)."""
        self.features = features if features is not None else FeatureConfig()

    @classmethod
    def from_config(cls, config: dict) -> "MfccFrontEnd":
        """Rebuild from `config()`, or from a bare FeatureConfig dict (old stored configs)."""
        if "features" in config:
            check_keys("mfcc", config, ("features",))
            return cls(FeatureConfig.from_dict(config["features"]))
        return cls(FeatureConfig.from_dict({k: v for k, v in config.items() if k != "name"}))

    @property
    def dim(self) -> int:
        """13, 39, 40 or 120: the FeatureConfig's width."""
        return self.features.dim

    @property
    def frame_rate(self) -> float:
        """100 frames/s for the 10-ms hop."""
        return self.features.frame_rate

    @property
    def sample_rate(self) -> int:  # type: ignore[override]
        """The FeatureConfig's sample rate (16000)."""
        return self.features.sample_rate

    def config(self) -> dict:
        """{"name": "mfcc", "features": the FeatureConfig as a dict}."""
        return {"name": self.name, "features": self.features.to_dict()}

    def provenance(self) -> str:
        """No trained parameters: a fixed signal-processing recipe (torchaudio, BSD-2-Clause)."""
        f = self.features
        what = (f"{f.n_mfcc} MFCCs" if f.kind == "mfcc" else f"{f.n_mels} log-mel energies") + \
            (" + Δ + ΔΔ" if f.deltas else "")
        return (f"{what} every {f.hop_ms:g} ms over {f.win_ms:g}-ms windows"
                f"{', per-recording CMVN' if f.cmvn else ''} (the paper's input; torchaudio, "
                f"BSD-2-Clause). Nothing is learned: no training data.")

    def batch_frames(self, signals, device=None) -> list[np.ndarray]:
        """`core.features.extract_features` of the signals (CMVN per signal)."""
        return extract_features(list(signals), self.features, device=resolve_device(device))

    def segment_frames(self, samples_16k: np.ndarray, spans, device="cpu") -> list[np.ndarray]:
        """The spans' frames within the whole recording's frames (`core.features.span_features`)."""
        return span_features(np.asarray(samples_16k, dtype=np.float32).reshape(-1), spans, self.features,
                             device=resolve_device(device))
