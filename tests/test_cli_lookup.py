"""Naming a contact on the command line by id, email or prefix, and ``contact edit``.

The real command in a subprocess, on a real SQLite file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _cli import refused
from test_cli import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI with three contacts whose ids and names share a start."""
    cli = Cli(tmp_path)
    cli("contact", "add", "ana-lopez", "--name", "Ana López", "--email", "ana@example.com")
    cli("contact", "add", "anabel", "--name", "Anabel Ruiz", "--email", "Anabel@Work.example")
    cli("contact", "add", "6B29A774-1C2D:ABPerson", "--name", "Chloé Martin", "--tag", "x")
    return cli


def test_every_command_that_takes_a_contact_takes_an_email_or_a_prefix(cli: Cli) -> None:
    """log, contact show/remove, rule set/remove, occasion add/list: id, email, prefix."""
    assert "with Ana López" in cli("log", "Ana L", "--via", "phone").stdout
    assert "with Ana López" in cli("log", "ANA@example.COM").stdout
    assert "with Chloé Martin" in cli("log", "6b29").stdout
    assert "with Chloé Martin" in cli("log", "chloé").stdout
    shown = cli("contact", "show", "anabel@work.EXAMPLE").stdout
    assert shown.startswith("Anabel Ruiz (anabel)")
    shown = cli("contact", "show", "ana-").stdout
    assert shown.startswith("Ana López (ana-lopez)")
    assert shown.count(" via ") == 2
    assert "contact anabel: every week" in cli("rule", "set", "weekly", "--contact", "anab").stdout
    cli("rule", "remove", "--contact", "Anabel R")
    assert "contact anabel" not in cli("rule", "list").stdout
    cli("occasion", "add", "--contact", "ana l", "--birthday", "03-04")
    cli("occasion", "add", "--contact", "chlo", "--yearly", "05-06", "--title", "Fête")
    listed = cli("occasion", "list", "--contact", "ANA@EXAMPLE.COM").stdout
    assert "ana-lopez" in listed
    assert "Fête" not in listed
    assert "Fête" in cli("occasion", "list", "--contact", "6B29").stdout
    assert "removed anabel (Anabel Ruiz)" in cli("contact", "remove", "anabe").stdout
    assert "anabel" not in cli("contact", "list").stdout


def test_an_ambiguous_or_unknown_contact_is_one_line_and_changes_nothing(cli: Cli) -> None:
    """A prefix of several contacts lists them; one of none says so; the store is the same."""
    before = cli.tables()
    for args in (
        ("log", "ana"),
        ("contact", "show", "AN"),
        ("contact", "remove", "ana"),
        ("rule", "set", "weekly", "--contact", "ana"),
        ("occasion", "add", "--contact", "ana", "--birthday", "03-04"),
        ("occasion", "list", "--contact", "an"),
        ("contact", "edit", "ana", "--name", "X"),
    ):
        refused(
            cli(*args, ok=False),
            "could be several contacts",
            "ana-lopez (Ana López)",
            "anabel (Anabel Ruiz)",
        )
    for text in ("zzz", "nobody@example.com", "an%", "a_a", ""):
        refused(cli("log", text, ok=False), "no contact has the id, email or name")
    assert cli.tables() == before


def test_contact_add_refuses_an_id_in_use_and_points_to_edit(cli: Cli) -> None:
    """Adding an existing id again used to erase every field not repeated."""
    before = cli.tables()
    refused(
        cli("contact", "add", "anabel", "--name", "Someone Else", ok=False),
        "already a contact anabel (Anabel Ruiz)",
        "cadence contact edit anabel",
    )
    assert cli.tables() == before
    assert "Anabel@Work.example" in cli("contact", "show", "anabel").stdout


def test_contact_edit_changes_only_what_it_is_given(cli: Cli) -> None:
    """Each option changes its field; every field not given is kept."""
    cli(
        "contact", "edit", "ana-lopez", "--channel", "phone", "--timezone", "Europe/Madrid",
        "--tag", "family", "--phone", "+34 600", "--org", "Acme", "--since", "2020-01-02",
    )  # fmt: skip
    cli("contact", "edit", "ana@example.com", "--add-email", "ana.home@example.org")
    cli("contact", "edit", "Ana L", "--name", "Ana López García", "--tag", "friends")
    shown = cli("contact", "show", "ana-lopez").stdout
    assert shown.startswith("Ana López García (ana-lopez)")
    for line in (
        "email: ana@example.com",
        "other emails: ana.home@example.org",
        "phones: +34 600",
        "organization: Acme",
        "zone: Europe/Madrid",
        "channel: phone",
        "tags: family, friends",
        "since: 2020-01-02",
    ):
        assert f"  {line}\n" in shown
    cli(
        "contact", "edit", "ana-lopez", "--remove-email", "ANA@EXAMPLE.COM", "--untag", "family",
        "--remove-phone", "+34 600", "--org", "", "--every", "2 weeks",
    )  # fmt: skip
    shown = cli("contact", "show", "ana-lopez").stdout
    assert "  email: ana.home@example.org\n" in shown
    assert "other emails" not in shown
    assert "phones" not in shown
    assert "organization" not in shown
    assert "  tags: friends\n" in shown
    assert "  channel: phone\n" in shown
    assert "  since: 2020-01-02\n" in shown
    assert "every 2 weeks" in shown
    cli("contact", "edit", "ana-lopez", "--no-cadence", "--primary-email", "new@example.net")
    shown = cli("contact", "show", "ana-lopez").stdout
    assert "  email: new@example.net\n  other emails: ana.home@example.org\n" in shown
    assert "never due" in shown
    unchanged = cli("contact", "edit", "ana-lopez").stdout
    assert unchanged.startswith("unchanged ana-lopez")


def test_contact_edit_refuses_what_it_cannot_do_and_changes_nothing(cli: Cli) -> None:
    """An address or phone the contact lacks, a bad zone or date: one line, same store."""
    before = cli.tables()
    refused(cli("contact", "edit", "anab", "--remove-email", "x@y", ok=False), "x@y")
    refused(cli("contact", "edit", "anab", "--remove-phone", "123", ok=False), "123")
    refused(cli("contact", "edit", "anab", "--timezone", "Mars/Olympus", ok=False), "Mars")
    refused(cli("contact", "edit", "anab", "--since", "someday", ok=False), "someday")
    refused(cli("contact", "edit", "anab", "--name", "", ok=False), "name")
    refused(cli("contact", "edit", "anab", "--every", "weekly", "--no-cadence", ok=False), "both")
    assert cli.tables() == before
