"""The csv importer: a spreadsheet of contacts into contacts, rules and birthdays."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadence import (
    Birthday,
    Contact,
    Every,
    ImportBatch,
    ImportFailed,
    Recurring,
    Rule,
    parse_cadence,
)
from cadence._plugins import Plugins
from cadence.sources._common import clean_name
from cadence.sources.csv import COLUMNS, read_csv

DATA = Path(__file__).parent / "data"


def read(text: str, source: str = "people.csv") -> ImportBatch:
    """Read ``text`` as a CSV file called ``source``."""
    return read_csv(text, source=source)


def failure(text: str, source: str = "people.csv") -> ImportFailed:
    """The ImportFailed that reading ``text`` raises."""
    with pytest.raises(ImportFailed) as caught:
        read_csv(text, source=source)
    return caught.value


def outcome(text: str) -> ImportBatch | ImportFailed:
    """What reading ``text`` gives: a batch, or the ImportFailed it raises."""
    try:
        return read_csv(text, source="people.csv")
    except ImportFailed as error:
        return error


def written(rows: list[list[str]]) -> str:
    """``rows`` as CSV text, quoted as the csv module quotes."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


# -- the plugin ----------------------------------------------------------------------


def test_registered_as_a_builtin_plugin(plugins: Plugins) -> None:
    """The csv plugin registers the importer for .csv files, by name and by suffix."""
    for filename in ("people.csv", "PEOPLE.CSV"):
        entry = plugins.importer_for(filename)
        assert entry.thing.resolve() is read_csv
        assert entry.plugin == "csv"
    assert plugins.importer_for("people.txt", "csv").thing.resolve() is read_csv


# -- good files ----------------------------------------------------------------------


def test_sample_file_with_every_column() -> None:
    """The sample file (a byte order mark, every column, a quoted line break) reads whole."""
    raw = (DATA / "contacts.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    batch = read_csv(raw.decode("utf-8"), source="contacts.csv")
    assert batch.contacts == (
        Contact(
            "ada",
            "Lovelace, Ada",
            email="ada@example.org",
            phones=["+44 20 7946 0000"],
            timezone="Europe/London",
            channel="email",
            tags={"retainer", "card-list"},
            since=date(2024, 1, 15),
        ),
        Contact(
            "zoe",
            "Zoë Ålund",
            email="zoe@example.fr",
            timezone="Europe/Paris",
            channel="video",
            tags={"retainer"},
            since=date(2023, 5, 2),
        ),
        Contact("taro", "山田 太郎", timezone="Asia/Tokyo"),
        Contact(
            "farid",
            "Farid Haddad",
            email="farid@example.ma",
            timezone="Africa/Casablanca",
            channel="phone",
            tags={"vip", "card-list"},
        ),
    )
    assert batch.rules == (
        Rule(Every(weeks=2), contact="ada"),
        Rule(Every(months=1), contact="zoe"),
        Rule(Recurring("FREQ=WEEKLY;BYDAY=FR"), contact="farid"),
    )
    assert batch.occasions == (
        Birthday("ada", 12, 10),
        Birthday("zoe", 4, 15, year=1990),
        Birthday("taro", 11, 3),
    )


def test_only_id_and_name() -> None:
    """A file with only the id and name columns gives contacts with the defaults."""
    batch = read("id,name\nada,Ada Lovelace\n")
    assert batch.contacts == (Contact("ada", "Ada Lovelace"),)
    assert (batch.rules, batch.occasions) == ((), ())


def test_columns_in_any_order_and_case() -> None:
    """Columns may come in any order, in any letter case, with spaces around the names."""
    batch = read(" Name ,EVERY,Id\nAda Lovelace,monthly,ada\n")
    assert batch.contacts == (Contact("ada", "Ada Lovelace"),)
    assert batch.rules == (Rule(Every(months=1), contact="ada"),)


def test_empty_cells_are_absent() -> None:
    """Empty or blank cells leave the value unset, and a row of empty cells is skipped."""
    text = "id,name,email,timezone,channel,tags,since,birthday,every\nada,Ada,, ,,;;,,,\n,,,,,,,,\n"
    batch = read(text)
    assert batch.contacts == (Contact("ada", "Ada"),)
    assert (batch.rules, batch.occasions) == ((), ())


def test_a_header_only_file_imports_nothing() -> None:
    """A header with no rows is a valid, empty import."""
    assert read("id,name,email\n") == ImportBatch(())


def test_cells_are_trimmed_and_tags_split() -> None:
    """Spaces around cells and tags are dropped; tags are split at semicolons."""
    contact = read("id, name ,tags\n ada , Ada  Lovelace ,  retainer ; card list ;\n").contacts[0]
    assert (contact.id, contact.name) == ("ada", "Ada Lovelace")
    assert contact.tags == {"retainer", "card list"}


def test_phones_emails_and_organization_columns_are_kept() -> None:
    """phone and phones give the phones, email then emails the addresses, organization too."""
    text = (
        "id,name,email,emails,phone,phones,organization\n"
        "ada,Ada,ada@example.org,Ada@Example.org; ada@home.example,+44 20 7946 0000,"
        "+44 7700 900000;+44 20 7946 0000,Analytical Ltd\n"
        "bo,Bo,,bo@x.example;bo@y.example,,,\n"
    )
    assert read(text).contacts == (
        Contact(
            "ada",
            "Ada",
            emails=["ada@example.org", "ada@home.example"],
            phones=["+44 20 7946 0000", "+44 7700 900000"],
            organization="Analytical Ltd",
        ),
        Contact("bo", "Bo", emails=["bo@x.example", "bo@y.example"]),
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1815-12-10", Birthday("ada", 12, 10, year=1815)),
        ("--12-10", Birthday("ada", 12, 10)),
        ("--1210", Birthday("ada", 12, 10)),
        ("12-10", Birthday("ada", 12, 10)),
        ("02-29", Birthday("ada", 2, 29)),
        ("2000-02-29", Birthday("ada", 2, 29, year=2000)),
    ],
)
def test_birthday_forms(cell: str, expected: Birthday) -> None:
    """Birthdays read with a year (YYYY-MM-DD) and without one (--MM-DD or MM-DD)."""
    assert read(f"id,name,birthday\nada,Ada,{cell}\n").occasions == (expected,)


@pytest.mark.parametrize(
    "cadence",
    ["weekly", "every 10 days", "every weekday at 17:00", "RRULE:FREQ=MONTHLY;BYDAY=1MO"],
)
def test_every_is_the_contacts_rule(cadence: str) -> None:
    """The every column becomes the contact's own rule, read as parse_cadence reads it."""
    batch = read(written([["id", "name", "every"], ["ada", "Ada", cadence]]))
    assert batch.rules == (Rule(parse_cadence(cadence), contact="ada"),)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_and_line_numbers(newline: str) -> None:
    """LF, CRLF and CR files read alike, and lines count across a quoted line break."""
    rows = ["id,name", 'ada,"Ada', 'Lovelace"', "", "grace,Grace Hopper", "ada,Again"]
    error = failure(newline.join(rows) + newline)
    assert error.line == 6
    assert "line 2" in str(error)
    assert [c.name for c in read(newline.join(rows[:5]) + newline).contacts] == [
        "Ada Lovelace",
        "Grace Hopper",
    ]


def test_a_byte_order_mark_is_skipped() -> None:
    """A leading UTF-8 byte order mark does not become part of the first column's name."""
    assert read("\ufeffid,name\nada,Ada\n") == read("id,name\nada,Ada\n")


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, ["empty"]),
        ("\n \n", None, ["empty"]),
        ("id,name,emial\n", 1, ["unknown column", "'emial'"]),
        ("id,name,mail,tag\n", 1, ["'mail', 'tag'"]),
        ("id;name;email\n", 1, ["separated by commas"]),
        ("id,name,Email,email\n", 1, ["email named twice"]),
        ("name,email\n", 1, ["column id"]),
        ("id,email\n", 1, ["column name"]),
        ("id,name\n,Ada\n", 2, ["'id' is empty"]),
        ("id,name\nada,\n", 2, ["'name' is empty"]),
        ("id,name\nada,Ada,extra\n", 2, ["3 cells", "2 columns"]),
        ("id,name,email\nada,Ada\n", 2, ["2 cells", "3 columns"]),
        ("id,name,timezone\nada,Ada,Europe/Pariss\n", 2, ["'timezone'", "'Europe/Pariss'"]),
        ("id,name,since\nada,Ada,15/01/2024\n", 2, ["'since'", "'15/01/2024'"]),
        ("id,name,since\nada,Ada,2024-02-30\n", 2, ["'since'", "'2024-02-30'"]),
        ("id,name,since\nada,Ada,20240115\n", 2, ["'since'", "'20240115'"]),
        ("id,name,birthday\nada,Ada,10/12\n", 2, ["'birthday'", "'10/12'"]),
        ("id,name,birthday\nada,Ada,13-01\n", 2, ["'birthday'", "'13-01'"]),
        ("id,name,birthday\nada,Ada,2001-02-29\n", 2, ["'birthday'", "'2001-02-29'"]),
        ("id,name,every\nada,Ada,every fortnite\n", 2, ["'every'", "'every fortnite'"]),
        ("id,name,every\nada,Ada,RRULE:FREQ=HOURLY\n", 2, ["'every'", "FREQ=HOURLY"]),
        ("id,name\nada,Ada\nbo,Bo\nada,Ada again\n", 4, ["'ada' appears twice", "line 2"]),
        ('id,name\nada,"Ada\n', 2, ["not valid CSV"]),
        ('id,name\nada,"Ada"Lovelace\n', 2, ["not valid CSV"]),
        ("id,name\nada\x01,Ada\n", 2, ["contact id"]),
    ],
)
def test_errors_name_the_file_line_column_and_value(
    text: str, line: int | None, words: list[str]
) -> None:
    """A bad record raises ImportFailed naming the file, the line, and the column and value."""
    error = failure(text)
    assert (error.path, error.line) == ("people.csv", line)
    assert str(error).startswith(f"people.csv:{line}: " if line else "people.csv: ")
    for word in words:
        assert word in str(error)


def test_nothing_is_kept_from_a_file_with_one_bad_row() -> None:
    """A file whose last row is bad raises, so none of its good rows come back."""
    rows = [["id", "name", "timezone"]] + [[f"p{n}", f"Person {n}", "UTC"] for n in range(100)]
    error = failure(written([*rows, ["bad", "Bad", "Nowhere/Town"]]))
    assert error.line == 102


# -- properties ----------------------------------------------------------------------

identifiers = st.text(
    st.characters(categories=["L", "N", "P", "S"], exclude_characters=";"), min_size=1, max_size=12
)
names = st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=30).filter(
    lambda name: name.strip()
)


@given(
    st.lists(
        st.tuples(identifiers, names, st.lists(identifiers, max_size=3)),
        max_size=6,
        unique_by=lambda row: row[0],
    )
)
def test_rows_round_trip_through_a_csv_writer(rows: list[tuple[str, str, list[str]]]) -> None:
    """Ids, names in any script (quotes, commas, line breaks) and tags read back as written."""
    text = written([["id", "name", "tags"], *([i, n, ";".join(t)] for i, n, t in rows)])
    batch = read(text)
    assert [(c.id, c.name, c.tags) for c in batch.contacts] == [
        (i, clean_name(n), frozenset(t)) for i, n, t in rows
    ]


@given(st.text())
def test_any_text_raises_only_import_failed(text: str) -> None:
    """Arbitrary text either reads or raises ImportFailed naming the file, nothing else."""
    result = outcome(text)
    assert isinstance(result, ImportBatch) or result.path == "people.csv"


@given(
    st.lists(
        st.lists(st.text(max_size=15), min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=4
    )
)
def test_any_cells_raise_only_import_failed(rows: list[list[str]]) -> None:
    """Arbitrary cells under the full header either read or raise ImportFailed with a line."""
    result = outcome(written([list(COLUMNS), *rows]))
    if isinstance(result, ImportFailed):
        assert result.line is not None
        assert result.line >= 2
    else:
        assert len(result.contacts) <= len(rows)
