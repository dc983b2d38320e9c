"""Health: how well you keep in touch, from 1 just after a touch down towards 0."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence import (
    CadenceError,
    Contact,
    Every,
    Recurring,
    Roster,
    Rule,
    Touchpoint,
    health,
    plan,
)
from cadence.core.planning import health_over

TOUCHED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
FORTNIGHTLY = Every(weeks=2)
ANA = Contact("ana", "Ana Lopez", timezone="Europe/London")


def _roster(cadence: Every | Recurring | None = FORTNIGHTLY, **contact: object) -> Roster:
    ana = Contact("ana", "Ana Lopez", timezone="Europe/London", **contact)  # type: ignore[arg-type]
    rules = [Rule(cadence)] if cadence is not None else []
    touches = [] if "since" in contact else [Touchpoint("ana", TOUCHED)]
    return Roster([ana], rules, touchpoints=touches)


def test_health_is_one_just_after_a_personal_touch() -> None:
    """Right after a touch nothing is owed."""
    assert health(_roster(), "ana", now=TOUCHED) == 1.0


def test_health_is_one_half_when_the_check_in_falls_due() -> None:
    """At the moment the sliding cadence falls due, health is exactly 0.5."""
    roster = _roster()
    [reminder] = plan(roster, now=TOUCHED, horizon=timedelta(days=30))
    assert health(roster, "ana", now=reminder.due) == pytest.approx(0.5)


def test_health_is_at_most_one_half_once_overdue_by_a_whole_interval() -> None:
    """One interval overdue, health is a quarter: at most a half, as promised."""
    roster = _roster()
    [reminder] = plan(roster, now=TOUCHED, horizon=timedelta(days=30))
    interval = reminder.due - TOUCHED
    later = health(roster, "ana", now=reminder.due + interval)
    assert later == pytest.approx(0.25)
    assert later is not None
    assert later <= 0.5


def test_health_halves_with_each_interval() -> None:
    """The formula the docstring gives: 0.5 ** (elapsed / interval)."""
    roster = _roster()
    [reminder] = plan(roster, now=TOUCHED, horizon=timedelta(days=30))
    interval = reminder.due - TOUCHED
    for fraction in (0.25, 1.5, 3.0):
        now = TOUCHED + interval * fraction
        assert health(roster, "ana", now=now) == pytest.approx(0.5**fraction)
    assert health.__doc__ is not None
    assert "0.5 ** (elapsed / interval)" in health.__doc__


def test_health_falls_as_time_passes_without_a_touch() -> None:
    """Day by day without a touch, health only goes down."""
    roster = _roster()
    values = [health(roster, "ana", now=TOUCHED + timedelta(days=n)) for n in range(60)]
    assert all(v is not None for v in values)
    assert values == sorted(values, reverse=True)  # type: ignore[type-var]  # none is None
    assert values[-1] < 0.1  # type: ignore[operator]  # none is None


def test_a_new_touch_restores_health() -> None:
    """A touch brings health back to 1."""
    later = TOUCHED + timedelta(days=40)
    roster = Roster(
        [ANA],
        [Rule(Every(weeks=2))],
        touchpoints=[Touchpoint("ana", TOUCHED), Touchpoint("ana", later)],
    )
    assert health(roster, "ana", now=later - timedelta(seconds=1)) < 0.2  # type: ignore[operator]
    assert health(roster, "ana", now=later) == 1.0


def test_bulk_touches_do_not_restore_health() -> None:
    """A newsletter is not a personal touch."""
    later = TOUCHED + timedelta(days=40)
    roster = Roster(
        [ANA],
        [Rule(Every(weeks=2))],
        touchpoints=[Touchpoint("ana", TOUCHED), Touchpoint("ana", later, personal=False)],
    )
    assert health(roster, "ana", now=later) < 0.2  # type: ignore[operator]  # not None


def test_a_contact_without_a_cadence_has_no_health() -> None:
    """No rule, no health: None."""
    assert health(_roster(None), "ana", now=TOUCHED) is None


def test_a_contact_never_touched_has_health_zero() -> None:
    """No touch and no start date: drifting."""
    roster = Roster([ANA], [Rule(Every(weeks=2))])
    assert health(roster, "ana", now=TOUCHED) == 0.0


def test_the_start_date_counts_as_a_touch() -> None:
    """Before the relationship began health is 1; from its first midnight it decays as usual."""
    roster = _roster(since=date(2026, 11, 10))
    assert health(roster, "ana", now=datetime(2026, 11, 1, tzinfo=UTC)) == 1.0
    assert health(roster, "ana", now=datetime(2026, 11, 10, 0, 0, tzinfo=UTC)) == 1.0
    assert health(roster, "ana", now=datetime(2026, 11, 24, 9, 0, tzinfo=UTC)) == pytest.approx(0.5)


def test_a_recurring_cadence_uses_the_mean_gap() -> None:
    """For a weekly rule, health is a half about a week after a touch."""
    roster = _roster(Recurring("FREQ=WEEKLY;BYDAY=MO", at=time(10)))
    assert health(roster, "ana", now=TOUCHED) == 1.0
    assert health(roster, "ana", now=TOUCHED + timedelta(days=7)) == pytest.approx(0.5)
    assert health(roster, "ana", now=TOUCHED + timedelta(days=14)) == pytest.approx(0.25)


def test_health_is_the_same_whatever_zone_now_is_written_in() -> None:
    """Only the instant counts."""
    from zoneinfo import ZoneInfo

    roster = _roster()
    now = TOUCHED + timedelta(days=5)
    assert health(roster, "ana", now=now) == health(
        roster, "ana", now=now.astimezone(ZoneInfo("Pacific/Apia"))
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: health(_roster(), "zed", now=TOUCHED), "unknown contact 'zed'"),
        (lambda: health(_roster(), "ana", now=datetime(2026, 1, 1)), "now must be timezone-aware"),
        (lambda: health(None, "ana", now=TOUCHED), "health\\(\\) needs a Roster, not None"),
        (lambda: health(_roster(), None, now=TOUCHED), "unknown contact None"),
    ],
)
def test_health_refuses_bad_input(call: object, message: str) -> None:
    """Unknown contacts, naive moments and wrong types raise CadenceError."""
    assert callable(call)
    with pytest.raises(CadenceError, match=message):
        call()


_CADENCES = [None, FORTNIGHTLY, Every(months=1), Recurring("FREQ=WEEKLY;BYDAY=MO", at=time(10))]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(_CADENCES),
    st.lists(st.integers(0, 200), max_size=6),
    st.sampled_from([{}, {"since": date(2026, 9, 1)}, {"added": date(2026, 10, 15)}]),
    st.lists(st.integers(-60, 300), min_size=1, max_size=15),
)
def test_health_over_gives_health_at_each_moment(
    cadence: Every | Recurring | None,
    touch_days: list[int],
    contact: dict[str, date],
    moment_days: list[int],
) -> None:
    """A chart's points, read at once, are health() at each moment, in the moments' order."""
    start = datetime(2026, 8, 3, 11, 30, tzinfo=UTC)
    ana = Contact("ana", "Ana Lopez", timezone="Europe/London", **contact)  # type: ignore[arg-type]
    touches = [Touchpoint("ana", start + timedelta(days=d, hours=d % 7)) for d in touch_days]
    rules = [Rule(cadence)] if cadence is not None else []
    roster = Roster([ana], rules, touchpoints=touches)
    moments = [start + timedelta(days=d, hours=5) for d in moment_days]
    assert health_over(roster, "ana", moments) == [
        health(roster, "ana", now=moment) for moment in moments
    ]


def test_health_over_refuses_a_naive_moment_among_others() -> None:
    """One bad moment is refused as health() refuses it, whatever comes before."""
    with pytest.raises(CadenceError, match="now must be timezone-aware"):
        health_over(_roster(), "ana", [TOUCHED, datetime(2026, 1, 1)])
