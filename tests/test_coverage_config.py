"""The project's coverage settings measure the CLI when a test runs it in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "pyproject.toml"

# A parent that never imports cadence and runs the CLI as the CLI tests do.
PARENT = """\
import subprocess, sys
subprocess.run([sys.executable, "-m", "cadence", "--help"], check=True, capture_output=True)
"""


def test_a_cli_run_in_a_subprocess_is_measured_with_its_branches(tmp_path: Path) -> None:
    """`coverage run` with pyproject's settings records cli.py's lines and branches in the child."""
    coverage = pytest.importorskip("coverage")
    parent = tmp_path / "parent.py"
    parent.write_text(PARENT)
    # Only the settings file speaks: nothing from a coverage run around this suite.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env["COVERAGE_FILE"] = str(tmp_path / ".coverage")
    for command in (
        ["run", f"--rcfile={SETTINGS}", str(parent)],
        ["combine", f"--rcfile={SETTINGS}"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "coverage", *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    data = coverage.CoverageData(basename=str(tmp_path / ".coverage"))
    data.read()
    (cli,) = [f for f in data.measured_files() if Path(f).parts[-2:] == ("cadence", "cli.py")]
    assert data.has_arcs()
    assert len(data.lines(cli) or ()) > 100
