"""Paths a project stores, kept inside the project folder.

A project travels: somebody else's `wordbridge.json` or `project.sqlite` may name `../outside.txt`,
`/etc/passwd`, or a file under a symbolic link that leaves the folder (`recordings/leak -> /etc`).
Every stored path is read through `inside(root, relative)`, which refuses all three with a one-line
`UnsafePathError`, so nothing outside the project is read, overwritten or deleted on its behalf.
Paths written into a project go through `portable(root, path)`: relative to the project when inside
it, else the bare file name, never a local absolute folder (which would travel with a shared project).
"""

from __future__ import annotations

import os
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
    local paths stored in the manifest, the mappings' metadata or the database."""
    problems, root, m = [], project.root, project.manifest
    for section in ("spaces", "mappings", "projections", "encoders"):
        for entry in getattr(m, section):
            for key, relative in entry.files.items():
                try:
                    inside(root, relative, f"{entry.id} {key}")
                except UnsafePathError as exc:
                    problems.append(str(exc))
            for field_name in ("provenance", "config", "params"):
                for where in absolute_strings(getattr(entry, field_name, None) or {}):
                    problems.append(f"{section} {entry.id!r} {field_name}.{where} holds an absolute local path")
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
    problems += [f"symbolic link {link} leads outside the project folder (or nowhere)" for link in escaping_links(root)]
    return problems
