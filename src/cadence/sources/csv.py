"""The ``csv`` importer: contacts from a spreadsheet saved as comma-separated values.

The first row names the columns, in any order and any letter case::

    id,name,email,phone,timezone,channel,tags,since,birthday,every
    ada,Ada Lovelace,ada@example.org,,Europe/London,email,retainer;vip,2024-01-15,12-10,monthly

``id`` and ``name`` are required; the other columns may be left out. A column
that cadence does not know is an error, so a misspelt header is caught
rather than dropped. An empty cell means the value is absent.

- ``tags`` are separated by ``;``.
- ``email`` is the primary address; ``emails`` holds more, separated by ``;``
  (the first is the primary when there is no ``email``). ``phone`` is one
  phone number and ``phones`` more, separated by ``;``.
- ``organization`` is where the contact works.
- ``since`` is an ISO date, ``YYYY-MM-DD``.
- ``birthday`` is ``YYYY-MM-DD``, or ``--MM-DD`` or ``MM-DD`` without a year.
- ``every`` is a cadence as ``cadence.parse_cadence`` reads it ("monthly",
  "every 2 weeks", "RRULE:...") and becomes the contact's own rule.

Quoted cells may hold commas and line breaks. A UTF-8 byte order mark, as
spreadsheet programs write, is skipped. Errors name the line on which the
bad record starts.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import date

import attrs

from cadence.core.cadences import parse_cadence
from cadence.core.durations import month_day
from cadence.core.errors import ImportFailed
from cadence.core.model import Contact, Rule
from cadence.core.occasions import OccasionKind
from cadence.core.time import zone
from cadence.sources._common import BOM, birthday, clean_name, note_first_line, reading, shown
from cadence.sources.batch import ImportBatch

__all__ = ["COLUMNS", "read_csv"]

#: Every column the importer knows, in the order the documentation lists them.
COLUMNS = (
    "id",
    "name",
    "email",
    "emails",
    "phone",
    "phones",
    "organization",
    "timezone",
    "channel",
    "tags",
    "since",
    "birthday",
    "every",
)
_REQUIRED = ("id", "name")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DEFAULT_ZONE = str(attrs.fields(Contact).timezone.default)


@attrs.frozen
class _Record:
    """One data row: the line it starts on and its non-empty cells by column."""

    line: int
    cells: dict[str, str]


def read_csv(text: str, *, source: str) -> ImportBatch:
    """Read a whole CSV file of contacts; any bad record raises ImportFailed and nothing is kept."""
    records = _records(text.removeprefix(BOM), source)
    contacts: list[Contact] = []
    rules: list[Rule] = []
    occasions: list[OccasionKind] = []
    first_line: dict[str, int] = {}
    for record in records:
        contact = _contact(record, source)
        note_first_line(first_line, contact.id, record.line, source)
        contacts.append(contact)
        rules.extend(_rule(record, contact.id, source))
        occasions.extend(_birthday(record, contact.id, source))
    return ImportBatch(contacts, rules=rules, occasions=occasions)


def _rows(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank row with the line it starts on."""
    # newline="" hands line breaks to the csv module, which keeps the ones
    # inside quoted cells and counts lines across them.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFailed(f"not valid CSV: {error}", path=source, line=start) from None
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _records(text: str, source: str) -> list[_Record]:
    rows = _rows(text, source)
    try:
        header_line, header = next(rows)
    except StopIteration:
        raise ImportFailed(
            "the file is empty; expected a header row naming the columns", path=source
        ) from None
    columns = _columns(header, header_line, source)
    records: list[_Record] = []
    for line, row in rows:
        if len(row) != len(columns):
            raise ImportFailed(
                f"{len(row)} cells, but the header on line {header_line} "
                f"names {len(columns)} columns",
                path=source,
                line=line,
            )
        cells = {
            name: cell.strip() for name, cell in zip(columns, row, strict=True) if cell.strip()
        }
        records.append(_Record(line, cells))
    return records


def _columns(header: Sequence[str], line: int, source: str) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        hint = ""
        if any(";" in name or "\t" in name for name in unknown):
            hint = " (cells must be separated by commas)"
        raise ImportFailed(
            f"unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(shown(name) for name in unknown)}{hint}; known: {', '.join(COLUMNS)}",
            path=source,
            line=line,
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ImportFailed(
            f"column{'s' if len(twice) > 1 else ''} {', '.join(twice)} named twice",
            path=source,
            line=line,
        )
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        raise ImportFailed(
            f"the header needs the column{'s' if len(missing) > 1 else ''} {' and '.join(missing)}",
            path=source,
            line=line,
        )
    return names


def _contact(record: _Record, source: str) -> Contact:
    cells = record.cells
    for name in _REQUIRED:
        if name not in cells:
            raise ImportFailed(f"column {name!r} is empty", path=source, line=record.line)
    timezone = cells.get("timezone", _DEFAULT_ZONE)
    with reading(source, record.line, "column 'timezone'"):
        zone(timezone)
    since = _since(cells["since"], record.line, source) if "since" in cells else None
    tags = [tag for tag in (clean_name(t) for t in cells.get("tags", "").split(";")) if tag]
    with reading(source, record.line):
        return Contact(
            cells["id"],
            clean_name(cells["name"]),
            email=cells.get("email"),
            emails=_list(cells.get("emails", "")),
            phones=_list(cells.get("phone", "")) + _list(cells.get("phones", "")),
            organization=cells.get("organization"),
            timezone=timezone,
            channel=cells.get("channel"),
            tags=tags,
            since=since,
        )


def _list(value: str) -> list[str]:
    """The non-empty items of a cell separated by ``;``."""
    return [item for item in (part.strip() for part in value.split(";")) if item]


def _since(value: str, line: int, source: str) -> date:
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ImportFailed(
        f"column 'since': {shown(value)} is not a date; expected YYYY-MM-DD", path=source, line=line
    )


def _rule(record: _Record, contact: str, source: str) -> list[Rule]:
    text = record.cells.get("every")
    if text is None:
        return []
    with reading(source, record.line, "column 'every'"):
        return [Rule(parse_cadence(text), contact=contact)]


def _birthday(record: _Record, contact: str, source: str) -> list[OccasionKind]:
    value = record.cells.get("birthday")
    if value is None:
        return []
    about = f"column 'birthday' {shown(value)}"
    parts = month_day(value)
    if parts is None:
        raise ImportFailed(
            f"{about}: not a date; expected YYYY-MM-DD, --MM-DD or MM-DD",
            path=source,
            line=record.line,
        )
    with reading(source, record.line, about):
        return [birthday(contact, parts)]
