"""Shared GUI test set-up: Qt offscreen, and per-user app settings kept under each test's tmp_path."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def app_settings(tmp_path, monkeypatch):
    """Point the app's per-user settings at tmp_path (never the real home) and return them."""
    monkeypatch.setenv("WORDBRIDGE_CONFIG_DIR", str(tmp_path / "config"))
    from app.settings import Settings

    return Settings()
