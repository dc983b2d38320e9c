"""Reminder keys: stable across runs and processes, blind to unrelated data, fit for a UID."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as cst
from cadence import (
    Birthday,
    Contact,
    Every,
    Occasion,
    Recurring,
    Roster,
    Rule,
    Touchpoint,
    plan,
    reminder_key,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _roster(extra_contacts: int = 0, extra_touches: bool = False) -> Roster:
    contacts = [
        Contact("ana", "Ana Lopez", timezone="Europe/London", tags=["client"]),
        Contact("bo", "Bo", timezone="America/New_York"),
    ]
    contacts += [Contact(f"x{i}", f"X {i}", tags=["client"]) for i in range(extra_contacts)]
    touches = [Touchpoint("ana", NOW - timedelta(days=20))]
    if extra_touches:
        touches += [Touchpoint(c.id, NOW - timedelta(days=1)) for c in contacts[2:]]
        touches.append(Touchpoint("bo", NOW - timedelta(days=400), personal=False))
    return Roster(
        contacts,
        [Rule(Every(weeks=2), tag="client"), Rule(Recurring("FREQ=WEEKLY;BYDAY=FR"))],
        [Birthday("ana", 12, 1, year=1986), Occasion("Launch", on=date(2026, 12, 3))],
        touches,
    )


def _keys(roster: Roster) -> dict[tuple[str, str, object], str]:
    return {
        (r.contact.id, r.purpose, r.occasion_date or r.due.astimezone(UTC)): r.key
        for r in plan(roster, now=NOW)
        if r.contact.id in ("ana", "bo")
    }


def test_a_key_is_32_lowercase_hex_characters() -> None:
    """Keys are ASCII, without spaces, and fit an iCalendar UID, a webhook id and a Message-ID."""
    key = reminder_key("ana", "birthday", "2026-12-01")
    assert len(key) == 32
    assert set(key) <= set("0123456789abcdef")


def test_keys_are_pinned() -> None:
    """The key of a given contact, purpose and date never changes between versions."""
    # Feeds, ledgers and mail threads hold these keys: other keys would
    # deliver everything again.
    material = "\x1f".join(("ana", "birthday", "2026-12-01")).encode()
    assert (
        reminder_key("ana", "birthday", "2026-12-01") == hashlib.sha256(material).hexdigest()[:32]
    )
    assert reminder_key("ana", "birthday", "2026-12-01") == "d6f89f3cd4e8c4337a85224ff47418a9"
    assert reminder_key("ana", "cadence", "never") == "3df94f381cb2355ffb9871051775cc7b"


@given(cst.ids, st.text(max_size=20), st.text(max_size=20))
def test_keys_are_always_uid_safe(contact_id: str, purpose: str, when: str) -> None:
    """Whatever the inputs, even unicode, the key is printable ASCII hex with no spaces."""
    key = reminder_key(contact_id, purpose, when)
    assert key.isascii()
    assert key.isalnum()
    assert key == key.lower()


@given(cst.ids, cst.ids)
def test_different_parts_give_different_keys(a: str, b: str) -> None:
    """The parts are separated, so moving text from one part to another changes the key."""
    if a != b:
        assert reminder_key(a, "cadence", "2026-12-01") != reminder_key(b, "cadence", "2026-12-01")
    assert reminder_key(a + "x", "y", "d") != reminder_key(a, "xy", "d")


def test_keys_are_unaffected_by_unrelated_contacts_and_touches() -> None:
    """Adding contacts, and touchpoints of others, changes no key of the contacts already there."""
    base = _keys(_roster())
    assert len(base) >= 4
    assert _keys(_roster(extra_contacts=50)) == base
    assert _keys(_roster(extra_contacts=50, extra_touches=True)) == base


@pytest.mark.integration
def test_keys_are_the_same_in_a_process_with_another_hash_seed() -> None:
    """A fresh interpreter with a different PYTHONHASHSEED computes the same keys."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from test_keys import _roster, NOW; from cadence import plan;"
        "print(' '.join(sorted(r.key for r in plan(_roster(extra_contacts=5), now=NOW))))"
    )
    here = " ".join(sorted(r.key for r in plan(_roster(extra_contacts=5), now=NOW)))
    tests_dir = os.path.dirname(__file__)
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run(
            [sys.executable, "-c", script, tests_dir],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=120,
        )
        assert done.stdout.split() == here.split()


def test_each_kind_of_reminder_has_its_own_key() -> None:
    """A check-in, a birthday and an occasion of one contact on one day have different keys."""
    day = "2026-12-01"
    keys = {reminder_key("ana", purpose, day) for purpose in ("cadence", "birthday", "occasion:X")}
    assert len(keys) == 3
