"""A new spoken clip → a vector of a trained speech space, from weights stored in a project.

A project stores a speech space's encoder with `Project.set_encoder(id, weights, config)`:
`pack_type_space` makes those two from a trained `SpeechTypeSpace` and the feature config it was
trained with, and `clip_embedder` turns them back into a function (samples, sr) → vector:

    audio → 16 kHz → find the word (core.audio.word_span, no margin) → frames from the
    space's front end (config "frontend", `core.frontends.make_frontend`; absent in encoders
    stored before front ends existed: MFCC from config "features"):
      MFCC: CMVN over the word ± 0.25 s, then the word's frames, as the feature store cuts a
            word out of an utterance;
      others (speech-embedding, ssl): `FrontEnd.segment_frames` of the word's span, i.e. its own
            audio plus the front end's margin, as the feature store computes every segment
    → encoder → vector in the *aligned* speech space

What "vector in the aligned speech space" means depends on the learner (it is what
core.pipeline.speech_eval does with a test segment, and what core.classify expects):
- speech2vec: the encoder output itself (a type's vector is the mean of its segments' encodings).
- unit-skipgram: the encoder output is an acoustic embedding; its nearest type centroid (cosine)
  names a type, and the clip's vector is that type's skip-gram vector.

Weights (name → array): "encoder.<param>" (the model's state dict), "assign_centroids"
[n_types, d_encoder] (unit rows) and, for unit-skipgram, "type_vectors" [n_types, dim] (rows in
the order of the speech space's vocabulary); optional "assign_prototypes" (core.voices.prototypes)
and "assign_exemplars" / "assign_exemplar_types" (core.speech.exemplars). Config: see
`pack_type_space`; optional "type_candidates" (core.classify.ClipClassifier.classify_clip).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from core.errors import WordbridgeError

ENCODER_KIND = "speech-type-space"
ENCODER_PREFIX = "encoder."
EXEMPLARS = "assign_exemplars"  # core.speech.exemplars.EXEMPLARS (not imported: that module is lazy)
LEARNERS = ("speech2vec", "unit-skipgram")


def pack_type_space(space, feature_config, note: str = "") -> tuple[dict[str, np.ndarray], dict]:
    """(weights, config) for `Project.set_encoder` from a `core.speech.type_space.SpeechTypeSpace`
    and what its segments were computed with: a `core.features.FeatureConfig` (MFCC) or a
    `core.frontends.FrontEnd` (e.g. a feature store's `.config` / `.frontend`). The config records
    the front end under "frontend" (and, for MFCC, its FeatureConfig under "features" as before)."""
    from core.frontends import FrontEnd
    from core.frontends.mfcc import MfccFrontEnd

    frontend = feature_config if isinstance(feature_config, FrontEnd) else MfccFrontEnd(feature_config)
    learner = space.info.get("learner")
    if learner not in LEARNERS:
        raise WordbridgeError(f"cannot store an encoder of learner {learner!r} (expected one of {LEARNERS})")
    weights = {ENCODER_PREFIX + k: v.detach().cpu().numpy().astype(np.float32, copy=True)
               for k, v in space.encoder.state_dict().items()}
    weights["assign_centroids"] = np.ascontiguousarray(space.assign_centroids, dtype=np.float32)
    if getattr(space, "prototypes", None) is not None:  # joined types' clusters (core.speech.type_join)
        weights["assign_prototypes"] = np.ascontiguousarray(space.prototypes, dtype=np.float16)
    if learner == "unit-skipgram":
        weights["type_vectors"] = np.ascontiguousarray(space.embeddings.vectors, dtype=np.float32)
    config = {"kind": ENCODER_KIND, "learner": learner, "grouping": space.info.get("grouping"),
              "architecture": space.encoder.architecture(),
              "features": frontend.features.to_dict() if isinstance(frontend, MfccFrontEnd) else None,
              "frontend": frontend.config(),
              "max_frames": int(space.info.get("max_frames", 120)), "feat_dim": int(space.info["feat_dim"]),
              "n_types": len(space.embeddings), "dim": int(space.embeddings.dim), "trim_silence": True,
              "cmvn_context_s": 0.25,
              "synthetic": bool(space.info.get("synthetic", False)), "note": note}
    return weights, config


class ClipEncoder:
    """The rebuilt encoder of a stored speech space; call it with (samples, sr). A config with
    "fusion" adds a second recogniser whose cosines are mixed in (core.voices.fusion): the clip
    methods (`__call__`, `candidate_vectors`, `candidates`) then rank by fused scores, while the
    feature methods (`encode_features`, `nearest_types`, `vectors_from_features`) stay this one's."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict, root=None):
        """Rebuild the model on the CPU from `weights` and `config` (see `pack_type_space`); `root`:
        the project the config is stored in (an ssl front end's checkpoint is named relative to it)."""
        import torch

        from core.frontends import frontend_from_record
        from core.frontends.mfcc import MfccFrontEnd
        from core.speech.type_space import build_model

        if config.get("kind") != ENCODER_KIND:
            raise WordbridgeError(f"encoder kind {config.get('kind')!r} is not a stored speech type space")
        self.learner = config.get("learner")
        if self.learner not in LEARNERS:
            raise WordbridgeError(f"stored encoder: unknown learner {self.learner!r}")
        self.frontend = frontend_from_record(config.get("frontend"), config.get("features"), root=root)
        # the FeatureConfig of an MFCC front end (None for others), as before front ends existed
        self.features = self.frontend.features if isinstance(self.frontend, MfccFrontEnd) else None
        self.max_frames = int(config.get("max_frames", 120))
        self.feat_dim = int(config["feat_dim"])
        self.trim = bool(config.get("trim_silence", True))
        self.context_s = float(config.get("cmvn_context_s", 0.25))
        # silence kept around a trimmed word for own-audio front ends: a word recogniser's training
        # clips were the word ± 0.05 s (core.voices.clips), so its clips should be cut the same way
        self.trim_margin = float(config.get("trim_margin_s", 0.0))
        # where the word is (core.audio.word_span). Its default levels were chosen for word recognisers
        # on real speech; MFCC encoders (the paper's front end) keep the recorder's auto-trim levels.
        # A config may set them: trim_start_threshold, trim_stop_threshold, trim_floor_ratio.
        self.word_span_settings = ({"start_threshold": 0.1, "stop_threshold": 0.05, "floor_ratio": 0.0}
                                   if self.features is not None else {})
        for key in ("start_threshold", "stop_threshold", "floor_ratio"):
            if config.get(f"trim_{key}") is not None:
                self.word_span_settings[key] = float(config[f"trim_{key}"])
        if self.frontend.dim != self.feat_dim:
            raise WordbridgeError(f"stored encoder: features of {self.frontend.dim} dims but the model "
                                  f"takes {self.feat_dim}")
        for name in ("assign_centroids",) + (("type_vectors",) if self.learner == "unit-skipgram" else ()):
            if name not in weights:
                raise WordbridgeError(f"stored encoder has no {name!r} array")
        state = {k[len(ENCODER_PREFIX):]: torch.from_numpy(np.array(v, dtype=np.float32))
                 for k, v in weights.items() if k.startswith(ENCODER_PREFIX)}
        self.model = build_model(config["architecture"])
        try:
            self.model.load_state_dict(state)
        except RuntimeError as exc:
            raise WordbridgeError(f"stored encoder weights do not fit its architecture "
                                  f"({str(exc).splitlines()[0]})") from None
        self.model.eval()
        self.centroids = np.asarray(weights["assign_centroids"], dtype=np.float32)
        # a word recogniser may keep several prototypes per type (core.voices.prototypes)
        self.prototypes = None
        if "assign_prototypes" in weights:
            from core.voices.prototypes import check_prototypes, stack

            problem = check_prototypes(weights["assign_prototypes"], *self.centroids.shape)
            if problem:
                raise WordbridgeError(f"stored encoder: {problem}")
            self.prototypes = stack(self.centroids, weights["assign_prototypes"])
        # every training segment as a prototype of its type (core.speech.exemplars), when stored
        self.exemplars = None
        if EXEMPLARS in weights:
            from core.speech.exemplars import EXEMPLAR_TYPES, ExemplarIndex, check_exemplars

            problem = check_exemplars(weights[EXEMPLARS], weights.get(EXEMPLAR_TYPES, np.zeros(0)),
                                      *self.centroids.shape)
            if problem:
                raise WordbridgeError(f"stored encoder: {problem}")
            self.exemplars = ExemplarIndex(weights[EXEMPLARS], weights[EXEMPLAR_TYPES], len(self.centroids))
        # how many nearest types a clip's word list is merged from (chosen with the exemplars on
        # calibration); None: core.classify.TYPE_CANDIDATES
        self.type_candidates = int(config["type_candidates"]) if config.get("type_candidates") else None
        # order types by soft kNN votes of the nearest exemplars ({"k", "tau"}; core.speech.exemplars)
        self.type_votes = config.get("type_votes") if self.exemplars is not None else None
        self.type_vectors = (np.asarray(weights["type_vectors"], dtype=np.float32)
                             if self.learner == "unit-skipgram" else None)
        if self.type_vectors is not None and len(self.type_vectors) != len(self.centroids):
            raise WordbridgeError(f"stored encoder: {len(self.centroids)} centroids but "
                                  f"{len(self.type_vectors)} type vectors")
        from core.voices.confidence import Calibration

        # calibrated on held-out real speech by core.voices (None: scores are shown uncalibrated)
        self.calibration = Calibration.from_dict(config.get("calibration"))
        # a second recogniser whose cosines are mixed into the ranking (core.voices.fusion), or None
        self.fusion = None
        if config.get("fusion") is not None:
            from core.voices.fusion import Fusion

            self.fusion = Fusion.from_stored(self, weights, config["fusion"], root)

    def encode_features(self, frames: np.ndarray) -> np.ndarray:
        """The encoder output of one segment's features [T, feat_dim] (cut at the run's frame cap)."""
        import torch

        frames = np.asarray(frames, dtype=np.float32)
        if frames.ndim != 2 or frames.shape[1] != self.feat_dim or len(frames) < 1:
            raise WordbridgeError(f"clip features of shape {frames.shape}, but this encoder needs [T, {self.feat_dim}]")
        x = torch.from_numpy(np.ascontiguousarray(frames[:self.max_frames]))[None]
        with torch.inference_mode():
            return self.model.encode(x, torch.tensor([len(x[0])])).float().numpy()[0]

    def nearest_type(self, encoding: np.ndarray) -> tuple[int, float]:
        """Row of the type whose centroid is nearest (cosine) to an encoder output, and the cosine."""
        return self.nearest_types(encoding, 1)[0]

    def nearest_types(self, encoding: np.ndarray, m: int) -> list[tuple[int, float]]:
        """Rows of the `m` types whose centroids (or nearest prototypes or exemplars) are nearest
        (cosine) to an encoder output, nearest first."""
        from core.retrieval import top_k_indices
        from core.voices.prototypes import type_similarities

        e = encoding / max(float(np.linalg.norm(encoding)), 1e-12)
        sims = type_similarities(e[None].astype(np.float32),
                                 self.centroids if self.prototypes is None else self.prototypes)[0]
        if self.exemplars is None:
            return [(int(i), float(sims[i])) for i in top_k_indices(sims, m)]
        from core.speech.exemplars import ranking_key

        # as near a type as its nearest exemplar, or its centroid; the cosine is what is reported
        # (confidence), the order may come from votes of the nearest exemplars
        # one product with the exemplars gives both their cosines and the votes (`ExemplarIndex.scores`)
        settings = [(self.type_votes["k"], self.type_votes["tau"])] if self.type_votes else []
        ex_sims, votes = self.exemplars.scores(e[None], settings)
        np.maximum(sims, ex_sims[0], out=sims)
        key = ranking_key(sims, votes[0][0] if votes else None)
        return [(int(i), float(sims[i])) for i in top_k_indices(key, m)]

    def vectors_from_features(self, frames: np.ndarray, m: int) -> list[np.ndarray]:
        """A segment's candidate vectors in the aligned speech space: those of its `m` nearest types,
        nearest first (speech2vec: its one encoder output, which is itself the vector)."""
        encoding = self.encode_features(frames)
        if self.learner == "speech2vec":
            return [encoding.astype(np.float32)]
        return [self.type_vectors[row].copy() for row, _ in self.nearest_types(encoding, m)]

    def vector_from_features(self, frames: np.ndarray) -> np.ndarray:
        """A segment's vector in the aligned speech space, from its features (its nearest type's)."""
        return self.vectors_from_features(frames, 1)[0]

    def candidates(self, samples: np.ndarray, sr: int, m: int) -> tuple[list[np.ndarray], dict | None]:
        """(`candidate_vectors`, confidence): the confidence of a type encoder's decision is
        {"best": cosine to the nearest type, "margin": to the second, "probability": calibrated
        chance that the nearest type is right or None, "no_match": True when the clip is farther
        from every type than right answers were on held-out real speech}; None for speech2vec.
        A fused encoder ranks and reads confidence on fused scores (core.voices.fusion)."""
        if self.fusion is not None:
            return self.fusion.candidates(samples, sr, m)
        frames = self.clip_features(samples, sr)
        if self.learner == "speech2vec" or len(self.centroids) < 2:
            return self.vectors_from_features(frames, m), None
        encoding = self.encode_features(frames)
        ranked = self.nearest_types(encoding, max(m, 2))
        best, margin = ranked[0][1], ranked[0][1] - ranked[1][1]
        cal = self.calibration
        confidence = {"best": round(best, 4), "margin": round(margin, 4),
                      "probability": round(float(cal.probability(best, margin)), 4) if cal else None,
                      "no_match": bool(cal.no_match(best)) if cal else False}
        return [self.type_vectors[row].copy() for row, _ in ranked[:m]], confidence

    def candidate_vectors(self, samples: np.ndarray, sr: int, m: int) -> list[np.ndarray]:
        """A clip's candidate vectors (`vectors_from_features` of its features), nearest type first
        (a fused encoder: of the types of highest fused score)."""
        if self.fusion is not None:
            return self.fusion.candidate_vectors(samples, sr, m)
        return self.vectors_from_features(self.clip_features(samples, sr), m)

    def clip_features(self, samples: np.ndarray, sr: int) -> np.ndarray:
        """Features of a clip as the encoder saw them in training: 16 kHz, trimmed, then the front
        end's frames of the word (MFCC: CMVN over the word ± context; others: the word's own audio)."""
        from core.audio import MIN_CLIP_SECONDS, resample, word_span
        from core.features import span_features

        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if x.size == 0:
            raise WordbridgeError("the clip is empty")
        if not np.isfinite(x).all():
            raise WordbridgeError("the clip has NaN or infinite samples (damaged audio)")
        if int(sr) != self.frontend.sample_rate:
            x = resample(x, int(sr), self.frontend.sample_rate)
        if not self.trim:
            return self.frontend.frames(x, device="cpu")
        sr = self.frontend.sample_rate
        span = word_span(x, sr, **self.word_span_settings)
        if span is None:
            raise WordbridgeError(f"no speech found in the clip (silent or shorter than {MIN_CLIP_SECONDS:g} s)")
        if self.features is None:  # own-audio front ends: the word's span (± the training margin)
            pad = int(round(self.trim_margin * sr))
            a, b = max(0, span[0] - pad), min(len(x), span[1] + pad)
            return self.frontend.segment_frames(x, [(a / sr, b / sr)], device="cpu")[0]
        # Training segments are tight word spans cut from features whose CMVN saw the whole
        # utterance (pauses included): normalise over the word plus some context, then keep the word.
        pad = int(round(self.context_s * sr))
        c0, c1 = max(0, span[0] - pad), min(len(x), span[1] + pad)
        return span_features(x[c0:c1], [((span[0] - c0) / sr, (span[1] - c0) / sr)], self.features,
                             device="cpu")[0]

    def __call__(self, samples: np.ndarray, sr: int) -> np.ndarray:
        """(samples, sample rate) → vector in the aligned speech space."""
        if self.fusion is not None:
            return self.fusion.candidate_vectors(samples, sr, 1)[0]
        return self.vector_from_features(self.clip_features(samples, sr))


def clip_embedder(weights: dict[str, np.ndarray], config: dict, root=None) -> Callable[[np.ndarray, int], np.ndarray]:
    """A callable (samples, sr) → speech-space vector, rebuilt (torch, CPU) from stored weights
    (`root`: the project they are stored in)."""
    return ClipEncoder(weights, config, root)
