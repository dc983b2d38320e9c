"""The ``outlook-csv`` importer: the CSV files Microsoft Outlook exports.

Three shapes share their column names and are all read:

- classic Outlook for Windows ("Import/Export" > "Comma Separated Values"),
  every header cell quoted: ``"Title","First Name","Middle Name","Last
  Name","Suffix","Company",...,"Anniversary",...,"Birthday",...,
  "Categories",...,"E-mail Address","E-mail Type","E-mail Display Name",
  "E-mail 2 Address",...``;
- Outlook on the web and the new Outlook (outlook.com, "Export contacts"):
  ``First Name,Middle Name,Last Name,Title,Suffix,Nickname,Given Yomi,
  Surname Yomi,E-mail Address,E-mail 2 Address,E-mail 3 Address,Home Phone,
  ...,Birthday,Anniversary,Notes``;
- the "Outlook CSV" that Google Contacts and the older outlook.com write:
  ``First Name,Middle Name,Last Name,Title,Suffix,Initials,Web Page,Gender,
  Birthday,Anniversary,...,Categories``.

What is read, by column (any letter case):

- ``Title`` (Mr, Dr...), ``First Name``, ``Middle Name``, ``Last Name`` and
  ``Suffix``, joined in that order, are the name; else ``Nickname``, else
  ``Company``, else the first email, else the first phone. A row with none
  of these is skipped (``ImportBatch.skipped``).
- ``E-mail Address``, ``E-mail 2 Address``, ``E-mail 3 Address``: every
  address, each once, the first being the contact's email. An Exchange
  address (``E-mail Type`` ``EX``, "/o=ExchangeLabs/...") is no email
  address and is left out.
- Every phone column, in the header's order: ``Primary Phone``, ``Mobile
  Phone``, ``Business Phone``, ``Home Phone``, ``Other Phone`` and the rest
  whose name ends in "Phone", with ``Callback``, ``ISDN``, ``Pager`` and
  ``Telex``. Fax numbers are not read.
- ``Company`` is the organization.
- ``Categories``, separated by ``;``, are the tags (without Google's own
  groups, ``myContacts`` and the like, which Google's "Outlook CSV" writes).
- ``Birthday`` becomes a ``cadence.Birthday``, ``Anniversary`` a
  ``cadence.Anniversary`` labelled "anniversary" (a yearly
  ``cadence.Occasion`` titled "anniversary" when it has no year).

Dates are written month first, ``12/1/1986`` (``M/D/YYYY``; a two-digit
year is 1930 to 2029, as Windows reads it), or ``1986-12-01``. ``0/0/00``
and an empty cell mean no date. A date without its year is ``M/D``, or
carries the year 1604, in which Outlook and Exchange keep a birthday
entered without a year. Classic Outlook writes dates as the computer's
regional settings say: when a file holds a date whose first number cannot
be a month (``25/12/1986``) and none whose second cannot be one, all of its
dates are read day first; dates written with dots (``1.12.1986``) are day
first.

Not read: addresses, job titles, notes and the other columns. Outlook's CSV
has no id for a contact, so ids are proposed from names and origins carry
no uid. Classic Outlook writes the file in the computer's ANSI code page
(``cadence.sources._encoding.decode`` reads it), or in UTF-16 when
"Unicode" is chosen. Errors name the line on which the bad record starts.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence

from cadence.core.errors import ImportFailed
from cadence.sources._common import GOOGLE_SYSTEM_GROUPS, shown
from cadence.sources._tabular import (
    Gathered,
    Record,
    anniversary,
    born,
    looks_like,
    not_a_date,
    table,
    values,
)
from cadence.sources.batch import ImportBatch

__all__ = ["outlook_date", "read_outlook_csv", "recognises_outlook_csv"]

#: What a record's digest is salted with: bumped whenever a record is read differently.
DIGEST_SALT = "cadence outlook-csv 1"

_RECOGNISED = ("First Name", "Last Name", "E-mail Address", "E-mail 2 Address")
_EMAILS = ("E-mail Address", "E-mail 2 Address", "E-mail 3 Address")
_PHONES = re.compile(r".*phone( \d+)?|callback|isdn|pager|telex")
# Outlook and Exchange keep a date entered without its year in the year 1604.
_NO_YEAR = 1604
# Windows reads a two-digit year as 1930 to 2029.
_CENTURY_PIVOT = 30
_NONE = frozenset({"0/0/00", "0/0/0000", "00/00/0000", "0.0.00", "0.0.0000"})
_SLASHED = re.compile(r"([0-9]{1,2})/([0-9]{1,2})(?:/([0-9]{2}|[0-9]{4}))?")
_DOTTED = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.(?:([0-9]{2}|[0-9]{4}))?")
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DATES = "M/D/YYYY, M/D or YYYY-MM-DD"
_DATE_COLUMNS = ("Birthday", "Anniversary")


def recognises_outlook_csv(text: str) -> bool:
    """Whether ``text`` starts with the header of an Outlook CSV export."""
    return looks_like(text, _RECOGNISED)


def outlook_date(value: str, *, day_first: bool = False) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a date as Outlook writes it, or None for no date.

    ``M/D/YYYY``, ``M/D/YY``, ``M/D`` (``D/M/...`` with ``day_first``),
    ``D.M.YYYY`` and ``YYYY-MM-DD``; ``0/0/00`` and "" are no date, and the
    year 1604 is no year. Raises ValueError for any other text. Whether the
    day exists is left to the occasion that receives it.
    """
    value = value.strip()
    if not value or value in _NONE:
        return None
    year: int | None
    if match := _ISO.fullmatch(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _SLASHED.fullmatch(value):
        first, second = int(match.group(1)), int(match.group(2))
        month, day = (second, first) if day_first else (first, second)
        year = _year(match.group(3))
    elif match := _DOTTED.fullmatch(value):
        day, month = int(match.group(1)), int(match.group(2))
        year = _year(match.group(3))
    else:
        raise ValueError(f"{value!r} is not a date")
    if month == 0 and day == 0:
        return None
    if month == 0 or day == 0:
        raise ValueError(f"{value!r} is not a date")
    return (None if year == _NO_YEAR else year), month, day


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < _CENTURY_PIVOT else 1900
    return year


def read_outlook_csv(text: str, *, source: str, known: Container[str] = frozenset()) -> ImportBatch:
    """Read a whole Outlook CSV export; a bad record raises ImportFailed, keeping nothing.

    Records whose digest is in ``known`` are left out (``ImportBatch.unchanged``).
    """
    found = table(text, source)
    phones = [column for column in found.columns if _PHONES.fullmatch(column.casefold())]
    day_first = _day_first(found.records, source)
    # The order of a date's parts changes how every record reads.
    order = "day first" if day_first else "month first"
    gathered = Gathered(source, salt=f"{DIGEST_SALT} {order}", known=known)
    for record in gathered.unread(found.records):
        contact = gathered.contact(
            record.line,
            names=[record.get(part) for part in _NAME],
            nickname=record.get("Nickname"),
            organization=record.get("Company"),
            emails=_emails(record),
            phones=[record.get(column) for column in phones if record.get(column)],
            tags=_tags(record.get("Categories")),
        )
        if contact is None:
            continue
        birthday = _date(record, "Birthday", day_first, source)
        if birthday is not None:
            about = f"column 'Birthday' {shown(record.get('Birthday'))}"
            gathered.occasion(born(contact, birthday, record.line, about, source))
        when = _date(record, "Anniversary", day_first, source)
        if when is not None:
            about = f"column 'Anniversary' {shown(record.get('Anniversary'))}"
            gathered.occasion(anniversary(contact, when, record.line, about, source))
    return gathered.batch()


_NAME = ("Title", "First Name", "Middle Name", "Last Name", "Suffix")


def _tags(cell: str) -> list[str]:
    return [tag for tag in values(cell, ";") if tag not in GOOGLE_SYSTEM_GROUPS]


def _emails(record: Record) -> list[str]:
    found = []
    for number, column in enumerate(_EMAILS, start=1):
        address = record.get(column)
        kind = record.get("E-mail Type" if number == 1 else f"E-mail {number} Type")
        # An Exchange address is a directory path, not somewhere mail can go.
        if address and not (kind.upper() == "EX" and "@" not in address):
            found.append(address)
    return found


def _day_first(records: Sequence[Record], source: str) -> bool:
    """Whether the file's slashed dates are day first: one has a first number above 12."""
    day_first: Record | None = None
    month_first: Record | None = None
    for record in records:
        for column in _DATE_COLUMNS:
            match = _SLASHED.fullmatch(record.get(column))
            if match is None:
                continue
            if int(match.group(1)) > 12 and day_first is None:
                day_first = record
            if int(match.group(2)) > 12 and month_first is None:
                month_first = record
    if day_first is not None and month_first is not None:
        later = max(day_first, month_first, key=lambda r: r.line)
        raise ImportFailed(
            f"dates are written month first on line {month_first.line} and day first "
            f"on line {day_first.line}; expected one order in the whole file",
            path=source,
            line=later.line,
        )
    return day_first is not None


def _date(
    record: Record, column: str, day_first: bool, source: str
) -> tuple[int | None, int, int] | None:
    value = record.get(column)
    try:
        return outlook_date(value, day_first=day_first)
    except ValueError:
        raise not_a_date(column, value, _DATES, record.line, source) from None
