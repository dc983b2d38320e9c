"""Starting up cheaply: lazy public names, commands that import only what they use, and the
cache of installed plugins, which follows what is installed."""

from __future__ import annotations

import importlib
import io
import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cadence
from cadence import _installed, _plugins
from cadence._output import Output, Table, Text

NOW = "2026-11-23T12:00:00+00:00"

#: Libraries that `cadence --help` and `cadence due` have no use for.
HEAVY = (
    "rich",
    "importlib.metadata",
    "email",
    "tomllib",
    "icalendar",
    "requests",
    "jinja2",
    "pygal",
    "psycopg",
    "cadence.sources.merge",
    "cadence.sources.sync",
)


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


# -- the package ---------------------------------------------------------------


def test_importing_cadence_imports_none_of_its_modules() -> None:
    """`import cadence` defines names only; the first use of one imports its module."""
    done = _python(
        """
        import sys
        import cadence
        before = sorted(m for m in sys.modules if m.startswith(("cadence.", "attr", "click")))
        from cadence import Contact
        print(before, Contact.__module__, "cadence.core.model" in sys.modules)
        """
    )
    assert done.stdout.split() == ["[]", "cadence.core.model", "True"]


def test_every_public_name_resolves_and_is_listed() -> None:
    """Each name in __all__ is an attribute, dir() lists it, and unknown names raise."""
    for name in cadence.__all__:
        assert getattr(cadence, name) is not None, name
    assert set(cadence.__all__) <= set(dir(cadence))
    assert cadence.plan is importlib.import_module("cadence.core.planning").plan
    with pytest.raises(AttributeError, match="no_such_name"):
        cadence.no_such_name  # noqa: B018  # the lookup is what is tested


def test_the_version_is_the_installed_distribution_s() -> None:
    """cadence.__version__ is what importlib.metadata says of the cadence distribution."""
    from importlib.metadata import version

    assert cadence.__version__ == version("cadence")


# -- the command line ------------------------------------------------------------


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with cadence.open_store(url) as store:
        store.put_contact(cadence.Contact("ada", "Ada"))
        store.set_rule(cadence.Rule(cadence.Every(weeks=1)))
    return url


def test_the_command_runs_with_the_collector_on_after_start_up(tmp_path: Path) -> None:
    """The `cadence` entry point leaves what start-up made frozen, and the collector on."""
    url = _store(tmp_path)
    done = _python(
        f"""
        import gc, sys
        from cadence.__main__ import main
        sys.argv = ["cadence", "--now", "{NOW}", "due"]
        main()
        print(gc.isenabled(), gc.get_freeze_count() > 1000)
        """,
        CADENCE_DB=url,
    )
    assert "ada" in done.stdout
    assert done.stdout.split()[-2:] == ["True", "True"]


@pytest.mark.parametrize("args", [["--help"], ["--now", NOW, "due"]], ids=" ".join)
def test_help_and_due_import_no_library_they_do_not_use(tmp_path: Path, args: list[str]) -> None:
    """No adapter's library nor rich is imported; with the plugin cache warm, no metadata reader."""
    url = _store(tmp_path)
    # What was there before cadence came is not cadence's doing: coverage,
    # measuring the suite, reads its settings with tomllib when the interpreter
    # starts, and the libraries every command needs may import more at their
    # lowest versions (pluggy 1.3 imports importlib.metadata).
    script = f"""
        import sys
        import attrs, click, pluggy
        already = set(sys.modules)
        from cadence.cli import main
        try:
            main({args!r})
        except SystemExit as stop:
            assert not stop.code, stop.code
        finally:
            new = (m for m in sys.modules if m not in already)
            print(sorted(m for m in new if m.startswith({HEAVY!r})), file=sys.stderr)
        """
    reader = ["email", "importlib.metadata"]
    for allowed in (reader, []):  # the first run fills the cache
        done = _python(script, CADENCE_DB=url, XDG_CACHE_HOME=str(tmp_path / "cache"))
        found = json.loads(done.stderr.strip().splitlines()[-1].replace("'", '"'))
        assert {name.partition(".")[0] for name in found} <= {r.partition(".")[0] for r in allowed}
        assert not any(name.startswith(("rich", "cadence.sources")) for name in found)
    assert "ada" in done.stdout or "Usage" in done.stdout


#: What `cadence due` leaves alone when the plans it reads are up to date:
#: planning and what only planning, the ledger or contact lookup need.
PLANNING = (
    "dateutil",
    "hashlib",
    "_hashlib",
    "cadence._delivery",
    "cadence.core.drift",
    "cadence.core.lookup",
    "cadence.core.occasions",
    "cadence.core.planning",
    "cadence.core.roster",
)


def test_due_reads_up_to_date_plans_without_planning(tmp_path: Path) -> None:
    """On a store planned at --now, `cadence due` imports no planning, dateutil nor hashlib."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with cadence.open_store(url) as store:
        store.put_contact(cadence.Contact("ada", "Ada", since=date(2026, 10, 1)))
        store.set_rule(cadence.Rule(cadence.Every(weeks=1)))
        store.refresh(now=datetime.fromisoformat(NOW), within=timedelta(days=7))
    script = f"""
        import sys
        already = set(sys.modules)
        from cadence.__main__ import main
        sys.argv = ["cadence", "--now", "{NOW}", "due"]
        main()
        new = (m for m in sys.modules if m not in already)
        print(sorted(m for m in new if m.startswith({PLANNING!r})), file=sys.stderr)
        """
    done = _python(script, CADENCE_DB=url)
    assert "overdue" in done.stdout
    assert "ada" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"
    # The same command on a store whose plans are stale plans them, importing what it needs.
    with cadence.open_store(url) as store:
        store.set_rule(cadence.Rule(cadence.Every(weeks=2)))
    done = _python(script, CADENCE_DB=url)
    assert "cadence.core.planning" in done.stderr.strip().splitlines()[-1]


# -- what rich would print -------------------------------------------------------

_CELL = st.one_of(
    st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=12),
    st.text(max_size=8),  # any character: wide, combining, controls, line breaks
    st.sampled_from(["José", "東京", "a\u0301", "trailing ", " leading", "", "x\ny", "\x1b[2J"]),
)


def _rich(thing: Table | Text | str, width: int) -> str:
    output = Output()
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        output.console.print(thing.to_rich() if isinstance(thing, Table | Text) else thing)
    return buffer.getvalue()


@given(
    headers=st.lists(st.sampled_from(["when", "", "contact", "channel", "key"]), min_size=1),
    rows=st.lists(st.lists(_CELL, max_size=6), max_size=5),
    width=st.integers(10, 160),
    styled=st.booleans(),
)
def test_a_table_written_plainly_is_what_rich_writes(
    headers: list[str], rows: list[list[str]], width: int, styled: bool
) -> None:
    """Where the plain writer takes a table, its text is rich's, character for character."""
    table = Table(*headers, box=None)
    for row in rows:
        cells = [Text(c, style="red") if styled and i == 0 else c for i, c in enumerate(row)]
        table.add_row(*cells[: len(headers)])
    os.environ["COLUMNS"] = str(width)
    try:
        plain = Output()._plain((table,), {})
        if plain is not None:
            assert plain == _rich(table, width)
    finally:
        del os.environ["COLUMNS"]


@given(text=_CELL, width=st.integers(10, 160))
def test_a_line_written_plainly_is_what_rich_writes(text: str, width: int) -> None:
    """Strings and styled text, written plainly, are what rich writes."""
    os.environ["COLUMNS"] = str(width)
    try:
        for thing in (text, Text.assemble(("bold: ", "bold"), text)):
            plain = Output()._plain((thing,), {"markup": False})
            if plain is not None:
                assert plain == _rich(thing, width)
    finally:
        del os.environ["COLUMNS"]


def test_common_output_is_written_without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table of names and a line of text take the plain way; a terminal takes rich's."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    table = Table("when", "", "contact", box=None)
    table.add_row(Text("3d overdue", style="red"), "Check in with José", "jose")
    plain = Output()._plain((table,), {})
    assert plain is not None
    assert plain == _rich(table, 80)
    assert plain.splitlines()[1] == " 3d overdue  Check in with José  jose    "
    assert Output()._plain(("saved ada (Ada)",), {}) == "saved ada (Ada)\n"
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert Output()._plain(("saved ada (Ada)",), {}) is None


# -- the cache of installed plugins ------------------------------------------------


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of its own, and a folder on sys.path to install distributions in."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(_installed.CACHE_ENV, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    (tmp_path / "site").mkdir()
    _installed.forget()
    importlib.invalidate_caches()
    yield tmp_path
    _installed.forget()
    importlib.invalidate_caches()


def _install(site: Path, name: str, version: str, entry: str) -> Path:
    """A distribution's metadata as pip leaves it: a dist-info folder with an entry point."""
    folder = site / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    (folder / "entry_points.txt").write_text(f"[cadence]\n{entry}\n", encoding="utf-8")
    importlib.invalidate_caches()
    return folder


def _cache_file(root: Path) -> Path:
    (found,) = (root / "cache" / "cadence").glob("plugins-*.json")
    return found


def _names() -> set[str]:
    _installed.forget()
    return {point.name for point in _installed.entry_points()}


def test_the_cache_holds_what_importlib_metadata_reads(cache: Path) -> None:
    """The first read is kept, private to the user, and the next read gives the same."""
    first = _installed.entry_points()
    assert {"console", "sqlite"} <= {point.name for point in first}
    kept = _cache_file(cache)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    _installed.forget()
    assert _installed.entry_points() == first == list(_installed._read_installed().points)
    assert _installed.distribution_version("cadence") == cadence.__version__


def test_a_warm_cache_is_read_instead_of_the_metadata(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cache warm, no distribution's metadata is read."""
    first = _installed.entry_points()
    _installed.forget()

    def unread() -> None:
        raise AssertionError("the metadata was read")

    monkeypatch.setattr(_installed, "_read_installed", unread)
    assert _installed.entry_points() == first


def test_installing_and_removing_a_distribution_is_seen(cache: Path) -> None:
    """A plugin installed after the cache was written is found; removed, it is gone."""
    assert "pager" not in _names()
    folder = _install(cache / "site", "cadence-pager", "1.0", "pager = cadence_pager")
    assert "pager" in _names()
    assert _installed.distribution_version("cadence-pager") == "1.0"
    # Upgraded in place: same folder name, new entry points, as an editable reinstall leaves it.
    (folder / "entry_points.txt").write_text(
        "[cadence]\npager = cadence_pager\npager-extra = cadence_pager.extra\n", encoding="utf-8"
    )
    os.utime(folder / "entry_points.txt", ns=(1, 1))
    assert {"pager", "pager-extra"} <= _names()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    importlib.invalidate_caches()
    assert not {"pager", "pager-extra"} & _names()


def test_a_broken_cache_is_ignored_and_replaced(cache: Path) -> None:
    """A cache file that is not JSON, or not the cache's shape, is read past and rewritten."""
    expected = _names()
    kept = _cache_file(cache)
    for garbage in ("{not json", "[]", '{"key": 1}', json.dumps({"key": None, "points": [[1]]})):
        kept.write_text(garbage, encoding="utf-8")
        assert _names() == expected
        assert json.loads(kept.read_text(encoding="utf-8"))["points"]
    stored = json.loads(kept.read_text(encoding="utf-8"))
    stored["points"] = [[None, "x", None, None]]
    kept.write_text(json.dumps(stored), encoding="utf-8")
    assert _names() == expected


def test_a_cache_folder_that_cannot_be_written_is_done_without(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file where the cache folder should be leaves nothing cached, and plugins still load."""
    (cache / "cache").write_text("not a folder", encoding="utf-8")
    assert {"console", "sqlite"} <= _names()
    monkeypatch.setenv("CADENCE_DISABLE_PLUGINS", "")
    assert "console" in _plugins.load_plugins().adapter_names()


def test_the_cache_can_be_turned_off(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CADENCE_PLUGIN_CACHE=0 reads the metadata every time and writes no file."""
    monkeypatch.setenv(_installed.CACHE_ENV, "0")
    assert {"console", "sqlite"} <= _names()
    assert not (cache / "cache").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is Linux's")
@pytest.mark.parametrize("xdg", [None, "/somewhere/cache"])
def test_the_cache_folder_is_platformdirs_s(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None
) -> None:
    """cadence's cache folder is the one platformdirs names, with XDG_CACHE_HOME or without."""
    import platformdirs

    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert _installed.cache_folder() == platformdirs.user_cache_dir("cadence", appauthor=False)
