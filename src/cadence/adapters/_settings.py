"""Checks for the route settings that several built-in adapters share.

Each raises ConfigError naming the setting and, for settings that are never
secret, the bad value.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from cadence.core.errors import ConfigError

__all__ = ["ca_file", "flag", "password_from_env", "text", "timeout"]


def text(name: str, value: object) -> str:
    """Non-empty text on one line, with no surrounding spaces."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be non-empty text, not {value!r}")
    if value != value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"{name} must have no surrounding spaces or control characters")
    return value


def password_from_env(variable: object) -> str:
    """The password held by the environment variable named by the ``password_env`` setting.

    Messages name the variable, never the password.
    """
    name = text("password_env", variable)
    found = os.environ.get(name)
    if not found:
        raise ConfigError(f"password_env names {name!r}, which is not set or empty")
    return found


def timeout(value: object) -> float:
    """A finite number of seconds above zero."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not value > 0
    ):
        raise ConfigError(f"timeout must be a number of seconds above zero, not {value!r}")
    return float(value)


def flag(name: str, value: object) -> bool:
    """True or false, and nothing that merely looks like it ("yes", 1)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, not {value!r}")
    return value


def ca_file(value: object) -> str:
    """The path of an existing file of trusted certificates."""
    path = text("ca_file", value)
    if not Path(path).is_file():
        raise ConfigError(f"ca_file {path!r} is not a file")
    return path
