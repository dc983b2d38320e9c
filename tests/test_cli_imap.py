"""``cadence sync`` on a real Dovecot mailbox (127.0.0.1), then ``due`` and ``touches``.

A reply from a contact, a message you sent, one to two contacts, a
newsletter, an auto-reply, a message from a contact's second address and one
from a stranger: the right contacts get the right touchpoints, and the
check-ins personal mail satisfied are no longer due.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from _cli import refused
from _dovecot import PASSWORD, Dovecot, dovecot
from test_cli import Cli
from test_imap import AUTO_REPLY, NEWSLETTER, NO_ID, REPLY, SENT, TWO, _at, _date

__all__ = ["dovecot"]  # a fixture, used by name

PASSWORD_ENV = "CADENCE_TEST_IMAP_PASSWORD"
NOW = "2026-11-20T12:00:00+00:00"
SECOND_ADDRESS = f"""\
Message-ID: <home-1@home.example>
Date: {_date(_at(0.5))}
From: Kim <kim.park@home.example>
To: ana@example.org
Subject: from home

Hi from home.
"""
STRANGER = f"""\
Message-ID: <cold-1@vendor.example>
Date: {_date(_at(0.2))}
From: sales@vendor.example
To: ana@example.org
Subject: a deal

Buy.
"""


@pytest.fixture
def cli(tmp_path: Path, dovecot: Dovecot) -> Cli:
    dovecot.empty("INBOX", "Sent")
    made = Cli(tmp_path, now=NOW)
    config = tmp_path / "cadence.toml"
    config.write_text(
        f"""
[[sources]]
source = "imap"
name = "work"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{dovecot.user}"
password_env = "{PASSWORD_ENV}"
""",
        encoding="utf-8",
    )
    made.env["CADENCE_CONFIG"] = str(config)
    made.env[PASSWORD_ENV] = PASSWORD
    made("contact", "add", "kim", "--name", "Kim Park", "--email", "kim@client.example",
         "--email", "kim.park@home.example")  # fmt: skip
    made("contact", "add", "lee", "--name", "Jo Lee", "--email", "lee@studio.example")
    made("contact", "add", "sam", "--name", "Sam", "--email", "SAM@partner.example")
    made("contact", "add", "news", "--name", "Weekly", "--email", "news@lists.example")
    made("rule", "set", "weekly")
    return made


def touched(cli: Cli) -> set[tuple[object, ...]]:
    found = json.loads(cli("touches", "--json").stdout)
    return {(t["contact"], t["direction"], t["personal"], t["source"]) for t in found}


def count(cli: Cli) -> int:
    with sqlite3.connect(cli.db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM touchpoints").fetchone()[0])


def test_mail_becomes_touches_and_satisfies_check_ins(cli: Cli, dovecot: Dovecot) -> None:
    due = cli("due", "--within", "1d").stdout
    assert all(f"Check in with {n}" in due for n in ("Kim", "Jo Lee", "Sam", "Weekly"))
    for folder, message, days in (("INBOX", REPLY, 3), ("Sent", SENT, 4), ("Sent", TWO, 5),
                                  ("INBOX", NEWSLETTER, 6), ("INBOX", AUTO_REPLY, 2),
                                  ("INBOX", NO_ID, 1), ("INBOX", STRANGER, 0.2)):  # fmt: skip
        # Arrived when sent, as seen from --now (the server would stamp today's date).
        dovecot.append(folder, message, arrived=_at(days))
    assert "source work: " in cli("sync").stdout
    assert touched(cli) == {
        ("kim", "in", True, "work"),
        ("kim", "out", True, "work"),
        ("lee", "out", True, "work"),
        ("sam", "out", True, "work"),
        ("sam", "in", True, "work"),
        ("news", "in", False, "work"),
    }
    assert len(json.loads(cli("touches", "kim", "--json").stdout)) == 3
    due = cli("due", "--within", "1d").stdout
    assert "Check in with Kim" not in due
    assert "Check in with Jo Lee" not in due
    assert "Check in with Weekly" in due  # a newsletter leaves the clock alone
    before = count(cli)
    assert "0 touches added" in cli("sync").stdout
    assert count(cli) == before
    dovecot.append("INBOX", SECOND_ADDRESS, arrived=_at(0.5))
    assert "1 touch added" in cli("sync").stdout
    assert count(cli) == before + 1


def test_a_wrong_password_is_one_line_and_changes_nothing(cli: Cli, dovecot: Dovecot) -> None:
    dovecot.append("INBOX", REPLY, arrived=_at(3))
    cli.env[PASSWORD_ENV] = "wrong-password-x"
    done = cli("sync", ok=False)
    refused(done, "work")
    assert "wrong-password-x" not in done.stderr
    assert PASSWORD not in done.stderr
    assert count(cli) == 0
