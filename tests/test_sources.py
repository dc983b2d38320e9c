"""Occasion sources: [[sources]] tables, sync_sources, and what a sync changes in a real store."""

from __future__ import annotations

import tomllib
import types
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cadence
from cadence import Contact, Occasion, SourceConfig, sync_sources
from cadence._config import load_config, open_store, sources_from_data
from cadence._plugins import Plugins
from cadence.typing import Register

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

#: What the "events" source gives, by the name of the setting ``calendar``;
#: tests change it between syncs as a remote calendar would change.
CALENDARS: dict[str, list[tuple[str, str]]] = {}
#: Every Events source built, in order.
MADE: list[Events] = []


class Events:
    """A source: the (title, ISO date) events of a calendar, for every contact with ``tag``.

    It remembers each window it was asked about and whether it was closed.
    """

    def __init__(self, *, calendar: str, tag: str = "us", lead: str = "0d") -> None:
        if calendar not in CALENDARS:
            raise cadence.ConfigError(f"no calendar called {calendar!r}")
        self.calendar = calendar
        self.tag = tag
        self.lead = cadence.parse_duration(lead)
        self.asked: list[tuple[date, date]] = []
        self.closed = False
        MADE.append(self)

    def occasions(self, start: date, end: date) -> list[Occasion]:
        self.asked.append((start, end))
        return [
            Occasion(title, on=date.fromisoformat(day), tag=self.tag, lead=self.lead)
            for title, day in CALENDARS[self.calendar]
        ]

    def close(self) -> None:
        self.closed = True


class Broken:
    """A source whose occasions() raises, or returns ``garbage`` when it is given."""

    def __init__(self, *, garbage: Any = None) -> None:
        self.garbage = garbage

    def occasions(self, start: date, end: date) -> Any:
        if self.garbage is None:
            raise ConnectionError("the calendar server hung up")
        return self.garbage


class EventsPlugin:
    """Registers the ``events`` and ``broken`` sources."""

    @cadence.hookimpl
    def cadence_register_sources(self, register: Register) -> None:
        register("events", Events)
        register("broken", Broken)


@pytest.fixture
def sources(plugins: Plugins) -> Iterator[Plugins]:
    """cadence's own plugins and the test sources, with empty calendars."""
    CALENDARS.clear()
    MADE.clear()
    assert plugins.register(EventsPlugin(), "events-plugin") == "events-plugin"
    try:
        yield plugins
    finally:
        plugins.unregister("events-plugin")


@pytest.fixture
def store(tmp_path: Path, sources: Plugins) -> Iterator[Any]:
    """A SQLite store with Ana and Ben tagged "us" and Chidi tagged "ng"."""
    with open_store(f"sqlite:///{tmp_path / 'cadence.db'}", plugins=sources) as opened:
        opened.put_contacts(
            [
                Contact("ana", "Ana", timezone="America/New_York", tags=["us"]),
                Contact("ben", "Ben", timezone="America/Los_Angeles", tags=["us", "client"]),
                Contact("chidi", "Chidi", timezone="Africa/Lagos", tags=["ng"]),
            ]
        )
        yield opened


def events(name: str = "us-days", **settings: Any) -> SourceConfig:
    """A [[sources]] table for the events source reading calendar ``name``."""
    return SourceConfig("events", name=name, settings={"calendar": name, **settings})


def occasion_titles(agenda: cadence.Agenda) -> list[tuple[str, str, date]]:
    """(contact, title, due date) of each occasion reminder."""
    return [(r.contact.id, r.title, r.date) for r in agenda if r.kind == "occasion"]


def test_a_sync_brings_a_sources_occasions_into_the_agenda(store: Any, sources: Plugins) -> None:
    """Synced occasions reach the contacts with their tag, with their lead, and no one else."""
    CALENDARS["us-days"] = [("Thanksgiving (US)", "2026-11-26")]
    report = sync_sources(store, [events(lead="2d")], today=TODAY, plugins=sources)
    assert report.errors == ()
    assert report["us-days"] == cadence.SourceSync("us-days", removed=0, added=1)
    agenda = store.agenda(now=NOW, within=timedelta(days=7))
    assert occasion_titles(agenda) == [
        ("ana", "Thanksgiving (US) for Ana on 26 November 2026", date(2026, 11, 24)),
        ("ben", "Thanksgiving (US) for Ben on 26 November 2026", date(2026, 11, 24)),
    ]
    assert all(r.lead == timedelta(days=2) for r in agenda if r.kind == "occasion")


def test_syncing_again_changes_nothing_and_keeps_the_keys(store: Any, sources: Plugins) -> None:
    """A second sync of the same occasions adds and removes nothing; reminders keep their keys."""
    CALENDARS["us-days"] = [("Thanksgiving (US)", "2026-11-26"), ("Christmas", "2026-12-25")]
    sync_sources(store, [events()], today=TODAY, plugins=sources)
    before = store.list_occasions()
    keys = [r.key for r in store.agenda(now=NOW, within=timedelta(days=40))]
    again = sync_sources(store, [events()], today=TODAY, plugins=sources)
    assert (again.added, again.removed) == (0, 0)
    assert store.list_occasions() == before
    assert [r.key for r in store.agenda(now=NOW, within=timedelta(days=40))] == keys
    assert len(keys) == 4


def test_a_changed_source_replaces_what_it_gave(store: Any, sources: Plugins) -> None:
    """What the source no longer gives leaves the agenda; what it adds comes in; nothing doubles."""
    CALENDARS["us-days"] = [("Launch", "2026-11-27"), ("Party", "2026-11-28")]
    sync_sources(store, [events()], today=TODAY, plugins=sources)
    CALENDARS["us-days"] = [("Party", "2026-11-28"), ("Retreat", "2026-11-29")]
    report = sync_sources(store, [events()], today=TODAY, plugins=sources)
    assert report["us-days"] == cadence.SourceSync("us-days", removed=1, added=1)
    agenda = store.agenda(now=NOW, within=timedelta(days=7))
    titles = {title.split(" for ")[0] for _, title, _ in occasion_titles(agenda)}
    assert titles == {"Party", "Retreat"}
    assert len(store.list_occasions(source="us-days")) == 2


def test_occasions_added_by_hand_are_never_touched(store: Any, sources: Plugins) -> None:
    """A sync never removes an occasion added by hand, even one equal to the source's."""
    mine = Occasion("Launch", on=date(2026, 11, 27), tag="us")
    ident = store.add_occasion(mine)
    CALENDARS["us-days"] = [("Launch", "2026-11-27")]
    sync_sources(store, [events()], today=TODAY, plugins=sources)
    CALENDARS["us-days"] = []
    report = sync_sources(store, [events()], today=TODAY, plugins=sources)
    assert report["us-days"].removed == 1
    assert store.list_occasions() == [(ident, mine)]


def test_a_source_is_asked_from_yesterday_to_ahead_and_what_is_outside_is_left_out(
    store: Any, sources: Plugins
) -> None:
    """The window runs from the day before today to ``ahead`` after; one-offs outside are not kept.

    The day before is in: where a contact's zone is behind UTC, it is still that day.
    """
    CALENDARS["us-days"] = [
        ("Passed", "2026-11-21"),
        ("Yesterday", "2026-11-22"),
        ("Today", "2026-11-23"),
        ("Last day", "2026-12-03"),
        ("Too far", "2026-12-04"),
    ]
    config = SourceConfig(
        "events", name="us-days", ahead=timedelta(days=10), settings={"calendar": "us-days"}
    )
    report = sync_sources(store, [config], today=TODAY, plugins=sources)
    (made,) = MADE
    assert made.asked == [(date(2026, 11, 22), date(2026, 12, 3))]
    assert made.closed
    assert report["us-days"].added == 3
    assert [o.title for _, o in store.list_occasions()] == ["Yesterday", "Today", "Last day"]


def test_yesterdays_occasion_still_reaches_a_contact_for_whom_it_is_today(
    store: Any, sources: Plugins
) -> None:
    """Just after midnight UTC, contacts in American zones still get their evening's occasion."""
    CALENDARS["us-days"] = [("Launch", "2026-11-22")]
    just_after_midnight = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    sync_sources(store, [events()], today=just_after_midnight.date(), plugins=sources)
    due = store.agenda(now=just_after_midnight).due
    assert [(r.contact.id, r.title) for r in due if r.kind == "occasion"] == [
        ("ana", "Launch for Ana on 22 November 2026"),
        ("ben", "Launch for Ben on 22 November 2026"),
    ]


def test_the_default_window_is_four_hundred_days(store: Any, sources: Plugins) -> None:
    """Without ``ahead`` a source is asked for the next 400 days."""
    CALENDARS["us-days"] = []
    sync_sources(store, [events()], today=TODAY, plugins=sources)
    assert MADE[0].asked == [(TODAY - timedelta(days=1), TODAY + timedelta(days=400))]


def test_a_failing_source_is_reported_by_name_and_changes_nothing(
    store: Any, sources: Plugins
) -> None:
    """A source that raises keeps what it gave before; the sources after it are still synced."""
    CALENDARS["us-days"] = [("Launch", "2026-11-27")]
    CALENDARS["ng-days"] = [("Durbar", "2026-11-30")]
    sync_sources(store, [events()], today=TODAY, plugins=sources)
    before = store.list_occasions()
    report = sync_sources(
        store,
        [SourceConfig("broken", name="remote"), events("ng-days", tag="ng")],
        today=TODAY,
        plugins=sources,
    )
    assert report.errors == (
        "source 'remote': 'broken' raised ConnectionError: the calendar server hung up",
    )
    assert not report["remote"].ok
    assert report["ng-days"] == cadence.SourceSync("ng-days", removed=0, added=1)
    assert store.list_occasions()[: len(before)] == before
    assert store.list_occasions(source="remote") == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"garbage": 42}, "occasions() returned 42, not a list of occasions"),
        ({"garbage": ["Christmas"]}, "occasions() gave 'Christmas', which is not an occasion"),
    ],
)
def test_a_source_giving_something_else_than_occasions_changes_nothing(
    store: Any, sources: Plugins, settings: dict[str, Any], message: str
) -> None:
    """Garbage from occasions() is reported naming the source, and nothing is kept."""
    report = sync_sources(
        store, [SourceConfig("broken", name="odd", settings=settings)], today=TODAY, plugins=sources
    )
    assert report.errors == (f"source 'odd': {message}",)
    assert store.list_occasions() == []


def test_an_occasion_for_an_unknown_contact_fails_the_source(store: Any, sources: Plugins) -> None:
    """A source's occasion for a contact the store lacks refuses that source's whole sync."""

    class Team:
        def occasions(self, start: date, end: date) -> list[Occasion]:
            return [
                Occasion("Offsite", on=date(2026, 12, 1), contact="ana"),
                Occasion("Offsite", on=date(2026, 12, 1), contact="zoe"),
            ]

    class Plugin:
        @cadence.hookimpl
        def cadence_register_sources(self, register: Register) -> None:
            register("team", Team)

    sources.register(Plugin(), "team-plugin")
    try:
        report = sync_sources(store, [SourceConfig("team")], today=TODAY, plugins=sources)
    finally:
        sources.unregister("team-plugin")
    assert report.errors == ("source 'team': unknown contact 'zoe'",)
    assert store.list_occasions() == []


def test_bad_source_tables_are_reported_naming_them(store: Any, sources: Plugins) -> None:
    """An unknown source or a bad setting is reported per table; the good ones are synced."""
    CALENDARS["us-days"] = [("Launch", "2026-11-27")]
    report = sync_sources(
        store,
        [
            SourceConfig("nope", name="typo"),
            SourceConfig("events", name="missing", settings={"calendar": "gone"}),
            SourceConfig("events", name="extra", settings={"calendar": "us-days", "x": 1}),
            events(),
        ],
        today=TODAY,
        plugins=sources,
    )
    typo, missing, extra = report.errors
    assert typo.startswith(
        "source 'typo': unknown source 'nope' (known: broken, caldav, calendar, carddav, events"
    )
    assert missing == "source 'missing': no calendar called 'gone'"
    assert extra == "source 'extra': unknown events setting 'x' (known: calendar, lead, tag)"
    assert report["us-days"].added == 1


def test_two_sources_with_one_name_are_refused(store: Any, sources: Plugins) -> None:
    """Names tell sources' occasions apart, so a name used twice syncs nothing."""
    CALENDARS["us-days"] = [("Launch", "2026-11-27")]
    with pytest.raises(cadence.ConfigError, match="two sources are called 'us-days'"):
        sync_sources(store, [events(), events()], today=TODAY, plugins=sources)
    with pytest.raises(cadence.CadenceError, match="today must be a date"):
        sync_sources(store, [events()], today=NOW, plugins=sources)  # type: ignore[arg-type]
    assert store.list_occasions() == []


def test_sources_come_from_cadence_toml(tmp_path: Path) -> None:
    """[[sources]] tables give the source, a name (the source's by default), ahead and settings."""
    path = tmp_path / "cadence.toml"
    path.write_text(
        """
[[sources]]
source = "holidays"
country = "US"
tags = ["us"]

[[sources]]
source = "holidays"
name = "india"
ahead = "60d"
country = "IN"
only = ["Diwali"]
""",
        encoding="utf-8",
    )
    us, india = load_config(path).sources
    assert (us.source, us.name, us.ahead) == ("holidays", "holidays", timedelta(days=400))
    assert dict(us.settings) == {"country": "US", "tags": ["us"]}
    assert (india.name, india.ahead) == ("india", timedelta(days=60))
    assert dict(india.settings) == {"country": "IN", "only": ["Diwali"]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("oops", "'sources' must be a list of tables"),
        (["oops"], "source 1 must be a table"),
        ([{"country": "US"}], "source 1 has no 'source'"),
        ([{"source": 3}], "source 1: a source table needs the name of a source, not 3"),
        ([{"source": "h", "ahead": "soon"}], "source 1: not a duration: 'soon'"),
        ([{"source": "h", "ahead": "2h"}], "source 1: a source's 'ahead' must be a day or more"),
        ([{"source": "h", "name": " x"}], "source 1: a source's name must be text without"),
        ([{"source": "h"}, {"source": "h"}], "two sources are called 'h'; give them names"),
    ],
)
def test_bad_source_tables_are_config_errors_in_one_line(data: object, message: str) -> None:
    """Each mistake in [[sources]] is a one-line ConfigError naming the file and the table."""
    with pytest.raises(cadence.ConfigError) as raised:
        sources_from_data(data, source="cadence.toml")
    text = str(raised.value)
    assert text.startswith("cadence.toml: ")
    assert message in text
    assert "\n" not in text


def test_source_settings_are_not_shown(sources: Plugins) -> None:
    """A SourceConfig's repr leaves its settings out, since they may hold secrets."""
    config = SourceConfig("events", settings={"token": "s3cret"})
    assert "s3cret" not in repr(config)
    assert config.name == "events"


def test_the_guides_source_syncs_as_the_guide_says(store: Any, sources: Plugins) -> None:
    """The source and the [[sources]] table in docs/plugins.md bring the launch in for "client"."""
    guide = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text("utf-8")
    section = guide[guide.index("## Writing a source of occasions") :]
    code = section[section.index("```python\n") + 10 : section.index("```\n\n```toml")]
    table = section[section.index("```toml\n") + 8 :]
    table = table[: table.index("```")]
    module = types.ModuleType("guide_launches")
    exec(compile(code, "guide", "exec"), vars(module))  # noqa: S102  # the guide's own example
    sources.register(module, "guide-launches")
    try:
        (config,) = sources_from_data(tomllib.loads(table)["sources"])
        report = sync_sources(store, [config], today=TODAY, plugins=sources)
    finally:
        sources.unregister("guide-launches")
    assert report["team-launches"] == cadence.SourceSync("team-launches", removed=0, added=1)
    (reminder,) = store.agenda(now=datetime(2027, 2, 1, 18, tzinfo=UTC))
    assert reminder.contact.id == "ben"
    assert reminder.title == "Version 2 (launch) for Ben on 1 February 2027"
