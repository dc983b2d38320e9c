"""Contacts, touchpoints, rules and rosters: what they keep and what they refuse."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as cst
from _cli import refused
from cadence import (
    Anniversary,
    Birthday,
    CadenceError,
    Contact,
    Every,
    Occasion,
    Recurring,
    Roster,
    Rule,
    Snooze,
    Touchpoint,
    health,
    parse_cadence,
    plan,
    plan_contact,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_contact_keeps_what_it_is_given() -> None:
    """Tags become a frozenset; the zone is loaded from its IANA name."""
    ana = Contact(
        "ana",
        "Ana Lopez",
        email="ana@example.com",
        timezone="Europe/London",
        channel="phone",
        tags=["client", "card-list", "client"],
        since=date(2020, 5, 1),
    )
    assert ana.tags == frozenset({"client", "card-list"})
    assert ana.zone.key == "Europe/London"
    assert (ana.email, ana.channel, ana.since) == ("ana@example.com", "phone", date(2020, 5, 1))


def test_a_contact_has_sensible_defaults() -> None:
    """Without options a contact is in UTC, untagged, with no channel, email or start date."""
    bo = Contact("bo", "Bo")
    assert (bo.timezone, bo.tags, bo.channel, bo.email, bo.since) == (
        "UTC",
        frozenset(),
        None,
        None,
        None,
    )


def test_a_single_tag_may_be_given_as_text() -> None:
    """tags="client" means one tag, not six letters."""
    assert Contact("a", "A", tags="client").tags == frozenset({"client"})


def test_contacts_are_frozen_and_hashable() -> None:
    """A contact cannot be changed in place and can key a dict."""
    ana = Contact("ana", "Ana")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ana.name = "Other"  # type: ignore[misc]  # on purpose
    assert {ana: 1}[Contact("ana", "Ana")] == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": None}, "a contact id must be text, not None"),
        ({"id": 7}, "a contact id must be text, not 7"),
        ({"id": ""}, "a contact id must not be empty"),
        ({"id": " ana"}, "no surrounding spaces or control characters: ' ana'"),
        ({"id": "a\nb"}, "control characters"),
        ({"name": None}, "a contact's name must be text, not None"),
        ({"name": "  "}, "a contact's name must not be empty"),
        ({"timezone": "Mars/Base"}, "unknown time zone 'Mars/Base'"),
        ({"timezone": None}, "unknown time zone None"),
        ({"timezone": 0}, "unknown time zone 0"),
        ({"email": 5}, "an email address must be text, not 5"),
        ({"email": "a@b\r\nBcc: x@y"}, "an email address must not hold control characters"),
        ({"emails": 5}, "emails must be a list of text, not 5"),
        ({"emails": [None]}, "emails must be a list of text"),
        ({"emails": b"a@b"}, "emails must be a list of text"),
        ({"emails": ["ana@x", ""]}, "an email address must not be empty"),
        ({"emails": ["ana@x", "a@b\nBcc: x@y"]}, "an email address must not hold control"),
        ({"phones": [7]}, "phones must be a list of text"),
        ({"phones": ["+34 600\t1"]}, "a phone number must not hold control characters"),
        ({"phones": [" "]}, "a phone number must not be empty"),
        ({"organization": ""}, "an organization must not be empty"),
        ({"organization": 3}, "an organization must be text, not 3"),
        ({"organization": "Acme\x00"}, "an organization must not hold control characters"),
        ({"channel": ""}, "a channel must not be empty"),
        ({"tags": None}, "tags must be a list of text, not None"),
        ({"tags": 3}, "tags must be a list of text, not 3"),
        ({"tags": [1]}, "a tag must be text, not 1"),
        ({"tags": [""]}, "a tag must not be empty"),
        ({"tags": b"ab"}, "tags must be a list of text"),
        ({"tags": {"a": 1}}, "tags must be a list of text"),
        ({"since": "2020-01-01"}, "since must be a date, not '2020-01-01'"),
        ({"since": datetime(2020, 1, 1)}, "since must be a date, not a datetime"),
    ],
)
def test_contacts_refuse_bad_values(kwargs: dict[str, object], message: str) -> None:
    """Each bad field raises CadenceError saying which and what."""
    values: dict[str, object] = {"id": "ana", "name": "Ana"} | kwargs
    contact_id, name = values.pop("id"), values.pop("name")
    with pytest.raises(CadenceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Contact(contact_id, name, **values)  # type: ignore[arg-type]  # wrong types on purpose


def test_a_contact_has_several_emails_the_primary_first() -> None:
    """``email`` is the primary of ``emails``; either way of giving it means the same contact."""
    one = Contact("ana", "Ana", email="ana@example.org")
    assert one.emails == ("ana@example.org",)
    assert one == Contact("ana", "Ana", emails=["ana@example.org"])
    assert hash(one) == hash(Contact("ana", "Ana", emails=("ana@example.org",)))
    many = Contact("ana", "Ana", emails=["ana@work.example", "ana@home.example"])
    assert many.email == "ana@work.example"
    assert many.emails == ("ana@work.example", "ana@home.example")
    assert Contact("ana", "Ana").email is None
    assert Contact("ana", "Ana").emails == ()
    assert Contact("ana", "Ana", emails="ana@x.example").emails == ("ana@x.example",)


def test_an_email_given_with_emails_becomes_the_primary() -> None:
    """``email`` is moved or added to the front of ``emails``: evolving it changes the primary."""
    both = Contact("ana", "Ana", email="b@x.example", emails=["a@x.example", "B@X.example"])
    assert both.emails == ("b@x.example", "a@x.example")
    added = Contact("ana", "Ana", email="c@x.example", emails=["a@x.example"])
    assert added.emails == ("c@x.example", "a@x.example")
    assert attrs.evolve(added, emails=["z@x.example"]).emails == ("z@x.example",)
    assert attrs.evolve(added, email="a@x.example").emails == ("a@x.example", "c@x.example")


def test_emails_that_differ_only_in_case_are_one_the_first_spelling_kept() -> None:
    """Addresses compare case-insensitively: later spellings of one are dropped."""
    ana = Contact(
        "ana",
        "Ana",
        emails=["Ana@Example.org", "ana@example.ORG", "ANA@EXAMPLE.ORG", "b@x.example"],
    )
    assert ana.emails == ("Ana@Example.org", "b@x.example")
    assert ana == Contact("ana", "Ana", emails=["Ana@Example.org", "b@x.example", "B@x.example"])
    # Case folding, not just ASCII lowering: the German sharp s folds to "ss".
    assert Contact("s", "S", emails=["straße@x.example", "STRASSE@x.example"]).emails == (
        "straße@x.example",
    )


def test_has_email_asks_about_every_address_case_insensitively() -> None:
    """has_email is true for any of the contact's addresses, in any case, and false otherwise."""
    ana = Contact("ana", "Ana", emails=["ana@work.example", "Ana.Home@Example.org"])
    assert ana.has_email("ana@work.example")
    assert ana.has_email("ANA@WORK.EXAMPLE")
    assert ana.has_email("ana.home@example.org")
    assert not ana.has_email("ana@example.org")
    assert not ana.has_email("")
    assert not ana.has_email(None)  # type: ignore[arg-type]  # wrong type on purpose
    assert not Contact("bo", "Bo").has_email("bo@example.org")


def test_phones_and_organization_are_kept() -> None:
    """Phones keep their order and spelling, exact repeats dropped; organization is kept."""
    ana = Contact("ana", "Ana", phones=["+34 600 000 001", "+34 911 000 002", "+34 600 000 001"])
    assert ana.phones == ("+34 600 000 001", "+34 911 000 002")
    assert Contact("ana", "Ana", organization="Acme S.L.").organization == "Acme S.L."
    assert Contact("ana", "Ana").phones == ()
    assert Contact("ana", "Ana").organization is None


def test_a_touchpoint_keeps_what_it_is_given() -> None:
    """A touchpoint is personal and outgoing unless said otherwise."""
    touch = Touchpoint("ana", NOW, "phone", note="called about the renewal")
    assert (touch.contact, touch.at, touch.channel, touch.personal, touch.direction) == (
        "ana",
        NOW,
        "phone",
        True,
        "out",
    )
    assert Touchpoint("ana", NOW, personal=False, direction="in").personal is False
    assert Touchpoint("ana", NOW).channel == "other"


def test_touchpoints_take_database_booleans() -> None:
    """0 and 1, as databases return booleans, are read as False and True."""
    assert Touchpoint("ana", NOW, personal=0).personal is False  # type: ignore[arg-type]
    assert Touchpoint("ana", NOW, personal=1).personal is True  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"contact": None}, "a touchpoint's contact must be text, not None"),
        ({"at": datetime(2026, 11, 23, 12)}, "a touchpoint's time must be timezone-aware"),
        ({"at": date(2026, 11, 23)}, "a touchpoint's time must be a datetime"),
        ({"at": "2026-11-23T12:00:00Z"}, "a touchpoint's time must be a datetime"),
        ({"channel": None}, "a channel must be text, not None"),
        ({"personal": "no"}, "personal must be True or False, not 'no'"),
        ({"personal": None}, "personal must be True or False, not None"),
        ({"personal": 2}, "personal must be True or False, not 2"),
        ({"direction": "sideways"}, "direction is 'out' or 'in', not 'sideways'"),
        ({"direction": ["in"]}, "direction is 'out' or 'in'"),
        ({"note": None}, "a note must be text, not None"),
    ],
)
def test_touchpoints_refuse_bad_values(kwargs: dict[str, object], message: str) -> None:
    """Each bad field raises CadenceError saying which and what."""
    values: dict[str, object] = {"contact": "ana", "at": NOW, "channel": "email"} | kwargs
    positional = (values.pop("contact"), values.pop("at"), values.pop("channel"))
    with pytest.raises(CadenceError, match=message):
        Touchpoint(*positional, **values)  # type: ignore[arg-type]  # wrong types on purpose


def test_a_rule_targets_a_contact_a_tag_or_everyone() -> None:
    """target says which; neither contact nor tag means everyone."""
    assert Rule(Every(weeks=2), contact="ana").target == ("contact", "ana")
    assert Rule(Every(weeks=2), tag="client").target == ("tag", "client")
    assert Rule(Every(weeks=2)).target == ("everyone", None)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("every 2 weeks",), {}, "a rule needs a cadence"),
        ((None,), {}, "a rule needs a cadence"),
        ((Every(weeks=1),), {"contact": "a", "tag": "t"}, "for a contact or for a tag, not both"),
        ((Every(weeks=1),), {"contact": 5}, "a rule's contact must be text, not 5"),
        ((Every(weeks=1),), {"tag": ""}, "a tag must not be empty"),
    ],
)
def test_rules_refuse_bad_values(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    """A rule needs a cadence and at most one target."""
    with pytest.raises(CadenceError, match=message):
        Rule(*args, **kwargs)  # type: ignore[arg-type]  # wrong types on purpose


def test_snoozes_need_a_key_and_an_aware_end() -> None:
    """A snooze ends at an aware moment."""
    assert Snooze("abc", NOW).until == NOW
    with pytest.raises(CadenceError, match="a snooze's end must be timezone-aware"):
        Snooze("abc", datetime(2026, 1, 1))
    with pytest.raises(CadenceError, match="a reminder key must be text"):
        Snooze(None, NOW)  # type: ignore[arg-type]  # on purpose


def _roster(**parts: object) -> Roster:
    contacts = parts.pop("contacts", [Contact("ana", "Ana"), Contact("bo", "Bo")])
    return Roster(contacts, **parts)  # type: ignore[arg-type]  # parts as the tests give them


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"contacts": [Contact("a", "A"), Contact("a", "B")]}, "two contacts share the id 'a'"),
        ({"touchpoints": [Touchpoint("zed", NOW)]}, "a touchpoint names the unknown contact 'zed'"),
        ({"occasions": [Birthday("zed", 1, 1)]}, "an occasion names the unknown contact 'zed'"),
        (
            {"occasions": [Occasion("Launch", on=date(2027, 1, 1), contact="zed")]},
            "an occasion names the unknown contact 'zed'",
        ),
        ({"rules": [Rule(Every(weeks=1), contact="zed")]}, "a rule names the unknown contact"),
        (
            {"rules": [Rule(Every(weeks=1), contact="ana"), Rule(Every(weeks=2), contact="ana")]},
            "two rules target the contact 'ana'",
        ),
        (
            {"rules": [Rule(Every(weeks=1), tag="t"), Rule(Every(weeks=2), tag="t")]},
            "two rules target the tag 't'",
        ),
        ({"rules": [Rule(Every(weeks=1)), Rule(Every(weeks=2))]}, "two rules target everyone"),
        ({"contacts": "ana"}, "contacts must be a list, not text"),
        ({"contacts": None}, "contacts must be a list, not None"),
        ({"contacts": [("ana", "Ana")]}, "contacts holds"),
        ({"rules": [Every(weeks=1)]}, "rules holds Every"),
        ({"occasions": [date(2027, 1, 1)]}, "occasions holds"),
        ({"touchpoints": 5}, "touchpoints must be a list, not 5"),
        ({"snoozes": [None]}, "snoozes holds None"),
        ({"dismissed": "abc"}, "dismissed reminder keys must be a list, not text"),
        ({"dismissed": [1]}, "dismissed reminder keys holds 1"),
    ],
)
def test_rosters_refuse_pieces_that_do_not_fit(parts: dict[str, object], message: str) -> None:
    """Unknown references, duplicates and wrong types are refused with the reason."""
    with pytest.raises(CadenceError, match=message):
        _roster(**parts)


def test_a_roster_takes_any_iterables() -> None:
    """Generators and tuples do as well as lists; the roster keeps tuples."""
    roster = Roster(
        (c for c in [Contact("ana", "Ana")]),
        (Rule(Every(weeks=1)),),
        iter([Birthday("ana", 5, 1)]),
        [Touchpoint("ana", NOW)],
    )
    assert roster.contacts == (Contact("ana", "Ana"),)
    assert isinstance(roster.touchpoints, tuple)
    assert repr(roster) == "<Roster: 1 contacts, 1 rules, 1 occasions, 1 touchpoints>"


def test_roster_lookups() -> None:
    """contact() finds by id and refuses unknown or unhashable ids."""
    roster = _roster()
    assert roster.contact("bo").name == "Bo"
    with pytest.raises(CadenceError, match="unknown contact 'zed'"):
        roster.contact("zed")
    with pytest.raises(CadenceError, match=r"unknown contact \['ana'\]"):
        roster.contact(["ana"])  # type: ignore[arg-type]  # on purpose


def test_the_most_specific_rule_wins() -> None:
    """A contact's own rule, else its most frequent tag's, else everyone's."""
    own, weekly, monthly, default = Every(days=3), Every(weeks=1), Every(months=1), Every(days=90)
    roster = Roster(
        [
            Contact("own", "Own", tags=["family"]),
            Contact("tagged", "Tagged", tags=["client", "family"]),
            Contact("other", "Other", tags=["nobody-has-a-rule"]),
        ],
        [
            Rule(monthly, tag="client"),
            Rule(default),
            Rule(weekly, tag="family"),
            Rule(own, contact="own"),
        ],
    )
    assert roster.cadence_for(roster.contact("own")) == own
    assert roster.cadence_for(roster.contact("tagged")) == weekly
    assert roster.cadence_for(roster.contact("other")) == default


def test_equally_frequent_tag_rules_go_by_tag_name() -> None:
    """When two tags' rules are as frequent, the first tag in alphabetical order wins."""
    a = Recurring("FREQ=WEEKLY;BYDAY=MO")
    b = Recurring("FREQ=WEEKLY;BYDAY=TU")
    for rules in (
        [Rule(a, tag="alpha"), Rule(b, tag="beta")],
        [Rule(b, tag="beta"), Rule(a, tag="alpha")],
    ):
        roster = Roster([Contact("x", "X", tags=["beta", "alpha"])], rules)
        assert roster.cadence_for(roster.contact("x")) == a


def test_no_rule_means_no_cadence() -> None:
    """Without a rule that applies, a contact has no cadence and no check-in reminders."""
    roster = Roster([Contact("x", "X", tags=["t"])], [Rule(Every(weeks=1), tag="other")])
    assert roster.cadence_for(roster.contact("x")) is None
    assert list(plan(roster, now=NOW)) == []


def test_bulk_touchpoints_are_kept_but_do_not_count() -> None:
    """A newsletter is in the roster's history but is not a last touch."""
    roster = Roster(
        [Contact("ana", "Ana")],
        touchpoints=[Touchpoint("ana", NOW - timedelta(days=1), personal=False)],
    )
    assert len(roster.touchpoints) == 1
    assert roster.last_touch("ana", NOW) is None


def test_last_and_next_touch_order_by_instant_even_in_a_fold() -> None:
    """Touches written in the contact's zone during a DST fold sort by when they happened."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/New_York")
    early = datetime(2026, 11, 1, 1, 45, tzinfo=tz)  # EDT, 05:45 UTC
    late = datetime(2026, 11, 1, 1, 15, tzinfo=tz, fold=1)  # EST, 06:15 UTC
    roster = Roster(
        [Contact("ana", "Ana", timezone="America/New_York")],
        touchpoints=[Touchpoint("ana", late), Touchpoint("ana", early)],
    )
    between = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    # In UTC: a moment in a fold never equals one of another zone (PEP 495).
    assert roster.last_touch("ana", between) == early.astimezone(UTC)
    assert roster.next_touch("ana", between) == late.astimezone(UTC)
    assert roster.last_touch("ana", datetime(2026, 11, 1, 7, tzinfo=UTC)) == late.astimezone(UTC)


# Every public callable of the core, each with arguments that are right but for one.
_CALLS: dict[str, Callable[[object], object]] = {
    "Contact.id": lambda v: Contact(v, "Name"),  # type: ignore[arg-type]
    "Contact.name": lambda v: Contact("id", v),  # type: ignore[arg-type]
    "Contact.email": lambda v: Contact("id", "N", email=v),  # type: ignore[arg-type]
    "Contact.timezone": lambda v: Contact("id", "N", timezone=v),  # type: ignore[arg-type]
    "Contact.channel": lambda v: Contact("id", "N", channel=v),  # type: ignore[arg-type]
    "Contact.tags": lambda v: Contact("id", "N", tags=v),  # type: ignore[arg-type]
    "Contact.since": lambda v: Contact("id", "N", since=v),  # type: ignore[arg-type]
    "Touchpoint.contact": lambda v: Touchpoint(v, NOW),  # type: ignore[arg-type]
    "Touchpoint.at": lambda v: Touchpoint("id", v),  # type: ignore[arg-type]
    "Touchpoint.channel": lambda v: Touchpoint("id", NOW, v),  # type: ignore[arg-type]
    "Touchpoint.personal": lambda v: Touchpoint("id", NOW, personal=v),  # type: ignore[arg-type]
    "Touchpoint.direction": lambda v: Touchpoint("id", NOW, direction=v),  # type: ignore[arg-type]
    "Touchpoint.note": lambda v: Touchpoint("id", NOW, note=v),  # type: ignore[arg-type]
    "Every.days": lambda v: Every(days=v),  # type: ignore[arg-type]
    "Every.weeks": lambda v: Every(weeks=v),  # type: ignore[arg-type]
    "Every.months": lambda v: Every(months=v),  # type: ignore[arg-type]
    "Recurring.rrule": lambda v: Recurring(v),  # type: ignore[arg-type]
    "Recurring.at": lambda v: Recurring("FREQ=DAILY", at=v),  # type: ignore[arg-type]
    "Recurring.start": lambda v: Recurring("FREQ=DAILY", start=v),  # type: ignore[arg-type]
    "parse_cadence": lambda v: parse_cadence(v),  # type: ignore[arg-type]
    "Rule.cadence": lambda v: Rule(v),  # type: ignore[arg-type]
    "Rule.contact": lambda v: Rule(Every(days=1), contact=v),  # type: ignore[arg-type]
    "Rule.tag": lambda v: Rule(Every(days=1), tag=v),  # type: ignore[arg-type]
    "Snooze.key": lambda v: Snooze(v, NOW),  # type: ignore[arg-type]
    "Snooze.until": lambda v: Snooze("k", v),  # type: ignore[arg-type]
    "Birthday.contact": lambda v: Birthday(v, 1, 1),  # type: ignore[arg-type]
    "Birthday.month": lambda v: Birthday("id", v, 1),  # type: ignore[arg-type]
    "Birthday.day": lambda v: Birthday("id", 1, v),  # type: ignore[arg-type]
    "Birthday.year": lambda v: Birthday("id", 1, 1, year=v),  # type: ignore[arg-type]
    "Birthday.lead": lambda v: Birthday("id", 1, 1, lead=v),  # type: ignore[arg-type]
    "Birthday.leap_day": lambda v: Birthday("id", 1, 1, leap_day=v),  # type: ignore[arg-type]
    "Anniversary.contact": lambda v: Anniversary(v, date(2020, 1, 1)),  # type: ignore[arg-type]
    "Anniversary.date": lambda v: Anniversary("id", v),  # type: ignore[arg-type]
    "Anniversary.label": lambda v: Anniversary("id", date(2020, 1, 1), label=v),  # type: ignore[arg-type]
    "Anniversary.lead": lambda v: Anniversary("id", date(2020, 1, 1), lead=v),  # type: ignore[arg-type]
    "Occasion.title": lambda v: Occasion(v, on=date(2027, 1, 1)),  # type: ignore[arg-type]
    "Occasion.on": lambda v: Occasion("T", on=v),  # type: ignore[arg-type]
    "Occasion.month": lambda v: Occasion("T", month=v, day=1),  # type: ignore[arg-type]
    "Occasion.day": lambda v: Occasion("T", month=1, day=v),  # type: ignore[arg-type]
    "Occasion.contact": lambda v: Occasion("T", on=date(2027, 1, 1), contact=v),  # type: ignore[arg-type]
    "Occasion.tag": lambda v: Occasion("T", on=date(2027, 1, 1), tag=v),  # type: ignore[arg-type]
    "Occasion.lead": lambda v: Occasion("T", on=date(2027, 1, 1), lead=v),  # type: ignore[arg-type]
    "Roster.contacts": lambda v: Roster(v),  # type: ignore[arg-type]
    "Roster.rules": lambda v: Roster([], v),  # type: ignore[arg-type]
    "Roster.occasions": lambda v: Roster([], occasions=v),  # type: ignore[arg-type]
    "Roster.touchpoints": lambda v: Roster([], touchpoints=v),  # type: ignore[arg-type]
    "Roster.snoozes": lambda v: Roster([], snoozes=v),  # type: ignore[arg-type]
    "Roster.dismissed": lambda v: Roster([], dismissed=v),  # type: ignore[arg-type]
    "plan.roster": lambda v: plan(v, now=NOW),  # type: ignore[arg-type]
    "plan.now": lambda v: plan(Roster([]), now=v),  # type: ignore[arg-type]
    "plan.horizon": lambda v: plan(Roster([]), now=NOW, horizon=v),  # type: ignore[arg-type]
    "plan_contact.roster": lambda v: plan_contact(v, "a", now=NOW),  # type: ignore[arg-type]
    "plan_contact.id": lambda v: plan_contact(Roster([Contact("a", "A")]), v, now=NOW),  # type: ignore[arg-type]
    "plan_contact.now": lambda v: plan_contact(Roster([Contact("a", "A")]), "a", now=v),  # type: ignore[arg-type]
    "plan_contact.horizon": lambda v: plan_contact(
        Roster([Contact("a", "A")]),
        "a",
        now=NOW,
        horizon=v,  # type: ignore[arg-type]
    ),
    "health.roster": lambda v: health(v, "a", now=NOW),  # type: ignore[arg-type]
    "health.id": lambda v: health(Roster([Contact("a", "A")]), v, now=NOW),  # type: ignore[arg-type]
    "health.now": lambda v: health(Roster([Contact("a", "A")]), "a", now=v),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("where", sorted(_CALLS))
@given(value=cst.junk)
def test_wrong_values_raise_cadence_error_and_nothing_else(where: str, value: object) -> None:
    """Whatever is passed where it does not belong, the only error is a CadenceError."""
    message = None
    try:
        _CALLS[where](value)
    except CadenceError as error:
        message = str(error)
    assert message is None or (message and "\n" not in message)


@given(st.datetimes(), st.timedeltas())
def test_plan_refuses_naive_now_and_negative_horizons(naive: datetime, horizon: timedelta) -> None:
    """A naive now is refused whatever it is; so is a negative horizon."""
    roster = Roster([Contact("a", "A")], [Rule(Every(days=1))])
    with pytest.raises(CadenceError, match="now must be timezone-aware"):
        plan(roster, now=naive)
    if horizon < timedelta(0):
        with pytest.raises(CadenceError, match="the horizon must be a duration of zero or more"):
            plan(roster, now=NOW, horizon=horizon)


@pytest.mark.parametrize(
    ("now", "horizon"),
    [
        (datetime(9999, 12, 1, tzinfo=UTC), timedelta(days=30)),
        (NOW, timedelta.max),
        (NOW, timedelta(days=365 * 7000)),
        (datetime(1, 1, 1, tzinfo=UTC), timedelta(days=1)),
        (datetime(1899, 12, 31, tzinfo=UTC), timedelta(days=1)),
    ],
)
def test_plan_refuses_moments_beyond_its_span(now: datetime, horizon: timedelta) -> None:
    """Planning reckons between the years 1900 and 9000 and says so."""
    roster = Roster([Contact("a", "A", since=date(9999, 12, 31))], [Rule(Every(days=1))])
    with pytest.raises(CadenceError, match="between the years 1900 and 9000"):
        plan(roster, now=now, horizon=horizon)


def test_extreme_dates_inside_the_span_plan_without_error() -> None:
    """Start dates and one-off occasions near the ends of time give no reminder and no error."""
    roster = Roster(
        [Contact("a", "A", since=date(9999, 12, 31)), Contact("b", "B", since=date(1, 1, 1))],
        [Rule(Every(months=1200))],
        [Occasion("Far", on=date(9999, 12, 31), contact="a", lead=timedelta(days=366))],
        [Touchpoint("a", datetime(1, 1, 1, 12, tzinfo=UTC))],
    )
    agenda = plan(roster, now=datetime(8999, 10, 1, tzinfo=UTC), horizon=timedelta(days=60))
    # Both were last touched in the year 1, so a hundred-year cadence is long overdue.
    assert sorted((r.contact.id, r.date) for r in agenda) == [
        ("a", date(101, 1, 1)),
        ("b", date(101, 1, 1)),
    ]
    assert health(roster, "a", now=datetime(2026, 1, 1, tzinfo=UTC)) == pytest.approx(0.0, abs=1e-3)


# `cadence log`: the moment shown in the contact's zone, a future one refused


def _log_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    env = {**os.environ, "CADENCE_DB": f"sqlite:///{tmp_path / 'c.db'}", "CADENCE_CONFIG": ""}

    def cadence(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cadence", "--now", "2026-11-23T12:00Z", *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    cadence("contact", "add", "ana", "--name", "Ana", "--timezone", "America/New_York")
    return cadence


def _touches(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "c.db") as conn:
        return [at for (at,) in conn.execute("SELECT at FROM touchpoints ORDER BY at_ts")]


def test_log_shows_the_moment_in_the_contacts_zone_with_or_without_at(tmp_path: Path) -> None:
    """Without --at the moment is now, shown in New York time as --at's is, not in UTC."""
    cadence = _log_cli(tmp_path)
    assert cadence("log", "ana").stdout.strip() == "logged other with Ana at 2026-11-23 07:00 EST"
    done = cadence("log", "ana", "--at", "2026-11-20T09:30")
    assert done.stdout.strip() == "logged other with Ana at 2026-11-20 09:30 EST"
    done = cadence("log", "ana", "--at", "2026-11-21T12:00Z")
    assert done.stdout.strip() == "logged other with Ana at 2026-11-21 07:00 EST"


def test_log_refuses_a_moment_in_the_future_beyond_five_minutes_of_skew(tmp_path: Path) -> None:
    """Up to 5 minutes ahead is clock skew, accepted; a second more is refused, logging nothing."""
    cadence = _log_cli(tmp_path)
    for ahead in ("2026-11-23T12:05:01Z", "2026-11-24T07:00", "2027-01-01"):
        done = cadence("log", "ana", "--at", ahead, ok=False)
        refused(done, f"--at {ahead} is in the future", "2026-11-23 07:00 EST", "5 minutes")
    assert _touches(tmp_path) == []
    cadence("log", "ana", "--at", "2026-11-23T12:05Z")
    cadence("log", "ana", "--at", "2026-11-23T07:04")
    assert len(_touches(tmp_path)) == 2
