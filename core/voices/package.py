"""Put a trained word recogniser (a core.voices run folder) into a project as its speech encoder.

The recogniser replaces only the clip → speech type step: its encoder and type centroids (one per
speech type of the project's speech space, in the space's order; per-source prototypes too where
the run has them) go into the project's encoder
entry with the front end, the confidence calibration and where it came from; the speech space,
its type vectors and every mapping stay as they are. Its config says what it was trained on, which
the app's About box and banner show.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.errors import WordbridgeError
from core.voices.clips import CLIP_MARGIN_S
from core.speech.encode import ENCODER_KIND, ENCODER_PREFIX


def recognizer_encoder(run_dir: str | Path, speech, trained_on: str) -> tuple[dict[str, np.ndarray], dict]:
    """(weights, config) for `Project.set_encoder` from a run folder's recognizer and the project's
    speech space `speech` (core.embeddings.Embeddings). Every speech type needs a centroid."""
    from core.atomic import load_safetensors
    from core.frontends import make_frontend

    run_dir = Path(run_dir)
    try:
        meta = json.loads((run_dir / "recognizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WordbridgeError(f"{run_dir}: no readable trained recognizer ({exc})") from None
    weights = load_safetensors(run_dir / "recognizer.safetensors")
    index = {w: i for i, w in enumerate(meta["vocabulary"])}
    missing = [w for w in speech.words if w not in index]
    if missing:
        raise WordbridgeError(f"the recogniser has no centroid for {len(missing)} speech types (e.g. {missing[0]!r})")
    rows = np.array([index[w] for w in speech.words])
    centroids = np.ascontiguousarray(weights["assign_centroids"][rows], dtype=np.float32)
    if not np.isfinite(centroids).all() or (np.linalg.norm(centroids, axis=1) == 0).any():
        raise WordbridgeError("the recogniser's centroids are not finite unit rows for every speech type")
    frontend = make_frontend(meta["frontend"])
    out = {k: v for k, v in weights.items() if k.startswith(ENCODER_PREFIX)}
    out["assign_centroids"] = centroids
    if "assign_prototypes" in weights:  # per-source prototypes (core.voices.prototypes), same rows
        out["assign_prototypes"] = np.ascontiguousarray(weights["assign_prototypes"][:, rows], dtype=np.float16)
    out["type_vectors"] = np.ascontiguousarray(speech.vectors, dtype=np.float32)
    arch = meta["architecture"]
    config = {"kind": ENCODER_KIND, "learner": "unit-skipgram", "grouping": "A", "architecture": arch,
              "features": None, "frontend": frontend.config(), "max_frames": 120, "feat_dim": int(arch["feat_dim"]),
              "n_types": len(speech), "dim": int(speech.dim), "trim_silence": True, "cmvn_context_s": 0.25,
              # its training clips were each word ± this much (core.voices.clips); a trimmed clip gets the same
              "trim_margin_s": CLIP_MARGIN_S,
              "synthetic": False, "calibration": meta.get("calibration"),
              "trained_on": trained_on, "frontend_provenance": frontend.provenance()}
    return out, config


def trained_on(run_dir: str | Path) -> str:
    """One sentence on what a voices run trained on, from its metrics.json."""
    metrics = json.loads((Path(run_dir) / "metrics.json").read_text(encoding="utf-8"))
    cfg, sources = metrics["config"], metrics.get("train_sources", {})
    parts = [f"every word said alone by {cfg['voices']} SYNTHETIC espeak-ng voices"]
    if cfg.get("train_real"):
        clips = sources.get("so762", 0) // (1 + int(cfg.get("copies", 0)))
        parts.append(f"{clips:,} word clips of the speechocean762 training speakers (real non-native English "
                     "speakers, CC BY 4.0; its test speakers never trained on)")
    if cfg.get("copies"):
        parts.append(f"every clip also through {cfg['copies']} simulated microphone(s)")
    return "; ".join(parts) + f"; front end {metrics['frontend']['name']}"


def read_fusion_calibration(path: str | Path, weight: float) -> dict:
    """The confidence calibration in a `scripts/voices_fusion.py --stage confidence` file
    ({"weight": w, "calibration": {...}}), refused in one line unless it was fitted at `weight`."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        fitted = float(record.get("weight", -1))
        calibration = record["calibration"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise WordbridgeError(f"{path}: not a fused-score calibration file ({exc})") from None
    if abs(fitted - weight) > 1e-9:
        raise WordbridgeError(f"{path} was fitted with weight {record.get('weight')}, not --fuse-weight {weight}")
    return calibration


def install_recognizer(project, run_dir: str | Path, space_id: str = "speech-en", fuse: str | Path | None = None,
                       fuse_weight: float = 0.6, fuse_calibration: dict | None = None) -> str:
    """Make the run's recogniser `project`'s encoder for `space_id` and say so in the project's
    synthetic-speech note; returns the one-line description of what it was trained on.

    `fuse`: a second run folder whose recogniser's cosines are mixed in with `fuse_weight`
    (core.voices.fusion; stored in the same encoder file); `fuse_calibration`: the confidence
    calibration fitted on the fused scores of the calibration speakers (None: shown uncalibrated)."""
    run_dir = Path(run_dir)
    speech = project.space(space_id)
    text = trained_on(run_dir)
    weights, config = recognizer_encoder(run_dir, speech, text)
    provenance = {"recogniser_run": run_dir.name, "trained_on": text, "frontend": config["frontend_provenance"]}
    if fuse is not None:
        from core.voices.fusion import fuse_encoders

        fuse = Path(fuse)
        second_text = trained_on(fuse)
        second_weights, second_config = recognizer_encoder(fuse, speech, second_text)
        w = float(fuse_weight)
        text = (f"two word recognisers whose scores are mixed {1 - w:.2g} : {w:.2g} — [1] trained on {text}; "
                f"[2] trained on {second_text}")
        weights, config = fuse_encoders(weights, {**config, "trained_on": text}, second_weights, second_config,
                                        w, fuse_calibration)
        provenance = {**provenance, "trained_on": text, "fused_run": fuse.name, "fusion_weight": w,
                      "fused_frontend": second_config["frontend_provenance"]}
    project.set_encoder(f"{space_id}-encoder", weights, config, provenance=provenance)
    note = ("speech space from SYNTHETIC speech (espeak-ng voices); "
            + ("word recognition by " if fuse is not None else "word recogniser trained on ") + text
            + f". It knows only the speech space's {len(speech):,} words (KJV English) and English speech.")
    project.set_synthetic_speech(True, note)
    return text
