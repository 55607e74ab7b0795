"""`wordbridge.json`: the project's versioned manifest, its validation and its migrations.

The manifest is small JSON that says what the project holds (spaces, mappings, encoders, cached
projections) and where each lives; big arrays stay in their own files. Reading validates every
key and type and reports the first problem as one line naming the file. A manifest written by a
newer schema is refused with a request to update; an older one goes through `migrate`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from core.errors import InputFileError, WordbridgeError
from core.project.paths import path_problem

MANIFEST_NAME = "wordbridge.json"
FORMAT_NAME = "wordbridge-project"
SCHEMA_VERSION = 1
APP_VERSION = "0.1.0"

SPACE_KINDS = ("speech", "text")
PROJECTION_METHODS = ("umap", "pca")
ALIGNMENT_STAGES = ("before", "after")

# schema_version n → function turning a manifest dict of version n into one of version n + 1.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def now() -> str:
    """The current time as an ISO 8601 UTC string with seconds (the project's timestamp format)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ManifestError(InputFileError):
    """The manifest (or another project file) is damaged or does not follow the schema."""


class _Reader:
    """Pulls typed values out of a JSON object, naming the exact key in its errors."""

    def __init__(self, data: Any, where: str, path: Path):
        self.path = path
        self.where = where
        if not isinstance(data, dict):
            self.fail(f"{where or 'the manifest'} must be a JSON object")
        self.data = data

    def fail(self, message: str):
        """Raise the one-line manifest error."""
        raise ManifestError(self.path, f"invalid manifest: {message}")

    def get(self, key: str, types: type | tuple[type, ...], default: Any = ...) -> Any:
        """The value of `key`, of one of `types`; `default` (or its factory) when absent, else an error."""
        name = f"{self.where}.{key}" if self.where else key
        if key not in self.data:
            if default is ...:
                self.fail(f"missing key {name!r}")
            return default() if callable(default) else default
        value = self.data[key]
        types = types if isinstance(types, tuple) else (types,)
        # bool is an int in Python; a count must not be `true`.
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            wanted = " or ".join("null" if t is type(None) else _JSON_NAMES.get(t, t.__name__) for t in types)
            self.fail(f"{name!r} must be {wanted}, not {_json_type(value)}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> str:
        """A string value that must be one of `choices`."""
        value = self.get(key, str, default)
        if value not in choices:
            self.fail(f"{self.where}.{key} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def str_dict(self, key: str) -> dict[str, str]:
        """An object whose values are strings (file paths)."""
        value = self.get(key, dict)
        if not all(isinstance(v, str) for v in value.values()):
            self.fail(f"{self.where}.{key} must map names to file paths (strings)")
        for name, relative in value.items():  # a received project must not reach outside its folder
            problem = path_problem(relative)
            if problem is not None:
                self.fail(f"{self.where}.{key}.{name} {relative!r} {problem} (paths stay inside the project)")
        return value


_JSON_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "a list", dict: "an object"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


@dataclass
class SpaceEntry:
    """An embedding space: `files` = {"vectors": "spaces/<id>.safetensors", "vocab": "spaces/<id>.vocab.txt"}."""

    id: str
    kind: str  # "speech" or "text"
    language: str
    dim: int
    n_words: int
    files: dict[str, str]
    provenance: dict = field(default_factory=dict)  # how it was made: corpus, run, tool, parameters
    synthetic: bool = False  # speech made by a synthesiser, not recorded from people
    created: str = ""

    @classmethod
    def from_json(cls, data, where: str, path: Path) -> "SpaceEntry":
        """Validate one manifest entry (`where` names it in errors)."""
        r = _Reader(data, where, path)
        return cls(r.get("id", str), r.choice("kind", SPACE_KINDS), r.get("language", str), r.get("dim", int),
                   r.get("n_words", int), r.str_dict("files"), r.get("provenance", dict, dict),
                   r.get("synthetic", bool, False), r.get("created", str, ""))


@dataclass
class MappingEntry:
    """A linear map from space `source` to space `target` (y ≈ W x); `metrics` is a small summary."""

    id: str
    source: str
    target: str
    method: str  # e.g. "adversarial+procrustes", "procrustes", "supervised"
    files: dict[str, str]
    metrics: dict = field(default_factory=dict)
    created: str = ""

    @classmethod
    def from_json(cls, data, where: str, path: Path) -> "MappingEntry":
        """Validate one manifest entry (`where` names it in errors)."""
        r = _Reader(data, where, path)
        return cls(r.get("id", str), r.get("source", str), r.get("target", str), r.get("method", str),
                   r.str_dict("files"), r.get("metrics", dict, dict), r.get("created", str, ""))


@dataclass
class EncoderEntry:
    """A speech encoder checkpoint (`files["weights"]`, safetensors) and the config that rebuilds it."""

    id: str
    files: dict[str, str]
    config: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    created: str = ""

    @classmethod
    def from_json(cls, data, where: str, path: Path) -> "EncoderEntry":
        """Validate one manifest entry (`where` names it in errors)."""
        r = _Reader(data, where, path)
        return cls(r.get("id", str), r.str_dict("files"), r.get("config", dict, dict),
                   r.get("provenance", dict, dict), r.get("created", str, ""))


@dataclass
class ProjectionEntry:
    """Cached 2-D coordinates of points of one or more spaces, before or after alignment."""

    id: str
    method: str  # "umap" or "pca"
    spaces: list[str]
    n_points: int
    files: dict[str, str]  # {"coords": ...safetensors, "index": ...index.json}
    alignment: str = "before"  # "after": source points were mapped by `mapping` first
    mapping: str | None = None
    explained_variance: list[float] | None = None  # PCA: fraction of variance per axis
    params: dict = field(default_factory=dict)  # n_neighbors, min_dist, seed, ...
    created: str = ""

    @classmethod
    def from_json(cls, data, where: str, path: Path) -> "ProjectionEntry":
        """Validate one manifest entry (`where` names it in errors)."""
        r = _Reader(data, where, path)
        spaces = r.get("spaces", list)
        if not all(isinstance(s, str) for s in spaces):
            r.fail(f"{where}.spaces must be a list of space ids")
        variance = r.get("explained_variance", (list, type(None)), None)
        if variance is not None and not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in variance):
            r.fail(f"{where}.explained_variance must be a list of numbers")
        entry = cls(r.get("id", str), r.choice("method", PROJECTION_METHODS), spaces, r.get("n_points", int),
                    r.str_dict("files"), r.choice("alignment", ALIGNMENT_STAGES, "before"),
                    r.get("mapping", (str, type(None)), None), variance, r.get("params", dict, dict),
                    r.get("created", str, ""))
        if entry.alignment == "after" and not entry.mapping:
            r.fail(f"{where}: a projection after alignment must name its mapping")
        return entry


@dataclass
class Manifest:
    """Everything `wordbridge.json` holds, as Python objects."""

    name: str
    description: str = ""
    created: str = field(default_factory=now)
    modified: str = field(default_factory=now)
    app_version: str = APP_VERSION
    schema_version: int = SCHEMA_VERSION
    synthetic_speech: bool = False
    synthetic_speech_note: str = ""  # how the speech was made (synthesiser, voices), when synthetic
    languages: list[str] = field(default_factory=list)
    spaces: list[SpaceEntry] = field(default_factory=list)
    mappings: list[MappingEntry] = field(default_factory=list)
    encoders: list[EncoderEntry] = field(default_factory=list)
    projections: list[ProjectionEntry] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The manifest as a JSON-ready dict (with the format marker first)."""
        return {"format": FORMAT_NAME, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any, path: Path) -> "Manifest":
        """Validate a (migrated) manifest dict; the first problem raises `ManifestError`."""
        r = _Reader(data, "", path)
        if data.get("format", FORMAT_NAME) != FORMAT_NAME:
            r.fail(f"'format' is {data.get('format')!r}, not {FORMAT_NAME!r}")
        languages = r.get("languages", list, list)
        if not all(isinstance(x, str) for x in languages):
            r.fail("'languages' must be a list of strings")

        def entries(key: str, entry_cls) -> list:
            items = r.get(key, list, list)
            found = [entry_cls.from_json(item, f"{key}[{i}]", path) for i, item in enumerate(items)]
            ids = [e.id for e in found]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                r.fail(f"{key} has duplicate id(s): {', '.join(duplicates)}")
            return found

        return cls(name=r.get("name", str), description=r.get("description", str, ""),
                   created=r.get("created", str), modified=r.get("modified", str),
                   app_version=r.get("app_version", str), schema_version=r.get("schema_version", int),
                   synthetic_speech=r.get("synthetic_speech", bool, False),
                   synthetic_speech_note=r.get("synthetic_speech_note", str, ""), languages=languages,
                   spaces=entries("spaces", SpaceEntry), mappings=entries("mappings", MappingEntry),
                   encoders=entries("encoders", EncoderEntry),
                   projections=entries("projections", ProjectionEntry),
                   settings=r.get("settings", dict, dict))


def read_manifest(path: str | os.PathLike) -> Manifest:
    """Read, migrate and validate a manifest file; every problem is one line naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(path, "not a Wordbridge project (no wordbridge.json here)"
                            if not path.exists() else "is not a file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ManifestError(path, "invalid manifest: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(path, f"invalid manifest: bad JSON ({exc.msg})", exc.lineno) from None
    except OSError as exc:
        raise ManifestError(path, f"cannot read ({exc.strerror})") from None
    return Manifest.from_json(migrate(data, path), path)


def migrate(data: Any, path: Path, target: int | None = None) -> dict:
    """Bring a manifest dict of an older schema up to `target` (default: the current schema)."""
    target = SCHEMA_VERSION if target is None else target
    if not isinstance(data, dict):
        raise ManifestError(path, "invalid manifest: must be a JSON object")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ManifestError(path, f"invalid manifest: 'schema_version' must be a positive integer, not {version!r}")
    if version > target:
        raise WordbridgeError(f"{path} was written by a newer Wordbridge (schema {version} > {target}); "
                              "update Wordbridge to open it")
    while version < target:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ManifestError(path, f"no migration from schema {version} to {version + 1}")
        data = step(dict(data))
        version += 1
        data["schema_version"] = version
    return data
