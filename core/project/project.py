"""`Project`: one Wordbridge project folder, as the command line, the pipeline and the app see it.

Opening reads only the manifest and checks the database, so it is fast; arrays load when first
asked for and are cached. Every change writes its files atomically first and the manifest last,
so a crash leaves the project as it was before the change (at worst with an unreferenced file).

This module holds the folder and its manifest (create, open, save as, settings); the items the
manifest lists are handled by `ProjectItems` (core/project/project_items.py), and what lives in
`project.sqlite` and `recordings/` by `ProjectRecords` (core/project/project_records.py).
"""

from __future__ import annotations

import contextlib
import copy
import errno
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Callable

from core.atomic import check_free_space, is_temp_name, remove_stale_temp_files, write_json
from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError
from core.project import items
from core.project.database import DB_NAME, ProjectDatabase
from core.project.locking import LOCK_NAME, manifest_lock
from core.project.manifest import MANIFEST_NAME, Manifest, now, read_manifest
from core.project.project_items import ProjectItems, check_id
from core.project.project_records import ProjectRecords

__all__ = ["Project", "check_id"]


class Project(ProjectItems, ProjectRecords):
    """A project folder: manifest (`wordbridge.json`), arrays, `project.sqlite` and `recordings/`."""

    def __init__(self, root: Path, manifest: Manifest, db: ProjectDatabase):
        """Use `Project.create` or `Project.open`."""
        self.root = root
        self._manifest = manifest
        self.db = db
        self._lock = threading.RLock()
        self._spaces: dict[str, Embeddings] = {}
        self.read_only = db.read_only  # nothing is written; open a copy (save_as) to change it

    # --- creating, opening, copying -----------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike, name: str, description: str = "", languages: list[str] | None = None,
               synthetic_speech: bool = False, synthetic_speech_note: str = "") -> "Project":
        """Make a new project folder at `path` (which must not exist, or be an empty folder)."""
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise WordbridgeError(f"{path}: already exists and is not an empty folder; choose a new project folder")
        if not name.strip():
            raise WordbridgeError("a project needs a name")
        _check_synthetic(synthetic_speech, synthetic_speech_note)
        manifest = Manifest(name=name, description=description, languages=list(languages or []),
                            synthetic_speech=synthetic_speech, synthetic_speech_note=synthetic_speech_note)

        def build(folder: Path) -> None:
            write_json(folder / MANIFEST_NAME, manifest.to_json())
            ProjectDatabase(folder / DB_NAME)

        _build_then_rename(path, build)
        return cls.open(path)

    @classmethod
    def open(cls, path: str | os.PathLike, read_only: bool | None = None) -> "Project":
        """Open a project folder (or its wordbridge.json); reads no arrays. `read_only` (default: when
        the folder or its database is not writable) opens it for viewing only: nothing is written."""
        path = Path(path)
        if path.name == MANIFEST_NAME and path.is_file():
            path = path.parent
        if not path.is_dir():
            raise InputFileError(path, "no such project folder")
        manifest = read_manifest(path / MANIFEST_NAME)
        if read_only is None:
            db_file = path / DB_NAME
            read_only = not os.access(path, os.W_OK) or (db_file.exists() and not os.access(db_file, os.W_OK))
        if not read_only:
            remove_stale_temp_files(path)  # what killed writes left (.x.tmp, safetensors' .tmpXXXX)
        return cls(path, manifest, ProjectDatabase(path / DB_NAME, read_only=read_only, create=False))

    def save_as(self, new_path: str | os.PathLike) -> "Project":
        """Copy the whole project to `new_path` (built in a temporary folder, then renamed); returns the copy."""
        new_path = Path(new_path)
        if new_path.exists() and (not new_path.is_dir() or any(new_path.iterdir())):
            raise WordbridgeError(f"{new_path}: already exists and is not an empty folder")
        if new_path.resolve().is_relative_to(self.root.resolve()):
            raise WordbridgeError(f"{new_path}: cannot save a project inside itself")

        def skip(folder: str, names: list[str]) -> set[str]:
            at_top = Path(folder).resolve() == self.root.resolve()
            return {n for n in names if n.endswith(".tmp") or is_temp_name(n) or at_top and (n.startswith(DB_NAME) or n == LOCK_NAME)}

        def full(what: str) -> WordbridgeError:
            return WordbridgeError(f"{new_path}: disk full while copying {what}; the partial copy was removed and "
                                   f"{self.root} is unchanged (free some space or save the copy elsewhere)")

        def copy_file(source: str, target: str) -> None:
            # stops the copy at the first full disk (copytree would go on and gather every error)
            try:
                shutil.copy2(source, target)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                    raise full(Path(source).relative_to(self.root).as_posix()) from None
                raise

        def build(folder: Path) -> None:
            with self._lock:
                check_free_space(new_path.parent, self._copy_bytes(skip), "the project copy",
                                 "free some space or save the copy elsewhere")
                # links are copied as links, never followed (recordings/leak -> ~/.ssh copies no file)
                shutil.copytree(self.root, folder, ignore=skip, dirs_exist_ok=True, symlinks=True,
                                copy_function=copy_file)
                try:
                    self.db.backup_to(folder / DB_NAME)
                except OSError as exc:
                    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                        raise full(DB_NAME) from None
                    raise

        _build_then_rename(new_path, build)
        return Project.open(new_path)

    def _copy_bytes(self, skip) -> int:
        """Bytes Save As copies: the files `skip` keeps (links count as nothing) and the database."""
        total = 0
        for folder, dirs, files in os.walk(self.root):  # does not follow links into folders
            skipped = skip(folder, dirs + files)
            dirs[:] = [d for d in dirs if d not in skipped]
            for name in files:
                path = Path(folder) / name
                if name not in skipped and not path.is_symlink():
                    with contextlib.suppress(OSError):
                        total += path.stat().st_size
        with contextlib.suppress(OSError):
            total += (self.root / DB_NAME).stat().st_size
        return total

    # --- manifest -----------------------------------------------------------------------------

    @property
    def manifest(self) -> Manifest:
        """A copy of the manifest as last read or written (edit through the methods, not this)."""
        return copy.deepcopy(self._manifest)

    @property
    def name(self) -> str:
        """The project's name."""
        return self._manifest.name

    def reload(self) -> None:
        """Re-read the manifest (another process may have changed it) and drop cached arrays."""
        with self._lock:
            self._manifest = read_manifest(self.root / MANIFEST_NAME)
            self._spaces.clear()

    @property
    def settings(self) -> dict:
        """The project's settings (a copy)."""
        return copy.deepcopy(self._manifest.settings)

    def update_settings(self, **values) -> None:
        """Set settings (JSON values); None removes a key."""
        values = items.plain_json(values)
        items._check_json(values, "settings")

        def change(m: Manifest) -> None:
            for key, value in values.items():
                if value is None:
                    m.settings.pop(key, None)
                else:
                    m.settings[key] = value

        self._update_manifest(change)

    def set_synthetic_speech(self, synthetic: bool, note: str = "") -> None:
        """Mark the project's speech as made by a synthesiser (with a note saying how), or not."""
        _check_synthetic(synthetic, note)

        def change(m: Manifest) -> None:
            m.synthetic_speech, m.synthetic_speech_note = bool(synthetic), note if synthetic else ""

        self._update_manifest(change)

    def _update_manifest(self, change: Callable[[Manifest], None]) -> None:
        """Apply `change` to the manifest on disk (re-read first) and write it atomically."""
        if self.read_only:
            raise WordbridgeError(f"{self.root}: the project is open read-only; save a copy to change it")
        with self._lock, manifest_lock(self.root):  # other processes too: nothing they write is lost
            updated = read_manifest(self.root / MANIFEST_NAME)
            change(updated)
            updated.modified = now()
            write_json(self.root / MANIFEST_NAME, updated.to_json())
            self._manifest = updated

    # --- checks -------------------------------------------------------------------------------

    def missing_files(self) -> list[str]:
        """Files the manifest or the database refer to that are not on disk (relative paths)."""
        referenced = [f for group in (self._manifest.spaces, self._manifest.mappings, self._manifest.encoders,
                                      self._manifest.projections) for entry in group for f in entry.files.values()]
        referenced += [r.wav_path for r in self.db.recordings()]
        return [f for f in referenced if not (self.root / f).is_file()]

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r}, name={self.name!r})"


def _check_synthetic(synthetic: bool, note: str) -> None:
    if synthetic and not note.strip():
        raise WordbridgeError("synthetic speech needs a note saying how it was made (synthesiser, voices)")


def _build_then_rename(target: Path, build: Callable[[Path], None]) -> None:
    """Build a folder under a temporary name next to `target`, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        build(tmp)
        if target.is_dir():
            target.rmdir()  # checked empty by the caller
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
