"""The roster keeps touchpoints compactly and gives them back equal, however they were given."""

from __future__ import annotations

import gc
import weakref
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

import strategies as cst
from cadence import Contact, Roster, Touchpoint, plan
from cadence.core.drift import Timeline, timeline

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
IDS = ["ana", "bo", "cy"]

notes = st.sampled_from(("", "", "called about the renewal"))
sources = st.sampled_from((None, None, ("imap", "r1"), ("calendar", "r2")))


@st.composite
def touchpoints(draw: st.DrawFn) -> Touchpoint:
    """A touchpoint of one of IDS at a moment that may lie in a DST fold or gap."""
    source = draw(sources)
    return Touchpoint(
        draw(st.sampled_from(IDS)),
        draw(st.one_of(cst.aware_datetimes(), cst.in_utc(cst.aware_datetimes()))),
        draw(cst.touch_channels),
        personal=draw(cst.personal),
        direction=draw(cst.directions),
        note=draw(notes),
        source=None if source is None else source[0],
        ref=None if source is None else source[1],
    )


def _exactly(touch: Touchpoint) -> tuple[object, ...]:
    """All of a touchpoint, its moment's wall time, zone and fold too (== compares instants)."""
    at = touch.at
    return (touch, at.replace(tzinfo=None), at.tzinfo, at.fold)


def _people() -> list[Contact]:
    return [Contact(cid, cid.title()) for cid in IDS]


def _expected(touches: list[Touchpoint]) -> list[Touchpoint]:
    """By contact id, then by instant, touches at the same instant in the order given."""
    return sorted(touches, key=lambda t: (t.contact, t.at.astimezone(UTC)))


@given(st.lists(touchpoints(), max_size=12))
def test_touchpoints_come_back_exactly_as_given(touches: list[Touchpoint]) -> None:
    """Every touchpoint comes back with its note, source, zone, wall time and fold."""
    roster = Roster(_people(), touchpoints=iter(touches))
    expected = _expected(touches)
    assert [_exactly(t) for t in roster.touchpoints] == [_exactly(t) for t in expected]
    for cid in IDS:
        mine = [_exactly(t) for t in expected if t.contact == cid]
        assert [_exactly(t) for t in roster.history(cid)] == mine


@given(st.lists(touchpoints(), max_size=12), cst.aware_datetimes())
def test_the_order_touchpoints_come_in_changes_nothing(
    touches: list[Touchpoint], now: datetime
) -> None:
    """In the given order, reversed, or grouped by contact: the same touches and plans.

    Only touches of one contact at the same instant keep the order they came in.
    """
    rosters = [
        Roster(_people(), touchpoints=order)
        for order in (touches, reversed(touches), _expected(touches))
    ]
    first = rosters[0]
    for other in rosters[1:]:
        assert Counter(other.touchpoints) == Counter(first.touchpoints)
        for cid in IDS:
            assert other.last_touch(cid, now) == first.last_touch(cid, now)
            assert other.next_touch(cid, now) == first.next_touch(cid, now)
    assert plan(rosters[1], now=now) == plan(first, now=now)


@given(st.lists(touchpoints(), max_size=12), cst.aware_datetimes())
def test_last_and_next_touch_are_the_personal_touches_around_now(
    touches: list[Touchpoint], now: datetime
) -> None:
    """The last personal touch at or before now and the first after it, in UTC."""
    roster = Roster(_people(), touchpoints=touches)
    for cid in IDS:
        moments = sorted(t.at.astimezone(UTC) for t in touches if t.contact == cid and t.personal)
        before = [m for m in moments if m <= now]
        after = [m for m in moments if m > now]
        assert roster.last_touch(cid, now) == (before[-1] if before else None)
        assert roster.next_touch(cid, now) == (after[0] if after else None)


@given(st.lists(touchpoints(), max_size=12))
def test_drift_reads_the_same_timeline_as_from_the_touchpoints(touches: list[Touchpoint]) -> None:
    """The timeline drift reads from the roster is the one the touchpoints themselves give."""
    roster = Roster(_people(), touchpoints=touches)
    for cid in IDS:
        line = timeline(roster, cid)
        made = Timeline([t for t in touches if t.contact == cid])
        assert (line.heard, line.sent, line.met) == (made.heard, made.sent, made.met)


def test_a_roster_does_not_hold_the_touchpoints_it_was_given() -> None:
    """Touchpoints streamed into a roster are let go once read: it keeps their facts, not them."""
    made: list[weakref.ref[Touchpoint]] = []

    def stream() -> Iterator[Touchpoint]:
        for day in range(30):
            touch = Touchpoint(IDS[day % 3], NOW - timedelta(days=day), "email")
            made.append(weakref.ref(touch))
            yield touch

    roster = Roster(_people(), touchpoints=stream())
    gc.collect()
    assert len(made) == 30
    assert all(ref() is None for ref in made)
    assert len(roster.touchpoints) == 30
    assert roster.last_touch("ana", NOW) == NOW


def test_many_kinds_of_touchpoints_are_kept_apart() -> None:
    """More distinct channels than two bytes can number still come back each with its own."""
    count = 70_000
    touches = [Touchpoint("ana", NOW - timedelta(minutes=i), f"ch{i}") for i in range(count)]
    roster = Roster(_people(), touchpoints=touches)
    back = roster.history("ana")
    assert len(back) == count
    assert {t.channel for t in back} == {f"ch{i}" for i in range(count)}
    assert back[0] == touches[-1]
    assert back[-1] == touches[0]


def test_equal_values_are_shared_between_contacts() -> None:
    """Contacts with the same tags and start date hold one tag set and one date between them."""
    ana = Contact("ana", "Ana", tags=["client"], since=datetime(2024, 1, 1).date())
    bo = Contact("bo", "Bo", tags=("client",), since=datetime(2024, 1, 1).date())
    assert ana.tags is bo.tags
    assert ana.since is bo.since
