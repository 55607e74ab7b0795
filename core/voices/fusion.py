"""Score fusion of two word recognisers in one project encoder (issue 15).

A clip's score for a speech type is the weighted sum of two recognisers' cosines to it:

    fused = (1 - weight) * cos_primary + weight * cos_second

each cosine being that recogniser's similarity to the type as the app ranks (the nearest of the
type's centroid and per-source prototypes, core.voices.prototypes). Each recogniser keeps its own
front end, word-span trimming and CMVN (each is a `core.speech.encode.ClipEncoder` of its own
config); types are ranked, and confidence read, on the fused scores. The weight 0.6 of the demo
(primary: speech-embedding recogniser, second: MFCC recogniser) was chosen on calibration speakers
and synthetic calibration voices only (docs/runs/2026-12-06-s12-cpu-voices-fusion).

Stored in the project's one encoder entry (`Project.set_encoder`): the second recogniser's arrays
in the same safetensors file under "fuse." (its encoder, centroids and prototypes; it shares the
primary's type vectors), and in the config

    "fusion": {"weight": w, "norm": "cosine", "config": <the second recogniser's encoder config>}

The config's "calibration" is then the one fitted on fused scores. Without "fusion" the encoder is
the single recogniser exactly as before.
"""

from __future__ import annotations

import threading

import numpy as np

from core.errors import WordbridgeError

FUSE_PREFIX = "fuse."
NORMS = ("cosine",)


def fuse_encoders(weights: dict, config: dict, second_weights: dict, second_config: dict, weight: float,
                  calibration: dict | None) -> tuple[dict[str, np.ndarray], dict]:
    """(weights, config) for `Project.set_encoder`: the primary recogniser's with the second's
    arrays under "fuse.", its config under "fusion" and `calibration` (fitted on fused scores, or
    None: shown uncalibrated) as the encoder's calibration."""
    weight = _check_weight(weight)
    if config.get("fusion") is not None or second_config.get("fusion") is not None:
        raise WordbridgeError("a fused recogniser cannot be fused again")
    rows = [np.asarray(w["assign_centroids"]).shape[0] for w in (weights, second_weights)]
    if rows[0] != rows[1]:
        raise WordbridgeError(f"the two recognisers have centroids for {rows[0]} and {rows[1]} speech types")
    name = (second_config.get("frontend") or {}).get("name")
    if name == "ssl":
        raise WordbridgeError("the second recogniser of a fusion cannot use an ssl front end (its checkpoint "
                              "would not be stored in the project)")
    out = dict(weights)
    out.update({FUSE_PREFIX + k: v for k, v in second_weights.items() if k != "type_vectors"})
    second = {k: v for k, v in second_config.items() if k != "calibration"}
    return out, {**config, "calibration": calibration,
                 "fusion": {"weight": weight, "norm": "cosine", "config": second}}


def fusion_problem(weights: dict, config: dict) -> str | None:
    """Why a stored encoder's fusion cannot be used, checked without building it (`project info
    --check`); None when it has none or looks whole."""
    record = config.get("fusion") if isinstance(config, dict) else None
    if record is None:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict) or "weight" not in record:
        return "its fusion record needs a weight and the second recogniser's config"
    if record.get("norm", "cosine") not in NORMS:
        return f"unknown fusion norm {record.get('norm')!r}"
    try:
        _check_weight(record["weight"])
    except WordbridgeError as exc:
        return str(exc)
    sub = [k[len(FUSE_PREFIX):] for k in weights if k.startswith(FUSE_PREFIX)]
    if "assign_centroids" not in sub or not any(k.startswith("encoder.") for k in sub):
        return ("its fusion's second recogniser is missing from the encoder file "
                f"(no '{FUSE_PREFIX}encoder.*' and '{FUSE_PREFIX}assign_centroids' arrays)")
    return None


def _check_weight(weight) -> float:
    try:
        w = float(weight)
    except (TypeError, ValueError):
        raise WordbridgeError(f"fusion weight {weight!r} is not a number") from None
    if not 0.0 <= w <= 1.0:
        raise WordbridgeError(f"fusion weight {w:g} is outside 0..1")
    return w


def app_cosines(encoder, samples: np.ndarray, sr: int) -> np.ndarray:
    """One recogniser's cosines of a clip to every type as the app ranks them (its own trimming and
    front end; nearest of centroid and prototypes): float32 [types]. Raises when it finds no speech."""
    from core.voices.prototypes import type_similarities

    enc = encoder.encode_features(encoder.clip_features(samples, sr))
    e = enc / max(float(np.linalg.norm(enc)), 1e-12)
    return type_similarities(e[None].astype(np.float32),
                             encoder.centroids if encoder.prototypes is None else encoder.prototypes)[0]


class Fusion:
    """The second recogniser and weight of a fused `ClipEncoder` (its `fusion` attribute).

    The second recogniser is built at its first use (the first clip; in the app, the classify
    worker), not while the encoder loads: loading runs while the opened project's window paints, and
    building it there (weights to tensors, prototypes checked and stacked) held the GUI thread back
    (docs/BENCHMARKS.md, session 12). What can be checked without building it is checked at load."""

    def __init__(self, primary, weight: float, build_second):
        """`build_second`: a function without arguments returning the second recogniser's ClipEncoder."""
        self.primary, self.weight = primary, _check_weight(weight)
        self._build_second, self._second = build_second, None
        self._lock = threading.Lock()  # the classify and export workers may ask for it at once

    @property
    def second(self):
        """The second recogniser's ClipEncoder, built once, at the first call."""
        if self._second is None:
            with self._lock:
                if self._second is None:
                    self._second = self._build_second()
        return self._second

    @classmethod
    def from_stored(cls, primary, weights: dict, record, root=None) -> "Fusion":
        """Rebuild from a stored encoder's weights and its config's "fusion" record."""
        from core.speech.encode import EXEMPLARS, ClipEncoder

        problem = fusion_problem(weights, {"fusion": record})
        if problem:
            raise WordbridgeError(f"stored encoder: {problem}")
        sub = {k[len(FUSE_PREFIX):]: v for k, v in weights.items() if k.startswith(FUSE_PREFIX)}
        if primary.learner != "unit-skipgram" or primary.type_vectors is None:
            raise WordbridgeError("stored encoder: only a type encoder (unit-skipgram) can be fused")
        if primary.exemplars is not None or EXEMPLARS in sub:
            raise WordbridgeError("stored encoder: fusion of recognisers with type exemplars is not supported")
        if record["config"].get("fusion") is not None:
            raise WordbridgeError("stored encoder: a fusion's second recogniser is itself fused")
        sub["type_vectors"] = primary.type_vectors  # shared: the second only gives cosines
        rows = np.asarray(sub["assign_centroids"]).shape[0]
        if rows != primary.centroids.shape[0]:
            raise WordbridgeError(f"stored encoder: the fused recognisers have {primary.centroids.shape[0]} and "
                                  f"{rows} types")
        return cls(primary, record["weight"], lambda: ClipEncoder(sub, record["config"], root))

    def parts(self, samples: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(primary cosines, second cosines or None): None when the weight is 0 or the second
        recogniser finds no speech in a clip the primary does (its trimming levels may differ);
        the primary finding none raises, as without fusion."""
        s1 = app_cosines(self.primary, samples, sr)
        if self.weight == 0.0:
            return s1, None
        second = self.second  # built here the first time: a recogniser that cannot be built raises
        try:
            return s1, app_cosines(second, samples, sr)
        except WordbridgeError:
            return s1, None

    def scores(self, samples: np.ndarray, sr: int) -> np.ndarray:
        """The clip's fused score for every type (the primary's alone where `parts` has no second)."""
        return self.combine(*self.parts(samples, sr))

    def combine(self, s1: np.ndarray, s2: np.ndarray | None) -> np.ndarray:
        """The fused scores of `parts`' output."""
        return s1 if s2 is None else (1.0 - self.weight) * s1 + self.weight * s2

    def ranked(self, samples: np.ndarray, sr: int, m: int) -> list[tuple[int, float]]:
        """The `m` types of highest fused score, best first, with their scores."""
        from core.retrieval import top_k_indices

        sims = self.scores(samples, sr)
        return [(int(i), float(sims[i])) for i in top_k_indices(sims, m)]

    def candidates(self, samples: np.ndarray, sr: int, m: int) -> tuple[list[np.ndarray], dict]:
        """As `ClipEncoder.candidates`, on fused scores (its calibration is fitted on them)."""
        ranked = self.ranked(samples, sr, max(m, 2))
        best, margin = ranked[0][1], ranked[0][1] - ranked[1][1]
        cal = self.primary.calibration
        confidence = {"best": round(best, 4), "margin": round(margin, 4),
                      "probability": round(float(cal.probability(best, margin)), 4) if cal else None,
                      "no_match": bool(cal.no_match(best)) if cal else False}
        return [self.primary.type_vectors[row].copy() for row, _ in ranked[:m]], confidence

    def candidate_vectors(self, samples: np.ndarray, sr: int, m: int) -> list[np.ndarray]:
        """The type vectors of the `m` types of highest fused score, best first."""
        return [self.primary.type_vectors[row].copy() for row, _ in self.ranked(samples, sr, m)]
