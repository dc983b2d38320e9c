"""The real ``cadence`` command in a subprocess, against a real SQLite file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from _cli import refused as _refused
from cadence import Contact, Every, Rule
from cadence._config import open_store

pytestmark = pytest.mark.integration

NOW = "2026-11-23T12:00:00+00:00"


class Cli:
    """Runs ``python -m cadence`` with a store of its own."""

    def __init__(self, tmp_path: Path, *, now: str = NOW) -> None:
        self.now = now
        self.db = tmp_path / "cadence.db"
        self.env = {
            **os.environ,
            "CADENCE_DB": f"sqlite:///{self.db}",
            "CADENCE_CONFIG": "",
            "COLUMNS": "200",
        }

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "cadence", "--now", self.now, *args]

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, timeout=120
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def tables(self) -> dict[str, int]:
        with sqlite3.connect(self.db) as conn:
            names = [
                n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            return {n: conn.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in names}


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI with an empty store in a temporary folder."""
    return Cli(tmp_path)


def test_contacts_are_added_listed_and_shown(cli: Cli) -> None:
    """contact add stores a contact with its own cadence; list and show read it back."""
    cli(
        "contact",
        "add",
        "ana",
        "--name",
        "Ana López",
        "--email",
        "ana@example.com",
        "--timezone",
        "Europe/Madrid",
        "--channel",
        "phone",
        "--tag",
        "retainer",
        "--every",
        "2 weeks",
    )
    listed = cli("contact", "list").stdout
    assert "Ana López" in listed
    assert "Europe/Madrid" in listed
    shown = cli("contact", "show", "ana").stdout
    assert "every 2 weeks" in shown
    assert "health: 0%" in shown


def test_a_contact_takes_several_emails_phones_and_an_organization(cli: Cli) -> None:
    """--email and --phone repeat (the first email is the primary); show names them all."""
    cli(
        "contact",
        "add",
        "ana",
        "--name",
        "Ana López",
        "--email",
        "ana@work.example",
        "--email",
        "Ana.Home@example.org",
        "--email",
        "ANA@WORK.EXAMPLE",
        "--phone",
        "+34 600 000 001",
        "--phone",
        "+34 911 000 002",
        "--org",
        "Acme S.L.",
        "--every",
        "weekly",
    )
    shown = cli("contact", "show", "ana").stdout
    assert "email: ana@work.example" in shown
    assert "other emails: Ana.Home@example.org\n" in shown
    assert "phones: +34 600 000 001, +34 911 000 002" in shown
    assert "organization: Acme S.L." in shown
    listed = cli("contact", "list").stdout
    assert "ana@work.example" in listed
    assert "Ana.Home@example.org" not in listed
    due = json.loads(cli("due", "--json", "--within", "0d").stdout)
    assert due[0]["email"] == "ana@work.example"
    assert due[0]["emails"] == ["ana@work.example", "Ana.Home@example.org"]
    assert due[0]["phones"] == ["+34 600 000 001", "+34 911 000 002"]
    assert due[0]["organization"] == "Acme S.L."
    before = cli.tables()
    _refused(
        cli("contact", "add", "bo", "--name", "Bo", "--email", "b@x", "--email", "", ok=False),
        "email address",
    )
    _refused(
        cli("contact", "add", "bo", "--name", "Bo", "--phone", "1\x1b[2J", ok=False),
        "phone number",
    )
    assert cli.tables() == before


def test_bad_input_is_one_line_and_changes_nothing(cli: Cli) -> None:
    """Unknown zone, cadence, contact or date: one line on stderr, non-zero exit, same store."""
    cli("contact", "add", "ana", "--name", "Ana")
    before = cli.tables()
    _refused(
        cli("contact", "add", "bo", "--name", "Bo", "--timezone", "Mars/Olympus", ok=False),
        "Mars/Olympus",
    )
    _refused(
        cli("contact", "add", "bo", "--name", "Bo", "--every", "now and then", ok=False),
        "now and then",
    )
    _refused(cli("log", "nobody", ok=False), "nobody")
    _refused(cli("log", "ana", "--at", "yesterday-ish", ok=False), "yesterday-ish")
    _refused(cli("due", "--within", "soonish", ok=False), "soonish")
    _refused(cli("snooze", "0123456789", "--until", "2026-12-01", ok=False), "0123456789")
    _refused(cli("occasion", "add", "--contact", "ana", "--birthday", "02-30", ok=False), "30")
    _refused(cli("contact", "add", "bo", "--name", "Bo", "--bogus", ok=False), "--bogus")
    assert cli.tables() == before


def test_bad_now_is_refused(cli: Cli) -> None:
    """A --now without an offset is refused rather than guessed."""
    done = subprocess.run(
        [sys.executable, "-m", "cadence", "--now", "2026-11-23T09:00", "due"],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    _refused(done, "offset")


def test_log_due_snooze_and_done(cli: Cli) -> None:
    """A logged call moves the check-in; snooze hides a reminder; done logs a touch."""
    cli(
        "contact", "add", "ana", "--name", "Ana", "--timezone", "Europe/Madrid", "--every", "weekly"
    )
    cli("contact", "add", "ben", "--name", "Ben", "--every", "monthly", "--since", "2026-10-01")
    due = json.loads(cli("due", "--json", "--within", "0d").stdout)
    assert sorted(r["contact"] for r in due) == ["ana", "ben"]
    assert {"key", "contact", "kind", "title", "date", "due"} <= set(due[0])
    cli("log", "ana", "--via", "phone", "--at", "2026-11-23T10:00", "--note", "catch-up")
    upcoming = json.loads(cli("due", "--json", "--within", "14d").stdout)
    ana = [r for r in upcoming if r["contact"] == "ana"]
    assert [r["date"] for r in ana] == ["2026-11-30"]
    assert ana[0]["due"] == "2026-11-30T09:00:00+01:00"
    ben = next(r for r in upcoming if r["contact"] == "ben")
    cli("snooze", ben["key"][:8], "--until", "2026-11-26")
    after = json.loads(cli("due", "--json", "--within", "0d").stdout)
    assert after == []
    later = json.loads(cli("due", "--json", "--within", "3d").stdout)
    assert [(r["contact"], r["due"]) for r in later] == [("ben", "2026-11-26T09:00:00+00:00")]
    cli("done", ben["key"])
    shown = cli("contact", "show", "ben").stdout
    assert "2026-11-23 12:00 out via other" in shown


def test_occasions_for_a_contact_and_a_tag(cli: Cli) -> None:
    """Birthdays with lead times and tag-wide yearly dates appear in due."""
    cli("contact", "add", "ana", "--name", "Ana", "--tag", "card-list", "--since", "2026-11-20")
    cli("rule", "set", "quarterly")
    cli("occasion", "add", "--contact", "ana", "--birthday", "1986-12-01", "--lead", "7d")
    cli(
        "occasion",
        "add",
        "--tag",
        "card-list",
        "--yearly",
        "12-20",
        "--title",
        "Year-end card",
        "--lead",
        "1w",
    )
    titles = [r["title"] for r in json.loads(cli("due", "--json", "--within", "30d").stdout)]
    assert titles == ["Ana turns 40 on 1 December", "Year-end card for Ana on 20 December"]
    assert "Year-end card" in cli("occasion", "list").stdout


def test_run_delivers_once_and_status_shows_the_ledger(cli: Cli) -> None:
    """With no config, run prints due reminders on the console once; status counts them."""
    cli("contact", "add", "ana", "--name", "Ana", "--every", "weekly")
    cli("contact", "add", "ben", "--name", "Ben", "--every", "weekly")
    first = cli("run")
    assert "Check in with Ana" in first.stdout
    assert "Check in with Ben" in first.stdout
    assert "2 sent" in first.stderr
    second = cli("run")
    assert second.stdout == ""
    assert "0 sent" in second.stderr
    status = cli("status").stdout
    assert "console" in status
    assert " 2 " in status


def test_run_with_a_bad_config_sends_nothing(cli: Cli, tmp_path: Path) -> None:
    """An unknown adapter or setting in cadence.toml is an error before anything is delivered."""
    cli("contact", "add", "ana", "--name", "Ana", "--every", "weekly")
    config = tmp_path / "cadence.toml"
    config.write_text('[[routes]]\nadapter = "console"\n\n[[routes]]\nadapter = "carrier-pigeon"\n')
    _refused(cli("--config", str(config), "run", ok=False), "carrier-pigeon")
    config.write_text('[[routes]]\nadapter = "console"\ncolour = "blue"\n')
    _refused(cli("--config", str(config), "run", ok=False), "colour")
    config.write_text("[[routes]\n")
    _refused(cli("--config", str(config), "run", ok=False), "cadence.toml")
    assert "no deliveries yet" in cli("status").stdout


def test_health_lists_the_drifting_first(cli: Cli) -> None:
    """health orders contacts from the least to the best kept in touch."""
    cli("rule", "set", "2 weeks")
    cli("contact", "add", "ana", "--name", "Ana")
    cli("contact", "add", "ben", "--name", "Ben")
    cli("contact", "add", "cy", "--name", "Cy")
    cli("log", "ben", "--at", "2026-11-22T09:00+00:00")
    cli("log", "cy", "--at", "2026-11-01T09:00+00:00")
    rows = [line.split()[3] for line in cli("health").stdout.splitlines()[1:] if line.strip()]
    assert rows == ["ana", "cy", "ben"]


def test_health_limits_the_rows_and_counts_every_contact_without_a_cadence(cli: Cli) -> None:
    """--limit counts the contacts without a cadence first, then the least kept in touch."""
    cli("rule", "set", "2 weeks", "--tag", "kept")
    for name in ("ana", "ben", "cy"):
        cli("contact", "add", name, "--name", name.title(), "--tag", "kept")
    for name in ("dee", "eve", "fay"):
        cli("contact", "add", name, "--name", name.title())
    cli("log", "ben", "--at", "2026-11-22T09:00+00:00")
    cli("log", "cy", "--at", "2026-11-01T09:00+00:00")

    def rows(*args: str) -> list[str]:
        shown = cli("health", *args)
        assert "3 contacts without a cadence" in shown.stderr
        ids = {"ana", "ben", "cy", "dee", "eve", "fay"}
        return [w for line in shown.stdout.splitlines()[1:] for w in line.split() if w in ids]

    assert rows("--limit", "5") == ["dee", "eve", "fay", "ana", "cy"]
    assert rows("--limit", "2") == ["dee", "eve"]
    assert [row["contact"] for row in json.loads(cli("health", "--json").stdout)] == [
        "ana",
        "cy",
        "ben",
    ]


def test_plugins_lists_the_builtins(cli: Cli) -> None:
    """The built-in adapters and the SQLite store show up as plugins."""
    listed = cli("plugins").stdout
    assert "adapter console" in listed
    assert "store sqlite" in listed


def _seed(cli: Cli, count: int) -> None:
    """``count`` contacts never touched, each due now for a weekly check-in.

    Put in through the library: contacts an import brings in have their first
    check-ins spread over the week, and these must all be due at once.
    """
    with open_store(f"sqlite:///{cli.db}") as store:
        store.put_contacts(Contact(f"c{i:04}", f"Person {i}") for i in range(count))
        store.set_rule(Rule(Every(weeks=1)))


def _jsonl_config(cli: Cli, target: Path) -> Path:
    config = cli.db.parent / "cadence.toml"
    config.write_text(f'[[routes]]\nadapter = "jsonl"\npath = "{target}"\n')
    return config


def test_two_dispatchers_at_once_deliver_each_reminder_exactly_once(cli: Cli) -> None:
    """Two `cadence run` processes started together over 400 due reminders share them, once each."""
    _seed(cli, 400)
    out = cli.db.parent / "delivered.jsonl"
    config = _jsonl_config(cli, out)
    runs = [
        subprocess.Popen(
            cli.command("--config", str(config), "run"),
            env=cli.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in runs:
        _, errors = proc.communicate(timeout=120)
        assert proc.returncode == 0, errors
    keys = Counter(json.loads(line)["key"] for line in out.read_text().splitlines())
    assert len(keys) == 400
    assert set(keys.values()) == {1}


def test_a_killed_dispatcher_loses_nothing(cli: Cli) -> None:
    """SIGKILL mid-run: its claims hold until they expire, then all arrive, under the same keys."""
    _seed(cli, 400)
    fifo = cli.db.parent / "slow.jsonl"
    os.mkfifo(fifo)
    config = _jsonl_config(cli, fifo)
    victim = subprocess.Popen(
        cli.command("--config", str(config), "run", "--claim-timeout", "1h"),
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Read and write ends held here, so the pipe never reports an end between batches.
    fd = os.open(fifo, os.O_RDWR)
    buffer = b""
    try:
        while buffer.count(b"\n") < 120:
            chunk = os.read(fd, 65536)
            assert chunk, "the dispatcher stopped writing early"
            buffer += chunk
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        os.set_blocking(fd, False)
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            buffer += chunk
    finally:
        os.close(fd)
    # A write cut short by the kill may leave half a line: that one did not arrive.
    lines = buffer.decode("utf-8", "replace").split("\n")[:-1]
    received = [json.loads(line)["key"] for line in lines]
    rest = cli.db.parent / "rest.jsonl"
    cli("--config", str(_jsonl_config(cli, rest)), "run")
    # Claims are taken in bulk: the killed run may have held everything left.
    others = (
        [json.loads(line)["key"] for line in rest.read_text().splitlines()] if rest.exists() else []
    )
    assert not set(others) & set(received)
    # Claims expire by the wall clock: age them two hours rather than wait for it.
    with sqlite3.connect(cli.db) as conn:
        (held,) = conn.execute(
            "SELECT COUNT(*) FROM deliveries WHERE status != 'sent' AND claimed_until IS NOT NULL"
        ).fetchone()
        conn.execute("UPDATE deliveries SET claimed_until = claimed_until - 7200")
    out = cli.db.parent / "clean.jsonl"
    cli("--config", str(_jsonl_config(cli, out)), "run")
    # A kill that lands between two batches leaves no claim behind, and then nothing is left.
    again = (
        [json.loads(line)["key"] for line in out.read_text().splitlines()] if out.exists() else []
    )
    assert len(again) == held
    everything = Counter(received + others + again)
    assert len(everything) == 400
    duplicates = {k for k, n in everything.items() if n > 1}
    assert duplicates <= set(received)
    assert len(duplicates) <= 50
    with sqlite3.connect(cli.db) as conn:
        statuses = dict(
            conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall()
        )
    assert statuses == {"sent": 400}


def test_feed_writes_a_calendar_of_the_agenda(cli: Cli, tmp_path: Path) -> None:
    """feed -o writes an .ics with one event per reminder; without -o it goes to stdout."""
    import icalendar

    cli("contact", "add", "ana", "--name", "Ana", "--every", "weekly")
    cli("contact", "add", "bo", "--name", "Bo", "--tag", "vip")
    cli("occasion", "add", "--contact", "bo", "--birthday", "1990-12-01")
    target = tmp_path / "out" / "feed.ics"
    target.parent.mkdir()
    cli("feed", "-o", str(target), "--within", "10d")
    events = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    summaries = sorted(str(e["SUMMARY"]) for e in events)
    assert summaries == ["Bo turns 36 on 1 December", "Check in with Ana"]
    printed = cli("feed", "--within", "10d", "--tag", "vip").stdout.encode()
    assert [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(printed).walk("VEVENT")] == [
        "Bo turns 36 on 1 December"
    ]
    assert cli("feed", "-o", str(target), "--within", "10d").returncode == 0
    raw = subprocess.run(
        cli.command("feed", "--within", "10d"), env=cli.env, capture_output=True, check=True
    )
    assert target.read_bytes() == raw.stdout


def test_serve_answers_with_the_token_only(cli: Cli) -> None:
    """serve listens on loopback, prints its URL without the token, and checks the token."""
    import requests

    cli("contact", "add", "ana", "--name", "Ana", "--every", "weekly")
    token = "s3cret-Wq81xZ-v0pLm3Kd7Tr5"
    env = {**cli.env, "CADENCE_FEED_TOKEN": token}
    server = subprocess.Popen(
        cli.command("serve", "--port", "0"), env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert token not in line
        url = line.split()[1].split("?")[0]
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/feed.ics")
        answer = requests.get(url, params={"token": token}, timeout=10)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert b"Check in with Ana" in answer.content
        wrong = requests.get(url, params={"token": "wrong-token-0123456789"}, timeout=10)
        assert wrong.status_code == 403
    finally:
        server.terminate()
        server.communicate(timeout=10)


def test_serve_refuses_an_open_feed_on_the_network(cli: Cli) -> None:
    """Without a token, serving on a non-loopback address is one line of refusal."""
    everywhere = "0.0.0.0"  # noqa: S104 - refused before anything binds
    _refused(cli("serve", "--host", everywhere, "--port", "0", ok=False), "token")


def test_contacts_without_a_cadence_are_named(cli: Cli) -> None:
    """A contact no rule applies to is said to be never due: by due, contact show and health."""
    cli("contact", "add", "ana", "--name", "Ana", "--every", "weekly")
    cli("contact", "add", "ben", "--name", "Ben", "--tag", "friend")
    cli("contact", "add", "cy", "--name", "Cy")
    due = cli("due")
    assert "ana" in due.stdout
    assert "2 contacts have no cadence" in due.stderr
    assert "ben, cy" in due.stderr
    assert "cadence rule set" in due.stderr
    assert json.loads(cli("due", "--json").stdout)  # the note leaves stdout to the JSON
    assert "cadence: none, so never due" in cli("contact", "show", "ben").stdout
    assert "cadence: every week" in cli("contact", "show", "ana").stdout
    health = cli("health")
    rows = [line.split() for line in health.stdout.splitlines()]
    assert ["never", "due", "ben", "Ben", "no", "cadence"] in rows
    assert ["never", "due", "cy", "Cy", "no", "cadence"] in rows
    assert "2 contacts without a cadence" in health.stderr
    cli("rule", "set", "monthly", "--tag", "friend")
    assert "1 contact has no cadence" in cli("due").stderr
    cli("rule", "set", "quarterly")
    assert "no cadence" not in cli("due").stderr
    assert "no cadence" not in cli("health").stdout


def test_bare_cadence_prints_the_help(cli: Cli) -> None:
    """`cadence` alone prints the help and exits 0, like --help; the contact help lists remove."""
    done = subprocess.run(
        [sys.executable, "-m", "cadence"], env=cli.env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Usage: cadence" in done.stdout
    assert "Commands:" in done.stdout
    contact_help = cli("contact", "--help").stdout
    assert "Add, list, show, edit and remove contacts." in contact_help


def test_counts_agree_with_their_nouns(cli: Cli, tmp_path: Path) -> None:
    """One contact, one rule, one reminder: no "1 rules" or "wrote 1 reminders"."""
    sheet = tmp_path / "one.csv"
    sheet.write_text("id,name,every\nana,Ana,weekly\n", encoding="utf-8")
    done = cli("import", str(sheet))
    assert (
        "imported one.csv (csv): 1 new, 0 updated, 0 unchanged; 0 occasions, 1 rule" in done.stdout
    )
    written = cli("feed", "-o", str(tmp_path / "feed.ics"))
    assert "wrote 1 reminder to" in written.stderr
    sheet.write_text("id,name,every\nbo,Bo,weekly\ncy,Cy,\n", encoding="utf-8")
    assert "2 new, 0 updated, 0 unchanged; 0 occasions, 1 rule" in cli("import", str(sheet)).stdout


def test_refusals_of_values_past_every_limit(cli: Cli) -> None:
    """Enormous durations, moments, ids and ports are refused in one line, changing nothing."""
    cli("contact", "add", "ana", "--name", "Ana")
    before = cli.tables()
    for args, word in (
        (("due", "--within", "99999999 weeks"), "hundred years"),
        (("due", "--within", "9" * 5000), "hundred years"),
        (("occasion", "remove", "99999999999999999999999"), "no occasion"),
        (("serve", "--port", "99999"), "99999"),
        (("contact", "add", "bo", "--name", "Bo", "--every", "9" * 5000 + " weeks"), "hundred"),
        (("--db", "postgresql://[x", "due"), "bad PostgreSQL URL"),
        (("snooze", "abcdef", "--until", "2027-01-01"), "'cadence due' lists the keys"),
    ):
        _refused(cli(*args, ok=False), word)
    done = subprocess.run(
        [sys.executable, "-m", "cadence", "--now", "9999-12-31T23:00Z", "due"],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    _refused(done, "1900 and 9000")
    assert cli.tables() == before


def test_health_and_contact_show_tell_drift(cli: Cli) -> None:
    """health (also --json) and contact show give drift and its reasons; due the at-risk one."""
    from datetime import UTC, datetime, timedelta

    from cadence import Touchpoint

    cli("rule", "set", "weekly")
    cli("contact", "add", "ana", "--name", "Ana")
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    with open_store(f"sqlite:///{cli.db}") as store:
        for week in range(25):
            monday = start + timedelta(weeks=week)
            store.log(Touchpoint("ana", monday, "email"))
            if week < 20:  # then five messages she never answers
                store.log(Touchpoint("ana", monday + timedelta(days=1), "email", direction="in"))
    (row,) = json.loads(cli("health", "--json").stdout)
    assert (row["contact"], row["level"]) == ("ana", "at-risk")
    assert row["reasons"][0].startswith("nothing from Ana since 15 September")
    assert "Ana has not answered your last 5 messages" in " ".join(row["reasons"])
    table = cli("health").stdout
    assert "at-risk" in table
    assert "nothing from Ana since" in table
    shown = cli("contact", "show", "ana").stdout
    assert "drift: at-risk" in shown
    assert "Ana has not answered your last 5 messages" in shown
    assert "Ana may be drifting away" in cli("due").stdout
