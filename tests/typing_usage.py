"""The public API used as a user would, checked by ``mypy --strict tests/typing_usage.py``.

Each ``assert_type`` fails the type check if a public type drifts; the file
also runs as a script, so the calls themselves stay right.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, assert_type
from zoneinfo import ZoneInfo

import cadence
from cadence import (
    Agenda,
    Anniversary,
    Birthday,
    Cadence,
    CadenceError,
    Contact,
    ContactPlan,
    Every,
    LeapDay,
    Occasion,
    OccasionKind,
    Recurring,
    Reminder,
    ReminderKind,
    Roster,
    Rule,
    Snooze,
    Touchpoint,
    health,
    parse_cadence,
    plan,
    plan_contact,
    reminder_key,
)


def build() -> Roster:
    """A small roster, built the way an application would from its own records."""
    ana = Contact(
        "ana",
        "Ana Lopez",
        email="ana@example.com",
        timezone="Europe/London",
        channel="phone",
        tags=["client", "card-list"],
        since=date(2020, 5, 1),
    )
    bo = Contact("bo", "Bo Chen", timezone="America/New_York")
    assert_type(ana.tags, frozenset[str])
    assert_type(ana.zone, ZoneInfo)
    assert_type(ana.since, date | None)
    assert_type(ana.email, str | None)

    fortnightly: Cadence = Every(weeks=2)
    weekdays = Recurring("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", at=time(17), start=date(2026, 1, 1))
    parsed = parse_cadence("quarterly")
    assert_type(parsed, Every | Recurring)
    assert_type(fortnightly.approx_days, float)
    assert_type(weekdays.describe(), str)

    rules = [
        Rule(fortnightly, tag="client"),
        Rule(weekdays, contact="bo"),
        Rule(parsed),
    ]
    assert_type(rules[0].target, tuple[str, str | None])

    leap: LeapDay = "mar1"
    occasions: list[OccasionKind] = [
        Birthday("ana", 2, 29, year=2000, lead=timedelta(days=7), leap_day=leap),
        Anniversary("bo", date(2021, 3, 1), label="client anniversary"),
        Occasion("Holiday card", month=12, day=10, tag="card-list", lead=timedelta(days=14)),
        Occasion("Launch", on=date(2027, 1, 15)),
    ]
    touches = [
        Touchpoint("ana", datetime(2026, 11, 1, 10, tzinfo=UTC), "phone", note="renewal"),
        Touchpoint("bo", datetime(2026, 11, 2, 9, tzinfo=UTC), personal=False, direction="in"),
    ]
    assert_type(touches[0].direction, Literal["out", "in"])
    assert_type(touches[0].personal, bool)
    return Roster(
        [ana, bo],
        rules,
        occasions,
        touches,
        snoozes=[Snooze("0" * 32, datetime(2026, 12, 1, tzinfo=UTC))],
        dismissed=["f" * 32],
    )


def describe(reminders: Sequence[Reminder]) -> list[str]:
    """One line per reminder, as an application would show them."""
    lines = []
    for reminder in reminders:
        kind: ReminderKind = reminder.kind
        overdue: timedelta = reminder.overdue
        when: date = reminder.date
        occasion: date | None = reminder.occasion_date
        channel: str | None = reminder.channel
        lines.append(
            f"{reminder.key} {kind} {when} {overdue} {occasion} {channel} {reminder.title}"
        )
    return lines


def main() -> None:
    """Plan, look at the agenda, one contact's plan and health, and a refusal."""
    roster = build()
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    agenda = plan(roster, now=now, horizon=timedelta(days=45))
    assert_type(agenda, Agenda)
    assert_type(agenda.due, tuple[Reminder, ...])
    assert_type(agenda.upcoming, tuple[Reminder, ...])
    assert_type(agenda[0], Reminder)
    assert_type(agenda[1:], tuple[Reminder, ...])
    assert_type(agenda.by_key("x"), Reminder | None)
    assert_type(len(agenda), int)
    assert_type(agenda.now, datetime)

    first = agenda[0]
    assert_type(first.due, datetime)
    assert_type(first.contact, Contact)
    assert_type(first.at(now + timedelta(days=1)), Reminder)
    print("\n".join(describe(agenda)))

    mine = plan_contact(roster, "ana", now=now)
    assert_type(mine, ContactPlan)
    assert_type(mine.reminders, tuple[Reminder, ...])
    assert_type(mine.stable_until, datetime | None)

    score = health(roster, "ana", now=now)
    assert_type(score, float | None)
    if score is not None:
        print(f"health {score:.2f}")

    assert_type(reminder_key("ana", "birthday", "2026-12-01"), str)
    assert_type(cadence.__version__, str)
    try:
        Contact("", "Nobody")
    except CadenceError as error:
        print(f"refused: {error}")


if __name__ == "__main__":
    main()
