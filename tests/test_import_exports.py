"""CSV exports of Google Contacts, Outlook and LinkedIn, told apart by content; --map for others."""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadence import Anniversary, Birthday, Contact, ImportBatch, ImportFailed, Occasion
from cadence._plugins import Plugins
from cadence.core.errors import PluginError
from cadence.hookspecs import hookimpl
from cadence.sources._encoding import decode
from cadence.sources._tabular import NOTHING_TO_NAME
from cadence.sources.batch import Origin, Skipped
from cadence.sources.csv import read_csv
from cadence.sources.google import read_google_csv
from cadence.sources.linkedin import connected_on, read_linkedin_csv
from cadence.sources.outlook import outlook_date, read_outlook_csv
from cadence.typing import Register

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
GOOGLE_HEADER = (
    "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,"
    "Phonetic Last Name,Name Prefix,Name Suffix,Nickname,File As,Organization Name,"
    "Organization Title,Organization Department,Birthday,Notes,Photo,Labels,"
    "E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value"
)
OUTLOOK_HEADER = (
    "First Name,Middle Name,Last Name,Title,Suffix,Nickname,Given Yomi,Surname Yomi,"
    "E-mail Address,E-mail 2 Address,E-mail 3 Address,Mobile Phone,Company,Birthday,Anniversary"
)
LINKEDIN_HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fixture(name: str) -> str:
    """The text of a fixture, decoded as cadence decodes an imported file."""
    return decode((FIXTURES / name).read_bytes(), source=name)


def by_name(batch: ImportBatch) -> dict[str, Contact]:
    """The contacts of ``batch`` by name."""
    return {contact.name: contact for contact in batch.contacts}


def google_row(**cells: str) -> str:
    """A Google CSV file of GOOGLE_HEADER with one row holding ``cells`` (by column)."""
    columns = GOOGLE_HEADER.split(",")
    row = [cells.get(column.replace(" ", "_").replace("-", ""), "") for column in columns]
    return GOOGLE_HEADER + "\n" + ",".join(row) + "\n"


def failure(read: object, text: str, source: str = "export.csv") -> ImportFailed:
    """The ImportFailed that ``read(text, source=source)`` raises."""
    assert callable(read)
    with pytest.raises(ImportFailed) as caught:
        read(text, source=source)
    return caught.value


# -- Google Contacts -------------------------------------------------------------------


def test_google_fixture_names_emails_phones_organization_and_labels() -> None:
    """Every contact of the Google export reads with its names, emails, phones and labels."""
    batch = read_google_csv(fixture("google.csv"), source="google.csv")
    contacts = by_name(batch)
    assert list(contacts) == [
        "Dr. Ana María López García",
        "Zoë Ålund",
        "contact@bureau-exemple.fr",
        "Müller & Söhne GmbH",
        "Farid Haddad",
        "太郎 山田",
    ]
    ana = contacts["Dr. Ana María López García"]
    assert ana.emails == (
        "ana@estudiosol.example",
        "a.lopez@estudiosol.example",
        "ana.lopez@example.org",
    )
    assert ana.phones == ("+34 612 345 678",)
    assert ana.organization == "Estudio Sol, S.L."
    assert ana.tags == {"Clients"}
    assert contacts["Zoë Ålund"].tags == {"Family"}
    assert contacts["contact@bureau-exemple.fr"].emails == ("contact@bureau-exemple.fr",)
    assert contacts["Müller & Söhne GmbH"].organization == "Müller & Söhne GmbH"
    assert contacts["Farid Haddad"].phones == (
        "+212 6 12 34 56 78",
        "+212 5 22 00 00 00",
        "+212 5 22 00 00 01",
    )
    assert contacts["Farid Haddad"].tags == {"Clients", "Card list"}
    assert batch.proposed_ids
    assert all(origin.uid is None for origin in batch.origins.values())
    assert [batch.origin(c.id).line for c in batch.contacts] == [2, 6, 7, 8, 9, 11]


def test_google_fixture_birthdays_and_anniversaries() -> None:
    """Birthdays with and without a year (29 February too) and anniversaries read from events."""
    batch = read_google_csv(fixture("google.csv"), source="google.csv")
    ids = {contact.name: contact.id for contact in batch.contacts}
    ana, zoe, farid = ids["Dr. Ana María López García"], ids["Zoë Ålund"], ids["Farid Haddad"]
    assert batch.occasions == (
        Birthday(ana, 12, 1, year=1986),
        Birthday(zoe, 2, 29),
        Anniversary(zoe, date(2015, 6, 20), label="anniversary"),
        Birthday(farid, 2, 29, year=1988),
        Occasion("anniversary", month=9, day=15, contact=farid),
    )


def test_google_row_with_nothing_to_name_is_skipped_with_its_line() -> None:
    """A Google row with only a note is left out, saying so with its line."""
    batch = read_google_csv(fixture("google.csv"), source="google.csv")
    assert batch.skipped == (Skipped(10, NOTHING_TO_NAME),)


def test_google_system_groups_are_not_tags() -> None:
    """Google's own groups, new and old spellings, are dropped; the user's labels are kept."""
    text = google_row(
        First_Name="Ada", Labels="* myContacts ::: * My Contacts ::: * starred ::: VIP ::: Family"
    )
    (contact,) = read_google_csv(text, source="g.csv").contacts
    assert contact.tags == {"VIP", "Family"}


def test_google_older_export_is_read() -> None:
    """The export before 2020 (Name, Given Name, Group Membership, E-mail 1 - Type) reads too."""
    text = (
        "Name,Given Name,Additional Name,Family Name,Yomi Name,Name Prefix,Name Suffix,"
        "Nickname,Birthday,Group Membership,E-mail 1 - Type,E-mail 1 - Value,"
        "Phone 1 - Type,Phone 1 - Value,Organization 1 - Type,Organization 1 - Name\n"
        "Ada Lovelace,Ada,,Lovelace,,,,,1815-12-10,* My Contacts ::: Clients,* Home,"
        "ada@example.org,Mobile,+44 20 7946 0000,,Analytical Engines\n"
    )
    batch = read_google_csv(text, source="old.csv")
    (ada,) = batch.contacts
    assert (ada.name, ada.emails, ada.phones) == (
        "Ada Lovelace",
        ("ada@example.org",),
        ("+44 20 7946 0000",),
    )
    assert (ada.organization, ada.tags) == ("Analytical Engines", {"Clients"})
    assert batch.occasions == (Birthday(ada.id, 12, 10, year=1815),)


def test_google_birthday_that_is_no_date_fails_on_its_line() -> None:
    """A birthday Google would never write, or 29 February of a common year, fails on its line."""
    error = failure(read_google_csv, google_row(First_Name="Ada", Birthday="10 Dec"))
    assert error.line == 2
    assert "'Birthday'" in str(error)
    assert "not a date" in str(error)
    error = failure(read_google_csv, google_row(First_Name="Ada", Birthday="1987-02-29"))
    assert error.line == 2
    assert "1987-02-29" in str(error)


# -- Outlook -----------------------------------------------------------------------------


def test_outlook_desktop_fixture_in_windows_1252() -> None:
    """Classic Outlook's ANSI export reads with accents, emails, phones, dates and categories."""
    raw = (FIXTURES / "outlook-desktop.csv").read_bytes()
    assert "José".encode("cp1252") in raw
    batch = read_outlook_csv(fixture("outlook-desktop.csv"), source="outlook-desktop.csv")
    contacts = by_name(batch)
    assert list(contacts) == [
        "Sr. José Núñez",
        "Renée François",
        "billing@fabrikam.example",
        "Tailspin Toys, Inc.",
        "Åsa Berg",
    ]
    jose = contacts["Sr. José Núñez"]
    assert jose.emails == ("jose@contoso.example", "jnunez@example.es")
    # Business Phone before Mobile Phone, as the header has them; the fax is not read.
    assert jose.phones == ("(425) 555-0100", "+34 600 111 222")
    assert (jose.organization, jose.tags) == ("Contoso, Ltd.", {"Clients", "VIP"})
    # The Exchange address is a directory path, not an email address.
    assert contacts["Renée François"].emails == ("renee@example.fr",)
    assert contacts["Tailspin Toys, Inc."].phones == ("+1 (206) 555-0142",)
    assert contacts["Åsa Berg"].tags == {"Card list", "Clients"}
    ids = {contact.name: contact.id for contact in batch.contacts}
    assert batch.occasions == (
        Birthday(ids["Sr. José Núñez"], 12, 1, year=1986),
        Anniversary(ids["Sr. José Núñez"], date(2015, 6, 20), label="anniversary"),
        Birthday(ids["Renée François"], 2, 29, year=1988),
        Birthday(ids["Åsa Berg"], 3, 14),
    )
    # The first record spans two lines: its note holds a line break.
    assert [batch.origin(c.id).line for c in batch.contacts] == [2, 4, 5, 6, 7]
    assert batch.skipped == (Skipped(8, NOTHING_TO_NAME),)


def test_outlook_web_fixture_with_a_byte_order_mark() -> None:
    """Outlook on the web's export (a UTF-8 BOM, 61 columns) reads whole."""
    assert (FIXTURES / "outlook-web.csv").read_bytes().startswith(codecs.BOM_UTF8)
    batch = read_outlook_csv(fixture("outlook-web.csv"), source="outlook-web.csv")
    contacts = by_name(batch)
    assert list(contacts) == [
        "Chloé Dubois",
        "Björn Lindqvist",
        "hello@northwind.example",
        "Northwind Traders",
    ]
    chloe = contacts["Chloé Dubois"]
    assert chloe.emails == ("chloe@dubois.example", "chloe.dubois@example.fr")
    assert chloe.phones == ("+33 1 42 00 00 00", "+33 6 12 34 56 78")
    assert chloe.organization == "Dubois, Martin & Associés"
    assert batch.occasions == (
        Birthday(chloe.id, 7, 14, year=1990),
        Anniversary(chloe.id, date(2018, 9, 1), label="anniversary"),
        Birthday(contacts["Björn Lindqvist"].id, 2, 29, year=1992),
    )
    assert batch.skipped == (Skipped(8, NOTHING_TO_NAME),)


def test_outlook_utf16_export() -> None:
    """Classic Outlook's "Unicode" export (UTF-16 with its mark) reads as the same contacts."""
    text = fixture("outlook-desktop.csv")
    for encoding in ("utf-16-le", "utf-16-be"):
        mark = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
        data = mark + text.encode(encoding)
        decoded = decode(data, source="unicode.csv")
        assert decoded == text
        batch = read_outlook_csv(decoded, source="unicode.csv")
        assert batch.contacts[0].name == "Sr. José Núñez"


def test_outlook_day_first_file() -> None:
    """A file whose dates can only be day first (25/12/1986) is read day first throughout."""
    text = f"{OUTLOOK_HEADER}\nAda,,Lovelace,,,,,,,,,,,25/12/1986,1/2/2010\n"
    batch = read_outlook_csv(text, source="uk.csv")
    (ada,) = batch.contacts
    assert batch.occasions == (
        Birthday(ada.id, 12, 25, year=1986),
        Anniversary(ada.id, date(2010, 2, 1), label="anniversary"),
    )


def test_outlook_dates_in_both_orders_fail() -> None:
    """Dates that must be month first and others that must be day first cannot both be right."""
    text = (
        f"{OUTLOOK_HEADER}\nAda,,Lovelace,,,,,,,,,,,12/25/1986,\nBob,,Stone,,,,,,,,,,,25/12/1986,\n"
    )
    error = failure(read_outlook_csv, text)
    assert error.line == 3
    assert "month first on line 2 and day first on line 3" in str(error)


def test_outlook_date_that_is_no_date_fails_on_its_line() -> None:
    """A birthday of words, or 30 February, fails naming the column and the line."""
    text = f"{OUTLOOK_HEADER}\nAda,,Lovelace,,,,,,,,,,,soon,\n"
    error = failure(read_outlook_csv, text)
    assert error.line == 2
    assert "'Birthday'" in str(error)
    assert "M/D/YYYY" in str(error)
    text = f"{OUTLOOK_HEADER}\nAda,,Lovelace,,,,,,,,,,,2/30/1986,\n"
    assert failure(read_outlook_csv, text).line == 2


@given(st.dates(min_value=date(1, 1, 1)), st.booleans())
def test_outlook_date_reads_what_outlook_writes(day: date, padded: bool) -> None:
    """M/D/YYYY, padded or not, and YYYY-MM-DD give the date back; 1604 means no year."""
    month, mday = (f"{day.month:02}", f"{day.day:02}") if padded else (day.month, day.day)
    year = None if day.year == 1604 else day.year
    assert outlook_date(f"{month}/{mday}/{day.year:04}") == (year, day.month, day.day)
    assert outlook_date(f"{mday}/{month}/{day.year:04}", day_first=True) == (
        year,
        day.month,
        day.day,
    )
    assert outlook_date(day.isoformat()) == (year, day.month, day.day)
    assert outlook_date(f"{month}/{mday}") == (None, day.month, day.day)


@given(st.integers(0, 99))
def test_outlook_two_digit_years_are_1930_to_2029(short: int) -> None:
    """A two-digit year is read as Windows reads it, within 1930 to 2029."""
    parts = outlook_date(f"3/4/{short:02}")
    assert parts is not None
    assert parts[0] is not None
    assert 1930 <= parts[0] <= 2029
    assert parts[0] % 100 == short


@pytest.mark.parametrize("empty", ["", "0/0/00", "0/0/0000", "  "])
def test_outlook_no_date(empty: str) -> None:
    """Outlook's ways of writing no date give none."""
    assert outlook_date(empty) is None


@given(st.text(max_size=12))
def test_outlook_date_never_fails_otherwise_than_with_value_error(text: str) -> None:
    """Any text gives parts or None, or raises ValueError, never another error."""
    try:
        parts = outlook_date(text)
    except ValueError:
        return
    assert parts is None or (1 <= parts[1] <= 99 and 0 <= parts[2] <= 99)


# -- LinkedIn --------------------------------------------------------------------------


def test_linkedin_fixture() -> None:
    """Connections.csv reads after its notes: names, profile uids, emails, companies, since."""
    batch = read_linkedin_csv(fixture("linkedin-connections.csv"), source="Connections.csv")
    contacts = by_name(batch)
    assert list(contacts) == [
        "Ingrid Søren",
        "Marc O'Neill",
        "Łukasz Wiśniewski",
        "Globex Corporation",
    ]
    ingrid = contacts["Ingrid Søren"]
    assert (ingrid.emails, ingrid.organization, ingrid.since) == (
        (),
        "Acme, Inc.",
        date(2024, 1, 15),
    )
    assert contacts["Marc O'Neill"].emails == ("marc.oneill@example.ie",)
    assert contacts["Łukasz Wiśniewski"].since == date(2020, 2, 29)
    assert batch.origin(ingrid.id) == Origin(5, "https://www.linkedin.com/in/ingrid-soren")
    assert batch.origin(contacts["Globex Corporation"].id).uid == (
        "https://www.linkedin.com/in/former-member"
    )
    assert batch.skipped == (Skipped(9, NOTHING_TO_NAME),)
    assert batch.proposed_ids
    assert batch.occasions == ()


def test_linkedin_without_notes_and_a_missing_header() -> None:
    """The header may come first; a file without it says which header it expected."""
    text = f"{LINKEDIN_HEADER}\nAda,Lovelace,,,,,01 Jan 2024\n"
    (ada,) = read_linkedin_csv(text, source="c.csv").contacts
    assert (ada.name, ada.since) == ("Ada Lovelace", date(2024, 1, 1))
    error = failure(read_linkedin_csv, "Notes:\nnothing here\n")
    assert "First Name,Last Name,URL,Connected On" in str(error)


def test_linkedin_connected_on_that_is_no_date_fails_on_its_line() -> None:
    """A Connected On that is no date fails naming its line."""
    text = f"Notes:\n\n{LINKEDIN_HEADER}\nAda,Lovelace,,,,,yesterday\n"
    error = failure(read_linkedin_csv, text)
    assert error.line == 4
    assert "'Connected On'" in str(error)


@given(st.dates(min_value=date(2003, 1, 1), max_value=date(2099, 12, 31)))
def test_connected_on_reads_linkedins_dates(day: date) -> None:
    """ "15 Jan 2024", "5 Jan 2024" and a spreadsheet's "15-Jan-24" give the date back."""
    month = MONTHS[day.month - 1]
    assert connected_on(f"{day.day:02} {month} {day.year}") == day
    assert connected_on(f"{day.day} {month} {day.year}") == day
    assert connected_on(f"{day.day}-{month}-{day.year % 100:02}") == day


# -- broken input, for every reader --------------------------------------------------------

READERS = [read_google_csv, read_outlook_csv, read_linkedin_csv]
HEADERS = [GOOGLE_HEADER, OUTLOOK_HEADER, LINKEDIN_HEADER]
PAIRS = list(zip(READERS, HEADERS, strict=True))


@pytest.mark.parametrize(("read", "header"), PAIRS)
def test_a_row_longer_than_the_header_fails_on_its_line(read: object, header: str) -> None:
    """A row with more cells than the header names fails, naming the row's line."""
    text = f"{header}\nAda{',' * header.count(',')}\nBob{',' * (header.count(',') + 1)}\n"
    error = failure(read, text)
    assert error.line == 3
    assert "cells, but the header on line 1" in str(error)


@pytest.mark.parametrize(("read", "header"), PAIRS)
def test_bad_quoting_fails_on_its_line(read: object, header: str) -> None:
    """A quote left open fails naming the line its row starts on."""
    text = f'{header}\nAda\nBob,"Stone\n'
    error = failure(read, text)
    assert error.line == 3
    assert "not valid CSV" in str(error)


@pytest.mark.parametrize(("read", "header"), PAIRS)
def test_a_short_row_imports(read: object, header: str) -> None:
    """A row with fewer cells than the header has the rest empty."""
    assert callable(read)
    row = "Ada,Lovelace" if header.startswith("First Name,Last Name") else "Ada,,Lovelace"
    batch = read(f"{header}\n{row}\n", source="short.csv")
    assert [contact.name for contact in batch.contacts] == ["Ada Lovelace"]


# -- told apart by content ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "format"),
    [
        ("google.csv", "google-csv"),
        ("outlook-desktop.csv", "outlook-csv"),
        ("outlook-web.csv", "outlook-csv"),
        ("linkedin-connections.csv", "linkedin-csv"),
    ],
)
def test_each_export_is_recognised_by_its_header(plugins: Plugins, name: str, format: str) -> None:
    """A .csv file of each export picks its importer, as does the same text under another name."""
    text = fixture(name)
    assert plugins.importer_for("contacts.csv", text=text).name == format
    assert plugins.importer_for("Connections.CSV", text=text).name == format
    assert plugins.importer_for("export.txt", text=text).name == format
    assert plugins.importer_for("contacts.csv", "csv", text=text).name == "csv"
    assert plugins.importer_for("contacts.csv", text=text).plugin == "csv"


def test_cadence_own_csv_still_picks_csv(plugins: Plugins) -> None:
    """A .csv of cadence's own columns, and any .csv without text, is read by csv."""
    assert plugins.importer_for("people.csv", text="id,name\nada,Ada\n").name == "csv"
    assert plugins.importer_for("people.csv").name == "csv"
    assert plugins.importer_for("people.vcf", text="BEGIN:VCARD\r\n").name == "vcard"
    with pytest.raises(Exception, match="no importer reads this kind of file"):
        plugins.importer_for("people.txt", text="id,name\nada,Ada\n")


def test_a_plugin_importer_recognised_by_content(plugins: Plugins) -> None:
    """A plugin's recognises decides among importers of one suffix; one that fails says no."""

    def read_tabs(text: str, *, source: str) -> ImportBatch:
        return ImportBatch([])

    class Tabs:
        @hookimpl
        def cadence_register_importers(self, register: Register) -> None:
            register("tabs", read_tabs, suffixes=(".csv",), recognises=lambda t: "\t" in t)
            register("broken", read_tabs, suffixes=(".csv",), recognises=lambda t: 1 / 0)
            register("bad", read_tabs, suffixes=(".csv",), recognises="yes")

    plugins.register(Tabs(), "tabs")
    try:
        assert plugins.importer_for("x.csv", text="id\tname\n").name == "tabs"
        assert plugins.importer_for("x.csv", text="id,name\n").name == "csv"
        assert "bad" not in plugins.registered("importer")
        problems = " ".join(plugins.problems("tabs"))
        assert "recognises='yes'" in problems
        assert "'broken' failed to recognise a file: ZeroDivisionError" in problems
    finally:
        plugins.pm.unregister(name="tabs")
    assert isinstance(plugins.errors[-1], PluginError)


# -- encodings ------------------------------------------------------------------------------


def test_decode_utf8_with_and_without_a_mark() -> None:
    """UTF-8 reads with or without its byte order mark, which is dropped."""
    assert decode("José".encode(), source="a.csv") == "José"
    assert decode(codecs.BOM_UTF8 + "José".encode(), source="a.csv") == "José"


def test_decode_windows_1252_when_not_utf8() -> None:
    """Bytes that are not UTF-8 are Windows-1252, including its curly quotes and euro sign."""
    assert decode("José “5 €”".encode("cp1252"), source="a.csv") == "José “5 €”"


@given(st.binary(max_size=64))
def test_decode_never_fails_without_a_mark(data: bytes) -> None:
    """Any bytes without a byte order mark decode, and UTF-8 ones decode as UTF-8."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    text = decode(data, source="a.csv")
    try:
        assert text == data.decode("utf-8")
    except UnicodeDecodeError:
        assert len(text) == len(data)


def test_decode_a_broken_file_after_its_mark_names_the_line() -> None:
    """A file marked UTF-8 that is not fails naming the line of the bad byte."""
    data = codecs.BOM_UTF8 + b"id,name\nada,Ada\nzoe,Zo\xeb\n"
    with pytest.raises(ImportFailed) as caught:
        decode(data, source="a.csv")
    assert caught.value.line == 3
    assert "UTF-8" in str(caught.value)


# -- cadence's own CSV: hints and --map ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "format"),
    [
        ("google.csv", "google-csv"),
        ("outlook-desktop.csv", "outlook-csv"),
        ("linkedin-connections.csv", "linkedin-csv"),
    ],
)
def test_an_export_read_as_cadence_csv_names_its_format(name: str, format: str) -> None:
    """Reading an export as cadence's own CSV says which --format reads it."""
    error = failure(read_csv, fixture(name))
    assert f"--format {format}" in str(error)
    assert error.line == 1


def test_another_spreadsheet_read_as_cadence_csv_suggests_map() -> None:
    """Reading another spreadsheet says how to map its columns."""
    error = failure(read_csv, "Full Name,Mail\nAda Lovelace,ada@example.org\n")
    assert '--map "Full Name=name"' in str(error)


def test_map_reads_another_spreadsheet() -> None:
    """With a mapping, columns are read as mapped, the rest ignored, and ids proposed."""
    text = (
        "Full Name , Mail,Cell,Firm,Notes,Born\n"
        "Ada Lovelace,ada@example.org,+44 20 7946 0000,Engines,likes maths,1815-12-10\n"
        ",,,,only a note,\n"
        ",bob@example.org,,,,\n"
        "Ada Lovelace,ada2@example.org,,,,\n"
    )
    mapping = {"full name": "name", "MAIL": "email", "Cell": "phone", "Firm": "organization",
               "Born": "birthday"}  # fmt: skip
    batch = read_csv(text, source="people.csv", mapping=mapping)
    assert batch.proposed_ids
    assert batch.contacts == (
        Contact(
            "ada-lovelace",
            "Ada Lovelace",
            email="ada@example.org",
            phones=["+44 20 7946 0000"],
            organization="Engines",
        ),
        Contact("bob-example-org", "bob@example.org", email="bob@example.org"),
        Contact("ada-lovelace-2", "Ada Lovelace", email="ada2@example.org"),
    )
    assert batch.occasions == (Birthday("ada-lovelace", 12, 10, year=1815),)
    assert batch.skipped == (Skipped(3, NOTHING_TO_NAME),)
    assert [batch.origin(c.id).line for c in batch.contacts] == [2, 4, 5]


def test_map_with_an_id_column_keeps_the_files_ids() -> None:
    """A mapping that names an id column keeps the file's ids; they are not proposals."""
    text = "Key,Who\nada,Ada Lovelace\n"
    batch = read_csv(text, source="p.csv", mapping={"Key": "id", "Who": "name"})
    assert not batch.proposed_ids
    assert batch.contacts == (Contact("ada", "Ada Lovelace"),)
    assert failure_of_map("Key,Who\n,Ada\n", {"Key": "id", "Who": "name"}).line == 2


def failure_of_map(text: str, mapping: dict[str, str]) -> ImportFailed:
    """The ImportFailed that reading ``text`` with ``mapping`` raises."""
    with pytest.raises(ImportFailed) as caught:
        read_csv(text, source="people.csv", mapping=mapping)
    return caught.value


def test_map_errors_name_what_is_wrong() -> None:
    """An unknown cadence column, a column the header lacks, or two read as one, are refused."""
    text = "Full Name,Mail\nAda,ada@example.org\n"
    error = failure_of_map(text, {"Full Name": "fullname"})
    assert "'fullname' is not a column of cadence's" in str(error)
    assert error.line == 1
    error = failure_of_map(text, {"Nom": "name"})
    assert "'Nom', which the header does not have" in str(error)
    assert error.line == 1
    error = failure_of_map(text, {"Full Name": "name", "Mail": "name"})
    assert "more than one column as name" in str(error)


def test_cadence_csv_rows_have_their_lines_as_origins() -> None:
    """cadence's own CSV gives each contact's line, counting line breaks in quoted cells."""
    batch = read_csv('id,name\nada,"Ada\nLovelace"\nzoe,Zoë\n', source="p.csv")
    assert batch.origins == {"ada": Origin(2), "zoe": Origin(4)}
    assert not batch.proposed_ids
