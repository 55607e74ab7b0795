"""Acoustic front ends: one interface (`FrontEnd`), interchangeable implementations.

    "mfcc"              the paper's MFCCs / log-mel energies (`core.features`), 100 frames/s
    "speech-embedding"  Google's speech_embedding (Apache-2.0, trained with English keyword
                        labels), ported to torch from openwakeword 0.4.0's ONNX files; 96-d, 25 frames/s
    "ssl"               one transformer layer of a self-supervised wav2vec 2.0 / HuBERT / XLS-R
                        checkpoint the user has on disk (torchaudio)
    "standardised"      another front end's frames standardised per dimension with fixed statistics
                        fitted on a corpus (`core.frontends.standardised`); its config nests the
                        inner front end's under "inner"

A speech space's encoder config and a feature store's header record `frontend.config()`;
`make_frontend(config)` rebuilds the same front end, so new clips are embedded the way the
space was built. Old configs without a front end are FeatureConfig dicts: `frontend_from_record`
reads both.

An ssl front end's record names its checkpoint file without an absolute local path (issue 17):
`frontend_record(config, root)` is what a store header or an encoder config writes down (in a
project, the checkpoint is copied into it), and `make_frontend` / `frontend_from_record` take the
`root` (project folder) and `near` (other folders, e.g. a store's) to find the file again; see
core.frontends.ssl_checkpoint.
"""

from __future__ import annotations

from core.errors import WordbridgeError
from core.frontends.base import FrontEnd

__all__ = ["FRONTENDS", "FrontEnd", "make_frontend", "frontend_from_record", "frontend_record", "parse_frontend_spec",
           "spec_config"]


def _mfcc(config, **_where):
    from core.frontends.mfcc import MfccFrontEnd

    return MfccFrontEnd.from_config(config)


def _speech_embedding(config, **_where):
    from core.frontends.speech_embedding import SpeechEmbeddingFrontEnd

    return SpeechEmbeddingFrontEnd.from_config(config)


def _ssl(config, root=None, near=()):
    from core.frontends.ssl_checkpoint import SslFrontEnd

    return SslFrontEnd.from_config(config, root, near)


def _standardised(config, root=None, near=()):
    from core.frontends.standardised import StandardisedFrontEnd

    return StandardisedFrontEnd.from_config(config, root, near)


# name → constructor from a config dict (modules are imported on first use: torch stays lazy)
FRONTENDS = {"mfcc": _mfcc, "speech-embedding": _speech_embedding, "ssl": _ssl, "standardised": _standardised}


def make_frontend(config: dict | None, root=None, near=()) -> FrontEnd:
    """The front end a `FrontEnd.config()` dict (or a stored record) describes (None or {} → the
    default MFCC front end); an ssl checkpoint is looked for relative to the project `root` and in
    the folders `near` (`core.frontends.ssl_checkpoint.locate_checkpoint`)."""
    if not config:
        config = {"name": "mfcc"}
    if not isinstance(config, dict):
        raise WordbridgeError(f"front-end config must be a JSON object, got {type(config).__name__}")
    name = config.get("name")
    if name not in FRONTENDS:
        raise WordbridgeError(f"unknown front end {name!r} (choose from {', '.join(FRONTENDS)})")
    return FRONTENDS[name](config, root=root, near=near)


def frontend_record(config: dict | None, root=None, near=()) -> dict | None:
    """What a store header or an encoder config records of a front end's `config()`: itself, except
    an ssl checkpoint's path, relative to the project `root` (copied into the project when outside
    it) or, outside a project, the file name (`core.frontends.ssl_checkpoint.checkpoint_record`);
    a standardised front end's "inner" record is made the same way."""
    if isinstance(config, dict) and config.get("name") == "standardised" and isinstance(config.get("inner"), dict):
        return {**config, "inner": frontend_record(config["inner"], root, near)}
    if isinstance(config, dict) and config.get("name") == "ssl":
        from core.frontends.ssl_checkpoint import checkpoint_record

        return checkpoint_record(config, root, near)
    return config


def frontend_from_record(frontend: dict | None, features: dict | None, root=None, near=()) -> FrontEnd:
    """The front end of a stored encoder config or store header from its "frontend" and "features"
    entries: a non-MFCC "frontend" as it says; otherwise MFCC with the FeatureConfig dict
    `features` (the key configs written before front ends existed have, and still authoritative
    for MFCC), else with the one inside "frontend". `root`, `near`: see `make_frontend`."""
    if frontend and (not isinstance(frontend, dict) or frontend.get("name") != "mfcc" or not features):
        return make_frontend(frontend, root, near)
    from core.features import FeatureConfig
    from core.frontends.mfcc import MfccFrontEnd

    return MfccFrontEnd(FeatureConfig.from_dict(features) if features else FeatureConfig())


def spec_config(spec: str) -> dict:
    """The config dict a command-line word names, without building the front end: "ssl:PATH" →
    {"name": "ssl", "path": PATH}, any other word → {"name": word}."""
    spec = spec.strip()
    if spec.startswith("ssl:") and len(spec) > 4:
        return {"name": "ssl", "path": spec[4:]}
    return {"name": spec}


def parse_frontend_spec(spec: str, features=None) -> FrontEnd:
    """A front end from a command-line word: "mfcc" (with `features`, a FeatureConfig),
    "speech-embedding", or "ssl:PATH" (a checkpoint; layer and more in the file's config)."""
    spec = (spec or "mfcc").strip()
    if spec == "mfcc":
        from core.frontends.mfcc import MfccFrontEnd

        return MfccFrontEnd(features)
    if spec == "speech-embedding":
        return make_frontend({"name": "speech-embedding"})
    config = spec_config(spec)
    if config["name"] == "ssl":
        from core.frontends.ssl_checkpoint import SslFrontEnd

        return SslFrontEnd(config["path"])
    raise WordbridgeError(f"unknown front end {spec!r} (choose mfcc, speech-embedding or ssl:PATH)")
