"""The README's fresh-machine lines run as written, in a copy of the project.

They make a virtual environment, install cadence into it with pip and run
``cadence demo`` from it, in bash, with a PATH that holds a Python and no
``cadence``: the system's own Python where it is externally managed (PEP
668, as on Debian and Ubuntu) and of the version running the tests.

pip works offline here: the packages cadence needs (and the build backend)
are those of the interpreter running the tests, seen through PYTHONPATH,
with no index and no isolated build environment. cadence itself is not
among them, so the ``cadence`` that runs is the one pip installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.name == "nt", reason="the README's lines are for a POSIX shell"),
]


def fresh_machine_lines() -> list[str]:
    """The commands of the first console block under "On a fresh machine"."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```console\n(.*?)```", section, re.S)
    assert block is not None, "no console block under 'On a fresh machine'"
    return [line for line in block.group(1).splitlines() if line.strip()]


def copy_of_project(into: Path) -> Path:
    """The project's files as a clone has them (tracked, and new ones not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        name = raw.decode()
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree
            continue
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    return into


def packages_without_cadence(into: Path) -> Path:
    """A folder showing this interpreter's installed packages, cadence left out."""
    into.mkdir()
    for key in ("purelib", "platlib"):
        for entry in Path(sysconfig.get_paths()[key]).iterdir():
            if "cadence" in entry.name.lower() or entry.suffix == ".pth":
                continue
            link = into / entry.name
            if not link.exists():
                link.symlink_to(entry)
    return into


_PROBE = (
    "import os, sys, sysconfig, ensurepip; print('%d.%d' % sys.version_info[:2], "
    "os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"
)


def user_python() -> str:
    """The python3 of the user's shell: a system one that refuses pip (PEP 668) if there is one.

    Debian's and Ubuntu's own Python marks itself externally managed; where
    this machine has one of the version running the tests (so the packages
    it borrows fit), the README's lines must work with it. Otherwise the
    interpreter behind this one (not a venv's) stands in.
    """
    system = "/usr/bin/python3"
    if os.path.exists(system):
        probe = subprocess.run([system, "-c", _PROBE], capture_output=True, text=True)
        ours = "{}.{}".format(*sys.version_info[:2])
        if probe.returncode == 0 and probe.stdout.split() == [ours, "True"]:
            return system
    return str(getattr(sys, "_base_executable", sys.executable))


def test_fresh_machine_lines_install_and_run_the_demo(tmp_path: Path) -> None:
    """A venv, pip install . and cadence demo, as the README writes them, all succeed."""
    lines = fresh_machine_lines()
    assert any("venv" in line for line in lines), lines
    project = copy_of_project(tmp_path / "cadence")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(user_python())
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "TMPDIR": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(packages_without_cadence(tmp_path / "site")),
        "PIP_NO_INDEX": "1",
        # pip reads PIP_NO_BUILD_ISOLATION=0 as --no-build-isolation.
        "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", "\n".join(lines)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "A sample roster of" in done.stdout
    assert "each reminder goes out once" in done.stdout
    venv_python = project / ".venv" / "bin" / "python"
    where = subprocess.run(
        [venv_python, "-c", "import cadence; print(cadence.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(project / ".venv"), where
