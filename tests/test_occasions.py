"""Birthdays, anniversaries and occasions: when their reminders come and what they say."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cadence import (
    Anniversary,
    Birthday,
    CadenceError,
    Contact,
    Every,
    Occasion,
    OccasionKind,
    Reminder,
    Roster,
    Rule,
    plan,
)
from cadence.core.reminders import occasion_words

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ANA = Contact("ana", "Ana Lopez", timezone="Europe/London", channel="email", tags=["card-list"])
BO = Contact("bo", "Bo Chen", timezone="America/New_York")


def _occasions(
    *occasions: OccasionKind,
    now: datetime = NOW,
    horizon: timedelta = timedelta(days=30),
    contacts: tuple[Contact, ...] = (ANA, BO),
) -> list[Reminder]:
    return list(plan(Roster(contacts, occasions=occasions), now=now, horizon=horizon))


def test_a_birthday_with_a_year_says_the_age() -> None:
    """The title names the contact, the age and the day; kind and purpose say what it is."""
    [reminder] = _occasions(Birthday("ana", 12, 1, year=1986))
    assert reminder.title == "Ana Lopez turns 40 on 1 December"
    assert (reminder.kind, reminder.purpose) == ("occasion", "birthday")
    assert reminder.date == reminder.occasion_date == date(2026, 12, 1)
    assert reminder.due == datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    assert reminder.channel == "email"
    assert reminder.overdue == timedelta(0)


def test_a_birthday_without_a_year_says_only_the_day() -> None:
    """With no year there is no age to tell."""
    [reminder] = _occasions(Birthday("bo", 12, 5))
    assert reminder.title == "Bo Chen's birthday on 5 December"
    assert reminder.due == datetime(2026, 12, 5, 9, 0, tzinfo=ZoneInfo("America/New_York"))


def test_a_lead_time_moves_the_reminder_before_the_day() -> None:
    """Seven days' lead: the reminder is due a week before, at the same local hour."""
    [reminder] = _occasions(Birthday("ana", 12, 1, lead=timedelta(days=7)))
    assert reminder.occasion_date == date(2026, 12, 1)
    assert reminder.date == date(2026, 11, 24)
    assert reminder.date < reminder.occasion_date
    assert reminder.lead == timedelta(days=7)
    assert "remind 7 days before" in reminder.reason


def test_a_lead_reminder_stays_until_the_day_has_passed() -> None:
    """Past its due moment but before the day, the reminder is overdue; after the day, gone."""
    birthday = Birthday("ana", 12, 1, lead=timedelta(days=7))
    [late] = _occasions(birthday, now=datetime(2026, 11, 30, 12, tzinfo=UTC))
    assert late.overdue == timedelta(days=6, hours=3)
    assert _occasions(birthday, now=datetime(2026, 12, 2, 0, 1, tzinfo=UTC)) == []


def test_an_occasion_belongs_to_the_contacts_zone() -> None:
    """The day is reckoned where the contact lives: still today in New York, tomorrow in UTC."""
    birthday = Birthday("bo", 11, 23)
    # 03:00 UTC on the 24th is still the evening of the 23rd in New York.
    [reminder] = _occasions(birthday, now=datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
    assert reminder.occasion_date == date(2026, 11, 23)
    assert reminder.overdue == timedelta(hours=13)
    assert _occasions(birthday, now=datetime(2026, 11, 24, 5, 0, tzinfo=UTC)) == []


def test_a_leap_day_birthday_falls_on_28_february_in_common_years() -> None:
    """By default 29 February is kept on 28 February when there is none."""
    birthday = Birthday("ana", 2, 29, year=2000)
    [reminder] = _occasions(birthday, now=datetime(2027, 2, 20, tzinfo=UTC))
    assert reminder.occasion_date == date(2027, 2, 28)
    assert reminder.title == "Ana Lopez turns 27 on 28 February"


def test_a_leap_day_birthday_can_fall_on_1_march() -> None:
    """leap_day="mar1" keeps it on 1 March in common years, and on 29 February in leap ones."""
    birthday = Birthday("ana", 2, 29, leap_day="mar1")
    [common] = _occasions(birthday, now=datetime(2027, 2, 20, tzinfo=UTC))
    [leap] = _occasions(birthday, now=datetime(2028, 2, 20, tzinfo=UTC))
    assert common.occasion_date == date(2027, 3, 1)
    assert leap.occasion_date == date(2028, 2, 29)


def test_the_leap_day_choice_is_documented() -> None:
    """The docs name both choices and the default."""
    assert Birthday.__doc__ is not None
    doc = " ".join(Birthday.__doc__.split())
    assert '(``"feb28"``, the default)' in doc
    assert '``"mar1"``' in doc


def test_no_birthday_reminder_before_the_first_birthday() -> None:
    """A birth year in the future, or this year's birth, gives no "turns 0"."""
    assert _occasions(Birthday("ana", 12, 1, year=2026)) == []
    assert _occasions(Birthday("ana", 12, 1, year=2030)) == []


def test_an_anniversary_counts_the_years() -> None:
    """The title says how many years and what it is the anniversary of."""
    [reminder] = _occasions(Anniversary("ana", date(2021, 12, 10), label="client anniversary"))
    assert reminder.title == "Ana Lopez: 5 years, client anniversary, on 10 December"
    assert reminder.purpose == "anniversary:client anniversary"
    [first] = _occasions(Anniversary("ana", date(2025, 12, 10)))
    assert first.title == "Ana Lopez: 1 year, anniversary, on 10 December"
    assert _occasions(Anniversary("ana", date(2026, 12, 10))) == []


def test_a_one_off_occasion_comes_once() -> None:
    """Before its day it is upcoming; once its day has passed it never comes back."""
    launch = Occasion("Launch", on=date(2026, 12, 3), contact="bo")
    [reminder] = _occasions(launch)
    assert reminder.title == "Launch for Bo Chen on 3 December 2026"
    for later in (datetime(2026, 12, 4, 6, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC)):
        assert _occasions(launch, now=later, horizon=timedelta(days=400)) == []


def test_a_yearly_occasion_comes_every_year() -> None:
    """A month and a day come back each year, and a long horizon sees several."""
    valentine = Occasion("Valentine's Day", month=2, day=14, contact="ana")
    found = _occasions(valentine, horizon=timedelta(days=800))
    assert [r.occasion_date for r in found] == [date(2027, 2, 14), date(2028, 2, 14)]
    assert found[0].title == "Valentine's Day for Ana Lopez on 14 February"


def test_occasions_for_a_tag_or_everyone() -> None:
    """A tag's occasion reaches the contacts with the tag; one with no target reaches all."""
    cards = Occasion("Holiday card", month=12, day=10, tag="card-list")
    holiday = Occasion("Thanksgiving", on=date(2026, 11, 26))
    found = _occasions(cards, holiday)
    assert sorted((r.contact.id, r.title) for r in found) == [
        ("ana", "Holiday card for Ana Lopez on 10 December"),
        ("ana", "Thanksgiving for Ana Lopez on 26 November 2026"),
        ("bo", "Thanksgiving for Bo Chen on 26 November 2026"),
    ]


def test_the_same_occasion_twice_gives_one_reminder() -> None:
    """A contact's own launch and its tag's on the same day are one reminder, the earlier one."""
    own = Occasion("Launch", on=date(2026, 12, 3), contact="ana")
    tagged = Occasion("Launch", on=date(2026, 12, 3), tag="card-list", lead=timedelta(days=2))
    for order in ((own, tagged), (tagged, own)):
        [reminder] = _occasions(*order)
        assert reminder.lead == timedelta(days=2)


def test_an_occasion_in_a_dst_gap_moves_forward() -> None:
    """A lead that lands the reminder in a skipped hour moves it to the end of the gap."""
    # 09:00 on 8 March less 6.5 hours is 02:30, which New York skips that night.
    launch = Occasion("Launch", on=date(2026, 3, 8), contact="bo", lead=timedelta(hours=6.5))
    [reminder] = _occasions(launch, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert reminder.due.time() == time(3, 0)
    assert reminder.due == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_occasion_reminders_are_outside_the_horizon_until_it_reaches_them() -> None:
    """A birthday three months away is not in a thirty-day agenda."""
    assert _occasions(Birthday("ana", 3, 1)) == []
    assert len(_occasions(Birthday("ana", 3, 1), horizon=timedelta(days=120))) == 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Birthday("ana", 2, 30), "there is no day 30 in month 2"),
        (lambda: Birthday("ana", 13, 1), "not a month: 13"),
        (lambda: Birthday("ana", "1", 1), "not a month: '1'"),
        (lambda: Birthday("ana", 1, True), "not a day of the month: True"),
        (lambda: Birthday("ana", 2, 29, year=2001), "2001-02-29 is not a date"),
        (lambda: Birthday("ana", 1, 1, year="1980"), "not a year: '1980'"),
        (lambda: Birthday("ana", 1, 1, lead=7), "a lead time must be a duration"),
        (lambda: Birthday("ana", 1, 1, lead=timedelta(days=-1)), "a lead time must be"),
        (lambda: Birthday("ana", 1, 1, lead=timedelta(days=400)), "from zero to a year"),
        (lambda: Birthday("ana", 1, 1, leap_day="feb29"), "leap_day is 'feb28' or 'mar1'"),
        (lambda: Birthday(None, 1, 1), "a birthday's contact must be text"),
        (lambda: Anniversary("ana", "2020-01-01"), "an anniversary's date must be a date"),
        (lambda: Anniversary("ana", datetime(2020, 1, 1)), "an anniversary's date must be a date"),
        (lambda: Anniversary("ana", date(2020, 1, 1), label=""), "label must not be empty"),
        (lambda: Occasion("Launch"), "'Launch' needs a date"),
        (lambda: Occasion("Launch", month=2), "'Launch' needs a date"),
        (
            lambda: Occasion("Launch", on=date(2027, 1, 1), month=1, day=1),
            "give a date \\(on=\\) or month and day, not both",
        ),
        (lambda: Occasion("Launch", on="2027-01-01"), "an occasion's date must be a date"),
        (
            lambda: Occasion("Launch", on=date(2027, 1, 1), contact="a", tag="t"),
            "for a contact or for a tag, not both",
        ),
        (lambda: Occasion("", on=date(2027, 1, 1)), "an occasion's title must not be empty"),
        (lambda: Occasion(None, on=date(2027, 1, 1)), "an occasion's title must be text"),
        (lambda: Occasion("T", month=2, day=30), "there is no day 30 in month 2"),
    ],
)
def test_bad_occasions_are_refused(make: object, message: str) -> None:
    """Impossible dates, wrong types and contradictory targets raise CadenceError."""
    assert callable(make)
    with pytest.raises(CadenceError, match=message):
        make()


# A reminder ahead of an occasion says how far the occasion is, not how late it is

# A birthday on Wednesday 25 November 2026 with a 7-day lead: due on the 18th,
# seen on the 23rd, when the birthday is two days away.
LEAD_BIRTHDAY = Birthday("ana", 11, 25, lead=timedelta(days=7))


def _lead_reminder(now: datetime = NOW) -> Reminder:
    [reminder] = plan(Roster([ANA], occasions=[LEAD_BIRTHDAY]), now=now, horizon=timedelta(0))
    return reminder


def test_a_lead_reminder_knows_how_far_its_occasion_is() -> None:
    """The fact is on the Reminder: days from today in the contact's zone to the occasion."""
    reminder = _lead_reminder()
    assert reminder.overdue.days == 5
    assert reminder.days_to_occasion(NOW) == 2
    assert reminder.occasion_name == "birthday"
    # 23:30 in London on the 24th is already the 24th there; 00:30 on the 25th is the day.
    assert reminder.days_to_occasion(datetime(2026, 11, 24, 23, 30, tzinfo=UTC)) == 1
    assert reminder.days_to_occasion(datetime(2026, 11, 25, 0, 30, tzinfo=UTC)) == 0
    cadence_reminder = plan(Roster([ANA], [Rule(Every(days=1))]), now=NOW)[0]
    assert cadence_reminder.days_to_occasion(NOW) is None
    assert occasion_words(cadence_reminder, NOW) is None


@pytest.mark.parametrize(
    ("now", "words"),
    [
        (datetime(2026, 11, 23, 12, tzinfo=UTC), "birthday in 2 days"),
        (datetime(2026, 11, 24, 12, tzinfo=UTC), "birthday tomorrow"),
        (datetime(2026, 11, 25, 12, tzinfo=UTC), "birthday today"),
        (datetime(2026, 11, 26, 12, tzinfo=UTC), "birthday yesterday"),
        (datetime(2026, 11, 28, 12, tzinfo=UTC), "birthday 3 days ago"),
        (datetime(2026, 11, 18, 12, tzinfo=UTC), "birthday in 7 days"),
    ],
)
def test_occasion_words_say_how_far_the_day_is(now: datetime, words: str) -> None:
    """In words, at any moment: in N days, tomorrow, today, yesterday, N days ago."""
    assert occasion_words(_lead_reminder(datetime(2026, 11, 23, 12, tzinfo=UTC)), now) == words


def test_occasion_words_name_anniversaries_and_events_by_their_label() -> None:
    """An anniversary by its label, an event by its title."""
    roster = Roster(
        [ANA],
        occasions=[
            Anniversary("ana", date(2020, 11, 24), label="client since"),
            Occasion("Launch", on=date(2026, 11, 26), contact="ana"),
        ],
    )
    words = {occasion_words(r, NOW) for r in plan(roster, now=NOW, horizon=timedelta(days=5))}
    assert words == {"client since tomorrow", "Launch in 3 days"}


def test_every_edge_words_a_late_lead_reminder_by_the_occasion(tmp_path: Path) -> None:
    """`cadence due`, the console line, the email and the moved feed event: "birthday in 2 days"."""
    from email.headerregistry import Address

    from cadence.adapters.console import format_line
    from cadence.adapters.ical.render import to_ical
    from cadence.adapters.smtp.message import Addressing, reminder_message

    reminder = _lead_reminder()
    line = format_line(reminder)
    assert line.endswith("birthday in 2 days")
    assert "overdue" not in line
    addressing = Addressing(
        Address("cadence", "cadence", "example.org"), (Address("", "me", "example.org"),)
    )
    body = reminder_message(reminder, addressing, NOW).get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Wednesday 25 November 2026, birthday in 2 days" in text
    assert "overdue" not in text
    feed = to_ical([reminder], now=NOW).decode().replace("\r\n ", "")
    assert "Occasion: 2026-11-25 (birthday in 2 days)" in feed
    assert "Overdue since" not in feed

    env = {**os.environ, "CADENCE_DB": f"sqlite:///{tmp_path / 'c.db'}", "CADENCE_CONFIG": ""}
    env["COLUMNS"] = "200"

    def cadence(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cadence", "--now", "2026-11-23T12:00Z", *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    cadence("contact", "add", "ana", "--name", "Ana", "--timezone", "Europe/London")
    cadence("occasion", "add", "--contact", "ana", "--birthday", "11-25", "--lead", "7d")
    shown = cadence("due").stdout
    assert "birthday in 2 days" in shown
    assert "overdue" not in shown


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Occasion("Launch", on=date(2027, 1, 5), contact=""), "an occasion's contact"),
        (lambda: Occasion("Launch", on=date(2027, 1, 5), tag=""), "an occasion's tag"),
        (lambda: Occasion("Launch", on=date(2027, 1, 5), month=1), "not both"),
        (lambda: Occasion("Launch", on=date(2027, 1, 5), day=5), "not both"),
        (lambda: Occasion("Launch", month=1), "needs a date"),
        (lambda: Occasion("Launch", day=5), "needs a date"),
        (lambda: Occasion("", month=1, day=5), "an occasion's title"),
    ],
)
def test_an_occasion_with_an_empty_target_or_two_kinds_of_date_is_refused(
    make: Callable[[], Occasion], message: str
) -> None:
    """An empty contact or tag is not "everyone"; a date and a month are not both a date."""
    with pytest.raises(CadenceError, match=message):
        make()


def test_an_occasion_for_everyone_or_on_a_yearly_date_is_accepted() -> None:
    """Neither contact nor tag is everyone's; month and day alone make a yearly date."""
    assert Occasion("Launch", on=date(2027, 1, 5)).contact is None
    assert Occasion("New Year", month=1, day=1).on is None
    assert Occasion("Year end", month=12, day=31, tag="client").tag == "client"
