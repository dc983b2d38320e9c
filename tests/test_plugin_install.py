"""A plugin installed with pip is found through its entry point, with no change to cadence."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from _venvs import clean_env, make_venv, pip_install, run, write_tree

pytestmark = pytest.mark.integration

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "{version}"
dependencies = ["cadence"]

[project.entry-points.cadence]
{entry} = "{module}"

[tool.hatch.build.targets.wheel]
packages = ["{module}"]
"""

#: A plugin with an adapter and a filter: what the issue's "done when" asks to find.
SMS = """\
import cadence


class Sms:
    def __init__(self, *, sender):
        self.sender = sender
        self.sent = []

    def deliver(self, reminders):
        self.sent.extend(r.key for r in reminders)


@cadence.hookimpl
def cadence_register_adapters(register):
    register("sms", Sms)


@cadence.hookimpl
def cadence_filter_reminder(reminder, route):
    if route.adapter == "sms" and "no-sms" in reminder.contact.tags:
        return False
    return None
"""

BROKEN = """\
raise RuntimeError("this plugin cannot be imported")
"""

#: Run in the venv: load plugins as cadence does for a user, and say what was found.
PROBE = """\
import json
from datetime import UTC, datetime

import cadence
from cadence._plugins import get_plugins
from cadence.testing import make_reminder

now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
plugins = get_plugins()
found = {"plugins": {}, "errors": [str(e) for e in plugins.errors]}
for info in plugins.list():
    found["plugins"][info.name] = {
        "distribution": info.distribution,
        "version": info.version,
        "builtin": info.builtin,
        "loaded": info.loaded,
        "hooks": list(info.hooks),
        "registered": [list(item) for item in info.registered],
    }
if "sms" in plugins.adapter_names():
    route = cadence.Route("sms", name="texts", settings={"sender": "+15550100"})
    adapter = plugins.build_adapter(route)
    quiet = make_reminder("ada", due=now, tags=["no-sms"])
    loud = make_reminder("bob", due=now)
    kept = [r for r in (quiet, loud) if plugins.keep(r, route, now=now)]
    adapter.deliver(kept)
    found["sender"] = adapter.sender
    found["sent"] = adapter.sent
    found["expected"] = [loud.key]
    found["console still works"] = plugins.keep(quiet, cadence.Route("console"), now=now)
print(json.dumps(found))
"""


def package(root: Path, name: str, entry: str, module: str, code: str) -> Path:
    """Write a one-module distribution called ``name`` declaring the entry point ``entry``."""
    project = root / name
    write_tree(
        project,
        {
            "pyproject.toml": PYPROJECT.format(
                name=name, version="1.2.3", entry=entry, module=module
            ),
            f"{module}/__init__.py": code,
        },
    )
    return project


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway venv with two plugins installed by pip: one that works, one that cannot."""
    root = tmp_path_factory.mktemp("plugin-install")
    python = make_venv(root / "venv")
    pip_install(
        python,
        package(root, "cadence-sms", "sms", "cadence_sms", SMS),
        package(root, "cadence-broken", "broken", "cadence_broken", BROKEN),
    )
    return python


def probe(python: Path, **env: str) -> dict[str, Any]:
    """What cadence finds in the venv of ``python``, as the probe script reports it."""
    result = run(python, "-c", textwrap.dedent(PROBE), cwd=python.parent, env=clean_env(**env))
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_an_installed_plugin_is_found_and_its_adapter_and_filter_work(venv: Path) -> None:
    """The pip-installed plugin is listed, builds its adapter and drops what it filters."""
    found = probe(venv)
    sms = found["plugins"]["sms"]
    assert sms["distribution"] == "cadence-sms"
    assert sms["version"] == "1.2.3"
    assert not sms["builtin"]
    assert sms["hooks"] == ["cadence_filter_reminder", "cadence_register_adapters"]
    assert sms["registered"] == [["adapter", "sms"]]
    assert found["sender"] == "+15550100"
    assert found["sent"] == found["expected"]
    assert found["console still works"] is True


def test_a_plugin_that_cannot_import_is_reported_and_the_others_work(venv: Path) -> None:
    """The broken plugin is listed as not loaded, its error names it, and the others load."""
    found = probe(venv)
    broken = found["plugins"]["broken"]
    assert broken["distribution"] == "cadence-broken"
    assert broken["loaded"] is False
    (error,) = [e for e in found["errors"] if "'broken'" in e]
    assert "cadence-broken" in error
    assert "cannot be imported" in error
    assert found["plugins"]["console"]["loaded"] is True
    assert found["plugins"]["sms"]["loaded"] is True


def test_disabled_plugins_are_not_loaded(venv: Path) -> None:
    """CADENCE_DISABLE_PLUGINS blocks plugins by name, and "*" blocks all but cadence's own."""
    by_name = probe(venv, CADENCE_DISABLE_PLUGINS="sms, broken")
    assert "sms" not in by_name["plugins"]
    assert "broken" not in by_name["plugins"]
    assert by_name["plugins"]["console"]["builtin"] is True
    everything = probe(venv, CADENCE_DISABLE_PLUGINS="*")
    assert {"sms", "broken"}.isdisjoint(everything["plugins"])
    assert "console" in everything["plugins"]


def test_installing_and_removing_a_plugin_refreshes_the_plugin_cache(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The cache of installed plugins is kept across runs, and pip install/uninstall renews it."""
    root = tmp_path_factory.mktemp("plugin-cache")
    python = make_venv(root / "venv")
    cache = root / "cache"
    before = probe(python, XDG_CACHE_HOME=str(cache))
    assert "sms" not in before["plugins"]
    (kept,) = (cache / "cadence").glob("plugins-*.json")
    written = kept.stat().st_mtime_ns
    assert probe(python, XDG_CACHE_HOME=str(cache)) == before
    assert kept.stat().st_mtime_ns == written  # read, not written again
    pip_install(python, package(root, "cadence-sms", "sms", "cadence_sms", SMS))
    installed = probe(python, XDG_CACHE_HOME=str(cache))
    assert installed["plugins"]["sms"]["version"] == "1.2.3"
    assert installed["sent"] == installed["expected"]
    removed = run(
        python,
        *("-m", "pip", "uninstall", "--yes", "--quiet", "cadence-sms"),
        cwd=root,
        env=clean_env(PIP_NO_INPUT="1"),
    )
    assert removed.returncode == 0, removed.stderr
    assert probe(python, XDG_CACHE_HOME=str(cache)) == before
