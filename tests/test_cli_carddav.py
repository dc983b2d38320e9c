"""``cadence sync`` keeps contacts in step with a real CardDAV server (Radicale on loopback).

A card added, changed and deleted on the server shows after the next sync;
a sync with nothing changed writes nothing; a wrong password is one line and
changes nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from _cli import refused
from _radicale import Radicale, address_book, radicale
from test_cli import Cli

__all__ = ["address_book", "radicale"]  # fixtures, used by name

PASSWORD_ENV = "CADENCE_TEST_CARDDAV_PASSWORD"


def card(uid: str, name: str, email: str, *more: str) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{name}", f"EMAIL:{email}", *more]
    return "\r\n".join([*lines, "END:VCARD", ""])


def rows(cli: Cli) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(cli.db) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(conn.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}


@pytest.fixture
def cli(tmp_path: Path, radicale: Radicale, address_book: str) -> Cli:
    """The CLI with a config whose one source is ``ana``'s address book, pruning."""
    made = Cli(tmp_path)
    config = tmp_path / "cadence.toml"
    config.write_text(
        f"""
[[sources]]
source = "carddav"
name = "phone"
url = "{address_book}"
username = "ana"
password_env = "{PASSWORD_ENV}"
prune = true
""",
        encoding="utf-8",
    )
    made.env["CADENCE_CONFIG"] = str(config)
    made.env[PASSWORD_ENV] = radicale.password("ana")
    return made


def test_cards_added_changed_and_deleted_show_after_a_sync(
    cli: Cli, radicale: Radicale, address_book: str
) -> None:
    radicale.put_card(
        address_book,
        "ana.vcf",
        card("A-1", "Ana López", "ana@example.es", "BDAY:--1201", "CATEGORIES:Clients"),
    )
    radicale.put_card(address_book, "ben.vcf", card("B-2", "Ben Okafor", "ben@example.com"))
    first = cli("sync").stdout
    assert "source phone: contacts 2 new, 0 updated, 0 removed" in first
    assert "Ana López (ana-lopez)" in cli("contact", "show", "ana@example.es").stdout
    cli("contact", "edit", "ana-lopez", "--channel", "phone")

    before = rows(cli)
    quiet = cli("sync").stdout
    assert "contacts 0 new, 0 updated, 0 removed" in quiet
    assert rows(cli) == before

    radicale.put_card(
        address_book,
        "ana.vcf",
        card("A-1", "Ana López García", "ana@sol.example", "BDAY:--1201", "CATEGORIES:Clients"),
    )
    radicale.put_card(address_book, "chloe.vcf", card("C-3", "Chloé Martin", "chloe@example.fr"))
    radicale.delete_card(address_book, "ben.vcf")
    changed = cli("sync").stdout
    assert "contacts 1 new, 1 updated, 1 removed" in changed
    shown = cli("contact", "show", "ana-lopez").stdout
    assert "Ana López García" in shown
    assert "channel: phone" in shown
    assert "ana@example.es" in shown
    assert "ben-okafor" not in cli("contact", "list").stdout
    assert "chloe-martin" in cli("contact", "list").stdout


def test_a_wrong_password_is_one_line_and_changes_nothing(
    cli: Cli, radicale: Radicale, address_book: str
) -> None:
    radicale.put_card(address_book, "ana.vcf", card("A-1", "Ana López", "ana@example.es"))
    cli("sync")
    radicale.put_card(address_book, "ben.vcf", card("B-2", "Ben Okafor", "ben@example.com"))
    before = rows(cli)
    cli.env[PASSWORD_ENV] = "not-the-password"
    done = cli("sync", ok=False)
    refused(done, "phone")
    assert "not-the-password" not in done.stderr
    assert rows(cli) == before


def test_run_syncs_contact_sources_first(cli: Cli, radicale: Radicale, address_book: str) -> None:
    """A card added on the server is planned for by the next run, without a sync of its own."""
    radicale.put_card(address_book, "ana.vcf", card("A-1", "Ana López", "ana@example.es"))
    cli("run")
    assert "ana-lopez" in cli("contact", "list").stdout
