"""The rules that make touchpoints of mail and meetings, by example and by property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadence import Touchpoint
from cadence.core.errors import CadenceError
from cadence.core.touches import (
    MAX_CLOCK_SKEW,
    Meeting,
    Message,
    TouchRules,
    meeting_touches,
    message_ref,
    message_touches,
)
from cadence.sources._mail import read_header

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BEFORE = NOW - timedelta(days=1)
CONTACTS = {"ana@example.es": "ana", "ana.home@example.net": "ana", "ben@example.com": "ben"}


def rules(**more: object) -> TouchRules:
    return TouchRules(source="mail", contacts=CONTACTS, me=["me@work.example"], **more)  # type: ignore[arg-type]


def touched(message: Message, **more: object) -> list[tuple[str, str, bool]]:
    return [
        (t.contact, t.direction, t.personal)
        for t in message_touches(message, rules(**more), now=NOW)
    ]


def test_a_reply_from_a_contact_is_a_touch_in() -> None:
    message = Message("r1", sender=["Ana@Example.es"], to=["me@work.example"], date=BEFORE)
    (touch,) = message_touches(message, rules(), now=NOW)
    assert touch == Touchpoint("ana", BEFORE, "email", direction="in", source="mail", ref="r1")


def test_mail_you_sent_touches_every_contact_among_to_cc_and_bcc() -> None:
    message = Message(
        "s1", sender=["me@work.example"], to=["ben@example.com"], cc=["stranger@x.example"],
        bcc=["ana.home@example.net"], date=BEFORE,
    )  # fmt: skip
    assert touched(message) == [("ana", "out", True), ("ben", "out", True)]


def test_a_second_address_finds_the_same_contact_once() -> None:
    message = Message(
        "s2", sender=["me@work.example"], to=["ana@example.es", "ana.home@example.net"], date=BEFORE
    )
    assert touched(message) == [("ana", "out", True)]


@pytest.mark.parametrize(
    "changes",
    [
        {"bulk": True},
        {"to": ["me@work.example", *[f"p{n}@x.example" for n in range(10)]]},
    ],
)
def test_bulk_mail_is_kept_but_not_personal(changes: dict[str, object]) -> None:
    fields: dict[str, object] = {"sender": ["ben@example.com"], "to": ["me@work.example"]}
    fields.update(changes)
    message = Message("b1", date=BEFORE, **fields)  # type: ignore[arg-type]
    assert touched(message) == [("ben", "in", False)]


def test_bulk_recipients_is_a_setting() -> None:
    message = Message(
        "b2", sender=["me@work.example"], to=["ben@example.com", "x@x.example"], date=BEFORE
    )
    assert touched(message, bulk_recipients=1) == [("ben", "out", False)]


def test_auto_replies_unknown_addresses_your_own_and_ignored_ones_touch_nobody() -> None:
    auto = Message("a1", sender=["ben@example.com"], to=["me@work.example"], date=BEFORE,
                   automatic=True)  # fmt: skip
    assert touched(auto) == []
    stranger = Message("u1", sender=["who@x.example"], to=["me@work.example"], date=BEFORE)
    assert touched(stranger) == []
    mine = TouchRules(source="mail", contacts={"me@work.example": "me"}, me=["ME@work.example"])
    to_me = Message("m1", sender=["me@work.example"], to=["me@work.example"], date=BEFORE)
    assert message_touches(to_me, mine, now=NOW) == []
    ignored = Message("i1", sender=["ben@example.com"], to=["me@work.example"], date=BEFORE)
    assert touched(ignored, ignore=["*@EXAMPLE.com"]) == []


def test_the_date_header_unless_it_is_missing_in_the_future_or_far_from_arrival() -> None:
    def at(**times: datetime | None) -> datetime:
        message = Message("d", sender=["ben@example.com"], **times)  # type: ignore[arg-type]
        (touch,) = message_touches(message, rules(), now=NOW)
        return touch.at

    arrived = NOW - timedelta(hours=3)
    assert at(date=BEFORE, arrived=BEFORE + timedelta(minutes=1)) == BEFORE
    assert at(date=None, arrived=arrived) == arrived
    assert at(date=NOW + timedelta(days=30), arrived=arrived) == arrived
    assert at(date=arrived - MAX_CLOCK_SKEW - timedelta(days=1), arrived=arrived) == arrived
    undated = Message("u", sender=["ben@example.com"])
    assert message_touches(undated, rules(), now=NOW) == []


def test_keep_subject_keeps_it_as_the_note() -> None:
    message = Message("k", sender=["ben@example.com"], date=BEFORE, subject="Renewal")
    assert message_touches(message, rules(), now=NOW)[0].note == ""
    assert message_touches(message, rules(keep_subject=True), now=NOW)[0].note == "Renewal"


def test_a_meeting_touches_attendees_who_did_not_decline() -> None:
    meeting = Meeting(
        "m1",
        start=BEFORE,
        organizer="me@work.example",
        attendees=[("ana@example.es", "ACCEPTED"), ("ben@example.com", "DECLINED")],
    )
    (touch,) = meeting_touches(meeting, rules(), now=NOW)
    assert (touch.contact, touch.channel, touch.direction, touch.personal) == (
        "ana", "meeting", "out", True,
    )  # fmt: skip


def test_a_meeting_a_contact_organized_reads_as_in() -> None:
    meeting = Meeting(
        "m2", start=BEFORE, organizer="ben@example.com", attendees=[("me@work.example", "ACCEPTED")]
    )
    assert [(t.contact, t.direction) for t in meeting_touches(meeting, rules(), now=NOW)] == [
        ("ben", "in")
    ]


def test_cancelled_and_future_meetings_touch_nobody() -> None:
    people = [("ana@example.es", "ACCEPTED")]
    assert meeting_touches(Meeting("c", start=BEFORE, attendees=people, cancelled=True),
                           rules(), now=NOW) == []  # fmt: skip
    assert meeting_touches(Meeting("f", start=NOW + timedelta(hours=1), attendees=people),
                           rules(), now=NOW) == []  # fmt: skip


def test_refs_hash_the_message_id_and_never_hold_it() -> None:
    ref = message_ref("<CAF=abc@mail.gmail.com>", "INBOX:1:7")
    assert ref == message_ref("  CAF=abc@mail.gmail.com ", "Sent:9:2")
    assert "gmail" not in ref
    assert message_ref(None, "INBOX:1:7") != message_ref(None, "INBOX:1:8")


def test_a_touchpoint_from_a_source_needs_both_its_source_and_its_ref() -> None:
    with pytest.raises(CadenceError, match="source and its ref"):
        Touchpoint("ana", NOW, source="mail")


def test_a_header_as_gmail_writes_it() -> None:
    raw = (
        b"Delivered-To: me@work.example\r\n"
        b"Received: by 2002:a05:6a10:1234 with SMTP id abc;\r\n"
        b"        Mon, 23 Nov 2026 01:02:03 -0800 (PST)\r\n"
        b"From: =?UTF-8?Q?Ana_L=C3=B3pez?= <ana@example.es>\r\n"
        b"Date: Mon, 23 Nov 2026 10:02:00 +0100\r\n"
        b"Message-ID: <CAF=abc@mail.gmail.com>\r\n"
        b"Subject: =?UTF-8?Q?Renovaci=C3=B3n?=\r\n"
        b'To: Me <me@work.example>, "Okafor, Ben" <ben@example.com>\r\n'
        b'Content-Type: text/plain; charset="UTF-8"\r\n\r\nthe body is never read\r\n'
    )
    message = read_header(raw, where="INBOX:1:1")
    assert message.sender == ("ana@example.es",)
    assert message.to == ("me@work.example", "ben@example.com")
    assert message.date == datetime(2026, 11, 23, 9, 2, tzinfo=UTC)
    assert message.subject == "Renovación"
    assert (message.bulk, message.automatic) == (False, False)
    assert message.ref == message_ref("<CAF=abc@mail.gmail.com>", "")


@pytest.mark.parametrize(
    ("line", "bulk", "automatic"),
    [
        (b"List-Id: Clients <clients.lists.example>", True, False),
        (b"List-Unsubscribe: <mailto:unsub@news.example>", True, False),
        (b"Precedence: bulk", True, False),
        (b"Precedence: first-class", False, False),
        (b"Auto-Submitted: auto-replied", False, True),
        (b"Auto-Submitted: no", False, False),
        (b"X-Autoreply: yes", False, True),
    ],
)
def test_headers_that_mark_bulk_and_automatic_mail(
    line: bytes, bulk: bool, automatic: bool
) -> None:
    raw = b"From: ben@example.com\r\n" + line + b"\r\n\r\n"
    message = read_header(raw, where="x")
    assert (message.bulk, message.automatic) == (bulk, automatic)


addresses = st.sampled_from(
    ["ana@example.es", "ANA.HOME@example.net", "ben@example.com", "me@work.example",
     "who@x.example", "not an address"]
)  # fmt: skip


@given(
    sender=st.lists(addresses, max_size=2),
    to=st.lists(addresses, max_size=4),
    cc=st.lists(addresses, max_size=4),
    bulk=st.booleans(),
    automatic=st.booleans(),
    minutes=st.integers(-10_000, 10_000),
)
def test_the_rules_hold_for_any_message(
    sender: list[str], to: list[str], cc: list[str], bulk: bool, automatic: bool, minutes: int
) -> None:
    """Only known contacts, each once, never you; never after now; none from an auto-reply."""
    message = Message(
        "h", sender=sender, to=to, cc=cc, bulk=bulk, automatic=automatic,
        date=NOW + timedelta(minutes=minutes), arrived=NOW - timedelta(minutes=5),
    )  # fmt: skip
    found = message_touches(message, rules(), now=NOW)
    contacts = [t.contact for t in found]
    assert len(contacts) == len(set(contacts))
    assert set(contacts) <= set(CONTACTS.values())
    assert all(t.at <= NOW for t in found)
    assert all(t.personal == (not bulk) for t in found)
    if automatic:
        assert found == []
    from_me = any(a.lower() == "me@work.example" for a in sender)
    assert all(t.direction == ("out" if from_me else "in") for t in found)
