"""A test that needs a real server it cannot find: skipped on a developer's machine, failed in CI.

``.ci/run`` sets ``CADENCE_CI=1``; there, a missing server (PostgreSQL,
Radicale, Dovecot...) is a failure, so a green CI run never hides tests that
did not run.
"""

from __future__ import annotations

import os
import socket
import subprocess
from typing import NoReturn

import pytest

CI_ENV = "CADENCE_CI"


def in_ci() -> bool:
    """Whether the suite runs in CI, where every server must be there."""
    return os.environ.get(CI_ENV, "") not in ("", "0")


def missing(reason: str) -> NoReturn:
    """Skip the calling test for ``reason``, or fail it in CI."""
    if in_ci():
        pytest.fail(f"{reason} ({CI_ENV} is set, so this cannot be skipped)")
    pytest.skip(reason)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server a test started and wait for it to exit; kill it if it does not."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
