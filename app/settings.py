"""Per-user settings (recent projects, last device, window geometry) in a small JSON file.

The folder comes from platformdirs (e.g. ~/.config/wordbridge); the environment variable
WORDBRIDGE_CONFIG_DIR overrides it, which is how tests keep their settings under tmp_path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.atomic import write_json

MAX_RECENT = 8
LOCK_SECONDS = 2.0  # the GUI thread waits at most this long for another process's settings change


def settings_dir() -> Path:
    """The folder that holds settings.json for this user."""
    override = os.environ.get("WORDBRIDGE_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("wordbridge", appauthor=False))


def user_data_dir() -> Path:
    """The folder for this user's own data (copies of read-only projects such as the bundled demo);
    WORDBRIDGE_DATA_HOME overrides it (tests)."""
    override = os.environ.get("WORDBRIDGE_DATA_HOME")
    if override:
        return Path(override)
    from platformdirs import user_data_dir as platform_data_dir

    return Path(platform_data_dir("wordbridge", appauthor=False))


def user_copy_of(project):
    """A writable copy of a read-only project in the user's data folder (made once, then reused)."""
    from core.project.project import Project

    target = user_data_dir() / "projects" / f"{project.root.name}-copy"
    if (target / "wordbridge.json").is_file():
        return Project.open(target)
    return project.save_as(target)


class Settings:
    """A dict saved to disk (atomically) on every change; a damaged file is ignored, not fatal.

    Two apps (or an app and a test) share one settings file: every change is a read-change-write
    under the file's lock (`core.project.locking.file_lock`, the `filelock` wrapper of the project
    manifest; `.settings.json.lock` beside it), so one process's change never undoes another's."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else settings_dir() / "settings.json"
        self._data: dict = self._read({})

    def _read(self, default: dict) -> dict:
        """The settings file's dict; `default` when it is missing, unreadable or damaged."""
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return default
        return loaded if isinstance(loaded, dict) else default

    def _update(self, change) -> None:
        """Re-read the file (another process may have changed it), apply `change(dict)`, save; all under
        the settings lock. Without a lock (a read-only home, a holder taking longer than LOCK_SECONDS)
        the change is kept for this session and saved if it can be: settings never stop the app."""
        from core.errors import WordbridgeError
        from core.project.locking import file_lock

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with file_lock(self.path.parent / f".{self.path.name}.lock", LOCK_SECONDS, self.path,
                           "the settings", "the settings"):
                self._data = self._read(self._data)
                change(self._data)
                self.save()
                return
        except (WordbridgeError, OSError):
            pass
        change(self._data)
        self.save()

    def get(self, key: str, default=None):
        """The stored value of `key`, or `default`."""
        return self._data.get(key, default)

    def set(self, key: str, value) -> None:
        """Store `value` under `key` and save."""
        self._update(lambda data: data.__setitem__(key, value))

    def update(self, change) -> None:
        """Apply `change(dict)` to the settings as one read-change-write under the settings lock (a
        value nested under a key, which `set` would replace whole, changes without losing another
        process's change to it)."""
        self._update(change)

    def save(self) -> None:
        """Write the settings file (errors are ignored: settings must never stop the app).

        Written to a temporary file and renamed over the old one (never half a file), but without
        the fsyncs (core.atomic's durable=False): this runs on the GUI thread (opening a project adds
        it to the recent list), and fsync of the folder took ~100 ms there on a loaded disk, an
        event-loop stall (docs/BENCHMARKS.md, session 10). A power cut may lose the last change; a
        damaged file is ignored when read."""
        try:
            write_json(self.path, self._data, durable=False)
        except Exception:  # noqa: BLE001 - a read-only home must not break the app
            pass

    @property
    def recent_projects(self) -> list[str]:
        """Recently opened projects, most recent first, only those that still exist."""
        items = self._data.get("recent_projects", [])
        return [p for p in items if isinstance(p, str) and Path(p).exists()]

    def add_recent(self, path: str | os.PathLike) -> None:
        """Put `path` first in the recent list and remember it as the last project."""
        path = str(Path(path).resolve())

        def change(data: dict) -> None:
            old = data.get("recent_projects")
            recent = [p for p in (old if isinstance(old, list) else []) if p != path]
            data["recent_projects"] = [path] + recent[: MAX_RECENT - 1]
            data["last_project"] = path

        self._update(change)

    @property
    def last_project(self) -> str | None:
        """The project opened last, if it still exists."""
        path = self._data.get("last_project")
        return path if isinstance(path, str) and Path(path).exists() else None
