"""Cadences: sliding intervals, RRULE moments, and the phrases people write."""

from __future__ import annotations

import copy
import pickle
import threading
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as cst
from cadence import CadenceError, Every, Recurring, parse_cadence
from cadence.core.cadences import add_months


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2026, 5, 5), 0, date(2026, 5, 5)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_month_end(
    day: date, months: int, expected: date
) -> None:
    """Adding months keeps the day of the month, or takes the month's last day if it is shorter."""
    assert add_months(day, months) == expected
    assert Every(months=months or 12).after(day) == add_months(day, months or 12)


@given(st.dates(date(1900, 1, 1), date(2900, 12, 31)), st.integers(0, 1200))
def test_adding_months_lands_in_the_right_month(day: date, months: int) -> None:
    """The result is ``months`` calendar months on, on the same day or the month's last."""
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result.day < day.day and (result + timedelta(1)).day == 1)


def test_every_adds_days_weeks_and_months() -> None:
    """Weeks are seven days; months come first, then days."""
    assert Every(days=3).after(date(2026, 1, 1)) == date(2026, 1, 4)
    assert Every(weeks=2).after(date(2026, 1, 1)) == date(2026, 1, 15)
    assert Every(months=1, days=1).after(date(2026, 1, 31)) == date(2026, 3, 1)


def test_equal_cadences_compare_equal() -> None:
    """Two weeks is fourteen days, and equal cadences hash alike."""
    assert Every(weeks=2) == Every(days=14)
    assert hash(Every(weeks=2)) == hash(Every(days=14))
    assert Every(months=1) != Every(days=30)
    assert Recurring("FREQ=WEEKLY;BYDAY=MO") == Recurring("RRULE:freq=weekly;byday=MO")
    assert hash(Recurring("FREQ=WEEKLY;BYDAY=MO")) == hash(Recurring("rrule:FREQ=WEEKLY;BYDAY=MO"))
    assert Recurring("FREQ=WEEKLY;BYDAY=MO") != Recurring("FREQ=WEEKLY;BYDAY=MO", at=time(10))


@pytest.mark.parametrize(
    ("cadence", "words"),
    [
        (Every(weeks=2), "every 2 weeks"),
        (Every(days=1), "every day"),
        (Every(days=10), "every 10 days"),
        (Every(months=1), "every month"),
        (Every(months=3), "every 3 months"),
        (Every(months=12), "every year"),
        (Every(months=24, weeks=1), "every 2 years and week"),
        (Recurring("FREQ=WEEKLY;BYDAY=MO", at=time(17)), "RRULE:FREQ=WEEKLY;BYDAY=MO at 17:00"),
    ],
)
def test_cadences_describe_themselves(cadence: Every | Recurring, words: str) -> None:
    """describe() says the cadence in words."""
    assert cadence.describe() == words


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "longer than zero"),
        ({"days": 0, "weeks": 0, "months": 0}, "longer than zero"),
        ({"days": -1}, "days must be a whole number of zero or more, not -1"),
        ({"weeks": 1.5}, "weeks must be a whole number of zero or more, not 1.5"),
        ({"months": "2"}, "months must be a whole number of zero or more, not '2'"),
        ({"days": True}, "days must be a whole number"),
        ({"days": None}, "days must be a whole number"),
        ({"days": 10**9}, "longer than the most allowed"),
        ({"months": 1201}, "longer than the most allowed"),
    ],
)
def test_bad_intervals_are_refused(kwargs: dict[str, object], message: str) -> None:
    """Intervals must be whole, non-negative, not all zero, and at most a hundred years."""
    with pytest.raises(CadenceError, match=message):
        Every(**kwargs)  # type: ignore[arg-type]  # wrong types on purpose


def test_every_takes_keywords_only() -> None:
    """A bare number could be days or weeks: it is refused."""
    with pytest.raises(TypeError):
        Every(14)  # type: ignore[misc]  # on purpose


def test_recurring_moments_are_wall_times_of_the_rule() -> None:
    """The moments are naive local times at ``at`` on the rule's days."""
    weekly = Recurring("FREQ=WEEKLY;BYDAY=MO", at=time(17, 0))
    past, future = weekly.moments(datetime(2026, 11, 25, 12), datetime(2026, 12, 8))
    assert past == [datetime(2026, 11, 16, 17), datetime(2026, 11, 23, 17)]
    # Those up to the end, and one more beyond it.
    assert future == [
        datetime(2026, 11, 30, 17),
        datetime(2026, 12, 7, 17),
        datetime(2026, 12, 14, 17),
    ]


def test_start_sets_the_phase_of_an_interval() -> None:
    """Every other Sunday counts from the start date."""
    rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU"
    a = Recurring(rule, start=date(2026, 11, 1))
    b = Recurring(rule, start=date(2026, 11, 8))
    assert a.moments(datetime(2026, 11, 20), datetime(2026, 11, 20))[1][0].date() == date(
        2026, 11, 29
    )
    assert b.moments(datetime(2026, 11, 20), datetime(2026, 11, 20))[1][0].date() == date(
        2026, 11, 22
    )


def test_a_rule_before_its_start_has_no_past_moments() -> None:
    """Moments begin at the start date."""
    rule = Recurring("FREQ=DAILY", start=date(2027, 1, 1))
    past, future = rule.moments(datetime(2026, 12, 30), datetime(2026, 12, 31))
    assert past == []
    assert future == [datetime(2027, 1, 1, 9)]


def test_a_finished_rule_has_no_future_moments() -> None:
    """After its COUNT or UNTIL a rule is over."""
    rule = Recurring("FREQ=WEEKLY;BYDAY=MO;COUNT=2", start=date(2026, 11, 2))
    past, future = rule.moments(datetime(2027, 1, 1), datetime(2027, 2, 1))
    assert past == [datetime(2026, 11, 2, 9), datetime(2026, 11, 9, 9)]
    assert future == []


def test_until_in_utc_is_read_as_local_time() -> None:
    """An UNTIL written in UTC, as calendar programs write it, is accepted."""
    rule = Recurring("FREQ=DAILY;UNTIL=20261203T090000Z", start=date(2026, 12, 1))
    assert rule.moments(datetime(2026, 11, 1), datetime(2027, 1, 1))[1] == [
        datetime(2026, 12, 1, 9),
        datetime(2026, 12, 2, 9),
        datetime(2026, 12, 3, 9),
    ]


def test_approx_days_orders_cadences_by_frequency() -> None:
    """Weekdays come about every 1.4 days, a monthly first Monday about every 30."""
    assert Recurring("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR").approx_days == pytest.approx(1.4, 0.05)
    assert Recurring("FREQ=MONTHLY;BYDAY=1MO").approx_days == pytest.approx(30.4, 0.02)
    assert Recurring("FREQ=DAILY;COUNT=1").approx_days == float("inf")
    assert Every(weeks=2).approx_days == 14
    assert Every(months=1).approx_days == pytest.approx(30.44, 0.001)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=HOURLY", "more frequent than daily"),
        ("FREQ=MINUTELY;INTERVAL=30", "more frequent than daily"),
        ("FREQ=DAILY;BYHOUR=9,17", "not BYHOUR"),
        ("FREQ=WEEKLY;BYMINUTE=5", "not BYMINUTE"),
        ("FREQ=DAILY;BYSECOND=1", "not BYSECOND"),
        ("BYDAY=MO", "needs FREQ"),
        ("FREQ=FORTNIGHTLY", "needs FREQ"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL=0 is out of range"),
        ("FREQ=WEEKLY;INTERVAL=-1", "INTERVAL=-1 is out of range"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT=0 is out of range"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY=0 is out of range"),
        ("FREQ=MONTHLY;BYMONTHDAY=40", "BYMONTHDAY=40 is out of range"),
        ("FREQ=YEARLY;BYMONTH=2;BYDAY=53MO", r"BYDAY=53MO is out of range \(1 to 5,"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH=13 is out of range"),
        ("FREQ=YEARLY;BYWEEKNO=54", "BYWEEKNO=54 is out of range"),
        ("FREQ=YEARLY;BYYEARDAY=400", "BYYEARDAY=400 is out of range"),
        ("FREQ=WEEKLY;COUNT=two", "COUNT=TWO is not a number"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY=XX is not a day of the week"),
        ("FREQ=WEEKLY;FREQ=DAILY", "FREQ appears twice"),
        ("FREQ=WEEKLY;;BYDAY=MO", "not an RRULE"),
        ("FREQ=WEEKLY;DTSTART=20260101T000000", "give the start with start="),
        ("FREQ=WEEKLY\nRRULE:FREQ=DAILY", "not an RRULE"),
        ("", "not an RRULE"),
        ("RRULE:", "not an RRULE"),
        ("FREQ=WEEKLY;BYSETPOS=0;BYDAY=MO", "BYSETPOS=0 is out of range"),
        # Parts dateutil accepts and then fails on, or searches to the year 9999 for.
        ("FREQ=DAILY;BYEASTER=300", "BYEASTER=300 is out of range"),
        ("FREQ=DAILY;BYEASTER=251", "BYEASTER=251 is out of range"),
        ("FREQ=DAILY;BYEASTER=-81", "BYEASTER=-81 is out of range"),
        ("FREQ=YEARLY;BYSETPOS=367;BYMONTH=1", "BYSETPOS=367 is out of range"),
        ("FREQ=MONTHLY;BYDAY=6MO", "BYDAY=6MO is out of range"),
        ("FREQ=YEARLY;BYDAY=54MO", "BYDAY=54MO is out of range"),
        ("FREQ=WEEKLY;BYDAY=1MO", "numbered weekday needs FREQ=MONTHLY or YEARLY"),
        ("FREQ=DAILY;BYNOTHING=1", "BYNOTHING is not a part"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20300101", "COUNT or UNTIL, not both"),
        ("FREQ=DAILY;UNTIL=TOMORROW", "UNTIL must be a date"),
        ("FREQ=DAILY;WKST=XX", "WKST must be a day of the week"),
        ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS needs another BY"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never falls due: no month of its BYMONTH"),
        ("FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=-31", "never falls due: no month of its BYMONTH"),
        ("FREQ=DAILY;BYMONTH=1;BYSETPOS=2", "never falls due: a daily period"),
        ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=8", "never falls due: a weekly period"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "never falls due"),
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTH=3", "never falls due"),
        ("FREQ=MONTHLY;INTERVAL=2;BYMONTH=2,4", "never falls due"),
        ("FREQ=WEEKLY;UNTIL=19991231", "never falls due before its UNTIL"),
        ("FREQ=DAILY;COUNT=1000000", "too far to work out where its COUNT ends"),
    ],
)
def test_bad_rules_are_refused(rule: str, message: str) -> None:
    """Rules that are malformed, too frequent, out of range or carry a start are refused."""
    with pytest.raises(CadenceError, match=message):
        Recurring(rule)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rrule": None}, "an RRULE must be text, not None"),
        ({"rrule": 5}, "an RRULE must be text, not 5"),
        ({"rrule": "FREQ=DAILY", "at": "09:00"}, "at must be a local time of day"),
        ({"rrule": "FREQ=DAILY", "at": 9}, "at must be a local time of day"),
        ({"rrule": "FREQ=DAILY", "at": datetime(2026, 1, 1, 9)}, "at must be a local time"),
        ({"rrule": "FREQ=DAILY", "start": "2026-01-01"}, "start must be a date"),
        ({"rrule": "FREQ=DAILY", "start": datetime(2026, 1, 1)}, "start must be a date"),
    ],
)
def test_recurring_refuses_wrong_types(kwargs: dict[str, object], message: str) -> None:
    """The rule is text, ``at`` a time of day, ``start`` a date."""
    with pytest.raises(CadenceError, match=message):
        Recurring(**kwargs)  # type: ignore[arg-type]  # wrong types on purpose


def test_at_with_a_zone_is_refused() -> None:
    """The zone is the contact's: a time of day carrying one is refused."""
    from datetime import UTC

    with pytest.raises(CadenceError, match="without a zone"):
        Recurring("FREQ=DAILY", at=time(9, tzinfo=UTC))


@given(cst.recurring)
def test_recurring_survives_pickle_and_copies(rule: Recurring) -> None:
    """A recurring cadence pickles and deep-copies to an equal one that gives the same moments."""
    now, until = datetime(2026, 11, 23, 12), datetime(2027, 1, 1)
    pickled = pickle.loads(pickle.dumps(rule))  # noqa: S301  # our own bytes, just made
    for twin in (pickled, copy.deepcopy(rule), copy.copy(rule)):
        assert twin == rule
        assert twin.moments(now, until) == rule.moments(now, until)


def test_moments_can_be_asked_from_many_threads() -> None:
    """Threads asking a fresh rule for its moments at once all get the same answer."""
    rule = Recurring("FREQ=DAILY", at=time(7, 13), start=date(2001, 2, 3))
    results: list[object] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            results.append(rule.moments(datetime(2026, 11, 23), datetime(2027, 1, 1)))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 8
    assert all(r == results[0] for r in results)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every 2 weeks", Every(weeks=2)),
        ("Every  2   Weeks", Every(weeks=2)),
        ("every week", Every(weeks=1)),
        ("every 10 days", Every(days=10)),
        ("every day", Every(days=1)),
        ("every 3 months", Every(months=3)),
        ("every quarter", Every(months=3)),
        ("every 2 years", Every(months=24)),
        ("daily", Every(days=1)),
        ("weekly", Every(weeks=1)),
        ("fortnightly", Every(weeks=2)),
        ("biweekly", Every(weeks=2)),
        ("monthly", Every(months=1)),
        ("bimonthly", Every(months=2)),
        ("quarterly", Every(months=3)),
        ("half-yearly", Every(months=6)),
        ("yearly", Every(months=12)),
        ("annually", Every(months=12)),
        ("every weekday", Recurring("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")),
        ("every weekday at 17:00", Recurring("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", at=time(17))),
        ("every monday at 10:30", Recurring("FREQ=WEEKLY;BYDAY=MO", at=time(10, 30))),
        ("every Friday", Recurring("FREQ=WEEKLY;BYDAY=FR")),
        ("RRULE:FREQ=MONTHLY;BYDAY=1MO", Recurring("FREQ=MONTHLY;BYDAY=1MO")),
        ("rrule:freq=monthly;interval=3", Recurring("FREQ=MONTHLY;INTERVAL=3")),
        ("FREQ=YEARLY", Recurring("FREQ=YEARLY")),
    ],
)
def test_parse_cadence_reads_common_phrases(text: str, expected: Every | Recurring) -> None:
    """Each phrase gives the cadence it says."""
    assert parse_cadence(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sometimes", "cannot read the cadence 'sometimes'"),
        ("every 0 days", "longer than zero: 'every 0 days'"),
        ("every weekday at 25:00", "not a time of day in 'every weekday at 25:00'"),
        ("every monday at 9:75", "not a time of day"),
        ("every 99999 years", "longer than a hundred years: 'every 99999 years'"),
        ("every 999999999999 days", "longer than a hundred years"),
        ("RRULE:FREQ=HOURLY", "more frequent than daily"),
        ("", "cannot read the cadence ''"),
        ("every -2 weeks", "cannot read the cadence"),
    ],
)
def test_parse_cadence_refuses_what_it_cannot_read(text: str, message: str) -> None:
    """Unreadable phrases raise CadenceError quoting them."""
    with pytest.raises(CadenceError, match=message):
        parse_cadence(text)


@pytest.mark.parametrize("value", [None, 14, Every(weeks=2), b"weekly", ["weekly"]])
def test_parse_cadence_refuses_what_is_not_text(value: object) -> None:
    """Only text is parsed."""
    with pytest.raises(CadenceError, match="a cadence must be text"):
        parse_cadence(value)  # type: ignore[arg-type]  # wrong type on purpose


@given(st.text(max_size=40))
def test_parse_cadence_never_fails_otherwise(text: str) -> None:
    """Any text gives a cadence or a CadenceError, nothing else."""
    try:
        result = parse_cadence(text)
    except CadenceError:
        return
    assert isinstance(result, Every | Recurring)


@given(
    st.lists(
        st.sampled_from(
            [
                "FREQ=",
                "DAILY",
                "WEEKLY",
                ";",
                "BYDAY=",
                "MO",
                ",",
                "INTERVAL=",
                "0",
                "2",
                "-1",
                "COUNT=",
                "BYMONTHDAY=",
                "31",
                "UNTIL=",
                "20261231",
                "T090000",
                "Z",
                "BYSETPOS=",
                "WKST=",
                "SU",
                "BYEASTER=",
                "x",
                "=",
                "RRULE:",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_recurring_never_fails_otherwise(rule: str) -> None:
    """Any RRULE-like text gives a Recurring that can list its moments, or a CadenceError."""
    try:
        cadence = Recurring(rule)
    except CadenceError:
        return
    cadence.moments(datetime(2026, 11, 23, 12), datetime(2027, 1, 1))
    assert cadence.approx_days > 0


# Exact edges: the values at each limit are accepted, the next ones refused


def test_every_month_of_the_year_has_its_own_length_in_month_arithmetic() -> None:
    """31 January plus n months is the last day of each month: May and August have 31."""
    assert add_months(date(2026, 7, 31), 1) == date(2026, 8, 31)
    assert add_months(date(2026, 4, 30), 1) == date(2026, 5, 30)
    assert add_months(date(2026, 3, 31), 2) == date(2026, 5, 31)
    for months, last in enumerate((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)):
        assert add_months(date(2026, 1, 31), months) == date(2026, months + 1, last)
        assert add_months(date(2026, 1, 29), months).day == min(29, last)


def test_a_sliding_cadence_of_exactly_a_hundred_years_is_the_longest_allowed() -> None:
    """36525 days (as days, or weeks and days) and 1200 months pass; one more does not."""
    assert Every(days=36525).days == 36525
    assert Every(weeks=5217, days=6).days == 36525
    assert Every(months=1200).months == 1200
    with pytest.raises(CadenceError, match="a hundred years"):
        Every(days=36526)
    with pytest.raises(CadenceError, match="a hundred years"):
        Every(weeks=5217, days=7)
    with pytest.raises(CadenceError, match="a hundred years"):
        Every(months=1201)
    assert parse_cadence("every 36525 days") == Every(days=36525)
    with pytest.raises(CadenceError, match="a hundred years"):
        parse_cadence("every 36526 days")
    assert parse_cadence("every 100 years") == Every(months=1200)
    with pytest.raises(CadenceError, match="a hundred years"):
        parse_cadence("every 101 years")


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=YEARLY;BYMONTH=1",
        "FREQ=YEARLY;BYMONTH=12",
        "FREQ=YEARLY;BYYEARDAY=1",
        "FREQ=YEARLY;BYYEARDAY=366",
        "FREQ=YEARLY;BYYEARDAY=-366",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYMONTHDAY=-31",
        "FREQ=MONTHLY;BYMONTHDAY=1",
        "FREQ=YEARLY;BYWEEKNO=53",
        "FREQ=YEARLY;BYWEEKNO=-53",
        "FREQ=YEARLY;BYWEEKNO=1",
        "FREQ=DAILY;INTERVAL=10000",
        "FREQ=WEEKLY;INTERVAL=1",
        "FREQ=WEEKLY;COUNT=1",
        "FREQ=DAILY;COUNT=1000",
        "FREQ=YEARLY;BYEASTER=-80",
        "FREQ=YEARLY;BYEASTER=250",
        "FREQ=YEARLY;BYEASTER=0",
        "FREQ=MONTHLY;BYDAY=5MO",
        "FREQ=MONTHLY;BYDAY=-5FR",
        "FREQ=YEARLY;BYDAY=53MO",
        "FREQ=YEARLY;BYDAY=-53SU",
        "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYSETPOS=366",
        "FREQ=YEARLY;BYMONTH=12;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYSETPOS=7",
        "FREQ=DAILY;BYMONTH=2;BYSETPOS=1",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=WEEKLY;UNTIL=20000102",
        "FREQ=WEEKLY;WKST=SU;BYDAY=SU",
    ],
)
def test_rules_at_the_edges_of_their_ranges_are_accepted_and_fall_due(rule: str) -> None:
    """Each part's first and last allowed value is accepted, and the rule has a moment."""
    cadence = Recurring(rule)
    assert cadence.rrule == rule
    past, future = cadence.moments(datetime(9000, 1, 1), datetime(9001, 1, 1))
    assert past or future


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("every monday at 23:30", time(23, 30)),
        ("every monday at 23:59", time(23, 59)),
        ("every monday at 0:00", time(0, 0)),
        ("every weekday at 23:59", time(23, 59)),
        ("every weekday at 00:00", time(0, 0)),
    ],
)
def test_the_last_and_first_minutes_of_the_day_are_times_of_day(text: str, at: time) -> None:
    """The clock's edges are accepted; 24:00 and minute 60 are not."""
    cadence = parse_cadence(text)
    assert isinstance(cadence, Recurring)
    assert cadence.at == at
    for bad in ("every monday at 24:00", "every monday at 23:60"):
        with pytest.raises(CadenceError, match="not a time of day"):
            parse_cadence(bad)


def test_planning_far_ahead_costs_what_planning_today_does() -> None:
    """Moments are worked out around the moment asked for, not counted up from the start."""
    from cadence.core.cadences import _shared_moments

    cadence = Recurring("FREQ=DAILY", start=date(1990, 1, 1))
    moments = _shared_moments(cadence.rrule, cadence.at, cadence.start)
    for year in (2026, 8999):
        before = moments.worked
        past, future = cadence.moments(datetime(year, 6, 1, 12), datetime(year, 7, 1))
        assert moments.worked - before < 40
        assert past == [datetime(year, 5, 31, 9), datetime(year, 6, 1, 9)]
        assert future[0] == datetime(year, 6, 2, 9)
        assert future[-1] == datetime(year, 7, 1, 9)


def test_the_frequencies_are_numbered_as_dateutil_numbers_them() -> None:
    """The frequencies rules are worked out by are dateutil's, named without importing it."""
    import dateutil.rrule

    from cadence.core import cadences

    for name in ("YEARLY", "MONTHLY", "WEEKLY", "DAILY"):
        assert getattr(cadences, name) == getattr(dateutil.rrule, name), name
    rule = cadences._build_rule("FREQ=MONTHLY", time(9), None)
    assert cadences._shared_moments("FREQ=MONTHLY", time(9), None).freq == cadences.MONTHLY
    assert rule._freq == cadences.MONTHLY  # type: ignore[attr-defined]
