"""The iCalendar feed (to_ical) and the ical adapter that writes it to a file."""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import attrs
import icalendar
import ics  # type: ignore[import-untyped]  # ics ships no type hints
import ics.grammar.parse  # type: ignore[import-untyped]  # ics ships no type hints
import pytest
import recurring_ical_events  # type: ignore[import-untyped]  # it ships no type hints
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies as cst
from cadence import (
    Agenda,
    Birthday,
    CadenceError,
    ConfigError,
    Contact,
    DeliveryError,
    Every,
    Occasion,
    Recurring,
    Reminder,
    Roster,
    Route,
    Rule,
    Snooze,
    Touchpoint,
    plan,
    reminder_key,
)
from cadence._plugins import Plugins
from cadence.adapters.ical import IcalAdapter
from cadence.adapters.ical.render import (
    CHECK_IN_LENGTH,
    clean_text,
    event_ical,
    feed_changes_at,
    feed_inputs,
    tagged_feed,
    to_ical,
)
from cadence.l10n import ENGLISH, for_locale

# TatSu (the parser under ics 0.7) runs colorama's init() on every parse when
# colorama is installed, wrapping the standard streams once more each time until
# writing to them overflows the stack; ics needs no colours.
_ICS_GRAMMAR = ics.grammar.parse.GRAMMAR
_ICS_GRAMMAR.config = _ICS_GRAMMAR.config.replace(colorize=False)

_DAY = timedelta(days=1)
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
TOKYO = "Asia/Tokyo"


def _contacts() -> list[Contact]:
    return [
        Contact("ada", "Ada Lovelace", timezone=BERLIN, channel="video", tags=["retainer"]),
        Contact("bob", 'Bob "Bobby", Jr.; Esq.', timezone=NEW_YORK, channel="phone"),
        Contact("chiyo", "千代 Chiyo", timezone=TOKYO, email="chiyo@example.com"),
        Contact("dan", "Dan", timezone="UTC", since=date(2026, 1, 1), tags=["retainer"]),
    ]


def spring_forward() -> Agenda:
    """Around 29 March 2026, when Berlin skips 02:00-03:00; Dan is overdue since February."""
    roster = Roster(
        _contacts(),
        rules=[
            Rule(Recurring("FREQ=DAILY", at=time(2, 30)), contact="ada"),
            Rule(Recurring("FREQ=WEEKLY;BYDAY=SU", at=time(9, 0)), contact="bob"),
            Rule(Every(weeks=2), contact="chiyo"),
            Rule(Every(months=1), contact="dan"),
        ],
        occasions=[
            Birthday("chiyo", 3, 29, lead=timedelta(days=2)),
            Occasion("Launch", on=date(2026, 3, 30), contact="ada"),
        ],
        touchpoints=[Touchpoint("chiyo", datetime(2026, 3, 16, 3, 0, tzinfo=UTC))],
    )
    return plan(roster, now=datetime(2026, 3, 27, 12, 0, tzinfo=UTC), horizon=timedelta(days=5))


def fall_back() -> Agenda:
    """Around 1 November 2026, when New York repeats 01:00-02:00."""
    roster = Roster(
        _contacts(),
        rules=[Rule(Recurring("FREQ=DAILY", at=time(1, 30)), contact="bob")],
        touchpoints=[Touchpoint("bob", datetime(2026, 10, 30, 6, 0, tzinfo=UTC))],
    )
    return plan(roster, now=datetime(2026, 10, 30, 12, 0, tzinfo=UTC), horizon=timedelta(days=4))


def leap_year(year: int) -> Agenda:
    """Late February of ``year``: birthdays on 29 February, one with a week's lead."""
    roster = Roster(
        _contacts(),
        occasions=[
            Birthday("bob", 2, 29, year=1992),
            Birthday("chiyo", 2, 29, lead=timedelta(days=7)),
        ],
    )
    return plan(roster, now=datetime(year, 2, 20, 12, 0, tzinfo=UTC), horizon=timedelta(days=12))


@pytest.mark.parametrize("locale", [None, "es", "fr"])
def test_event_ical_is_the_one_reminder_calendar_byte_for_byte(locale: str | None) -> None:
    """to_ical of one reminder is the empty calendar with event_ical's zone and event
    before its END:VCALENDAR, in any language: a writer of many one-reminder calendars
    renders the calendar's own lines once."""
    words = ENGLISH if locale is None else for_locale(locale)
    end = b"END:VCALENDAR\r\n"
    zoned = 0
    for agenda in (spring_forward(), fall_back(), leap_year(2028)):
        now = agenda.now
        empty = to_ical((), name="x", now=now, words=words)
        assert empty.endswith(end)
        for reminder in agenda.reminders:
            zone, event = event_ical(reminder, now=now, words=words)
            whole = to_ical((reminder,), name="x", now=now, words=words)
            assert empty.removesuffix(end) + zone + event + end == whole
            assert event.startswith(b"BEGIN:VEVENT")
            zoned += bool(zone)
    assert zoned > 0


@dataclass(frozen=True)
class Seen:
    """What one reader saw of one event."""

    summary: str
    description: str
    start: date | datetime
    tzid: str | None
    length: timedelta
    alarms: int


def _plain_date(value: date | datetime) -> date | datetime:
    return value.date() if isinstance(value, datetime) and value.tzinfo is None else value


def read_icalendar(data: bytes) -> list[tuple[str, Seen]]:
    """Every VEVENT as the icalendar library reads it."""
    found = []
    for event in icalendar.Calendar.from_ical(data).events:
        start = event.start
        seen = Seen(
            str(event.get("SUMMARY", "")),
            str(event.get("DESCRIPTION", "")),
            start,
            event["DTSTART"].params.get("TZID"),
            event.end - start,
            len(event.walk("VALARM")),
        )
        found.append((str(event["UID"]), seen))
    return found


def read_vobject(data: bytes) -> list[tuple[str, Seen]]:
    """Every VEVENT as vobject reads it: it builds its zones from the feed's VTIMEZONEs."""
    calendar = vobject.readOne(data.decode("utf-8"))
    found = []
    for event in calendar.contents.get("vevent", []):
        start = event.dtstart.value
        end = event.contents.get("dtend")
        length = end[0].value - start if end else event.duration.value
        tzid = event.dtstart.params.get("X-VOBJ-ORIGINAL-TZID", [None])[0]
        text = {
            key: event.contents[key][0].value if key in event.contents else ""
            for key in ("summary", "description")
        }
        seen = Seen(
            text["summary"],
            text["description"],
            start,
            tzid,
            length,
            len(event.contents.get("valarm", [])),
        )
        found.append((str(event.uid.value), seen))
    return found


def read_ics(data: bytes) -> list[tuple[str, Seen]]:
    """Every VEVENT as ics.py reads it (it takes zones from the system by TZID)."""
    found = []
    for event in ics.Calendar(data.decode("utf-8")).events:
        begin = event.begin.datetime
        start: date | datetime = begin.date() if event.all_day else begin
        tzid = None if event.all_day or begin.utcoffset() == timedelta(0) else "?"
        seen = Seen(
            event.name or "",
            event.description or "",
            start,
            tzid,
            event.duration,
            len(event.alarms),
        )
        found.append((event.uid, seen))
    return found


READERS = {"icalendar": read_icalendar, "vobject": read_vobject, "ics": read_ics}


def expected_start(reminder: Reminder, now: datetime | None) -> date | datetime:
    """Where a reminder belongs: overdue from an earlier day on today, occasions all day."""
    if now is not None:
        today = now.astimezone(reminder.contact.zone).date()
        if reminder.due <= now and reminder.date < today:
            return today
    if reminder.kind == "occasion" or reminder.key == reminder_key(
        reminder.contact.id, "cadence", "never"
    ):
        return reminder.date
    return reminder.due


def assert_feed_shows(reminders: list[Reminder], data: bytes, now: datetime | None) -> None:
    """Every reader sees each reminder once, on the right date, at the right moment and zone."""
    assert reminders, "a scenario without reminders checks nothing"
    by_key = {r.key: r for r in reminders}
    for reader_name, read in READERS.items():
        events = read(data)
        counts = Counter(uid for uid, _ in events)
        assert counts == Counter(by_key.keys()), reader_name
        for uid, seen in events:
            reminder = by_key[uid]
            want = expected_start(reminder, now)
            assert seen.summary == reminder.title, reader_name
            assert f"Contact: {reminder.contact.name}" in seen.description, reader_name
            if isinstance(want, datetime):
                assert isinstance(seen.start, datetime), (reader_name, uid)
                # In UTC: aware datetimes of two zones in a fold never compare equal (PEP 495).
                assert seen.start.astimezone(UTC) == want.astimezone(UTC), (reader_name, uid)
                assert seen.start.utcoffset() == want.utcoffset(), (reader_name, reminder.title)
                assert seen.length == CHECK_IN_LENGTH, reader_name
                if reader_name != "ics" and reminder.contact.timezone != "UTC":
                    assert seen.tzid == reminder.contact.timezone, reader_name
            else:
                assert _plain_date(seen.start) == want, (reader_name, reminder.title)
                assert not isinstance(_plain_date(seen.start), datetime), reader_name
                assert seen.length == timedelta(days=1), reader_name


@pytest.mark.parametrize(
    "scenario",
    [spring_forward, fall_back, lambda: leap_year(2028), lambda: leap_year(2027)],
    ids=["spring-forward", "fall-back", "leap-2028", "common-2027"],
)
def test_every_reader_sees_each_reminder_once_where_it_belongs(scenario: object) -> None:
    """icalendar, vobject and ics each read every reminder once, with its date, time and zone."""
    assert callable(scenario)
    agenda = scenario()
    assert_feed_shows(list(agenda), to_ical(agenda), agenda.now)


def test_a_check_in_in_the_dst_gap_lands_after_it() -> None:
    """A 02:30 check-in on Berlin's spring-forward day is read as 03:00 CEST, 01:00 UTC."""
    agenda = spring_forward()
    [gap] = [r for r in agenda if r.contact.id == "ada" and r.date == date(2026, 3, 29)]
    for read in READERS.values():
        [seen] = [s for uid, s in read(to_ical(agenda)) if uid == gap.key]
        assert isinstance(seen.start, datetime)
        assert seen.start.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
        assert seen.start.utcoffset() == timedelta(hours=2)


def test_an_ambiguous_check_in_takes_the_first_hour() -> None:
    """A 01:30 check-in on New York's fall-back day is read as 01:30 EDT, 05:30 UTC."""
    agenda = fall_back()
    [fold] = [r for r in agenda if r.date == date(2026, 11, 1)]
    for read in READERS.values():
        [seen] = [s for uid, s in read(to_ical(agenda)) if uid == fold.key]
        assert isinstance(seen.start, datetime)
        assert seen.start.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def _second_of_a_repeated_hour(zone: str, utc: datetime, wall: time) -> Reminder:
    """A check-in at ``utc``, the second time the wall clock in ``zone`` shows ``wall``."""
    contact = Contact("fold", "Fold", timezone=zone)
    local = utc.astimezone(contact.zone)
    assert (local.time(), local.fold) == (wall, 1)
    assert local.replace(fold=0).astimezone(UTC) != utc
    return Reminder(
        key=reminder_key("fold", "cadence", local.date().isoformat()),
        contact=contact,
        kind="cadence",
        title="Check in with Fold",
        date=local.date(),
        due=local,
        purpose="cadence",
    )


_REPEATED = {
    # 01:30 EST, after 01:30 EDT: New York goes back an hour.
    "new-york": (NEW_YORK, datetime(2026, 11, 1, 6, 30, tzinfo=UTC), time(1, 30)),
    # 01:45 +10:30, after 01:45 +11:00: Lord Howe goes back half an hour.
    "lord-howe": ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, 15, tzinfo=UTC), time(1, 45)),
    # 02:15 CET, after 02:15 CEST.
    "berlin": (BERLIN, datetime(2026, 10, 25, 1, 15, tzinfo=UTC), time(2, 15)),
}


@pytest.mark.parametrize("case", sorted(_REPEATED))
def test_the_second_of_a_repeated_hour_is_read_back_as_that_instant(case: str) -> None:
    """A check-in in the second run of a repeated hour is written in UTC, read back exactly.

    A TZID would be read as the first run (RFC 5545 3.3.5): an hour early in
    New York, half an hour on Lord Howe.
    """
    zone, utc, wall = _REPEATED[case]
    reminder = _second_of_a_repeated_hour(zone, utc, wall)
    data = to_ical([reminder])
    assert f"DTSTART:{utc:%Y%m%dT%H%M%S}Z".encode() in data
    for reader_name, read in READERS.items():
        [(uid, seen)] = read(data)
        assert uid == reminder.key
        assert isinstance(seen.start, datetime), reader_name
        assert seen.start.astimezone(UTC) == utc, reader_name
    calendar = icalendar.Calendar.from_ical(data)
    [found] = recurring_ical_events.of(calendar).between(utc - timedelta(days=1), utc + _DAY)
    assert found.start.astimezone(UTC) == utc


def test_a_snooze_into_a_repeated_hour_is_read_back_as_that_instant() -> None:
    """Planning's own moments in the second run of an hour (a snooze) keep their instant."""
    contact = Contact("bob", "Bob", timezone=NEW_YORK)
    now = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    rules = [Rule(Recurring("FREQ=DAILY", at=time(9, 0)))]
    touches = [Touchpoint("bob", now - timedelta(hours=1))]
    horizon = timedelta(days=3)
    planned = plan(Roster([contact], rules, touchpoints=touches), now=now, horizon=horizon)
    [key] = [r.key for r in planned if r.date == date(2026, 10, 31)]
    roster = Roster([contact], rules, touchpoints=touches, snoozes=[Snooze(key, second)])
    agenda = plan(roster, now=now, horizon=horizon)
    [snoozed] = [r for r in agenda if r.key == key]
    assert snoozed.due.astimezone(UTC) == second
    assert snoozed.due.fold == 1
    data = to_ical(agenda)
    for reader_name, read in READERS.items():
        [seen] = [s for uid, s in read(data) if uid == key]
        assert isinstance(seen.start, datetime), reader_name
        assert seen.start.astimezone(UTC) == second, reader_name
    # Every other check-in keeps its zone.
    assert data.count(b"DTSTART;TZID=America/New_York:") == len(agenda) - 1


def test_a_never_touched_check_in_is_all_day_on_its_date() -> None:
    """A contact never touched, without a start date, is a to-do on the day, not a timed slot.

    Planning makes it due the moment it was first planned (14:45:56 here);
    the feed shows it all day on that date in the contact's zone, with the
    same bytes whatever the moment within the day, and on a later day on
    today, overdue, like every other check-in.
    """
    ana = Contact("ana", "Ana", timezone=BERLIN)
    roster = Roster([ana, *_contacts()[1:2]], rules=[Rule(Every(weeks=2))])
    first = datetime(2026, 11, 23, 13, 45, 56, 120_000, tzinfo=UTC)
    agenda = plan(roster, now=first)
    never = reminder_key("ana", "cadence", "never")
    [reminder] = [r for r in agenda if r.contact.id == "ana"]
    assert reminder.key == never
    data = to_ical(agenda)
    assert b"T144556" not in data
    for reader_name, read in READERS.items():
        [seen] = [s for uid, s in read(data) if uid == never]
        assert _plain_date(seen.start) == date(2026, 11, 23), reader_name
        assert seen.length == _DAY, reader_name
    assert to_ical(plan(roster, now=first + timedelta(hours=8))) == data
    # The store keeps the first moment; a day later it is overdue, shown on today.
    later = first + timedelta(days=1)
    kept = attrs.evolve(reminder, overdue=later - reminder.due)
    [(uid, seen)] = read_vobject(to_ical([kept], now=later))
    assert (uid, seen.start) == (never, date(2026, 11, 24))
    assert "Overdue since: 2026-11-23" in seen.description


def test_29_february_is_kept_in_leap_years_and_moved_in_common_ones() -> None:
    """A 29 February birthday is an all-day event on 29 February 2028 and 28 February 2027."""
    for year, day in ((2028, date(2028, 2, 29)), (2027, date(2027, 2, 28))):
        agenda = leap_year(year)
        [bob] = [r for r in agenda if r.contact.id == "bob"]
        for read in READERS.values():
            [seen] = [s for uid, s in read(to_ical(agenda)) if uid == bob.key]
            assert seen.start == day
            assert f"Occasion: {day.isoformat()}" in seen.description


def test_a_lead_time_is_an_event_of_its_own_with_an_alarm() -> None:
    """A birthday with a week's lead is an event a week before, with an alarm at its due moment."""
    agenda = leap_year(2028)
    [card] = [r for r in agenda if r.contact.id == "chiyo"]
    assert card.lead == timedelta(days=7)
    data = to_ical(agenda)
    for read in READERS.values():
        [seen] = [s for uid, s in read(data) if uid == card.key]
        assert seen.start == date(2028, 2, 22)
        assert "Occasion: 2028-02-29" in seen.description
        assert seen.alarms == 1
    [event] = [e for e in icalendar.Calendar.from_ical(data).events if e["UID"] == card.key]
    [alarm] = event.walk("VALARM")
    assert isinstance(alarm, icalendar.Alarm)
    trigger = alarm.TRIGGER
    assert trigger == datetime(2028, 2, 22, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert b"TRIGGER;VALUE=DATE-TIME:20280222T000000Z" in data


def test_alarms_only_for_lead_times_still_ahead() -> None:
    """Reminders without a lead, or whose due moment has passed, carry no alarm."""
    agenda = leap_year(2028)
    [card] = [r for r in agenda if r.contact.id == "chiyo"]
    later = card.due + timedelta(hours=1)
    for uid, seen in read_icalendar(to_ical(agenda)):
        assert seen.alarms == (1 if uid == card.key else 0)
    assert all(seen.alarms == 0 for _, seen in read_icalendar(to_ical(agenda, now=later)))


def test_overdue_reminders_are_shown_all_day_on_today() -> None:
    """A reminder overdue since an earlier day shows on today in the contact's zone, all day."""
    agenda = spring_forward()
    [dan] = [r for r in agenda if r.contact.id == "dan"]
    assert dan.date < date(2026, 3, 27)
    [seen] = [s for uid, s in read_vobject(to_ical(agenda)) if uid == dan.key]
    assert seen.start == date(2026, 3, 27)
    assert f"Overdue since: {dan.date.isoformat()}" in seen.description


def test_without_now_reminders_stay_on_their_own_dates() -> None:
    """Given a plain list and no now, an overdue reminder is shown on its own date."""
    reminders = list(spring_forward())
    data = to_ical(reminders)
    assert_feed_shows(reminders, data, None)
    [dan] = [r for r in reminders if r.contact.id == "dan"]
    [seen] = [s for uid, s in read_icalendar(data) if uid == dan.key]
    assert seen.start == dan.due
    assert "Overdue" not in seen.description


def test_an_agenda_s_now_can_be_overridden() -> None:
    """An explicit now wins over the Agenda's own: a reminder overdue by then moves to that day."""
    agenda = leap_year(2028)
    [bob] = [r for r in agenda if r.contact.id == "bob"]
    later = datetime(2028, 3, 2, 12, 0, tzinfo=UTC)
    [seen] = [s for uid, s in read_icalendar(to_ical(agenda, now=later)) if uid == bob.key]
    assert seen.start == date(2028, 3, 2)


def test_one_event_per_occurrence_in_a_recurrence_expander() -> None:
    """recurring-ical-events finds each reminder once between the first and last days."""
    agenda = spring_forward()
    calendar = icalendar.Calendar.from_ical(to_ical(agenda))
    found = recurring_ical_events.of(calendar).between(date(2026, 3, 1), date(2026, 4, 30))
    assert Counter(str(e["UID"]) for e in found) == Counter(r.key for r in agenda)


def test_the_same_input_gives_the_same_bytes() -> None:
    """Rendering twice, or a minute later with nothing due between, gives identical bytes."""
    agenda = spring_forward()
    first = to_ical(agenda)
    assert to_ical(agenda) == first
    assert to_ical(list(reversed(agenda)), now=agenda.now) == first
    assert to_ical(agenda, now=agenda.now + timedelta(minutes=1)) == first


def test_stamps_come_from_the_reminders_not_the_clock() -> None:
    """DTSTAMP and LAST-MODIFIED are the due moment in UTC, or the start of today once moved."""
    agenda = spring_forward()
    stamps = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(to_ical(agenda)).events}
    for reminder in agenda:
        event = stamps[reminder.key]
        start = expected_start(reminder, agenda.now)
        if isinstance(start, datetime) or start == reminder.date:
            want = reminder.due.astimezone(UTC)
        else:
            want = datetime.combine(start, time(0, 0), tzinfo=reminder.contact.zone)
        stamped, modified = event.DTSTAMP, event.last_modified
        assert stamped == want.astimezone(UTC)
        assert modified == want.astimezone(UTC)


def test_sequence_rises_when_a_reminder_moves_later() -> None:
    """Snoozing a reminder, or another day passing while it is overdue, raises its SEQUENCE."""
    roster = Roster(
        [Contact("ada", "Ada", timezone=BERLIN)],
        rules=[Rule(Every(weeks=1))],
        touchpoints=[Touchpoint("ada", datetime(2026, 3, 2, 10, 0, tzinfo=UTC))],
    )
    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    [before] = plan(roster, now=now)
    snoozed = Roster(
        roster.contacts,
        roster.rules,
        touchpoints=roster.touchpoints,
        snoozes=[Snooze(before.key, datetime(2026, 3, 10, 8, 0, tzinfo=UTC))],
    )
    [after] = plan(snoozed, now=now)
    assert after.key == before.key

    def sequence(reminders: list[Reminder], at: datetime) -> int:
        [event] = icalendar.Calendar.from_ical(to_ical(reminders, now=at)).events
        return int(event.sequence)

    assert sequence([after], now) > sequence([before], now)
    overdue_at = [datetime(2026, 3, day, 12, 0, tzinfo=UTC) for day in (11, 12, 13)]
    sequences = [sequence([before], at) for at in overdue_at]
    assert sequences == sorted(set(sequences))


def test_the_calendar_names_itself_and_asks_to_be_refreshed() -> None:
    """NAME, X-WR-CALNAME, REFRESH-INTERVAL and X-PUBLISHED-TTL are set; no X-WR-TIMEZONE."""
    data = to_ical(fall_back(), name="Clients, VIP; 2026", refresh=timedelta(minutes=30))
    names = vobject.readOne(data.decode()).contents
    assert names["name"][0].value == "Clients, VIP; 2026"
    assert b"\r\nX-WR-CALNAME:Clients\\, VIP\\; 2026\r\n" in data
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT30M\r\n" in data
    assert b"\r\nX-PUBLISHED-TTL:PT30M\r\n" in data
    assert names["x-wr-calname"][0].value == "Clients, VIP; 2026"
    assert ics.Calendar(data.decode()).events


def test_the_feed_keeps_to_the_profile() -> None:
    """No VTODO, no floating times, no X-WR-TIMEZONE, no RSCALE, one VTIMEZONE per zone used."""
    data = to_ical(spring_forward())
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for forbidden in ("VTODO", "X-WR-TIMEZONE", "RSCALE", "METHOD:"):
        assert forbidden not in text
    unfolded = text.replace("\r\n ", "").split("\r\n")
    in_event = False
    for line in unfolded:
        in_event = line == "BEGIN:VEVENT" or (in_event and line != "END:VEVENT")
        name, _, value = line.partition(":")
        if in_event and name.startswith(("DTSTAMP", "LAST-MODIFIED", "TRIGGER")):
            assert value.endswith("Z"), line
        if in_event and name.startswith(("DTSTART", "DTEND")):
            assert "VALUE=DATE" in name or "TZID=" in name or value.endswith("Z"), line
    used = set(re.findall(r"TZID=([^:;]+)", text))
    defined = [line.removeprefix("TZID:") for line in unfolded if line.startswith("TZID:")]
    assert used == {BERLIN, NEW_YORK, TOKYO}
    assert sorted(defined) == sorted(used)
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))


def test_utc_check_ins_are_written_with_a_z_and_no_vtimezone() -> None:
    """A contact in UTC gets DTSTART ending in Z and no VTIMEZONE for UTC."""
    roster = Roster(
        [Contact("dan", "Dan", timezone="UTC")],
        rules=[Rule(Recurring("FREQ=DAILY", at=time(15, 0)))],
    )
    data = to_ical(plan(roster, now=datetime(2026, 6, 1, 12, 0, tzinfo=UTC)))
    assert b"DTSTART:20260601T150000Z" in data
    assert b"VTIMEZONE" not in data


def test_an_empty_feed_is_still_a_calendar() -> None:
    """A feed without reminders reads as an empty calendar in every reader."""
    data = to_ical([])
    for read in READERS.values():
        assert read(data) == []
    assert b"BEGIN:VCALENDAR" in data
    assert b"NAME:cadence" in data


def test_reminders_that_share_a_key_become_one_event() -> None:
    """The same reminder given twice is one event, so a UID never repeats."""
    agenda = fall_back()
    data = to_ical([*agenda, *agenda], now=agenda.now)
    assert data == to_ical(agenda)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: to_ical(["not a reminder"]), "takes Reminders"),  # type: ignore[list-item]
        (lambda: to_ical([], now=datetime(2026, 1, 1)), "timezone-aware"),
        (lambda: to_ical([], name=" \x00 "), "name"),
        (lambda: to_ical([], name=3), "name"),  # type: ignore[arg-type]
        (lambda: to_ical([], refresh=timedelta(0)), "refresh"),
    ],
)
def test_bad_input_is_refused(call: object, message: str) -> None:
    """Anything but Reminders, a naive now, an empty name or a zero refresh raise CadenceError."""
    assert callable(call)
    with pytest.raises(CadenceError, match=message):
        call()


def test_a_title_of_control_characters_still_gets_its_alarm() -> None:
    """A lead-time reminder whose title cleans to nothing keeps an alarm with a stand-in text."""
    [card] = [r for r in leap_year(2028) if r.lead]
    data = to_ical([attrs.evolve(card, title="\x07\x1b")], now=card.due - timedelta(days=1))
    [event] = icalendar.Calendar.from_ical(data).events
    [alarm] = event.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == "Reminder"


def test_clean_text_drops_what_a_calendar_cannot_carry() -> None:
    """Line ends become newlines; control characters but tab and newline go; the rest stays."""
    assert clean_text("a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert clean_text("x\x00y\x1b[0m\x7fz\ud800\x85\x9f") == "xy[0mz"
    assert clean_text('tab\there, "q"; é 😀 \u2028') == 'tab\there, "q"; é 😀 \u2028'


def _squeeze(texts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple("".join(text.split()) for text in texts)


# Any text at all, control characters and lone surrogates included, with the
# characters that need escaping or cleaning drawn often.
_PIECES = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    st.sampled_from(["\r\n", "\r", "\n", "\t", ",", ";", "\\", '"', "\\n", "\x85", " "]),
)
_ANY_TEXT = st.lists(_PIECES, max_size=8).map("".join)
_NAMES = _ANY_TEXT.filter(lambda s: bool(s.strip()))


@given(name=_NAMES, reason=_ANY_TEXT, title=_ANY_TEXT, channel=_ANY_TEXT, feed=_ANY_TEXT)
def test_any_text_reads_back_as_written_after_cleaning(
    name: str, reason: str, title: str, channel: str, feed: str
) -> None:
    """Names, titles, reasons and channels of any Unicode read back in every reader, cleaned."""
    contact = Contact("c", name, timezone=BERLIN)
    due = datetime(2026, 6, 1, 9, 0, tzinfo=contact.zone)
    reminder = Reminder(
        key=reminder_key("c", "cadence", "2026-06-01"),
        contact=contact,
        kind="cadence",
        title=title,
        date=due.date(),
        due=due,
        channel=channel or None,
        reason=reason,
        purpose="cadence",
        lead=timedelta(days=1),  # so that the alarm's text is written too
    )
    if not clean_text(feed).strip():
        with pytest.raises(CadenceError):
            to_ical([reminder], name=feed)
        feed = "cadence"
    data = to_ical([reminder], name=feed)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", data.decode("utf-8"))
    description = [f"Contact: {clean_text(name)}"]
    if reason:
        description.append(f"Why: {clean_text(reason)}")
    if channel:
        description.append(f"Channel: {clean_text(channel)}")
    want = (clean_text(title), "\n".join(description))
    for reader_name, read in READERS.items():
        [(uid, seen)] = read(data)
        assert uid == reminder.key
        got = (seen.summary, seen.description)
        if reader_name == "ics":
            if "\\" in title + name + reason + channel:
                # ics 0.7 unescapes in several passes, so an escaped backslash
                # before "n" comes back as a line break.
                continue
            # ics 0.7 skips every physical line that is only whitespace, folded
            # continuations included, so it may lose runs of whitespace.
            assert _squeeze(got) == _squeeze(want), reader_name
            continue
        assert got == want, reader_name
        assert seen.alarms == 1, reader_name
    # icalendar 7 reads NAME as an unknown value and leaves it escaped: vobject reads it.
    names = vobject.readOne(data.decode()).contents
    assert names["name"][0].value == names["x-wr-calname"][0].value == clean_text(feed)


# The ical adapter.


def _route(path: Path, **settings: object) -> Route:
    return Route("ical", settings={"path": str(path), **settings})


def test_the_adapter_is_registered_as_a_plugin(plugins: Plugins, tmp_path: Path) -> None:
    """Cadence's plugin registry builds the ical adapter from a route's settings."""
    adapter = plugins.build_adapter(_route(tmp_path / "feed.ics", title="Clients"))
    assert isinstance(adapter, IcalAdapter)
    assert adapter.path == tmp_path / "feed.ics"


def test_publish_writes_the_feed(tmp_path: Path) -> None:
    """publish() writes to_ical of the agenda to the path, readable by its owner only."""
    path = tmp_path / "feed.ics"
    agenda = spring_forward()
    IcalAdapter(path=path, title="Clients").publish(agenda)
    assert path.read_bytes() == to_ical(agenda, name="Clients")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.ics"]


def test_publish_leaves_an_unchanged_feed_alone(tmp_path: Path) -> None:
    """Publishing the same agenda again does not replace the file."""
    path = tmp_path / "feed.ics"
    adapter = IcalAdapter(path=path)
    adapter.publish(spring_forward())
    before = path.stat()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns - 10**9))
    adapter.publish(spring_forward())
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns - 10**9)


def test_publish_replaces_a_changed_feed_atomically_keeping_its_mode(tmp_path: Path) -> None:
    """A changed feed replaces the file by rename (a new inode), with the old file's mode."""
    path = tmp_path / "feed.ics"
    path.write_bytes(b"old")
    path.chmod(0o644)
    before = path.stat()
    IcalAdapter(path=path).publish(fall_back())
    after = path.stat()
    assert path.read_bytes() == to_ical(fall_back())
    assert after.st_ino != before.st_ino
    assert stat.S_IMODE(after.st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.ics"]


def test_a_feed_that_cannot_be_written_is_a_delivery_error(tmp_path: Path) -> None:
    """Publishing into a missing directory raises DeliveryError and leaves nothing behind."""
    adapter = IcalAdapter(path=tmp_path / "missing" / "feed.ics")
    with pytest.raises(DeliveryError, match="cannot write the feed"):
        adapter.publish(fall_back())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "unknown adapter|bad settings|path"),
        ({"path": ""}, "needs a path"),
        ({"path": "feed.ics", "colour": "red"}, "unknown ical setting 'colour'"),
        ({"path": "feed.ics", "title": "\x01"}, "title must be non-empty"),
    ],
)
def test_bad_settings_are_a_config_error(
    plugins: Plugins, settings: dict[str, object], message: str
) -> None:
    """A route without a path, with an empty title or an unknown setting raises ConfigError."""
    with pytest.raises(ConfigError, match=message):
        plugins.build_adapter(Route("ical", settings=settings))


def test_a_directory_is_not_a_feed_path(tmp_path: Path) -> None:
    """Pointing the route at a directory raises ConfigError when the adapter is built."""
    with pytest.raises(ConfigError, match="is a directory"):
        IcalAdapter(path=tmp_path)


def test_publish_uses_the_agenda_s_now_for_overdue(tmp_path: Path) -> None:
    """The written feed shows overdue reminders on the agenda's today."""
    path = tmp_path / "feed.ics"
    agenda = spring_forward()
    IcalAdapter(path=path).publish(agenda)
    [dan] = [r for r in agenda if r.contact.id == "dan"]
    [seen] = [s for uid, s in read_ics(path.read_bytes()) if uid == dan.key]
    assert seen.start == date(2026, 3, 27)


def test_reminders_are_frozen_values() -> None:
    """to_ical never changes the reminders it is given."""
    agenda = spring_forward()
    copies = [attrs.evolve(r) for r in agenda]
    to_ical(agenda)
    assert list(agenda) == copies


def test_what_the_text_section_says_of_each_reader_holds() -> None:
    """docs/calendar.md, Text: icalendar and vobject read every text back; ics misreads two cases.

    If a new ics reads these back as written, the page must say so.
    """
    cases = {
        # name -> what ics 0.7 reads back, where it differs
        "C:\\New": "C:\\\new",
        "line\\nfeed": "line\\\nfeed",
        "a" + " " * 200 + "b": None,
        "C:\\Temp\\x, y; z": "C:\\Temp\\x, y; z",
    }
    for name, ics_reads in cases.items():
        contact = Contact("c", name, timezone="UTC")
        reminder = Reminder(
            key=reminder_key("c", "cadence", "2026-06-01"),
            contact=contact,
            kind="cadence",
            title=name,
            date=date(2026, 6, 1),
            due=datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
            purpose="cadence",
        )
        data = to_ical([reminder])
        for reader_name in ("icalendar", "vobject"):
            [(_, seen)] = READERS[reader_name](data)
            assert seen.summary == name, reader_name
        [(_, seen)] = read_ics(data)
        if ics_reads is None:
            assert seen.summary != name
            assert seen.summary.replace(" ", "") == name.replace(" ", "")
        else:
            assert seen.summary == ics_reads
    page = (Path(__file__).parent.parent / "docs" / "calendar.md").read_text(encoding="utf-8")
    text = " ".join(page.split("## Text", 1)[1].split("\n## ", 1)[0].split())
    assert "icalendar (7.3) and vobject (0.9) read all of it back as written" in text
    assert f"ics (ics-py {ics.__version__}) does not, in two cases" in text
    assert "a backslash followed by `n` or `N`" in text
    assert "a folded line whose continuation is only whitespace is dropped" in text


# -- what a feed is made of, and until when it holds ----------------------------------


@settings(max_examples=150, deadline=None)
@given(
    roster=cst.rosters(),
    now=cst.in_utc(cst.aware_datetimes()),
    horizon=cst.horizons,
    share=st.floats(0, 1, exclude_max=True),
)
def test_a_feed_holds_until_feed_changes_at_and_its_digest_follows_its_bytes(
    roster: Roster, now: datetime, horizon: timedelta, share: float
) -> None:
    """Rendered at any moment before feed_changes_at, the bytes and the digest are those of now.

    At that moment itself the bytes change, and so does the digest.
    """
    reminders = plan(roster, now=now, horizon=horizon).reminders
    first = to_ical(reminders, now=now)
    digest = feed_inputs(reminders, now=now)
    changes = feed_changes_at(reminders, now)
    if changes is None:
        assert reminders == ()
        later = now + timedelta(days=400) * share
    else:
        assert changes > now
        # Multiplying rounds to the microsecond: keep strictly before the change.
        later = min(now + (changes - now) * share, changes - timedelta(microseconds=1))
        assert to_ical(reminders, now=changes) != first
        assert feed_inputs(reminders, now=changes) != digest
    assert to_ical(reminders, now=later) == first
    assert feed_inputs(reminders, now=later) == digest


def test_a_feed_s_digest_names_its_title_and_tags() -> None:
    """Equal reminders under another name or tag filter, or with one changed, digest apart."""
    agenda = spring_forward()
    now = agenda.now
    whole = feed_inputs(agenda)
    assert whole == feed_inputs(agenda, name="cadence", now=now)
    assert feed_inputs(agenda, name="Clients") != whole
    tagged = feed_inputs(agenda, ["retainer"])
    assert tagged not in (whole, feed_inputs(agenda, ["card-list"]))
    renamed = [
        attrs.evolve(r, contact=attrs.evolve(r.contact, name="Ada King"))
        if r.contact.id == "ada"
        else r
        for r in agenda
    ]
    assert feed_inputs(renamed, now=now) != whole
    assert tagged_feed(renamed, [], now=now) != tagged_feed(agenda, [])
