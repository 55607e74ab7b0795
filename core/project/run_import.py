"""Bring the result of an alignment run (its folder, or its mapping file) into a project.

A run folder holds `mapping.safetensors` (or exactly one other safetensors file with a "W"
tensor), and optionally `metrics.json` and `config.json` (JSON objects). All tensors of the file
are kept (W plus the preprocessing that goes with it), as is its raw header, so the copy in the
project loads with the same code that loaded the original.

Provenance (method, supervised or not, criterion, seed, run id) comes from the mapping file's own
header (`meta`, written by `align`), never from a metrics.json beside it: the header travels with
the map. metrics.json and config.json add their numbers only when they carry the same run id as
the header (a folder where a killed rerun left a new map beside an older run's metrics keeps the
map's own provenance); files written before run ids existed are used as before.
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
    meta: dict = field(default_factory=dict)   # the mapping header's own provenance (JSON "meta")

    @property
    def method(self) -> str:
        """The alignment method: the header's, else the metrics' or config's ("unknown" when none says)."""
        for source in (self.meta, self.metrics, self.config):
            for key in ("method_used", "method"):
                if isinstance(source.get(key), str) and source[key]:
                    return source[key]
        return "unknown"

    def metrics_summary(self) -> dict:
        """The scalar top-level metrics (numbers, strings, booleans): what the manifest keeps."""
        summary = {k: v for k, v in self.metrics.items() if isinstance(v, (int, float, str, bool)) or v is None}
        for key in ("method_used", "criterion", "supervised", "seed", "run_id"):  # the header wins
            if key in self.meta and (isinstance(self.meta[key], (int, float, str, bool)) or self.meta[key] is None):
                summary[key] = self.meta[key]
        return summary


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
    header = read_raw_header(mapping_file)
    meta = header_meta(mapping_file, header)
    metrics, config = _json_object(folder / "metrics.json"), _json_object(folder / "config.json")
    if meta:  # another run's files are not this map's: kept only when they are the same run's
        metrics = metrics if _same_run(meta, metrics) else {}
        config = config if _same_run(meta, config, check_scores=False) else {}
    return RunMapping(mapping_file, W, arrays, header, metrics, config, meta)


def _same_run(meta: dict, other: dict, check_scores: bool = True) -> bool:
    """Whether a run's JSON file belongs to the mapping whose header meta is `meta`: the same run
    id; for runs written before run ids, the same method and criterion (metrics) or seed (config)."""
    if "run_id" in meta or "run_id" in other:
        return other.get("run_id") == meta.get("run_id")
    keys = ("method_used", "criterion") if check_scores else ("method", "seed")
    return all(other.get(k) == meta.get(k) for k in keys if k in meta)


def header_meta(path: Path, header: dict[str, str]) -> dict:
    """The JSON object under the header's "meta" key ({} when absent); bad JSON is an InputFileError."""
    text = header.get("meta")
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"mapping header 'meta' is not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise InputFileError(path, "mapping header 'meta' must be a JSON object")
    return value


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
