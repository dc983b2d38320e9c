"""The ``linkedin-csv`` importer: ``Connections.csv`` from LinkedIn's "Get a copy of your data".

The file opens with a few lines of notes and a blank line, then the header::

    Notes:
    "When exporting your connection data, you may notice that some of the email ..."

    First Name,Last Name,URL,Email Address,Company,Position,Connected On
    Ana,López,https://www.linkedin.com/in/ana-lopez,,"Acme, Inc.",Buyer,15 Jan 2024

Everything before the header is passed over. What is read, by column (any
letter case):

- ``First Name`` and ``Last Name``, joined, are the name; else ``Company``,
  else the email. A row with none of these is skipped
  (``ImportBatch.skipped``).
- ``URL``, the address of the member's profile, is the uid in the batch's
  origins, so that importing a later export finds the same contact.
- ``Email Address`` is the email; most rows have none, since members choose
  whether their connections may see it.
- ``Company`` is the organization.
- ``Connected On`` is the contact's ``since``: ``15 Jan 2024`` (day,
  English month abbreviation, year), or ``15-Jan-24`` as a spreadsheet
  program saves it again.

Not read: ``Position``. A UTF-8 byte order mark is skipped. Errors name the
line on which the bad record starts.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence
from datetime import date

from cadence.sources._tabular import Gathered, Record, looks_like, not_a_date, table
from cadence.sources.batch import ImportBatch

__all__ = ["connected_on", "read_linkedin_csv", "recognises_linkedin_csv"]

#: What a record's digest is salted with: bumped whenever a record is read differently.
DIGEST_SALT = "cadence linkedin-csv 1"

_HEADER = ("First Name", "Last Name", "URL", "Connected On")
# The notes take a few lines; a header further down is not LinkedIn's.
_NOTES_ROWS = 8
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
# Each month by its English name and its first three letters ("Sept" too, as en-GB writes it).
_MONTHS = {
    spelt: number
    for number, name in enumerate(_MONTH_NAMES, start=1)
    for spelt in (name, name[:3], "sept" if number == 9 else name)
}
_DATE = re.compile(r"([0-9]{1,2})[ -]([A-Za-z]{3,9})\.?[ -]([0-9]{4}|[0-9]{2})")
_DATES = "D Mon YYYY, as 15 Jan 2024"


def recognises_linkedin_csv(text: str) -> bool:
    """Whether ``text`` starts with the notes and header of LinkedIn's Connections.csv."""
    return looks_like(text, _HEADER, within=_NOTES_ROWS)


def connected_on(value: str) -> date:
    """The date of a ``Connected On`` cell ("15 Jan 2024"); ValueError for any other text."""
    match = _DATE.fullmatch(value.strip())
    month = _MONTHS.get(match.group(2).casefold()) if match else None
    if match is None or month is None:
        raise ValueError(f"{value!r} is not a date")
    year = int(match.group(3))
    if len(match.group(3)) == 2:
        # LinkedIn was founded in 2003: a short year is this century's.
        year += 2000
    return date(year, month, int(match.group(1)))


def _is_header(cells: Sequence[str]) -> bool:
    return {name.casefold() for name in _HEADER} <= set(cells)


def read_linkedin_csv(
    text: str, *, source: str, known: Container[str] = frozenset()
) -> ImportBatch:
    """Read a whole Connections.csv; a bad record raises ImportFailed, keeping nothing.

    Records whose digest is in ``known`` are left out (``ImportBatch.unchanged``).
    """
    found = table(text, source, is_header=_is_header, expected=",".join(_HEADER))
    gathered = Gathered(source, salt=DIGEST_SALT, known=known)
    for record in gathered.unread(found.records):
        email = record.get("Email Address")
        gathered.contact(
            record.line,
            names=[record.get("First Name"), record.get("Last Name")],
            organization=record.get("Company"),
            emails=[email] if email else [],
            since=_since(record, source),
            uid=record.get("URL"),
        )
    return gathered.batch()


def _since(record: Record, source: str) -> date | None:
    value = record.get("Connected On")
    if not value:
        return None
    try:
        return connected_on(value)
    except ValueError:
        raise not_a_date("Connected On", value, _DATES, record.line, source) from None
