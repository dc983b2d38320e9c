"""The plugin author's guide (docs/plugins.md) works as written: its plugin installs and passes."""

from __future__ import annotations

import re
import sys
import tomllib
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import cadence
from _venvs import make_venv, pip_install, run, write_tree
from cadence._config import routes_from_data
from cadence.testing import RosterBuilder, fresh_plugins

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_FILE = re.compile(r"^<!-- file: (\S+) -->\n```\w+\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_CONFIG = re.compile(r"^<!-- cadence.toml -->\n```toml\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def guide_files() -> dict[str, str]:
    """The files the guide spells out, by path, from its ``<!-- file: ... -->`` blocks."""
    return dict(_FILE.findall(GUIDE.read_text(encoding="utf-8")))


@pytest.fixture
def todotxt() -> Iterator[types.ModuleType]:
    """The guide's plugin module, imported from the guide's text."""
    files = guide_files()
    module = types.ModuleType("cadence_todotxt")
    sys.modules[module.__name__] = module
    try:
        code = compile(files["cadence-todotxt/cadence_todotxt/__init__.py"], "guide", "exec")
        exec(code, vars(module))  # noqa: S102  # the guide's own example, run as the docs show it
        yield module
    finally:
        del sys.modules[module.__name__]


def test_the_guide_spells_out_a_whole_distribution() -> None:
    """The guide gives a pyproject, the module it declares as an entry point, and the tests."""
    files = guide_files()
    assert sorted(files) == [
        "cadence-todotxt/cadence_todotxt/__init__.py",
        "cadence-todotxt/pyproject.toml",
        "cadence-todotxt/tests/test_todotxt.py",
    ]
    project = tomllib.loads(files["cadence-todotxt/pyproject.toml"])
    assert project["project"]["entry-points"]["cadence"] == {"todotxt": "cadence_todotxt"}
    assert project["project"]["name"] == "cadence-todotxt"


def test_every_code_block_of_the_guide_parses() -> None:
    """Each Python block compiles and each TOML block parses, examples and snippets alike."""
    blocks = _BLOCK.findall(GUIDE.read_text(encoding="utf-8"))
    assert {language for language, _ in blocks} == {"python", "toml"}
    for language, text in blocks:
        if language == "python":
            compile(text, "guide", "exec")
        else:
            tomllib.loads(text)


def test_the_guides_route_builds_the_guides_adapter(
    todotxt: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The [[routes]] table in the guide builds a TodoTxt that appends a task per due reminder."""
    (config,) = _CONFIG.findall(GUIDE.read_text(encoding="utf-8"))
    (route,) = routes_from_data(tomllib.loads(config)["routes"])
    monkeypatch.chdir(tmp_path)
    roster = RosterBuilder().contact("ada", every="weekly").contact("bob", every="weekly")
    due = roster.due(NOW)
    with fresh_plugins(todotxt) as plugins:
        adapter = plugins.build_adapter(route)
        assert adapter.deliver(due) is None
    tasks = Path("todo.txt").read_text(encoding="utf-8").splitlines()
    assert tasks == [
        f"2026-11-23 Check in with Ada +cadence id:{due[0].key}",
        f"2026-11-23 Check in with Bob +cadence id:{due[1].key}",
    ]


def test_the_guides_filter_takes_only_the_argument_it_needs(todotxt: types.ModuleType) -> None:
    """The guide's filter, which accepts only ``reminder``, drops do-not-disturb contacts."""
    roster = RosterBuilder().contact("ada", every="weekly", tags=["do-not-disturb"])
    roster.contact("bob", every="weekly")
    with fresh_plugins(todotxt) as plugins:
        route = cadence.Route("console")
        kept = [r.contact.id for r in roster.due(NOW) if plugins.keep(r, route, now=NOW)]
    assert kept == ["bob"]


@pytest.mark.integration
def test_the_guides_plugin_installs_with_pip_and_passes_its_tests(tmp_path: Path) -> None:
    """Installed with pip in a throwaway venv, the guide's plugin passes the guide's tests."""
    write_tree(tmp_path, guide_files())
    python = make_venv(tmp_path / "venv")
    pip_install(python, tmp_path / "cadence-todotxt")
    tests = tmp_path / "cadence-todotxt" / "tests"
    result = run(python, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tests), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
