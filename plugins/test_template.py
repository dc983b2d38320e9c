"""The plugin template makes a project that installs, passes its tests and is found by cadence."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

copier = pytest.importorskip(
    "copier", reason="copier makes projects from the template; tox -e plugins installs it"
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEMPLATE = HERE / "template"

ANSWERS = {
    "project_name": "cadence-carrier-pigeon",
    "adapter": "pigeon-post",
    "author": "Ada Lovelace",
    "author_email": "ada@example.com",
    "description": "Send cadence reminders by carrier pigeon.",
}


def _load_venvs() -> ModuleType:
    """cadence's own helpers for throwaway venvs, from its tests folder."""
    spec = importlib.util.spec_from_file_location("_cadence_test_venvs", ROOT / "tests/_venvs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


venvs = _load_venvs()


def generate(destination: Path, **answers: Any) -> Path:
    """A project made from the template at ``destination``, as ``copier copy`` makes it."""
    copier.run_copy(
        str(TEMPLATE),
        str(destination),
        data={**ANSWERS, **answers},
        defaults=True,
        unsafe=False,
        quiet=True,
    )
    return destination


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugin project generated from the template with ANSWERS."""
    return generate(tmp_path_factory.mktemp("template") / "cadence-carrier-pigeon")


@pytest.fixture(scope="module")
def venv(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv with this cadence and the generated plugin installed by pip."""
    python: Path = venvs.make_venv(tmp_path_factory.mktemp("template-venv") / "venv")
    venvs.pip_install(python, ROOT, project)
    return python


def test_the_project_has_the_files_a_plugin_needs(project: Path) -> None:
    """The answers name the files; the template's own files are not copied."""
    files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    assert files == [
        ".copier-answers.yml",
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/cadence_carrier_pigeon/__init__.py",
        "src/cadence_carrier_pigeon/py.typed",
        "tests/test_cadence_carrier_pigeon.py",
    ]
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points.cadence]\ncarrier-pigeon = "cadence_carrier_pigeon"' in pyproject
    code = (project / "src/cadence_carrier_pigeon/__init__.py").read_text(encoding="utf-8")
    assert 'register("pigeon-post", PigeonPostAdapter)' in code
    assert "{{" not in code


def test_the_generated_tests_pass_once_installed(venv: Path, project: Path) -> None:
    """The project's own tests pass in a venv where pip installed it, the entry point test too."""
    result = venvs.run(venv, "-m", "pytest", "-p", "no:cacheprovider", "-v", cwd=project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = re.search(r"=+ (\d+) passed in ", output)
    assert summary is not None, output
    assert int(summary.group(1)) >= 10
    assert "test_cadence_finds_the_installed_plugin PASSED" in output


def test_cadence_plugins_lists_the_new_plugin(venv: Path) -> None:
    """`cadence plugins` in that venv shows the plugin, its distribution and its adapter."""
    result = venvs.run(
        venv, "-m", "cadence", "plugins", cwd=venv.parent, env=venvs.clean_env(COLUMNS="200")
    )
    assert result.returncode == 0, result.stderr
    (line,) = [
        line for line in result.stdout.splitlines() if line.split()[:1] == ["carrier-pigeon"]
    ]
    assert line.split()[1:5] == ["0.1.0", "cadence-carrier-pigeon", "adapter", "pigeon-post"]
    assert "error" not in result.stderr


def test_the_template_is_not_a_plugin_of_its_own() -> None:
    """No pyproject.toml at the template's top, so plugins/install.py does not install it."""
    assert not (TEMPLATE / "pyproject.toml").exists()
    assert (TEMPLATE / "copier.yml").is_file()


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        ({"project_name": "Cadence SMS"}, "lowercase"),
        ({"package": "cadence"}, "cadence's own package"),
        ({"adapter": "webhook"}, "one of cadence's own adapters"),
        ({"description": 'Say "hi"'}, "double quotes"),
    ],
)
def test_bad_answers_are_refused(tmp_path: Path, answers: dict[str, str], says: str) -> None:
    """An answer that would make a broken project is refused, saying why, and nothing is made."""
    with pytest.raises(ValueError, match=says):
        generate(tmp_path / "project", **answers)
    assert not (tmp_path / "project" / "pyproject.toml").exists()
