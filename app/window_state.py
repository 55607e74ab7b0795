"""The main window's layout (geometry, splitter sizes) remembered across runs with QSettings, in an
INI file beside the app's settings.json (so WORDBRIDGE_CONFIG_DIR keeps tests away from the home)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from app.settings import settings_dir

GROUP = "window"


def window_settings() -> QSettings:
    """The QSettings file that holds the window layout."""
    return QSettings(str(settings_dir() / "window.ini"), QSettings.IniFormat)


def save_window(window) -> None:
    """Store the window's geometry and state, and its splitters' sizes when the workspace exists."""
    store = window_settings()
    store.beginGroup(GROUP)
    store.setValue("geometry", window.saveGeometry())
    store.setValue("state", window.saveState())
    if window.workspace is not None:
        store.setValue("workspace", window.workspace.saveState())
        store.setValue("left", window.left_splitter.saveState())
    store.endGroup()
    store.sync()


def restore_window(window) -> None:
    """Restore the geometry and state saved last (nothing when there is none or it is unreadable)."""
    store = window_settings()
    store.beginGroup(GROUP)
    geometry, state = store.value("geometry"), store.value("state")
    store.endGroup()
    if geometry is not None:
        window.restoreGeometry(geometry)
    if state is not None:
        window.restoreState(state)


def restore_splitters(window) -> None:
    """Restore the workspace's splitter sizes (called once the workspace is built)."""
    store = window_settings()
    store.beginGroup(GROUP)
    for key, splitter in (("workspace", window.workspace), ("left", window.left_splitter)):
        value = store.value(key)
        if value is not None:
            splitter.restoreState(value)
    store.endGroup()
