"""``cadence demo``, run as a new user runs it: the real command in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

pytestmark = pytest.mark.integration

NOW = "2026-11-23T09:00:00+00:00"

# What the sample roster holds at NOW, as ``due --within 14d`` lists it.
DUE_NOW = (
    "Check in with Emma Schultz",
    "Check in with Chloé Martin",
    "Check in with Farid Haddad",
    "Check in with Ana López",
)
COMING = (
    "Ana López turns 40 on 28 November",
    "client anniversary",
    "Check in with Dev Patel",
)


def _cadence(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # The demo makes its store in the temporary folder: keep it in this test's.
        "TMPDIR": str(tmp_path),
        # The user's own store and settings must not be what the demo uses.
        "CADENCE_DB": f"sqlite:///{tmp_path / 'users-own.db'}",
        "CADENCE_CONFIG": "",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "cadence", "--now", NOW, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _store_of(stdout: str) -> str:
    found = re.search(r"A sample roster of 6 contacts in (sqlite:///\S+)", stdout)
    assert found, stdout
    return found.group(1)


def test_the_demo_seeds_a_roster_shows_what_is_due_and_delivers_it_once(tmp_path: Path) -> None:
    """demo seeds six contacts, lists what is due, delivers the due four once, writes a feed."""
    done = _cadence(tmp_path, "demo")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout

    url = _store_of(out)
    store = Path(url.removeprefix("sqlite:///"))
    assert store.is_file()
    assert store.parent.parent == tmp_path
    assert not (tmp_path / "users-own.db").exists()

    listing, _, rest = out.partition("cadence run (the console route)")
    assert "cadence due --within 14d" in listing
    for title in (*DUE_NOW, *COMING):
        assert title in listing, title
    (emma,) = [line for line in listing.splitlines() if "Check in with Emma Schultz" in line]
    assert "307d overdue" in emma

    delivered, _, closing = rest.partition("running again")
    lines = [line for line in delivered.splitlines() if line.strip()]
    assert len(lines) == 4
    assert sorted(title for line in lines for title in DUE_NOW if title in line) == sorted(DUE_NOW)
    (emma,) = [line for line in lines if "Emma Schultz" in line]
    assert "2026-01-19" in emma
    assert "via email" in emma
    assert "307 days" in emma
    # The second dispatch inside the demo finds everything already delivered.
    assert closing.startswith(" delivers 0: each reminder goes out once.")
    assert re.search(r"^4 sent$", done.stderr, re.MULTILINE), done.stderr

    feed = store.parent / "cadence.ics"
    assert f"A calendar app can open {feed}" in closing
    assert f"Try: cadence --db {url} health" in closing
    events = Calendar.from_ical(feed.read_bytes()).walk("VEVENT")
    assert f"wrote {len(events)} reminders to {feed}" in done.stderr
    summaries = {str(event["SUMMARY"]) for event in events}
    for title in (*DUE_NOW, "Check in with Dev Patel"):
        assert any(title in summary for summary in summaries), title

    # A run of its own against the demo's store delivers nothing new either.
    again = _cadence(tmp_path, "--db", url, "run")
    assert again.returncode == 0, again.stderr
    assert "Check in with" not in again.stdout
    assert again.stderr.strip().splitlines()[-1] == "0 sent"
    status = _cadence(tmp_path, "--db", url, "status", "--all")
    assert status.returncode == 0, status.stderr
    assert re.search(r"^\s*console\s+4\s+0\s+0\s+0\s*$", status.stdout, re.MULTILINE), status.stdout
    for title in DUE_NOW:
        assert status.stdout.count(title) == 1, title


def test_each_demo_has_a_store_of_its_own(tmp_path: Path) -> None:
    """A second demo starts afresh in a new store and delivers the same four again."""
    first = _cadence(tmp_path, "demo")
    second = _cadence(tmp_path, "demo")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert _store_of(first.stdout) != _store_of(second.stdout)
    for done in (first, second):
        assert re.search(r"^4 sent$", done.stderr, re.MULTILINE), done.stderr
