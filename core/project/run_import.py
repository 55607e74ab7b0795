"""Bring the result of an alignment run (its folder, or its mapping file) into a project.

A run folder holds `mapping.safetensors` (or exactly one other safetensors file with a "W"
tensor), and optionally `metrics.json` and `config.json` (JSON objects). All tensors of the file
are kept (W plus the preprocessing that goes with it), as is its raw header, so the copy in the
project loads with the same code that loaded the original.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InputFileError
from core.project.store import load_arrays, read_raw_header

MAPPING_FILE = "mapping.safetensors"


@dataclass
class RunMapping:
    """What `read_run_mapping` found: W, the other arrays, the raw header, and the run's JSON files."""

    path: Path
    W: np.ndarray
    arrays: dict[str, np.ndarray]
    header: dict[str, str]
    metrics: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)

    @property
    def method(self) -> str:
        """The alignment method, from the metrics or config ("unknown" when neither says)."""
        for source in (self.metrics, self.config):
            for key in ("method_used", "method"):
                if isinstance(source.get(key), str) and source[key]:
                    return source[key]
        return "unknown"

    def metrics_summary(self) -> dict:
        """The scalar top-level metrics (numbers, strings, booleans): what the manifest keeps."""
        return {k: v for k, v in self.metrics.items() if isinstance(v, (int, float, str, bool)) or v is None}


def find_mapping_file(path: Path) -> Path:
    """The mapping file of a run folder, or `path` itself when it is a file."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise InputFileError(path, "no such run folder or mapping file")
    if (path / MAPPING_FILE).is_file():
        return path / MAPPING_FILE
    candidates = sorted(path.glob("*.safetensors"))
    with_w = []
    for candidate in candidates:
        try:
            arrays, _ = load_arrays(candidate)
        except InputFileError:
            continue
        if "W" in arrays:
            with_w.append(candidate)
    if len(with_w) != 1:
        found = "none" if not with_w else ", ".join(p.name for p in with_w)
        raise InputFileError(path, f"expected {MAPPING_FILE} or exactly one safetensors file with a 'W' tensor "
                                   f"(found: {found})")
    return with_w[0]


def read_run_mapping(path: str | Path) -> RunMapping:
    """Read the mapping (and metrics/config, when present) of a run folder or a mapping file."""
    path = Path(path)
    mapping_file = find_mapping_file(path)
    arrays, _ = load_arrays(mapping_file, required=["W"])
    W = arrays.pop("W")
    folder = path if path.is_dir() else mapping_file.parent
    return RunMapping(mapping_file, W, arrays, read_raw_header(mapping_file),
                      _json_object(folder / "metrics.json"), _json_object(folder / "config.json"))


def _json_object(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputFileError(path, f"bad JSON ({getattr(exc, 'msg', exc)})", line) from None
    if not isinstance(value, dict):
        raise InputFileError(path, "must hold a JSON object")
    return value
