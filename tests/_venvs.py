"""Throwaway virtual environments for installing plugins the way users do.

A venv made here sees the packages of the interpreter running the tests
(cadence, pytest, hatchling) through a ``.pth`` file, so installing a plugin
into it needs no network and leaves the running environment untouched.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def make_venv(root: Path) -> Path:
    """A new venv at ``root`` that also sees this interpreter's packages; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parents = [*site.getsitepackages()]
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        parents.append(site.getusersitepackages())
    # addsitedir, not a bare path: the parent's own .pth files (an editable
    # install of cadence) must be read too.
    lines = [f"import site; site.addsitedir({parent!r})" for parent in parents]
    (Path(purelib) / "_test_parent_env.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return python


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: no CADENCE_DISABLE_PLUGINS, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("CADENCE_DISABLE_PLUGINS", "PYTHONPATH")
    }
    env.update(extra)
    return env


def pip_install(python: Path, *projects: Path) -> None:
    """Install ``projects`` (folders with a pyproject.toml) into the venv of ``python``, offline."""
    result = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            *map(str, projects),
        ],
        capture_output=True,
        text=True,
        env=clean_env(PIP_NO_INPUT="1"),
        check=False,
    )
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"


def run(
    python: Path, *arguments: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python`` with ``arguments`` in ``cwd``; the output is captured as text."""
    return subprocess.run(
        [python, *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        check=False,
    )


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` (relative path to text) under ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
