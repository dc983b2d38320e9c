"""Tests of the cadence-workhours plugin, through cadence's own plugin manager."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from zoneinfo import ZoneInfo

import cadence_workhours
import pytest

import cadence
from cadence.testing import (
    Plugins,
    RosterBuilder,
    fresh_plugins,
    installed_plugins,
    make_reminder,
)

PARIS = ZoneInfo("Europe/Paris")
EMAIL = cadence.Route("console", name="email")


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration from the machine running the tests leaks in."""
    for name in ("CADENCE_WORKHOURS", "CADENCE_WORKDAYS", "CADENCE_WORKHOURS_ROUTES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def plugins() -> Iterator[Plugins]:
    """A plugin manager with cadence's own plugins and this one."""
    with fresh_plugins(cadence_workhours) as manager:
        yield manager


def keeps(
    plugins: Plugins,
    now: datetime,
    route: cadence.Route = EMAIL,
    *,
    timezone: str = "Europe/Paris",
    tags: str = "",
) -> bool:
    """Whether a reminder due just before ``now``, for a contact in ``timezone``, is kept."""
    reminder = make_reminder(
        "ada", due=now - timedelta(minutes=5), now=now, timezone=timezone, tags=tags.split()
    )
    return plugins.keep(reminder, route, now=now)


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in Paris in the week of Monday 23 November 2026 (day 23 is the Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


def test_inside_working_hours_on_a_weekday_the_reminder_goes_out(plugins: Plugins) -> None:
    """On a Tuesday at 10:00 in the contact's zone, the reminder is kept."""
    assert keeps(plugins, paris(24, 10))


@pytest.mark.parametrize(
    ("moment", "why"),
    [
        (paris(24, 8, 59), "before the day starts"),
        (paris(24, 17, 30), "when the day has ended"),
        (paris(24, 22), "at night"),
        (paris(28, 11), "on a Saturday"),
        (paris(29, 11), "on a Sunday"),
    ],
)
def test_outside_working_hours_the_reminder_is_held(
    plugins: Plugins, moment: datetime, why: str
) -> None:
    """Outside 09:00-17:30, Monday to Friday, the reminder is dropped for this run."""
    assert not keeps(plugins, moment), why


def test_the_contacts_own_zone_decides(plugins: Plugins) -> None:
    """Monday 16:00 UTC is working time in New York but 01:00 on Tuesday in Tokyo."""
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert keeps(plugins, now, timezone="America/New_York")
    assert not keeps(plugins, now, timezone="Asia/Tokyo")


def test_summer_time_moves_working_hours_against_utc(plugins: Plugins) -> None:
    """08:30 UTC is 08:30 in a London winter (held) and 09:30 in a London summer (kept)."""
    winter = datetime(2026, 3, 23, 8, 30, tzinfo=UTC)
    summer = datetime(2026, 3, 30, 8, 30, tzinfo=UTC)
    assert not keeps(plugins, winter, timezone="Europe/London")
    assert keeps(plugins, summer, timezone="Europe/London")


def test_hours_and_days_come_from_the_environment(
    plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CADENCE_WORKHOURS and CADENCE_WORKDAYS replace 09:00-17:30 and mon-fri."""
    monkeypatch.setenv("CADENCE_WORKHOURS", "07:00-11:00")
    monkeypatch.setenv("CADENCE_WORKDAYS", "sun-thu")
    assert keeps(plugins, paris(29, 8))
    assert not keeps(plugins, paris(27, 8))
    assert not keeps(plugins, paris(24, 12))


def test_a_contacts_tags_override_the_defaults(plugins: Plugins) -> None:
    """``workhours:`` and ``workdays:`` tags set one contact's hours; ``workhours:any`` none."""
    assert keeps(plugins, paris(28, 23), tags="workhours:any")
    assert not keeps(plugins, paris(24, 10), tags="workhours:13:00-15:00")
    assert keeps(plugins, paris(24, 14), tags="workhours:13:00-15:00")
    assert keeps(plugins, paris(28, 10), tags="workdays:sat,sun")
    assert not keeps(plugins, paris(24, 10), tags="workdays:sat,sun")


def test_hours_past_midnight_belong_to_the_day_they_began(
    plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 22:00-06:00 on weekdays, Saturday 03:00 is Friday's night shift, Monday 03:00 is not."""
    monkeypatch.setenv("CADENCE_WORKHOURS", "22:00-06:00")
    assert keeps(plugins, paris(27, 23))
    assert keeps(plugins, paris(28, 3))
    assert not keeps(plugins, paris(28, 23))
    assert not keeps(plugins, datetime(2026, 11, 30, 3, 0, tzinfo=PARIS))
    assert not keeps(plugins, paris(24, 12))


@pytest.mark.parametrize(
    ("hours", "days", "minutes"),
    [
        ("09:00-17:30", "mon-fri", 5 * 510),
        ("22:00-06:00", "mon-fri", 5 * 480),
        ("00:00-24:00", "sat-sun", 2 * 1440),
        ("08:00-12:00", "fri-mon", 4 * 240),
    ],
)
def test_a_schedule_covers_its_minutes_of_the_week(hours: str, days: str, minutes: int) -> None:
    """Over a whole week, a schedule covers exactly its hours times its days."""
    schedule = cadence_workhours.Schedule.parse(hours, days)
    start = datetime(2026, 11, 23, 0, 0)
    covered = sum(schedule.covers(start + timedelta(minutes=m)) for m in range(7 * 1440))
    assert covered == minutes


def test_feeds_are_left_alone_unless_named(
    plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ``ical`` route is not filtered by default; CADENCE_WORKHOURS_ROUTES picks routes."""
    night = paris(24, 23)
    feed = cadence.Route("ical", name="feed")
    chat = cadence.Route("console", name="chat")
    assert keeps(plugins, night, feed)
    monkeypatch.setenv("CADENCE_WORKHOURS_ROUTES", "email, feed")
    assert not keeps(plugins, night, feed)
    assert not keeps(plugins, night, EMAIL)
    assert keeps(plugins, night, chat)


def test_a_reminder_not_yet_due_is_not_held(plugins: Plugins) -> None:
    """Only due reminders are held: an upcoming one (in a feed's agenda) passes."""
    now = paris(24, 23)
    upcoming = make_reminder("ada", due=now + timedelta(days=1), now=now, timezone="Europe/Paris")
    assert plugins.keep(upcoming, EMAIL, now=now)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CADENCE_WORKHOURS", "9-5"),
        ("CADENCE_WORKHOURS", "25:00-26:00"),
        ("CADENCE_WORKDAYS", "weekdays"),
    ],
)
def test_a_bad_setting_is_reported_by_name_and_holds_nothing(
    plugins: Plugins, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A malformed variable is reported naming the plugin and the variable; the reminder passes."""
    monkeypatch.setenv(variable, value)
    assert keeps(plugins, paris(24, 23))
    (problem,) = plugins.problems("cadence_workhours")
    assert "plugin 'cadence_workhours'" in problem
    assert variable in problem


def test_a_bad_tag_is_reported_naming_the_contact(plugins: Plugins) -> None:
    """A malformed ``workhours:`` tag is reported with the contact's id and the tag."""
    assert keeps(plugins, paris(24, 23), tags="workhours:late")
    (problem,) = plugins.problems("cadence_workhours")
    assert "contact 'ada'" in problem
    assert "workhours:late" in problem


def test_only_reminders_of_contacts_at_work_go_out(plugins: Plugins) -> None:
    """Of a planned roster, dispatch would keep the reminders of contacts now at work."""
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    roster = RosterBuilder()
    last_month = now - timedelta(days=30)
    for name, zone in [
        ("ny", "America/New_York"),
        ("tokyo", "Asia/Tokyo"),
        ("paris", "Europe/Paris"),
    ]:
        roster.contact(name, every="every 2 weeks", touched=last_month, timezone=zone)
    due = roster.due(now)
    kept = sorted(r.contact.id for r in due if plugins.keep(r, EMAIL, now=now))
    assert len(due) == 3
    assert kept == ["ny", "paris"]


def test_cadence_finds_the_installed_plugin() -> None:
    """Installed, the plugin is found through its entry point and loads without a problem."""
    (point,) = [ep for ep in entry_points(group="cadence") if ep.name == "workhours"]
    assert point.value == "cadence_workhours"
    loaded = installed_plugins()
    (info,) = [info for info in loaded.list() if info.name == "workhours"]
    assert info.distribution == "cadence-workhours"
    assert info.hooks == ("cadence_filter_reminder",)
    assert info.loaded
    assert info.problems == ()
