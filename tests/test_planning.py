"""Planning: sliding and fixed cadences, the agenda, snoozes, dismissals and stability."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest

from cadence import (
    Agenda,
    Birthday,
    CadenceError,
    Contact,
    Every,
    Occasion,
    Recurring,
    Reminder,
    Roster,
    Rule,
    Snooze,
    Touchpoint,
    parse_cadence,
    plan,
    plan_contact,
    reminder_key,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
ANA = Contact("ana", "Ana Lopez", timezone="Europe/London", channel="phone", tags=["client"])


def _only(roster: Roster, now: datetime = NOW, horizon: timedelta = timedelta(days=30)) -> Reminder:
    [reminder] = plan(roster, now=now, horizon=horizon)
    return reminder


def _sliding(
    cadence: Every,
    *touches: datetime,
    contact: Contact = ANA,
) -> Roster:
    return Roster(
        [contact],
        [Rule(cadence, contact=contact.id)],
        touchpoints=[Touchpoint(contact.id, at) for at in touches],
    )


# Sliding cadences


def test_a_sliding_cadence_is_due_an_interval_after_the_last_touch_at_nine() -> None:
    """Due on the local date of the last personal touch plus the interval, at 09:00 local."""
    roster = _sliding(Every(weeks=2), datetime(2026, 11, 10, 15, tzinfo=UTC))
    reminder = _only(roster)
    assert reminder.date == date(2026, 11, 24)
    assert reminder.due == datetime(2026, 11, 24, 9, 0, tzinfo=LONDON)
    assert reminder.due.tzinfo is LONDON
    assert reminder.title == "Check in with Ana Lopez"
    assert (reminder.kind, reminder.purpose, reminder.channel) == ("cadence", "cadence", "phone")
    assert reminder.overdue == timedelta(0)
    assert reminder.occasion_date is None
    assert reminder.reason == "every 2 weeks; last personal touch on 2026-11-10"


def test_the_last_touch_counts_on_its_local_date() -> None:
    """A touch late on the 10th in New York is the 11th in UTC, but counts as the 10th."""
    bo = Contact("bo", "Bo", timezone="America/New_York")
    roster = _sliding(Every(days=7), datetime(2026, 11, 11, 3, 30, tzinfo=UTC), contact=bo)
    assert _only(roster).due == datetime(2026, 11, 17, 9, 0, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("touched", "due"),
    [
        (date(2026, 10, 31), date(2026, 11, 30)),
        (date(2027, 1, 31), date(2027, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2026, 8, 31), date(2026, 9, 30)),
    ],
)
def test_monthly_cadences_clamp_to_the_month_end(touched: date, due: date) -> None:
    """31 January plus a month is 28 February, or 29 in a leap year."""
    at = datetime.combine(touched, time(12), LONDON)
    roster = _sliding(Every(months=1), at)
    assert _only(roster, now=at, horizon=timedelta(days=40)).date == due


def test_the_latest_personal_touch_wins_and_bulk_ones_do_not_count() -> None:
    """An older personal touch is superseded; a newsletter after it changes nothing."""
    roster = Roster(
        [ANA],
        [Rule(Every(weeks=1))],
        touchpoints=[
            Touchpoint("ana", datetime(2026, 11, 1, 10, tzinfo=UTC)),
            Touchpoint("ana", datetime(2026, 11, 20, 10, tzinfo=UTC)),
            Touchpoint("ana", datetime(2026, 11, 22, 10, tzinfo=UTC), personal=False),
            Touchpoint("ana", datetime(2026, 11, 5, 10, tzinfo=UTC), direction="in"),
        ],
    )
    assert _only(roster).date == date(2026, 11, 27)


def test_a_touch_logged_for_later_counts_only_once_it_has_come() -> None:
    """Touchpoints after now do not restart the cadence yet."""
    roster = _sliding(
        Every(weeks=1),
        datetime(2026, 11, 1, 10, tzinfo=UTC),
        datetime(2026, 11, 30, 10, tzinfo=UTC),
    )
    assert _only(roster).date == date(2026, 11, 8)
    assert _only(roster, now=datetime(2026, 12, 1, tzinfo=UTC)).date == date(2026, 12, 7)


def test_an_overdue_sliding_cadence_is_one_reminder_whose_overdue_grows() -> None:
    """Day after day the same key comes back, more overdue, not a new reminder each day."""
    roster = _sliding(Every(weeks=2), datetime(2026, 10, 1, 10, tzinfo=UTC))
    seen = [_only(roster, now=NOW + timedelta(days=n)) for n in range(5)]
    assert len({r.key for r in seen}) == 1
    assert {r.due for r in seen} == {datetime(2026, 10, 15, 9, tzinfo=LONDON)}
    assert [r.overdue for r in seen] == [
        NOW + timedelta(days=n) - datetime(2026, 10, 15, 8, tzinfo=UTC) for n in range(5)
    ]


def test_a_new_touch_gives_a_new_key() -> None:
    """After the next touch the check-in is a different reminder."""
    before = _only(_sliding(Every(weeks=2), datetime(2026, 10, 1, 10, tzinfo=UTC)))
    after = _only(
        _sliding(
            Every(weeks=2),
            datetime(2026, 10, 1, 10, tzinfo=UTC),
            datetime(2026, 11, 20, 10, tzinfo=UTC),
        )
    )
    assert before.key != after.key
    assert after.date == date(2026, 12, 4)


def test_since_counts_as_the_last_touch_until_one_is_logged() -> None:
    """A contact never touched is due an interval after the relationship began."""
    ana = attrs.evolve(ANA, since=date(2026, 11, 1))
    roster = Roster([ana], [Rule(Every(weeks=2))])
    reminder = _only(roster)
    assert reminder.date == date(2026, 11, 15)
    assert reminder.reason == "every 2 weeks; no touch logged since 2026-11-01"


def test_a_contact_never_touched_is_due_now_under_a_stable_key() -> None:
    """With neither a touch nor a start date the check-in is due now, with the same key daily."""
    roster = Roster([ANA], [Rule(Every(weeks=2))])
    first = _only(roster)
    later = _only(roster, now=NOW + timedelta(days=3))
    assert first.due == NOW
    assert first.overdue == timedelta(0)
    assert later.due == NOW + timedelta(days=3)
    assert first.key == later.key == reminder_key("ana", "cadence", "never")


def test_a_check_in_beyond_the_horizon_is_not_planned() -> None:
    """Only what falls due by now plus the horizon is in the agenda."""
    roster = _sliding(Every(months=3), datetime(2026, 11, 20, 10, tzinfo=UTC))
    assert list(plan(roster, now=NOW)) == []
    assert len(plan(roster, now=NOW, horizon=timedelta(days=100))) == 1


def test_rule_precedence_in_planning() -> None:
    """Own rule over tags' rules, the most frequent tag rule over others, then everyone's."""
    touched = datetime(2026, 11, 1, 10, tzinfo=UTC)
    contacts = [
        Contact("own", "Own", tags=["client"]),
        Contact("tagged", "Tagged", tags=["client", "friend"]),
        Contact("plain", "Plain"),
    ]
    roster = Roster(
        contacts,
        [
            Rule(Every(days=3), contact="own"),
            Rule(Every(weeks=2), tag="client"),
            Rule(Every(weeks=1), tag="friend"),
            Rule(Every(days=20)),
        ],
        touchpoints=[Touchpoint(c.id, touched) for c in contacts],
    )
    dates = {r.contact.id: r.date for r in plan(roster, now=touched, horizon=timedelta(days=60))}
    assert dates == {
        "own": date(2026, 11, 4),
        "tagged": date(2026, 11, 8),
        "plain": date(2026, 11, 21),
    }


# Fixed cadences


WEEKLY = Recurring("FREQ=WEEKLY;BYDAY=MO", at=time(10, 0))


def _fixed(*touches: datetime, cadence: Recurring = WEEKLY, since: date | None = None) -> Roster:
    ana = attrs.evolve(ANA, since=since)
    return Roster([ana], [Rule(cadence)], touchpoints=[Touchpoint("ana", at) for at in touches])


def _dates(roster: Roster, now: datetime, horizon: timedelta = timedelta(days=14)) -> list[date]:
    return [r.date for r in plan(roster, now=now, horizon=horizon)]


# Mondays: 16, 23 and 30 November, 7 December 2026, 10:00 in London (= UTC in winter).
WEDNESDAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_a_fixed_moment_is_satisfied_by_a_touch_since_the_moment_before() -> None:
    """A touch between Monday 16th and Monday 23rd satisfies the 23rd: nothing overdue."""
    roster = _fixed(datetime(2026, 11, 18, 9, tzinfo=UTC))
    assert _dates(roster, WEDNESDAY) == [date(2026, 11, 30), date(2026, 12, 7)]


def test_an_unsatisfied_past_moment_is_reported_overdue() -> None:
    """No touch since Monday 16th: the 23rd is overdue, and the coming Mondays are upcoming."""
    roster = _fixed(datetime(2026, 11, 10, 9, tzinfo=UTC))
    agenda = plan(roster, now=WEDNESDAY, horizon=timedelta(days=14))
    assert [r.date for r in agenda] == [date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)]
    assert [r.date for r in agenda.due] == [date(2026, 11, 23)]
    assert agenda.due[0].overdue == timedelta(days=2, hours=2)


def test_only_the_latest_past_moment_is_reported() -> None:
    """Weeks without a touch give one overdue reminder, for the latest moment, not a pile."""
    roster = _fixed(datetime(2026, 9, 1, 9, tzinfo=UTC))
    agenda = plan(roster, now=WEDNESDAY, horizon=timedelta(0))
    assert [r.date for r in agenda] == [date(2026, 11, 23)]


def test_a_late_touch_satisfies_the_missed_moment_and_the_next() -> None:
    """A touch on Tuesday, after the missed Monday, clears it and counts for the next Monday too."""
    roster = _fixed(datetime(2026, 11, 10, 9, tzinfo=UTC), datetime(2026, 11, 24, 9, tzinfo=UTC))
    assert _dates(roster, WEDNESDAY) == [date(2026, 12, 7)]


def test_a_touch_at_the_moment_before_does_not_count() -> None:
    """The window is after the moment before: a touch exactly at Monday 16th 10:00 is too early."""
    roster = _fixed(datetime(2026, 11, 16, 10, 0, tzinfo=UTC))
    assert _dates(roster, WEDNESDAY, timedelta(0)) == [date(2026, 11, 23)]
    roster = _fixed(datetime(2026, 11, 16, 10, 0, 1, tzinfo=UTC))
    assert _dates(roster, WEDNESDAY, timedelta(0)) == []


def test_never_touched_the_latest_past_moment_is_overdue() -> None:
    """Without any touch or start date, the latest moment is overdue."""
    assert _dates(_fixed(), WEDNESDAY, timedelta(0)) == [date(2026, 11, 23)]


def test_each_fixed_moment_has_its_own_stable_key() -> None:
    """Keys come from the moment's local date and time; planning later keeps them."""
    roster = _fixed()
    first = plan(roster, now=WEDNESDAY, horizon=timedelta(days=14))
    later = plan(roster, now=WEDNESDAY + timedelta(hours=5), horizon=timedelta(days=14))
    assert [r.key for r in first] == [r.key for r in later]
    assert first[1].key == reminder_key("ana", "cadence", "2026-11-30T10:00")


def test_a_fixed_moment_in_a_dst_gap_moves_to_the_end_of_the_gap() -> None:
    """Daily at 02:30 in New York is at 03:00 on the night the clocks skip that hour."""
    bo = Contact("bo", "Bo", timezone="America/New_York")
    roster = Roster([bo], [Rule(Recurring("FREQ=DAILY", at=time(2, 30)))])
    agenda = plan(roster, now=datetime(2026, 3, 7, 12, tzinfo=UTC), horizon=timedelta(days=2))
    upcoming = [(r.date, r.due.time(), r.due.utcoffset()) for r in agenda.upcoming]
    assert upcoming == [
        (date(2026, 3, 8), time(3, 0), timedelta(hours=-4)),
        (date(2026, 3, 9), time(2, 30), timedelta(hours=-4)),
    ]


def test_a_fixed_moment_in_a_fold_takes_the_first() -> None:
    """Daily at 01:30 in New York is the first 01:30 on the night the clocks repeat that hour."""
    bo = Contact("bo", "Bo", timezone="America/New_York")
    roster = Roster([bo], [Rule(Recurring("FREQ=DAILY", at=time(1, 30)))])
    agenda = plan(roster, now=datetime(2026, 10, 31, 12, tzinfo=UTC), horizon=timedelta(days=1))
    [reminder] = agenda.upcoming
    assert reminder.due.utcoffset() == timedelta(hours=-4)
    # In UTC: a moment in a fold never equals one of another zone (PEP 495).
    assert reminder.due.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_moments_are_wall_times_in_the_contacts_zone() -> None:
    """The same rule falls at 17:00 in each contact's own zone."""
    rule = parse_cadence("every weekday at 17:00")
    contacts = [
        Contact("ldn", "L", timezone="Europe/London"),
        Contact("nyc", "N", timezone="America/New_York"),
        Contact("lhi", "H", timezone="Australia/Lord_Howe"),
    ]
    roster = Roster(contacts, [Rule(rule)], touchpoints=[Touchpoint(c.id, NOW) for c in contacts])
    agenda = plan(roster, now=NOW, horizon=timedelta(days=3))
    assert {r.due.time() for r in agenda} == {time(17, 0)}
    assert {r.due.tzinfo for r in agenda} == {c.zone for c in contacts}


# The agenda


def test_the_agenda_is_ordered_and_split_into_due_and_upcoming() -> None:
    """Reminders come by due moment, then contact id; due and upcoming split them at now."""
    contacts = [Contact(cid, cid.upper()) for cid in ("c", "a", "b")]
    roster = Roster(
        contacts,
        [Rule(Every(days=5))],
        touchpoints=[
            Touchpoint("c", NOW - timedelta(days=10)),
            Touchpoint("a", NOW - timedelta(days=2)),
            Touchpoint("b", NOW - timedelta(days=10)),
        ],
    )
    agenda = plan(roster, now=NOW)
    assert [r.contact.id for r in agenda] == ["b", "c", "a"]
    assert [r.contact.id for r in agenda.due] == ["b", "c"]
    assert [r.contact.id for r in agenda.upcoming] == ["a"]
    assert agenda.now == NOW
    assert agenda.horizon == timedelta(days=30)
    assert len(agenda) == 3
    assert agenda[0].contact.id == "b"
    assert [r.contact.id for r in agenda[1:]] == ["c", "a"]
    assert agenda.by_key(agenda[2].key) == agenda[2]
    assert agenda.by_key("nope") is None
    assert agenda[0] in agenda


def test_an_agenda_built_by_hand_is_sorted_too() -> None:
    """Agenda sorts whatever it is given by due moment, contact id and key."""
    reminders = list(plan(_fixed(), now=WEDNESDAY, horizon=timedelta(days=21)))
    agenda = Agenda(reversed(reminders), now=WEDNESDAY, horizon=timedelta(days=21))
    assert list(agenda) == reminders


def test_reminder_at_measures_overdue_from_another_moment() -> None:
    """at(now) gives the same reminder with overdue measured from then, in any zone."""
    reminder = _only(_sliding(Every(weeks=2), datetime(2026, 10, 1, 10, tzinfo=UTC)))
    later = reminder.at(NOW.astimezone(LONDON) + timedelta(days=1))
    assert later.key == reminder.key
    assert later.overdue == reminder.overdue + timedelta(days=1)
    assert reminder.at(datetime(2000, 1, 1, tzinfo=UTC)).overdue == timedelta(0)
    with pytest.raises(CadenceError, match="timezone-aware"):
        reminder.at(datetime(2026, 1, 1))


def test_now_in_the_contacts_zone_during_a_fold_is_read_as_the_instant_it_is() -> None:
    """The second 01:30 of a New York fold is after a moment due at the first 01:45."""
    bo = Contact("bo", "Bo", timezone="America/New_York")
    roster = Roster([bo], [Rule(Recurring("FREQ=DAILY", at=time(1, 45)))], touchpoints=[])
    second = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1)  # 06:30 UTC
    agenda = plan(roster, now=second, horizon=timedelta(hours=1))
    [reminder] = agenda.due
    assert reminder.due.astimezone(UTC) == datetime(2026, 11, 1, 5, 45, tzinfo=UTC)
    assert reminder.overdue == timedelta(minutes=45)


# Snoozes and dismissals


def test_a_snooze_moves_the_due_moment_and_keeps_the_key() -> None:
    """A snoozed reminder comes back when its snooze ends, under the same key."""
    roster = _sliding(Every(weeks=2), datetime(2026, 10, 1, 10, tzinfo=UTC))
    reminder = _only(roster)
    until = NOW + timedelta(days=2)
    snoozed = Roster(
        roster.contacts,
        roster.rules,
        touchpoints=roster.touchpoints,
        snoozes=[Snooze(reminder.key, NOW + timedelta(days=1)), Snooze(reminder.key, until)],
    )
    moved = _only(snoozed)
    assert moved.key == reminder.key
    assert moved.due == until
    assert moved.due.tzinfo is LONDON
    assert moved.overdue == timedelta(0)
    assert "snoozed until 2026-11-25 12:00" in moved.reason
    assert list(plan(snoozed, now=NOW, horizon=timedelta(days=1))) == []


def test_a_snooze_that_ended_before_the_due_moment_changes_nothing() -> None:
    """Snoozing to a moment before the reminder is due leaves it as it was."""
    roster = _sliding(Every(weeks=2), datetime(2026, 11, 20, 10, tzinfo=UTC))
    reminder = _only(roster)
    snoozed = Roster(
        roster.contacts,
        roster.rules,
        touchpoints=roster.touchpoints,
        snoozes=[Snooze(reminder.key, NOW)],
    )
    assert _only(snoozed) == reminder


def test_a_dismissed_reminder_is_not_planned() -> None:
    """Dismissing a key drops that reminder only."""
    roster = _fixed()
    agenda = plan(roster, now=WEDNESDAY, horizon=timedelta(days=14))
    dismissed = Roster(roster.contacts, roster.rules, dismissed=[agenda[0].key])
    assert list(plan(dismissed, now=WEDNESDAY, horizon=timedelta(days=14))) == list(agenda[1:])


# Stability


def test_stable_until_is_the_next_recurring_moment() -> None:
    """A fixed cadence's plan holds until its next moment passes."""
    planned = plan_contact(_fixed(), "ana", now=WEDNESDAY)
    assert planned.stable_until == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert [r.date for r in planned.reminders][:2] == [date(2026, 11, 23), date(2026, 11, 30)]


def test_stable_until_is_the_next_touch_logged_ahead() -> None:
    """A touch logged for later will change the plan when it comes."""
    ahead = datetime(2026, 12, 2, 10, tzinfo=UTC)
    roster = _sliding(Every(weeks=1), datetime(2026, 11, 1, 10, tzinfo=UTC), ahead)
    assert plan_contact(roster, "ana", now=NOW).stable_until == ahead


def test_stable_until_is_the_end_of_an_occasions_day() -> None:
    """An occasion's reminder lasts until its day ends in the contact's zone."""
    roster = Roster([ANA], occasions=[Birthday("ana", 12, 1, lead=timedelta(days=7))])
    planned = plan_contact(roster, "ana", now=NOW)
    assert planned.stable_until == datetime(2026, 12, 2, 0, 0, tzinfo=LONDON)


def test_stable_until_is_none_when_time_alone_changes_nothing() -> None:
    """An overdue sliding cadence with no touch ahead stays as it is."""
    roster = _sliding(Every(weeks=1), datetime(2026, 11, 1, 10, tzinfo=UTC))
    assert plan_contact(roster, "ana", now=NOW).stable_until is None


def test_stable_until_is_the_start_date_of_a_recurring_cadence() -> None:
    """A start date ahead will count as a touch for a fixed cadence when it comes."""
    roster = _fixed(since=date(2026, 12, 1))
    planned = plan_contact(roster, "ana", now=datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert planned.stable_until == datetime(2026, 11, 30, 10, tzinfo=UTC)
    roster = _fixed(since=date(2026, 11, 26), cadence=Recurring("FREQ=MONTHLY;BYDAY=1MO"))
    planned = plan_contact(roster, "ana", now=datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert planned.stable_until == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def test_plan_contact_refuses_unknown_contacts() -> None:
    """An id not in the roster raises CadenceError naming it."""
    with pytest.raises(CadenceError, match="unknown contact 'zed'"):
        plan_contact(_fixed(), "zed", now=NOW)


def test_planning_reads_nothing_but_its_arguments() -> None:
    """Two rosters built alike plan alike, and planning leaves the roster as it was."""
    roster = _fixed(datetime(2026, 11, 10, 9, tzinfo=UTC))
    before = (roster.contacts, roster.rules, roster.touchpoints)
    assert plan(roster, now=WEDNESDAY) == plan(
        _fixed(datetime(2026, 11, 10, 9, tzinfo=UTC)), now=WEDNESDAY
    )
    assert (roster.contacts, roster.rules, roster.touchpoints) == before


# One contact that cannot be planned never stops the others


def test_a_contact_that_cannot_be_planned_is_named_and_the_others_are_planned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """plan() leaves out the contact whose planning fails, names it in problems, plans the rest."""
    broken = Recurring("FREQ=WEEKLY;BYDAY=FR")
    real = Recurring.moments

    def failing(self: Recurring, wall: datetime, until: datetime) -> object:
        if self == broken:
            raise IndexError("list assignment index out of range")
        return real(self, wall, until)

    monkeypatch.setattr(Recurring, "moments", failing)
    bo = Contact("bo", "Bo")
    roster = Roster([ANA, bo], [Rule(broken, contact="ana"), Rule(Every(days=1))])
    agenda = plan(roster, now=NOW)
    assert {r.contact.id for r in agenda} == {"bo"}
    [problem] = agenda.problems
    assert problem.contact == "ana"
    assert "IndexError" in problem.reason
    assert "'ana' could not be planned" in str(problem)


def test_a_store_rule_that_cannot_be_used_leaves_everyone_else_delivered(
    tmp_path: Path,
) -> None:
    """A rule stored before such rules were refused: `due` shows the rest and names who is missing.

    BYEASTER=300 used to make planning raise for every contact; now the contacts
    it reaches are named on standard error and everyone else is shown.
    """
    env = {**os.environ, "CADENCE_DB": f"sqlite:///{tmp_path / 'c.db'}", "CADENCE_CONFIG": ""}

    def cadence(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cadence", "--now", "2026-11-23T12:00Z", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    assert cadence("contact", "add", "ana", "--name", "Ana", "--tag", "easter").returncode == 0
    assert cadence("contact", "add", "bo", "--name", "Bo").returncode == 0
    assert cadence("rule", "set", "weekly").returncode == 0
    refused = cadence("rule", "set", "RRULE:FREQ=DAILY;BYEASTER=300", "--tag", "easter")
    assert refused.returncode != 0
    assert refused.stderr.startswith("error: BYEASTER=300 is out of range")
    with sqlite3.connect(tmp_path / "c.db") as conn:
        conn.execute(
            "INSERT INTO rules (kind, target, cadence) VALUES ('tag', 'easter', ?)",
            (json.dumps({"rrule": "FREQ=DAILY;BYEASTER=300", "at": "09:00"}),),
        )
        conn.execute("UPDATE plan_state SET stable_until = 0")
    for _ in range(2):  # still named the second time: its plan stays stale
        done = cadence("due")
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert "Check in with Bo" in done.stdout
        assert "Ana" not in done.stdout
        [warning] = done.stderr.strip().splitlines()
        assert warning.startswith("warning: contact 'ana' could not be planned: the rule for tag")
        assert "BYEASTER=300 is out of range" in warning
    feed = cadence("feed")
    assert feed.returncode == 0, feed.stderr
    assert "Check in with Bo" in feed.stdout
    assert feed.stderr.startswith("warning: contact 'ana' could not be planned")
    # A run delivers everyone else, names who was left out, and exits 4 so cron notices.
    out = tmp_path / "out.jsonl"
    (tmp_path / "cadence.toml").write_text(f'[[routes]]\nadapter = "jsonl"\npath = "{out}"\n')
    run = cadence("--config", str(tmp_path / "cadence.toml"), "run")
    assert run.returncode == 4, run.stderr
    assert "Traceback" not in run.stderr
    assert [json.loads(line)["contact"] for line in out.read_text().splitlines()] == ["bo"]
    assert run.stderr.startswith("warning: contact 'ana' could not be planned: the rule for tag")
    listed = cadence("rule", "list")
    assert listed.returncode == 1
    assert listed.stderr.startswith("error: the tag rule for 'easter' cannot be used (BYEASTER")


# What survived mutation: each of these would have noticed


def test_a_recurring_cadence_counts_the_start_date_as_a_touch_once_it_has_come() -> None:
    """Weekly on Mondays, ``since`` Tuesday 17th, planned Wednesday 18th: Monday 16th is not due.

    The start on the 17th satisfies the moments after the 16th, so the 23rd is
    satisfied too and the 30th is the first due.
    """
    roster = _fixed(since=date(2026, 11, 17))
    assert _dates(roster, datetime(2026, 11, 18, 12, tzinfo=UTC)) == [date(2026, 11, 30)]
    # Before the start has come it counts for nothing: every moment is due.
    assert _dates(roster, datetime(2026, 11, 16, 12, tzinfo=UTC)) == [
        date(2026, 11, 16),
        date(2026, 11, 23),
        date(2026, 11, 30),
    ]


def test_a_touch_exactly_at_a_moment_does_not_satisfy_the_next_one() -> None:
    """A touch at 10:00 on Monday 23rd satisfies the 23rd, not the 30th: only one after it does."""
    roster = _fixed(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert _dates(roster, WEDNESDAY) == [date(2026, 11, 30), date(2026, 12, 7)]
    later = _fixed(datetime(2026, 11, 23, 10, 0, 1, tzinfo=UTC))
    assert _dates(later, WEDNESDAY) == [date(2026, 12, 7)]


def test_reminders_of_one_contact_due_at_the_same_moment_are_ordered_by_key() -> None:
    """Two occasions of one day: the agenda orders them by key, whatever order the roster had."""
    day = date(2026, 11, 30)
    birthday = Birthday("ana", day.month, day.day)
    launch = Occasion("Launch", on=day, contact="ana")
    seen = []
    for occasions in ([birthday, launch], [launch, birthday]):
        roster = Roster([ANA], [Rule(Every(days=7), contact="ana")], occasions=occasions)
        agenda = plan(roster, now=NOW, horizon=timedelta(days=10))
        same = [r for r in agenda if r.date == day and r.kind == "occasion"]
        assert len(same) == 2
        assert [r.key for r in same] == sorted(r.key for r in same)
        seen.append([r.key for r in agenda])
        contact_plan = plan_contact(roster, "ana", now=NOW, horizon=timedelta(days=10))
        assert [r.key for r in contact_plan.reminders] == seen[-1]
    assert seen[0] == seen[1]


def test_a_reminder_seen_at_the_same_moment_is_the_same_object() -> None:
    """``at(now)`` returns the reminder itself when nothing changes, a changed copy otherwise."""
    reminder = _only(_sliding(Every(days=1), datetime(2026, 11, 20, 15, tzinfo=UTC)))
    assert reminder.overdue == NOW - reminder.due
    assert reminder.at(NOW) is reminder
    later = reminder.at(NOW + timedelta(hours=2))
    assert later is not reminder
    assert later.overdue == reminder.overdue + timedelta(hours=2)
    assert later.key == reminder.key
    assert reminder.at(reminder.due - timedelta(days=1)).overdue == timedelta(0)


@pytest.mark.parametrize(
    ("lead", "words"),
    [
        (timedelta(days=1), "remind 1 day before"),
        (timedelta(days=2), "remind 2 days before"),
        (timedelta(days=7), "remind 7 days before"),
        (timedelta(hours=12), "remind 12 hours before"),
        (timedelta(hours=36), "remind 36 hours before"),
        (timedelta(hours=1, minutes=30), "remind 1.5 hours before"),
    ],
)
def test_a_lead_is_worded_in_days_or_hours(lead: timedelta, words: str) -> None:
    """Whole days as days (one day singular), anything else in hours."""
    roster = Roster([ANA], occasions=[Birthday("ana", 12, 10, lead=lead)])
    [reminder] = plan(roster, now=NOW, horizon=timedelta(days=30))
    assert reminder.reason == f"birthday on 2026-12-10; {words}"


def test_planning_accepts_exactly_the_first_and_last_moments_it_reckons_in() -> None:
    """From 1900-01-01 00:00 UTC on; now plus the horizon strictly before 9000-01-01."""
    roster = _sliding(Every(days=1))
    earliest = datetime(1900, 1, 1, tzinfo=UTC)
    assert plan(roster, now=earliest).now == earliest
    with pytest.raises(CadenceError, match="between the years 1900 and 9000"):
        plan(roster, now=earliest - timedelta(microseconds=1))
    latest = datetime(9000, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)
    assert plan(roster, now=latest, horizon=timedelta(0)).now == latest
    assert plan(roster, now=latest - timedelta(days=30)).horizon == timedelta(days=30)
    with pytest.raises(CadenceError, match="between the years 1900 and 9000"):
        plan(roster, now=latest - timedelta(days=30), horizon=timedelta(days=30, microseconds=1))
    with pytest.raises(CadenceError, match="between the years 1900 and 9000"):
        plan(roster, now=datetime(9000, 1, 1, tzinfo=UTC), horizon=timedelta(0))


def test_a_moment_in_the_year_9999_is_aware_only_while_it_stays_in_range() -> None:
    """The last day of the year 9999 is a moment; an offset that takes it past the end is not."""
    from cadence.core.time import require_aware

    last = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert require_aware(last, "now") is last
    minus_one = timezone(timedelta(hours=-1))
    behind = datetime(9999, 12, 31, 22, 59, 59, 999999, tzinfo=minus_one)
    assert require_aware(behind, "now") is behind
    with pytest.raises(CadenceError, match="now is out of range"):
        require_aware(datetime(9999, 12, 31, 23, 0, tzinfo=minus_one), "now")
    with pytest.raises(CadenceError, match="now is out of range"):
        require_aware(datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "now")
