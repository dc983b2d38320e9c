"""The README's Python examples run as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_examples_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every ```python block of the README runs, in order, in one namespace."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {"__name__": "readme"}
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102  # our own README
    finally:
        os.chdir(here)
    printed = capsys.readouterr().out
    assert "Check in with Ana López" in printed
    assert "Ana López turns 40 on 1 December" in printed
    assert (tmp_path / "cadence.db").exists()
