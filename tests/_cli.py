"""What the CLI tests share: how a refusal of bad input must look."""

from __future__ import annotations

import subprocess


def refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """``done`` failed with one ``error:`` line on stderr, no traceback, naming ``words``."""
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0]
