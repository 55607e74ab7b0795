"""Paths a project stores, kept inside the project folder.

A project travels: somebody else's `wordbridge.json` or `project.sqlite` may name `../outside.txt`,
`/etc/passwd`, or a file under a symbolic link that leaves the folder (`recordings/leak -> /etc`).
Every stored path is read through `inside(root, relative)`, which refuses all three with a one-line
`UnsafePathError`, so nothing outside the project is read, overwritten or deleted on its behalf.
Paths written into a project go through `portable(root, path)`: relative to the project when inside
it, else the bare file name, never a local absolute folder (which would travel with a shared project).
Where a later run must recognise the same outside folder again (a corpus build's source, see
core.corpus.build), `LocalPaths` writes its name plus `fingerprint` (a short hash of the absolute path).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from core.errors import WordbridgeError


class UnsafePathError(WordbridgeError):
    """A path stored in a project points outside the project folder."""


def path_problem(relative) -> str | None:
    """Why `relative` may not be stored in a project (absolute, `..`, empty, not text), or None."""
    if not isinstance(relative, str) or not relative.strip():
        return "is not a relative file path"
    if "\x00" in relative:
        return "contains a NUL character"
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute() \
            or PureWindowsPath(relative).drive:
        return "is an absolute path"
    if ".." in PurePosixPath(relative.replace("\\", "/")).parts:
        return "goes up out of the project folder ('..')"
    return None


def inside(root: str | os.PathLike, relative: str, what: str = "file") -> Path:
    """`root / relative`, refused with `UnsafePathError` unless it stays inside `root` (links resolved)."""
    problem = path_problem(relative)
    if problem is None:
        real_root = Path(root).resolve()
        target = (real_root / relative).resolve()
        if target != real_root and not target.is_relative_to(real_root):
            problem = f"leads outside the project folder (through a symbolic link, to {target})"
    if problem is not None:
        raise UnsafePathError(f"{root}: the project's {what} path {relative!r} {problem}; refused")
    return Path(root) / relative


def escaping_links(root: str | os.PathLike) -> list[str]:
    """Symbolic links under `root` (relative paths) whose target is outside `root`, or dangling."""
    real_root = Path(root).resolve()
    found = []
    for folder, dirs, files in os.walk(real_root):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                target = path.resolve()
                if not target.exists() or not target.is_relative_to(real_root):
                    found.append(path.relative_to(real_root).as_posix())
    return sorted(found)


def portable(root: str | os.PathLike, path: str | os.PathLike) -> str:
    """How a path is written into a project: relative to `root` when inside it, else its file name."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return path.name


def fingerprint(*paths: str | os.PathLike) -> str:
    """A short stable fingerprint (sha256, 12 hex digits) of local paths (resolved): what a project
    stores instead of an outside folder's path, so a rerun on this machine recognises the same folder
    and a folder of the same name elsewhere differs."""
    joined = "\n".join(str(Path(p).expanduser().resolve()) for p in paths)
    return hashlib.sha256(joined.encode("utf-8", "surrogateescape")).hexdigest()[:12]


class LocalPaths:
    """Rewrites text written into a project so that no absolute local path remains.

    Each of `folders` is written relative to the project `root` when inside it, else by its name
    (`portable`); a path under one of them keeps its part below it ('/data/tones/a.wav' →
    'tones/a.wav'); a path inside the project is written relative to it; any other absolute path
    becomes its file name (`without_local_paths_in_text`).
    `fingerprint` identifies the outside folders (None when every folder is inside the project)."""

    def __init__(self, root: str | os.PathLike, folders):
        real_root = Path(root).resolve()
        self.replacements: list[tuple[str, str]] = []
        outside = []
        for folder in folders:
            if folder is None or not str(folder).strip():
                continue
            given = Path(str(folder).strip()).expanduser()
            real = given.resolve()
            text = portable(real_root, real)
            if not real.is_relative_to(real_root):
                outside.append(str(real))
            for form in dict.fromkeys((str(real), str(given.absolute()))):
                self.replacements.append((form, text))
        for form in dict.fromkeys((str(real_root), str(Path(root).absolute()))):
            self.replacements += [(form + os.sep, ""), (form, ".")]  # the project itself
        self.replacements.sort(key=lambda item: -len(item[0]))  # the longest (innermost) folder first
        self.fingerprint = fingerprint(*sorted(set(outside))) if outside else None

    def text(self, text: str) -> str:
        """`text` with the folders replaced (anywhere in it, at a path boundary), then any other
        absolute path that starts it by its file name."""
        for prefix, replacement in self.replacements:
            boundary = "" if prefix.endswith(os.sep) else r"(?=$|[/\\:\s'\",;)\]])"
            text = re.sub(r"(?<![\w.~/\\])" + re.escape(prefix) + boundary, lambda _m: replacement, text)
        return without_local_paths_in_text(text)

    def value(self, value):
        """A JSON-like value with `text` applied to every string in it."""
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return self.text(value) if isinstance(value, str) else value


def looks_absolute(text) -> bool:
    """Whether a string is (or starts with 'imported from '/'file://' and then) an absolute local path."""
    return isinstance(text, str) and _looks_absolute(text)


def absolute_strings(value, where: str = "") -> list[str]:
    """Places (`where`.key...) in a JSON-like value holding an absolute local path (e.g. '/home/…')."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += absolute_strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found += absolute_strings(item, f"{where}[{i}]")
    elif isinstance(value, str) and _looks_absolute(value):
        found.append(where or value)
    return found


def _looks_absolute(text: str) -> bool:
    text = text.strip()
    for prefix in ("imported from ", "file://"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if "\n" in text or len(text) > 4096:
        return False
    return (text.startswith("/") and len(text) > 1 and not text.startswith("//")) or \
        (len(text) > 2 and text[1] == ":" and text[2] in "\\/" and text[0].isalpha()) or text.startswith("~/")


_PATH_IN_TEXT = re.compile(r"""(?<![\w.~/\\])(?:[A-Za-z]:[\\/]|~/|/)(?:[^\s'"\\/:;,()\[\]]+[\\/])+"""
                           r"""(?=[^\s'"\\/:;,()\[\]])""")


def without_local_paths_in_text(text: str) -> str:
    """A message with every absolute local path in it (e.g. '/home/u/c/a.wav: bad, see /tmp/x/log')
    cut to its last part ('a.wav: bad, see log'); a whole-string path keeps its name (`without_local_paths`)."""
    return without_local_paths(_PATH_IN_TEXT.sub("", text))  # then a one-part path ('/etc') is a name too


def without_local_paths(value):
    """`value` (JSON-like) with every absolute local path replaced by its file name (see `portable`)."""
    if isinstance(value, dict):
        return {key: without_local_paths(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_local_paths(item) for item in value]
    if isinstance(value, str) and _looks_absolute(value):
        prefix = next((p for p in ("imported from ", "file://") if value.strip().startswith(p)), "")
        path = value.strip()[len(prefix):]
        return prefix + PureWindowsPath(path).name if "\\" in path else prefix + PurePosixPath(path).name
    return value


def unsafe_references(project) -> list[str]:
    """What `project info --check` reports about paths, one line each: stored file paths that lead
    outside the project (manifest items, recordings), symbolic links out of the folder, and absolute
    local paths stored in the manifest, the mappings' metadata, the database (runs' settings and
    metrics included) or the corpus stores under corpora/; an ssl front end's checkpoint (encoders,
    stores) recorded absolute, outside the project, missing or with another sha256 (`frontend_problems`)."""
    problems, root, m = [], project.root, project.manifest
    for section in ("spaces", "mappings", "projections", "encoders"):
        for entry in getattr(m, section):
            for key, relative in entry.files.items():
                try:
                    inside(root, relative, f"{entry.id} {key}")
                except UnsafePathError as exc:
                    problems.append(str(exc))
            for field_name in ("provenance", "config", "params"):
                for where in absolute_strings(_without_frontend(getattr(entry, field_name, None) or {})):
                    problems.append(f"{section} {entry.id!r} {field_name}.{where} holds an absolute local path")
            if section == "encoders" and isinstance(entry.config, dict):
                problems += frontend_problems(root, entry.config.get("frontend"), f"encoder {entry.id!r} config.frontend")
    for entry in m.mappings:
        try:
            metadata = project.mapping(entry.id).metadata
        except WordbridgeError:
            continue  # a damaged mapping is reported when it is loaded
        for where in absolute_strings(metadata):
            problems.append(f"mapping {entry.id!r} metadata {where} holds an absolute local path")
    for rec in project.db.recordings():
        try:
            inside(root, rec.wav_path, f"recording {rec.id}")
        except UnsafePathError as exc:
            problems.append(str(exc))
        if absolute_strings(rec.note):
            problems.append(f"recording {rec.id}: its note names an absolute local path")
    for run in project.db.runs():
        if run.run_dir and path_problem(run.run_dir):
            problems.append(f"run {run.id}: its folder is stored as an absolute local path")
        found = absolute_strings({"settings": run.config, "metrics": run.metrics})
        if found:
            problems.append(f"run {run.id} ({run.kind}): {', '.join(found[:3])}{' ...' if len(found) > 3 else ''} "
                            "holds an absolute local path")
    problems += corpus_store_problems(root)
    problems += [f"symbolic link {link} leads outside the project folder (or nowhere)" for link in escaping_links(root)]
    return problems


CORPORA_DIR = "corpora"  # core.corpus.project_corpora.CORPORA_DIR (not imported: that pulls in numpy)


def _without_frontend(value):
    """A store's header or plan, or an encoder's config, without its front-end records (checked by
    `frontend_problems`)."""
    if isinstance(value, dict):
        return {key: _without_frontend(item) for key, item in value.items() if key != "frontend"}
    return value


def _frontends_in(value, where: str = ""):
    """(place, record) of every "frontend" entry in a JSON-like value."""
    if isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}.{key}" if where else str(key)
            if key == "frontend":
                yield place, item
            else:
                yield from _frontends_in(item, place)


def frontend_problems(root, record, where: str) -> list[str]:
    """What `--check` reports about an ssl front end's record (a store header's or an encoder
    config's "frontend"): its checkpoint path absolute or leading outside the project, the file
    missing, or its sha256 not the recorded one (core.frontends.ssl_checkpoint.checkpoint_record).
    Other front ends record no file: nothing; a standardised one is checked by its "inner" record."""
    if isinstance(record, dict) and record.get("name") == "standardised":
        return frontend_problems(root, record.get("inner"), f"{where}.inner")
    if not isinstance(record, dict) or record.get("name") != "ssl":
        return []
    path, sha = record.get("path"), record.get("sha256")
    if looks_absolute(path):
        return [f"{where}: the self-supervised checkpoint is recorded by an absolute local path "
                f"({without_local_paths(path)}); add the store or space to the project again to copy it in"]
    try:
        file = inside(root, path, "self-supervised checkpoint")
    except UnsafePathError as exc:
        return [f"{where}: {exc}"]
    if not file.is_file():
        return [f"{where}: the self-supervised checkpoint {path} is missing from the project"]
    if not isinstance(sha, str) or not sha:
        return [f"{where}: the self-supervised checkpoint {path} has no recorded sha256"]
    from core.frontends.ssl_checkpoint import file_sha256  # cached by size and mtime: each file hashed once

    digest = file_sha256(file)
    if digest != sha:
        return [f"{where}: the self-supervised checkpoint {path} does not match its record (sha256 "
                f"{digest[:12]}, recorded {sha[:12]})"]
    return []


def corpus_store_problems(root: str | os.PathLike) -> list[str]:
    """One line per feature store under `<root>/corpora/` (finished or unfinished) whose header.json,
    build plan or segment table (its first line: every line names its audio file the same way) holds
    an absolute local path, as stores written before issue 17 did; plus what `frontend_problems`
    finds in their ssl front-end records."""
    folder = Path(root) / CORPORA_DIR
    if not folder.is_dir() or folder.is_symlink():
        return []
    problems = []
    for store in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
        found, frontend_problems_found = [], []
        for name in ("header.json", ".build/plan.json"):
            try:
                data = json.loads((store / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # missing here; a damaged header is reported when the store is opened
            found += [f"{name} {where}" for where in absolute_strings(_without_frontend(data))]
            for place, record in _frontends_in(data):
                frontend_problems_found += frontend_problems(
                    root, record, f"corpus store {CORPORA_DIR}/{store.name} {name} {place}")
        for name in ("segments.jsonl", ".build/segments.jsonl"):
            try:
                with open(store / name, encoding="utf-8") as fh:
                    first = json.loads(fh.readline() or "{}")
            except (OSError, ValueError):
                continue
            if isinstance(first, dict) and looks_absolute(first.get("audio")):
                found.append(f"{name} (audio files)")
        if found:
            problems.append(f"corpus store {CORPORA_DIR}/{store.name}: {', '.join(found[:3])}"
                            f"{' ...' if len(found) > 3 else ''} holds an absolute local path "
                            "(build it again with overwrite to store it portably)")
        problems += list(dict.fromkeys(frontend_problems_found))
    return problems
