"""Tests of cadence-holidays, with the holidays package's real data and a real SQLite store."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cadence_holidays
import pytest

import cadence
from cadence._config import sources_from_data
from cadence.testing import Plugins, fresh_plugins, installed_plugins

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def plugins() -> Iterator[Plugins]:
    """A plugin manager with cadence's own plugins and this one."""
    with fresh_plugins(cadence_holidays) as manager:
        yield manager


def holidays(plugins: Plugins, name: str = "hols", **settings: Any) -> Any:
    """The holidays source built, as cadence builds it, from a [[sources]] table."""
    return plugins.build_source(cadence.SourceConfig("holidays", name=name, settings=settings))


@pytest.fixture
def store(tmp_path: Path, plugins: Plugins) -> Iterator[Any]:
    """A SQLite store: Ana and Ben tagged "us" (in two US zones), Priya tagged "india"."""
    with cadence.open_store(f"sqlite:///{tmp_path / 'cadence.db'}", plugins=plugins) as opened:
        opened.put_contacts(
            [
                cadence.Contact("ana", "Ana", timezone="America/New_York", tags=["us"]),
                cadence.Contact("ben", "Ben", timezone="America/Los_Angeles", tags=["us"]),
                cadence.Contact("priya", "Priya", timezone="Asia/Kolkata", tags=["india"]),
            ]
        )
        yield opened


def test_thanksgiving_is_an_occasion_for_each_tag_and_contact(plugins: Plugins) -> None:
    """US Thanksgiving 2026 falls on 26 November: one occasion per tag and per contact."""
    settings = {"tags": ["us", "client"], "contacts": ["ana"], "only": ["Thanksgiving Day"]}
    source = holidays(plugins, country="US", lead="3d", **settings)
    day, lead = date(2026, 11, 26), timedelta(days=3)
    assert source.occasions(TODAY, date(2026, 12, 31)) == [
        cadence.Occasion("Thanksgiving Day (US)", on=day, tag="us", lead=lead),
        cadence.Occasion("Thanksgiving Day (US)", on=day, tag="client", lead=lead),
        cadence.Occasion("Thanksgiving Day (US)", on=day, contact="ana", lead=lead),
    ]


def test_only_keeps_the_named_holidays_whatever_their_case(plugins: Plugins) -> None:
    """only=["diwali"] keeps India's Diwali alone: 8 November 2026 and 29 October 2027."""
    source = holidays(plugins, country="in", tags=["india"], only=["diwali"])
    found = source.occasions(TODAY - timedelta(days=30), date(2027, 12, 31))
    assert [(o.title, o.on) for o in found] == [
        ("Diwali (IN)", date(2026, 11, 8)),
        ("Diwali (IN)", date(2027, 10, 29)),
    ]


def test_every_holiday_in_the_window_and_none_outside_it(plugins: Plugins) -> None:
    """Without only, each holiday from start to end (both included) is given; observed days not."""
    source = holidays(plugins, country="US", tags=["us"])
    found = source.occasions(date(2026, 7, 4), date(2026, 11, 26))
    assert [(o.title, o.on) for o in found] == [
        ("Independence Day (US)", date(2026, 7, 4)),
        ("Labor Day (US)", date(2026, 9, 7)),
        ("Columbus Day (US)", date(2026, 10, 12)),
        ("Veterans Day (US)", date(2026, 11, 11)),
        ("Thanksgiving Day (US)", date(2026, 11, 26)),
    ]
    assert all(o.lead == timedelta(0) for o in found)


def test_a_subdivision_adds_its_own_holidays(plugins: Plugins) -> None:
    """subdivision="ca" adds California's holidays, titled with the state."""
    source = holidays(plugins, country="US", subdivision="ca", tags=["ca"])
    found = source.occasions(date(2026, 3, 30), date(2026, 4, 1))
    assert [(o.title, o.on) for o in found] == [("Cesar Chavez Day (US-CA)", date(2026, 3, 31))]


def test_language_names_the_holidays(plugins: Plugins) -> None:
    """language="de" gives Germany's holidays their German names, which only then matches."""
    source = holidays(plugins, country="DE", tags=["de"], language="de", only=["neujahr"])
    found = source.occasions(date(2026, 12, 1), date(2027, 1, 31))
    assert [(o.title, o.on) for o in found] == [("Neujahr (DE)", date(2027, 1, 1))]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"country": "XX", "tags": ["a"]}, "unknown country 'XX'"),
        ({"country": "US", "subdivision": "ZZ", "tags": ["a"]}, "US has no subdivision 'ZZ'"),
        ({"country": "US", "language": "fr", "tags": ["a"]}, "have no names in 'fr'"),
        ({"country": "US"}, "give 'tags' or 'contacts'"),
        ({"country": "US", "tags": [" a"]}, "'tags' must be a list of names"),
        ({"country": "US", "contacts": [3]}, "'contacts' must be a list of names"),
        ({"country": "US", "tags": ["a"], "lead": "soon"}, "'lead': not a duration: 'soon'"),
        ({"country": "US", "tags": ["a"], "lead": "400d"}, "'lead' must be a year at most"),
        ({"tags": ["a"]}, "holidays needs the setting 'country'"),
        ({"country": "US", "tags": ["a"], "colour": "red"}, "unknown holidays setting 'colour'"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_table(
    plugins: Plugins, settings: dict[str, Any], message: str
) -> None:
    """Each bad setting is a one-line ConfigError naming the [[sources]] table."""
    with pytest.raises(cadence.ConfigError) as raised:
        holidays(plugins, name="work", **settings)
    text = str(raised.value)
    assert text.startswith("source 'work': ")
    assert message in text
    assert "\n" not in text


def test_a_name_in_only_that_is_no_holiday_is_refused(plugins: Plugins) -> None:
    """A misspelt name in only is an error listing the country's holidays, not a silent nothing."""
    source = holidays(plugins, country="US", tags=["us"], only=["Thanksgivin"])
    with pytest.raises(cadence.ConfigError, match=r"'Thanksgivin'.*Thanksgiving Day"):
        source.occasions(TODAY, date(2026, 12, 31))


def test_a_sync_puts_thanksgiving_on_the_tagged_contacts_agenda(
    store: Any, plugins: Plugins
) -> None:
    """End to end: synced holidays give the "us" contacts a Thanksgiving reminder, lead included.

    Syncing again adds nothing and keeps every reminder's key.
    """
    config = cadence.SourceConfig(
        "holidays",
        name="us-holidays",
        settings={"country": "US", "tags": ["us"], "lead": "2d", "only": ["Thanksgiving Day"]},
    )
    report = cadence.sync_sources(store, [config], today=TODAY, plugins=plugins)
    assert report.errors == ()
    # 2026 and 2027 fall within the default 400 days ahead.
    assert report["us-holidays"] == cadence.SourceSync("us-holidays", removed=0, added=2)
    agenda = store.agenda(now=NOW, within=timedelta(days=7))
    assert [(r.contact.id, r.title, r.date) for r in agenda] == [
        ("ana", "Thanksgiving Day (US) for Ana on 26 November 2026", date(2026, 11, 24)),
        ("ben", "Thanksgiving Day (US) for Ben on 26 November 2026", date(2026, 11, 24)),
    ]
    assert {r.lead for r in agenda} == {timedelta(days=2)}
    keys = [r.key for r in agenda]
    occasions = store.list_occasions()
    again = cadence.sync_sources(store, [config], today=TODAY, plugins=plugins)
    assert (again.added, again.removed) == (0, 0)
    assert store.list_occasions() == occasions
    assert [r.key for r in store.agenda(now=NOW, within=timedelta(days=7))] == keys


def test_a_day_later_the_passed_holidays_leave_and_the_new_ones_come(
    store: Any, plugins: Plugins
) -> None:
    """The window moves with today: a holiday that has passed is removed, one now in reach added."""
    config = cadence.SourceConfig(
        "holidays", ahead=timedelta(days=31), settings={"country": "IN", "tags": ["india"]}
    )
    first = cadence.sync_sources(store, [config], today=TODAY, plugins=plugins)
    assert first["holidays"].added == 1
    assert [(o.title, o.on) for _, o in store.list_occasions()] == [
        ("Guru Nanak's Birthday (IN)", date(2026, 11, 24))
    ]
    later = cadence.sync_sources(store, [config], today=date(2026, 11, 26), plugins=plugins)
    assert later["holidays"] == cadence.SourceSync("holidays", removed=1, added=1)
    assert [(o.title, o.on) for _, o in store.list_occasions()] == [
        ("Christmas (IN)", date(2026, 12, 25))
    ]


def test_a_contact_the_store_lacks_is_reported_and_changes_nothing(
    store: Any, plugins: Plugins
) -> None:
    """contacts naming someone not in the store fails that source's sync, keeping nothing."""
    config = cadence.SourceConfig("holidays", settings={"country": "US", "contacts": ["zoe"]})
    report = cadence.sync_sources(store, [config], today=TODAY, plugins=plugins)
    assert report.errors == ("source 'holidays': unknown contact 'zoe'",)
    assert store.list_occasions() == []


def test_registering_the_plugin_does_not_import_holidays() -> None:
    """The source is registered lazily: cadence loads the plugin without the holidays package."""
    code = (
        "import sys, cadence_holidays\n"
        "from cadence.testing import fresh_plugins\n"
        "with fresh_plugins(cadence_holidays) as plugins:\n"
        "    assert 'holidays' in plugins.source_names()\n"
        "assert 'holidays' not in sys.modules, 'holidays was imported'\n"
    )
    done = subprocess.run(  # noqa: S603  # our own interpreter running our own code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_cadence_finds_the_installed_plugin() -> None:
    """Installed, the plugin is found through its entry point and registers its source."""
    (info,) = [info for info in installed_plugins().list() if info.name == "holidays"]
    assert info.registered == (("source", "holidays"),)
    assert info.problems == ()
    assert info.distribution == "cadence-holidays"


def test_the_readmes_configuration_syncs_as_the_readme_shows(store: Any, plugins: Plugins) -> None:
    """The README's [[sources]] tables load, and syncing on 23 November 2026 prints what it says."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    toml = readme[readme.index("```toml\n") + 8 :]
    toml = toml[: toml.index("```")]
    shown = readme[readme.index("$ cadence sync\n") + 15 :]
    shown = shown[: shown.index("$ ")].splitlines()
    store.put_contact(cadence.Contact("california", "Cal", tags=["california"]))
    configs = sources_from_data(tomllib.loads(toml)["sources"])
    report = cadence.sync_sources(store, configs, today=TODAY, plugins=plugins)
    assert report.errors == ()
    printed = [f"source {s.name}: {s.added} added, {s.removed} removed" for s in report.sources]
    assert printed == shown
