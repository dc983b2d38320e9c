"""``cadence import`` on real exports: merging, dry runs, pruning, --map, --since.

The real command in a subprocess, on a real SQLite file; every fixture is in
the shape its tool exports (tests/fixtures/*/README.md and each file's notes).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from _cli import refused
from test_cli import Cli

FIXTURES = Path(__file__).parent / "fixtures"
EXPORTS = [
    "csv/google.csv",
    "csv/outlook-desktop.csv",
    "csv/outlook-web.csv",
    "csv/linkedin-connections.csv",
    "vcard/icloud.vcf",
    "vcard/google.vcf",
    "vcard/outlook.vcf",
    "vcard/v4.vcf",
]


def export(tmp_path: Path, name: str) -> Path:
    """A fixture as the tool wrote it: the vCard fixtures' opening "#" notes taken out."""
    source = FIXTURES / name
    target = tmp_path / source.name
    data = source.read_bytes()
    if source.suffix == ".vcf":
        data = re.sub(rb"(?m)^#[^\r\n]*\r?\n", b"", data)
    target.write_bytes(data)
    return target


def rows(cli: Cli) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the store, to compare it before and after."""
    with sqlite3.connect(cli.db) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(conn.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.mark.parametrize("name", EXPORTS)
def test_importing_an_export_twice_duplicates_nothing_and_keeps_what_was_set(
    cli: Cli, tmp_path: Path, name: str
) -> None:
    """The second import finds every contact; a channel and a tag set by hand stay."""
    path = export(tmp_path, name)
    first = cli("import", str(path)).stdout
    new = int(re.search(r"(\d+) new", first).group(1))  # type: ignore[union-attr]
    assert new >= 2
    with sqlite3.connect(cli.db) as conn:
        (some,) = conn.execute("SELECT id FROM contacts ORDER BY id LIMIT 1").fetchone()
    cli("contact", "edit", some, "--channel", "sms", "--tag", "set-by-hand")
    before = rows(cli)
    again = cli("import", str(path)).stdout
    assert f"0 new, 0 updated, {new} unchanged" in again
    assert rows(cli) == before
    shown = cli("contact", "show", some).stdout
    assert "channel: sms" in shown
    assert "set-by-hand" in shown


@pytest.mark.parametrize("name", EXPORTS)
def test_a_dry_run_changes_nothing(cli: Cli, tmp_path: Path, name: str) -> None:
    """--dry-run reports the contacts it would add and leaves every table as it was."""
    cli("contact", "add", "someone", "--name", "Someone")
    before = rows(cli)
    done = cli("import", "--dry-run", str(export(tmp_path, name)))
    assert done.stdout.startswith("would import ")
    assert re.search(r"(?m)^new +\S+ +\S", done.stdout)
    assert rows(cli) == before


def test_readable_ids_and_lookup_by_email_after_an_icloud_import(cli: Cli, tmp_path: Path) -> None:
    """Apple's UIDs are kept for matching; ids are made from names; email lookup works."""
    cli("import", str(export(tmp_path, "vcard/icloud.vcf")))
    listed = cli("contact", "list").stdout
    assert "chloe-martin" in listed
    assert "ABPerson" not in listed
    assert (
        "Chloé Martin (chloe-martin)" in cli("contact", "show", "CHLOE.MARTIN@HOME.EXAMPLE").stdout
    )
    assert "with Chloé Martin" in cli("log", "chloe@atelier-martin.example").stdout


def test_a_second_address_book_merges_by_email(cli: Cli, tmp_path: Path) -> None:
    """The same person in a Google CSV and an iCloud vCard export is one contact."""
    google = tmp_path / "contacts.csv"
    google.write_text(
        "First Name,Last Name,Labels,E-mail 1 - Label,E-mail 1 - Value,Name Prefix,Nickname,"
        "File As\nChloé,Martin,Clients ::: * myContacts,* Work,Chloe.Martin@HOME.example,,,\n",
        encoding="utf-8",
    )
    cli("import", str(google))
    done = cli("import", str(export(tmp_path, "vcard/icloud.vcf"))).stdout
    assert "updated    chloe-martin" in done
    assert cli.tables()["contacts"] == 4
    shown = cli("contact", "show", "chloe-martin").stdout
    assert "Clients" in shown
    assert "chloe@atelier-martin.example" in shown


def test_pruning_removes_what_left_the_file(cli: Cli, tmp_path: Path) -> None:
    """Missing contacts are reported; --prune removes them, --dry-run only says so."""
    path = export(tmp_path, "csv/linkedin-connections.csv")
    cli("import", str(path))
    text = path.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines(keepends=True) if "Marc" not in line]
    assert len(kept) < len(text.splitlines())
    path.write_text("".join(kept), encoding="utf-8")
    count = cli.tables()["contacts"]
    missing = cli("import", str(path)).stdout
    assert re.search(r"(?m)^missing +marc", missing)
    assert cli.tables()["contacts"] == count
    dry = cli("import", "--prune", "--dry-run", str(path)).stdout
    assert re.search(r"(?m)^would remove +marc", dry)
    assert cli.tables()["contacts"] == count
    cli("import", "--prune", str(path))
    assert cli.tables()["contacts"] == count - 1


def test_a_record_unchanged_since_the_last_import_is_not_read_again(
    cli: Cli, tmp_path: Path
) -> None:
    """A card as it was leaves its contact as it is now; a card changed in the file is read."""
    path = export(tmp_path, "vcard/icloud.vcf")
    new = int(re.search(r"(\d+) new", cli("import", str(path)).stdout).group(1))  # type: ignore[union-attr]
    cli("contact", "edit", "chloe-martin", "--name", "Chloé Martin-Roux")
    text = path.read_text(encoding="utf-8")
    assert "FN:Björn Åkesson\n" in text
    path.write_text(text.replace("FN:Björn Åkesson\n", "FN:Björn Åkesson Lund\n"), "utf-8")
    again = cli("import", str(path)).stdout
    assert f"0 new, 1 updated, {new - 1} unchanged" in again
    assert re.search(r"(?m)^updated +bjorn-akesson +Björn Åkesson Lund: name", again)
    # The renamed contact's card did not change: the name given in cadence stays.
    assert cli("contact", "show", "chloe-martin").stdout.startswith("Chloé Martin-Roux (")
    # With --since every record is read, so each can take the start.
    since = cli("import", "--since", "2020-01-01", str(path)).stdout
    assert f"0 new, {new} updated, 0 unchanged" in since
    assert cli("contact", "show", "chloe-martin").stdout.startswith("Chloé Martin (chloe-martin)")


def test_a_uid_on_an_unchanged_card_and_on_a_new_one_is_refused(cli: Cli, tmp_path: Path) -> None:
    """Two cards with one UID are refused even when one of them is left unread."""
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{}\r\nUID:same\r\nEND:VCARD\r\n"
    path = tmp_path / "people.vcf"
    path.write_text(card.format("Ada Lovelace"), encoding="utf-8")
    cli("import", str(path))
    before = rows(cli)
    path.write_text(card.format("Ada Lovelace") + card.format("Ada Byron"), encoding="utf-8")
    refused(cli("import", str(path), ok=False), "people.vcf:6:", "UID 'same'")
    assert rows(cli) == before


def test_map_reads_any_spreadsheet_and_since_sets_the_start(cli: Cli, tmp_path: Path) -> None:
    """--map names the columns to read; --since gives a start to those without one."""
    path = tmp_path / "crm.csv"
    path.write_text(
        "Full Name,Work Email,Notes\nDana Scully,dana@fbi.example,x\n", encoding="utf-8"
    )
    done = cli(
        "import", str(path), "--map", "Full Name=name", "--map", "Work Email=email",
        "--since", "2026-11-01",
    )  # fmt: skip
    assert "1 new" in done.stdout
    shown = cli("contact", "show", "dana@fbi.example").stdout
    assert "Dana Scully (dana-scully)" in shown
    assert "2026-11-01" in shown


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--map", "Full Name"], "--map"),
        (["--format", "vcard", "--map", "Full Name=name"], "--map"),
        (["--since", "yesterday"], "yesterday"),
        (["--format", "nope"], "nope"),
    ],
)
def test_bad_options_are_one_line_and_change_nothing(
    cli: Cli, tmp_path: Path, args: list[str], words: str
) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Full Name\nDana\n", encoding="utf-8")
    cli("contact", "add", "someone", "--name", "Someone")
    before = rows(cli)
    refused(cli("import", str(path), *args, ok=False), words)
    assert rows(cli) == before


def test_a_broken_export_names_its_line_and_keeps_nothing(cli: Cli, tmp_path: Path) -> None:
    """A birthday that is no date, in the middle of a Google export, stops the whole file."""
    path = export(tmp_path, "csv/google.csv")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].split(",")
    cells = ["Zed"] + [""] * (len(header) - 1)
    cells[header.index("Birthday")] = "someday"
    path.write_text("".join(lines) + ",".join(cells) + "\n", encoding="utf-8")
    before = rows(cli)
    refused(cli("import", str(path), ok=False), "google.csv:", "someday")
    assert rows(cli) == before


def test_an_outlook_file_in_windows_1252_imports(cli: Cli, tmp_path: Path) -> None:
    """Classic Outlook writes the ANSI code page: the bytes are read as Windows-1252."""
    data = (FIXTURES / "csv/outlook-desktop.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    done = cli("import", str(export(tmp_path, "csv/outlook-desktop.csv"))).stdout
    assert "(outlook-csv)" in done
    with sqlite3.connect(cli.db) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM contacts")]
    assert any("é" in name for name in names), names


def test_an_import_runs_without_the_cycle_collector_and_leaves_it_as_it_was() -> None:
    import gc

    from cadence.cli import _cycles_collected_after

    seen: list[bool] = []

    @_cycles_collected_after()
    def importing(fail: bool) -> None:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("a broken file")

    assert gc.isenabled()
    importing(False)
    with pytest.raises(ValueError, match="a broken file"):
        importing(True)
    assert seen == [False, False]
    assert gc.isenabled()
    gc.disable()
    try:
        importing(False)
        assert not gc.isenabled()
    finally:
        gc.enable()
