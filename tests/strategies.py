"""Hypothesis strategies for the core's values, built from its attrs classes.

Moments lean towards the hours around DST changes, so that folds (an hour
lived twice) and gaps (an hour skipped) come up often, in zones with one-hour,
half-hour and whole-day changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from cadence import (
    Anniversary,
    Birthday,
    Contact,
    Every,
    Occasion,
    Recurring,
    Roster,
    Rule,
    Touchpoint,
)

ZONES = (
    "UTC",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # half-hour DST
    "Pacific/Apia",  # skipped 30 December 2011 whole
    "America/Santiago",  # changes at midnight
)
# The span moments are drawn from: Apia's skipped day is in it.
FIRST_YEAR = 2010
LAST_YEAR = 2032

zone_names = st.sampled_from(ZONES)
tzinfos = zone_names.map(ZoneInfo)


@cache
def transition_days(name: str) -> tuple[date, ...]:
    """The local days on which the zone's offset changes, between FIRST_YEAR and LAST_YEAR."""
    tz = ZoneInfo(name)
    days = []
    day = date(FIRST_YEAR, 1, 1)
    offset = datetime.combine(day, time(12), tz).utcoffset()
    while day.year <= LAST_YEAR:
        nxt = day + timedelta(days=1)
        following = datetime.combine(nxt, time(12), tz).utcoffset()
        if following != offset:
            days.extend((day, nxt))
            offset = following
        day = nxt
    return tuple(days)


_any_day = st.dates(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31))
_small_hours = st.builds(time, st.integers(0, 4), st.sampled_from((0, 15, 30, 45, 59)))
_wall_times = st.one_of(_small_hours, st.times())


@st.composite
def wall_times(draw: st.DrawFn) -> time:
    """A time of day, often within the small hours when clocks change."""
    return draw(_wall_times)


@st.composite
def aware_datetimes(draw: st.DrawFn, zones: st.SearchStrategy[str] = zone_names) -> datetime:
    """An aware moment in one of ZONES, near a DST change half of the time, either fold.

    Wall times in a gap are kept as they are: such a datetime is still a
    moment (Python reads it with the offset before the change).
    """
    name = draw(zones)
    changes = transition_days(name)
    if changes and draw(st.booleans()):
        day = changes[draw(st.integers(0, len(changes) - 1))]
    else:
        day = draw(_any_day)
    at = draw(_wall_times)
    fold = draw(st.integers(0, 1))
    return datetime.combine(day, at, ZoneInfo(name)).replace(fold=fold)


def in_utc(moments: st.SearchStrategy[datetime]) -> st.SearchStrategy[datetime]:
    """The same moments, expressed in UTC."""
    return moments.map(lambda m: m.astimezone(UTC))


horizons = st.timedeltas(timedelta(0), timedelta(days=120))
leads = st.sampled_from((timedelta(0), timedelta(hours=3), timedelta(days=1), timedelta(days=7)))

ids = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=6,
)
tags = st.sampled_from(("family", "client", "friend", "card-list"))

# Every() refuses an all-zero interval: each branch has a part of one or more.
every = st.one_of(
    st.builds(Every, days=st.integers(1, 40)),
    st.builds(Every, weeks=st.integers(1, 8)),
    st.builds(Every, months=st.integers(1, 14)),
    st.builds(Every, days=st.integers(0, 10), months=st.integers(1, 3)),
)
recurring = st.builds(
    Recurring,
    st.sampled_from(
        (
            "FREQ=WEEKLY;BYDAY=MO",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            "FREQ=DAILY",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU",
            "FREQ=MONTHLY;BYDAY=1MO",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "FREQ=WEEKLY;BYDAY=SA;COUNT=30",
        )
    ),
    # Few distinct rules, so that their moments, generated from the rule's
    # start, are shared between examples; the times lie in DST gaps and folds.
    at=st.sampled_from((time(9), time(17, 30), time(0), time(1, 30), time(2, 30), time(2, 15))),
    start=st.none() | st.sampled_from((date(2019, 12, 30), date(2026, 3, 8), date(2030, 1, 1))),
)
cadences = st.one_of(every, recurring)


names = st.sampled_from(("Ana Lopez", "Bo", "Chidi Anagonye", "Zoë"))
channels = st.none() | st.sampled_from(("email", "phone", "video"))
tag_sets = st.frozensets(tags, max_size=2)
start_dates = st.none() | st.dates(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31))


@st.composite
def contacts(draw: st.DrawFn, contact_id: str) -> Contact:
    """A contact with ``contact_id`` in one of ZONES, perhaps with tags and a start date."""
    return Contact(
        contact_id,
        draw(names),
        timezone=draw(zone_names),
        channel=draw(channels),
        tags=draw(tag_sets),
        since=draw(start_dates),
    )


month_days = st.dates(date(2024, 1, 1), date(2024, 12, 31)).map(lambda d: (d.month, d.day))
"""A month and a day that exist in leap years, 29 February included."""
occasion_kinds = st.sampled_from(("birthday", "anniversary", "yearly", "one-off"))
leap_days = st.sampled_from(("feb28", "mar1"))
birth_years = st.none() | st.sampled_from((1960, 1984, 2000, 2020, 2030))
anniversary_dates = st.dates(date(2000, 1, 1), date(LAST_YEAR, 12, 31))
labels = st.sampled_from(("client anniversary", "wedding anniversary"))
targets = st.sampled_from(("contact", "tag", "everyone"))
titles = st.sampled_from(("Launch", "Wedding", "Valentine's Day"))
days = st.dates(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31))
touch_channels = st.sampled_from(("email", "phone", "meeting"))
personal = st.integers(0, 4).map(bool)
directions = st.sampled_from(("out", "in"))


def _one_of(draw: st.DrawFn, values: list[str]) -> str:
    return values[draw(st.integers(0, len(values) - 1))]


@st.composite
def occasions_for(draw: st.DrawFn, contact_ids: list[str]) -> Birthday | Anniversary | Occasion:
    """A birthday, an anniversary or an occasion for one of ``contact_ids`` (or a tag, or all)."""
    kind = draw(occasion_kinds)
    lead = draw(leads)
    leap_day = draw(leap_days)
    if kind == "birthday":
        month, day = draw(month_days)
        year = draw(birth_years)
        if year is not None and (month, day) == (2, 29) and year % 4:
            year = 2000
        return Birthday(
            _one_of(draw, contact_ids), month, day, year=year, lead=lead, leap_day=leap_day
        )
    if kind == "anniversary":
        return Anniversary(
            _one_of(draw, contact_ids),
            draw(anniversary_dates),
            label=draw(labels),
            lead=lead,
            leap_day=leap_day,
        )
    target = draw(targets)
    contact = _one_of(draw, contact_ids) if target == "contact" else None
    tag = draw(tags) if target == "tag" else None
    title = draw(titles)
    if kind == "yearly":
        month, day = draw(month_days)
        return Occasion(
            title, month=month, day=day, contact=contact, tag=tag, lead=lead, leap_day=leap_day
        )
    return Occasion(title, on=draw(days), contact=contact, tag=tag, lead=lead)


@st.composite
def rules_for(draw: st.DrawFn, contact_ids: list[str]) -> list[Rule]:
    """At most one rule for each contact, each tag and everyone, as a Roster requires."""
    rules = []
    for contact_id in contact_ids:
        if draw(st.integers(0, 2)) == 0:
            rules.append(Rule(draw(cadences), contact=contact_id))
    for tag in draw(st.lists(tags, unique=True, max_size=3)):
        rules.append(Rule(draw(cadences), tag=tag))
    if draw(st.booleans()):
        rules.append(Rule(draw(cadences)))
    return rules


@st.composite
def touchpoints_for(draw: st.DrawFn, contact_ids: list[str]) -> Touchpoint:
    """A touchpoint with one of ``contact_ids``, personal most of the time."""
    return Touchpoint(
        _one_of(draw, contact_ids),
        draw(aware_datetimes()),
        draw(touch_channels),
        personal=draw(personal),
        direction=draw(directions),
    )


@st.composite
def rosters(draw: st.DrawFn, max_contacts: int = 4) -> Roster:
    """A valid roster: unique contacts, rules with unique targets, occasions and touchpoints."""
    contact_ids = draw(st.lists(ids, min_size=1, max_size=max_contacts, unique=True))
    people = [draw(contacts(contact_id)) for contact_id in contact_ids]
    rules = draw(rules_for(contact_ids))
    occasions = [draw(occasions_for(contact_ids)) for _ in range(draw(st.integers(0, 4)))]
    touches = [draw(touchpoints_for(contact_ids)) for _ in range(draw(st.integers(0, 8)))]
    return Roster(people, rules, occasions, touches)


# Anything a caller might pass by mistake where the core expects something else.
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.timedeltas(),
    st.times(),
    st.just(object()),
)


# RRULE parts for fuzzing: values at, inside and past each range's edges, most in range.
def _values(low: int, high: int, edges: tuple[int, ...]) -> st.SearchStrategy[str]:
    inside = st.integers(low, high) | st.integers(low, high).map(lambda n: -n)
    one = inside | st.sampled_from(edges)
    return st.lists(one, min_size=1, max_size=3).map(lambda xs: ",".join(map(str, xs)))


_weekday = st.sampled_from(("MO", "TU", "WE", "TH", "FR", "SA", "SU"))
_byday = st.lists(
    st.tuples(
        st.none() | st.none() | st.sampled_from((-54, -53, -6, -5, -1, 0, 1, 2, 5, 6, 53, 54)),
        _weekday,
    ),
    min_size=1,
    max_size=3,
).map(lambda xs: ",".join(("" if n is None else str(n)) + d for n, d in xs))
rrule_parts = st.fixed_dictionaries(
    {"FREQ": st.sampled_from(("YEARLY", "MONTHLY", "WEEKLY", "DAILY") * 3 + ("HOURLY",))},
    optional={
        "INTERVAL": st.sampled_from(("0", "1", "2", "7", "12", "9999", "10000", "10001"))
        | st.integers(1, 10_000).map(str),
        "COUNT": st.sampled_from(("0", "1", "2", "1000", "1000000", "1000001"))
        | st.integers(1, 50).map(str),
        "UNTIL": st.sampled_from(("19991231", "20000102", "20301231T235959Z", "99991231")),
        "WKST": st.sampled_from(("MO", "SU", "XX")),
        "BYMONTH": st.integers(1, 12).map(str) | _values(1, 12, (0, 13)),
        "BYMONTHDAY": _values(1, 31, (-32, 0, 29, 30, 32)),
        "BYYEARDAY": _values(1, 366, (-367, 0, 59, 60, 365, 367)),
        "BYWEEKNO": _values(1, 53, (-54, 0, 52, 54)),
        "BYSETPOS": _values(1, 8, (-367, -366, 0, 366, 367)),
        "BYEASTER": st.integers(-80, 250).map(str) | _values(-80, 80, (-81, 251, 300)),
        "BYDAY": _byday,
    },
).map(lambda parts: ";".join(f"{k}={v}" for k, v in parts.items()))
