"""Properties of planning that hold for any roster at any moment, DST folds and gaps included."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import strategies as cst
from cadence import (
    CadenceError,
    Contact,
    Every,
    Recurring,
    Reminder,
    Roster,
    Rule,
    Snooze,
    Touchpoint,
    health,
    plan,
    plan_contact,
    reminder_key,
)
from cadence.core import cadences as cadences_module


def _wall(moment: datetime) -> tuple[object, ...]:
    return (moment.date(), moment.time(), moment.utcoffset())


def _utc(moment: datetime) -> datetime:
    # Aware datetimes sharing a tzinfo compare as wall times, wrongly in a fold.
    return moment.astimezone(UTC)


def _signature(reminders: Iterable[Reminder]) -> list[tuple[str, datetime]]:
    return [(r.key, _utc(r.due)) for r in reminders]


@given(cst.rosters(), cst.aware_datetimes(), cst.horizons)
def test_planning_is_deterministic(roster: Roster, now: datetime, horizon: timedelta) -> None:
    """The same roster and moment give equal agendas, however the roster's parts are ordered."""
    first = plan(roster, now=now, horizon=horizon)
    again = plan(roster, now=now, horizon=horizon)
    shuffled = Roster(
        reversed(roster.contacts),
        reversed(roster.rules),
        reversed(roster.occasions),
        reversed(roster.touchpoints),
    )
    assert first == again
    assert list(first) == list(plan(shuffled, now=now, horizon=horizon))


@given(cst.rosters(), cst.aware_datetimes(), cst.horizons)
def test_keys_are_unique_within_an_agenda(
    roster: Roster, now: datetime, horizon: timedelta
) -> None:
    """No two reminders of one agenda share a key."""
    keys = [r.key for r in plan(roster, now=now, horizon=horizon)]
    assert len(keys) == len(set(keys))


@given(cst.rosters(), cst.aware_datetimes(), cst.horizons)
def test_agenda_is_ordered(roster: Roster, now: datetime, horizon: timedelta) -> None:
    """Reminders come by due moment (as instants, even within a fold), then contact id, then key."""
    agenda = plan(roster, now=now, horizon=horizon)
    order = [(r.due.astimezone(UTC), r.contact.id, r.key) for r in agenda]
    assert order == sorted(order)


@given(cst.rosters(), cst.aware_datetimes(), cst.horizons)
def test_every_reminder_is_due_or_within_the_horizon(
    roster: Roster, now: datetime, horizon: timedelta
) -> None:
    """Each reminder is due by now or by now plus the horizon, and due and upcoming split them."""
    agenda = plan(roster, now=now, horizon=horizon)
    start = _utc(now)
    for reminder in agenda:
        assert _utc(reminder.due) <= start + horizon
        assert reminder.overdue == max(start - _utc(reminder.due), timedelta(0))
    assert len(agenda.due) + len(agenda.upcoming) == len(agenda)
    assert all(_utc(r.due) <= start for r in agenda.due)
    assert all(_utc(r.due) > start for r in agenda.upcoming)


@given(cst.rosters(), cst.aware_datetimes(), cst.horizons)
def test_no_reminder_falls_on_a_local_time_that_does_not_exist(
    roster: Roster, now: datetime, horizon: timedelta
) -> None:
    """Each due moment, taken to UTC and back to the contact's zone, reads the same wall time."""
    for reminder in plan(roster, now=now, horizon=horizon):
        tz = reminder.contact.zone
        assert reminder.due.tzinfo is tz
        back = reminder.due.astimezone(UTC).astimezone(tz)
        assert _wall(back) == _wall(reminder.due)
        assert reminder.date == reminder.due.date()


@given(cst.rosters(), cst.aware_datetimes(), cst.horizons, st.data())
def test_plan_contact_agrees_with_plan(
    roster: Roster, now: datetime, horizon: timedelta, data: st.DataObject
) -> None:
    """Planning one contact gives that contact's reminders of the whole agenda, in order."""
    agenda = plan(roster, now=now, horizon=horizon)
    contact = data.draw(st.sampled_from(roster.contacts))
    alone = plan_contact(roster, contact.id, now=now, horizon=horizon)
    assert alone.reminders == tuple(r for r in agenda if r.contact.id == contact.id)
    if alone.stable_until is not None:
        assert alone.stable_until > now


@given(cst.rosters(), cst.aware_datetimes(), cst.horizons, st.data())
def test_nothing_changes_before_stable_until(
    roster: Roster, now: datetime, horizon: timedelta, data: st.DataObject
) -> None:
    """Planning a contact again before stable_until gives the same keys and due moments."""
    # Compared within the first planning's horizon. A contact due "now" (never
    # touched, no start date) keeps its key while its due moment follows now.
    contact = data.draw(st.sampled_from(roster.contacts))
    now = _utc(now)
    first = plan_contact(roster, contact.id, now=now, horizon=horizon)
    end = _utc(first.stable_until) if first.stable_until else now + timedelta(days=400)
    later = now + data.draw(st.timedeltas(timedelta(0), end - now))
    assume(later < end)
    again = plan_contact(roster, contact.id, now=later, horizon=horizon)
    window = now + horizon

    due_now = reminder_key(contact.id, "cadence", "never")

    def seen(reminders: tuple[Reminder, ...]) -> set[tuple[str, datetime | None]]:
        return {
            (r.key, None if r.key == due_now else _utc(r.due))
            for r in reminders
            if _utc(r.due) <= window or r.key == due_now
        }

    assert seen(again.reminders) == seen(first.reminders)


@given(cst.rosters(), cst.aware_datetimes(), st.data())
def test_health_never_rises_without_a_touch(
    roster: Roster, now: datetime, data: st.DataObject
) -> None:
    """Between two moments with no personal touch in between, health does not rise."""
    contact = data.draw(st.sampled_from(roster.contacts))
    now = _utc(now)
    later = now + data.draw(st.timedeltas(timedelta(0), timedelta(days=200)))
    touches = [
        t.at
        for t in roster.touchpoints
        if t.contact == contact.id and t.personal and now < _utc(t.at) <= later
    ]
    assume(not touches)
    before = health(roster, contact.id, now=now)
    after = health(roster, contact.id, now=later)
    if before is None:
        assert after is None
    else:
        assert after is not None
        assert 0.0 <= after <= before <= 1.0


@given(cst.aware_datetimes(), cst.every, cst.zone_names, st.data())
def test_an_overdue_check_in_keeps_its_key(
    touched: datetime, cadence: Every, zone_name: str, data: st.DataObject
) -> None:
    """Day after day, an overdue sliding check-in is one reminder whose overdue grows."""
    roster = Roster(
        [Contact("ana", "Ana Lopez", timezone=zone_name)],
        [Rule(cadence)],
        touchpoints=[Touchpoint("ana", touched)],
    )
    start = _utc(touched) + timedelta(days=800)
    first = plan(roster, now=start, horizon=timedelta(0))
    later = start + data.draw(st.timedeltas(timedelta(0), timedelta(days=60)))
    second = plan(roster, now=later, horizon=timedelta(0))
    assert [r.key for r in first] == [r.key for r in second]
    assert len(first) == 1
    assert second[0].overdue - first[0].overdue == later - start


@given(cst.rosters(), cst.aware_datetimes(), cst.horizons)
def test_now_in_any_zone_gives_the_same_agenda(
    roster: Roster, now: datetime, horizon: timedelta
) -> None:
    """The zone that ``now`` is written in changes nothing: only the instant counts."""
    here = plan(roster, now=now, horizon=horizon)
    there = plan(roster, now=now.astimezone(UTC), horizon=horizon)
    assert _signature(here) == _signature(there)
    assert [r.overdue for r in here] == [r.overdue for r in there]


@given(cst.rosters(), cst.aware_datetimes(), cst.horizons, st.data())
def test_snoozes_and_dismissals_touch_only_their_reminders(
    roster: Roster, now: datetime, horizon: timedelta, data: st.DataObject
) -> None:
    """Dismissed keys vanish, snoozed ones move to the snooze's end, and the others stay put."""
    agenda = plan(roster, now=now, horizon=horizon)
    keys = [r.key for r in agenda]
    assume(keys)
    dismissed = set(data.draw(st.lists(st.sampled_from(keys), max_size=2)))
    until = _utc(now) + data.draw(st.timedeltas(-timedelta(days=10), timedelta(days=40)))
    snoozed = set(data.draw(st.lists(st.sampled_from(keys), max_size=2))) - dismissed
    again = plan(
        Roster(
            roster.contacts,
            roster.rules,
            roster.occasions,
            roster.touchpoints,
            snoozes=[Snooze(key, until) for key in snoozed],
            dismissed=dismissed,
        ),
        now=now,
        horizon=horizon,
    )
    before = {r.key: r for r in agenda}
    after = {r.key: r for r in again}
    assert not dismissed & set(after)
    for key, reminder in before.items():
        if key in dismissed:
            continue
        if key not in snoozed or until <= _utc(reminder.due):
            assert after[key] == reminder
        elif until <= _utc(now) + horizon:
            assert _utc(after[key].due) == until
            assert after[key].due.tzinfo is reminder.contact.zone
        else:
            assert key not in after


@settings(max_examples=300)
@given(
    cst.rrule_parts,
    st.none() | st.dates(date(1990, 1, 1), date(2100, 12, 31)),
    st.sampled_from((datetime(2026, 11, 29, 12), datetime(8999, 12, 1, 12))),
)
def test_every_rule_is_refused_or_plans_within_bounded_work(
    text: str, start: date | None, wall: datetime
) -> None:
    """Any RRULE is refused with CadenceError, or its moments come within bounded work.

    The work is counted in the periods (days, weeks, months or years) that
    are looked at: it never grows with how far ``now`` lies from the rule's
    start, only with the window asked for, and stays within a few Gregorian
    cycles of 400 years for the rarest rules.
    """
    try:
        cadence = Recurring(text, start=start)
    except CadenceError:
        return
    moments = cadences_module._shared_moments(cadence.rrule, cadence.at, cadence.start)
    before = moments.worked
    past, future = cadence.moments(wall + timedelta(seconds=1), wall + timedelta(days=30))
    looked = moments.worked - before
    assert looked <= 4 * cadences_module._CYCLE[moments.freq] + 40
    assert len(past) <= 2
    assert all(m <= wall + timedelta(seconds=1) for m in past)
    assert all(m > wall + timedelta(seconds=1) for m in future)
    assert past == sorted(past)
    assert future == sorted(future)
    assert len(moments._answers) <= cadences_module._REMEMBERED
    roster = Roster([Contact("ana", "Ana")], [Rule(cadence)])
    agenda = plan(roster, now=wall.replace(tzinfo=UTC), horizon=timedelta(days=30))
    assert agenda.problems == ()
    assert all(r.kind == "cadence" for r in agenda)
