"""One event alone in a calendar, as the ``caldav`` adapter stores it: the feed's, with an alarm.

``event_calendar`` renders with the feed's own code; ``event_inputs`` is the
cheap digest that lets a publisher skip rendering an unchanged event, so
equal digests must give equal bytes, at any ``now``.
"""

from __future__ import annotations

import sys
from datetime import UTC, timedelta
from pathlib import Path

import attrs
import icalendar
import pytest

from cadence import CadenceError, Contact
from cadence.adapters.ical.render import event_calendar, event_inputs, to_ical

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from ical import NOW, build  # the feed benchmark's reminders: zones, occasions, leads

REMINDERS = build(120)
MARK = {"X-CADENCE-ROUTE": "phone"}


def _events(data: bytes) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


def _without_alarms(event: icalendar.Event) -> bytes:
    copy = icalendar.Event.from_ical(event.to_ical())
    copy.subcomponents = []
    copy.pop("X-CADENCE-ROUTE", None)
    return bytes(copy.to_ical())


def test_each_event_is_the_feeds_event_with_the_mark() -> None:
    """Alarms aside, every event is byte for byte the feed's, plus the mark."""
    feed = _events(to_ical(REMINDERS, now=NOW))
    for reminder in REMINDERS:
        data = event_calendar(reminder, now=NOW, alarm=timedelta(0), properties=MARK)
        calendar = icalendar.Calendar.from_ical(data)
        (event,) = calendar.walk("VEVENT")
        assert str(event["X-CADENCE-ROUTE"]) == "phone"
        assert _without_alarms(event) == _without_alarms(feed[reminder.key])
        assert "UID" not in calendar  # no made-up calendar UID: the bytes stay the same
        zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
        tzid = event["DTSTART"].params.get("TZID")
        assert zones == ({tzid} if tzid else set())


def test_the_alarm_rings_its_time_before_the_due_moment_while_ahead() -> None:
    """With alarm, one display alarm at due minus alarm, only while that is after now."""
    rang = silent = 0
    for reminder in REMINDERS:
        (event,) = _events(event_calendar(reminder, now=NOW, alarm=timedelta(hours=1))).values()
        alarms = event.walk("VALARM")
        rings = reminder.due - timedelta(hours=1)
        if rings > NOW:
            rang += 1
            (alarm,) = alarms
            assert alarm["TRIGGER"].dt == rings.astimezone(UTC)
            assert alarm["TRIGGER"].params["VALUE"] == "DATE-TIME"
        else:
            silent += 1
            assert alarms == []
    assert rang > 10
    assert silent > 10


def test_without_alarm_no_event_rings_not_even_for_a_lead_time() -> None:
    """alarm=None leaves out every alarm, the feed's for lead times included."""
    leads = [r for r in REMINDERS if r.lead and r.due > NOW]
    assert leads
    for reminder in leads:
        assert b"VALARM" in to_ical([reminder], now=NOW)
        assert b"VALARM" not in event_calendar(reminder, now=NOW)


@pytest.mark.parametrize("hours", [0, 1, 13, 24 * 3, 24 * 9])
def test_equal_inputs_give_equal_bytes_as_time_passes(hours: int) -> None:
    """Between two moments, the digest is unchanged exactly when the bytes are."""
    later = NOW + timedelta(hours=hours)
    for reminder in REMINDERS:
        alarm = timedelta(minutes=15)
        before = event_inputs(reminder, now=NOW, alarm=alarm, properties=MARK)
        after = event_inputs(reminder, now=later, alarm=alarm, properties=MARK)
        first = event_calendar(reminder, now=NOW, alarm=alarm, properties=MARK)
        second = event_calendar(reminder, now=later, alarm=alarm, properties=MARK)
        assert (before == after) == (first == second), reminder.title


def test_the_digest_follows_what_the_event_shows() -> None:
    """A new name, a new alarm or another mark change the digest; the overdue count does not."""
    reminder = REMINDERS[0]
    base = event_inputs(reminder, now=NOW, alarm=timedelta(0), properties=MARK)
    renamed = attrs.evolve(reminder, contact=Contact(reminder.contact.id, "Someone Else"))
    assert event_inputs(renamed, now=NOW, alarm=timedelta(0), properties=MARK) != base
    assert event_inputs(reminder, now=NOW, alarm=timedelta(minutes=5), properties=MARK) != base
    assert event_inputs(reminder, now=NOW, alarm=timedelta(0), properties={"X-A": "b"}) != base
    later = attrs.evolve(reminder, overdue=reminder.overdue + timedelta(hours=1))
    assert event_inputs(later, now=NOW, alarm=timedelta(0), properties=MARK) == base


def test_event_calendar_takes_a_reminder_only() -> None:
    """Anything else is a CadenceError naming its type."""
    with pytest.raises(CadenceError, match="not str"):
        event_calendar("a reminder")  # type: ignore[arg-type]
