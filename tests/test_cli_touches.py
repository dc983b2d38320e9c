"""Touches from mail files and a calendar through the command line, end to end.

``cadence sync`` on a Google Takeout mbox and a Google Calendar export (both
in the shape those tools write, tests/fixtures/*/README.md), then ``due``,
``touches`` and ``touch remove``, on a real SQLite file.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from _cli import refused
from test_cli import Cli

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """Ana, Bo, Cy and Dee, due weekly; a Takeout mbox and a calendar export as sources."""
    made = Cli(tmp_path)
    shutil.copy(FIXTURES / "mail" / "takeout.mbox", tmp_path / "mail.mbox")
    shutil.copy(FIXTURES / "calendar" / "google-export.ics", tmp_path / "calendar.ics")
    config = tmp_path / "cadence.toml"
    config.write_text(
        f"""
[[sources]]
source = "mbox"
name = "gmail"
path = "{tmp_path / "mail.mbox"}"
me = ["me@example.com"]

[[sources]]
source = "calendar"
name = "meetings"
path = "{tmp_path / "calendar.ics"}"
me = ["me@example.com"]
""",
        encoding="utf-8",
    )
    made.env["CADENCE_CONFIG"] = str(config)
    for ident, address in (
        ("ana", "ana@example.org"),
        ("bo", "bo@example.net"),
        ("cy", "cy@corp.example"),
        ("offers", "offers@shop.example"),
    ):
        made("contact", "add", ident, "--name", ident.title(), "--email", address)
    made("rule", "set", "weekly")
    return made


def touches(cli: Cli, *args: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = json.loads(cli("touches", "--json", *args).stdout)
    return found


def test_mail_and_meetings_become_touches_once(cli: Cli) -> None:
    due_before = cli("due").stdout
    assert "Check in with Ana" in due_before
    first = cli("sync").stdout
    assert "source gmail: " in first
    assert "source meetings: " in first
    mail = touches(cli, "--source", "gmail")
    assert {(t["contact"], t["direction"], t["personal"]) for t in mail} >= {
        ("ana", "in", True),
        ("ana", "out", True),
        ("bo", "out", True),
        ("offers", "in", False),
    }
    meetings = touches(cli, "--source", "meetings")
    # Bo declined the coffee; the board review was cancelled.
    assert ("bo", "meeting") not in {(t["contact"], t["channel"]) for t in meetings}
    weekly = [t for t in meetings if t["contact"] == "cy"]
    assert len(weekly) >= 3
    assert all(t["direction"] == "in" for t in weekly)
    assert all(t["note"] == "" for t in [*mail, *meetings])
    with sqlite3.connect(cli.db) as conn:
        before = conn.execute("SELECT COUNT(*) FROM touchpoints").fetchone()[0]
    again = cli("sync").stdout
    assert "0 touches added, 0 removed" in again
    with sqlite3.connect(cli.db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM touchpoints").fetchone()[0] == before
    due_after = cli("due").stdout
    assert "Check in with Offers" in due_after  # a newsletter leaves the clock alone


def test_a_touch_removed_by_hand_stays_removed(cli: Cli) -> None:
    cli("sync")
    (first, *_) = touches(cli, "ana", "--source", "gmail")
    cli("touch", "remove", str(first["id"]))
    cli("sync")
    assert first["id"] not in {t["id"] for t in touches(cli, "ana")}
    assert len(touches(cli, "ana", "--source", "gmail")) == 1
    refused(cli("touch", "remove", str(first["id"]), ok=False), "no touchpoint")


def test_an_event_deleted_from_the_calendar_takes_its_touches_with_it(
    cli: Cli, tmp_path: Path
) -> None:
    cli("sync")
    assert any(t["contact"] == "cy" for t in touches(cli, "--source", "meetings"))
    calendar = tmp_path / "calendar.ics"
    text = calendar.read_text(encoding="utf-8")
    events = re.findall(r"BEGIN:VEVENT\r?\n.*?END:VEVENT\r?\n", text, flags=re.DOTALL)
    weekly = [e for e in events if "UID:weekly5sync7cy" in e]
    assert weekly
    for event in weekly:
        text = text.replace(event, "")
    calendar.write_text(text, encoding="utf-8")
    done = cli("sync").stdout
    assert "source meetings: 0 touches added" in done
    assert not any(t["contact"] == "cy" for t in touches(cli, "--source", "meetings"))


def test_a_broken_source_is_one_line_and_the_others_still_sync(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "mail.mbox").unlink()
    done = cli("sync", ok=False)
    assert done.returncode != 0
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1
    assert "gmail" in errors[0]
    assert "Traceback" not in done.stderr
    assert touches(cli, "--source", "gmail") == []
    assert touches(cli, "--source", "meetings")


def test_a_touch_source_no_longer_configured_is_forgotten_on_request(
    cli: Cli, tmp_path: Path
) -> None:
    """sync names a touch source whose table is gone; --forget removes its touches only."""
    cli("sync")
    count = len(touches(cli, "--source", "gmail"))
    assert count
    config = tmp_path / "cadence.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text[text.index('[[sources]]\nsource = "calendar"') :], encoding="utf-8")
    left = cli("sync")
    assert f"source 'gmail' is not configured but keeps {count} touches" in left.stderr
    forgotten = cli("sync", "--forget", "gmail").stdout
    assert f"source gmail: forgotten, 0 occasions and {count} touches removed" in forgotten
    assert touches(cli, "--source", "gmail") == []
    assert touches(cli, "--source", "meetings")
    assert "not configured" not in cli("sync").stderr
