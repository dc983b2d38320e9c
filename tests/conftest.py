"""Shared fixtures. Installed third-party plugins are never loaded by accident."""

from __future__ import annotations

import os

# Before anything loads plugins: only those shipped with cadence.
os.environ["CADENCE_DISABLE_PLUGINS"] = "*"

from collections.abc import Iterator  # after the switch above, on purpose
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings

from cadence import _plugins

settings.register_profile(
    "cadence", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("cadence")


@pytest.fixture(autouse=True)
def _core_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reminders are worded in the core's English unless a test names a locale.

    The platform's locale would otherwise choose the words of every adapter.
    """
    for name in ("CADENCE_LOCALE", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture
def plugins() -> Iterator[_plugins.Plugins]:
    """A fresh plugin manager with only cadence's own plugins, installed as the process default."""
    fresh = _plugins.load_plugins()
    _plugins.reset_plugins(fresh)
    try:
        yield fresh
    finally:
        _plugins.reset_plugins(None)


@pytest.fixture
def now() -> datetime:
    """A fixed aware moment: Monday 23 November 2026, 12:00 UTC."""
    return datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
