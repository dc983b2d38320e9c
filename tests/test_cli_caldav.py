"""``cadence sync`` on a real CalDAV server (Radicale on 127.0.0.1), then ``due`` and ``touches``.

A past meeting with a contact restarts their clock; a declined or cancelled
one does not; a weekly meeting gives one touch per occurrence; an event
deleted on the server takes its touches with it at the next sync.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from _radicale import Radicale, radicale
from test_calendars import EXTRA, WEEKLY, _put, work_calendar
from test_cli import Cli

__all__ = ["radicale", "work_calendar"]  # fixtures, used by name

PASSWORD_ENV = "CADENCE_TEST_CALDAV_PASSWORD"
NOW = "2026-11-20T12:00:00+00:00"


@pytest.fixture
def cli(tmp_path: Path, radicale: Radicale, work_calendar: str) -> Cli:
    made = Cli(tmp_path, now=NOW)
    config = tmp_path / "cadence.toml"
    config.write_text(
        f"""
[[sources]]
source = "caldav"
name = "meetings"
url = "{work_calendar}"
username = "ana"
password_env = "{PASSWORD_ENV}"
me = ["me@example.com"]
""",
        encoding="utf-8",
    )
    made.env["CADENCE_CONFIG"] = str(config)
    made.env[PASSWORD_ENV] = radicale.password("ana")
    for ident, address in (("ana", "ana@example.org"), ("bo", "bo@example.net"),
                           ("cy", "cy@corp.example"), ("dee", "dee@example.org")):  # fmt: skip
        made("contact", "add", ident, "--name", ident.title(), "--email", address)
    made("rule", "set", "every 30 days")
    return made


def meetings(cli: Cli, *args: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = json.loads(cli("touches", "--json", *args).stdout)
    return found


def test_meetings_on_the_server_restart_the_clocks_of_those_who_came(
    cli: Cli, radicale: Radicale, work_calendar: str
) -> None:
    before = cli("due", "--within", "1d").stdout
    assert all(f"Check in with {n}" in before for n in ("Ana", "Bo", "Cy", "Dee"))
    cli("sync")
    found = meetings(cli)
    by_contact = {c: [t for t in found if t["contact"] == c] for c in ("ana", "bo", "cy", "dee")}
    assert by_contact["ana"]
    assert by_contact["bo"] == []  # declined
    assert by_contact["dee"] == []  # the board review was cancelled
    assert len(by_contact["cy"]) == len(WEEKLY)  # one per occurrence, moved and skipped honoured
    assert all(t["channel"] == "meeting" and t["personal"] for t in found)
    after = cli("due", "--within", "1d").stdout
    assert "Check in with Cy" not in after
    assert "Check in with Bo" in after
    assert "Check in with Dee" in after
    assert "0 touches added, 0 removed" in cli("sync").stdout

    _put(radicale, work_calendar + "extra.ics", EXTRA.format(uid=uuid.uuid4().hex))
    assert "1 touch added" in cli("sync").stdout
    assert "Check in with Dee" not in cli("due", "--within", "1d").stdout
    with radicale.session() as session:
        assert session.delete(work_calendar + "extra.ics", timeout=10).status_code in (200, 204)
    assert "0 touches added, 1 removed" in cli("sync").stdout
    assert "Check in with Dee" in cli("due", "--within", "1d").stdout
