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
bad record starts; each contact's line is in the batch's origins.

Any other spreadsheet is read with a ``mapping`` from its columns to
cadence's (``cadence import people.csv --map "Full Name=name"``): the keys
are header cells as written in the file (compared trimmed and whatever
their letter case), the values cadence's column names above. Columns left
out of the mapping are ignored. ``id`` is then optional: without it, ids
are proposed from names (``ImportBatch.proposed_ids``), and a row with no
name is named by its organization, email or phone, or skipped when it has
none of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date

import attrs

from cadence.core.cadences import parse_cadence
from cadence.core.durations import month_day
from cadence.core.errors import ImportFailed
from cadence.core.model import Contact, Rule
from cadence.core.occasions import OccasionKind
from cadence.core.time import zone
from cadence.sources._common import (
    BOM,
    ProposedIds,
    birthday,
    clean_name,
    note_first_line,
    reading,
    shown,
)
from cadence.sources._tabular import NOTHING_TO_NAME, rows
from cadence.sources.batch import ImportBatch, Origin, Skipped
from cadence.sources.google import recognises_google_csv
from cadence.sources.linkedin import recognises_linkedin_csv
from cadence.sources.outlook import recognises_outlook_csv

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
# How many unknown columns an error names; an export has dozens.
_LISTED = 5
# The exports that have importers of their own, for the hint when one is
# read as cadence's own CSV.
_EXPORTS = (
    ("google-csv", "a Google Contacts export", recognises_google_csv),
    ("outlook-csv", "an Outlook export", recognises_outlook_csv),
    ("linkedin-csv", "LinkedIn's Connections.csv", recognises_linkedin_csv),
)


@attrs.frozen
class _Record:
    """One data row: the line it starts on and its non-empty cells by column."""

    line: int
    cells: dict[str, str]


def read_csv(text: str, *, source: str, mapping: Mapping[str, str] | None = None) -> ImportBatch:
    """Read a whole CSV file of contacts; any bad record raises ImportFailed and nothing is kept.

    ``mapping`` names, for another program's spreadsheet, the cadence column
    each of its columns is read as (see the module).
    """
    text = text.removeprefix(BOM)
    columns, records = _records(text, source, mapping)
    proposing = mapping is not None and "id" not in columns
    required = _REQUIRED if mapping is None else ("id",) if "id" in columns else ()
    ids = ProposedIds()
    contacts: list[Contact] = []
    rules: list[Rule] = []
    occasions: list[OccasionKind] = []
    origins: dict[str, Origin] = {}
    skipped: list[Skipped] = []
    first_line: dict[str, int] = {}
    for record in records:
        if mapping is not None and not _named(record):
            skipped.append(Skipped(record.line, NOTHING_TO_NAME))
            continue
        contact = _contact(record, source, required, ids if proposing else None)
        note_first_line(first_line, contact.id, record.line, source)
        contacts.append(contact)
        origins[contact.id] = Origin(line=record.line)
        rules.extend(_rule(record, contact.id, source))
        occasions.extend(_birthday(record, contact.id, source))
    return ImportBatch(
        contacts,
        rules=rules,
        occasions=occasions,
        origins=origins,
        skipped=skipped,
        proposed_ids=proposing,
    )


def _named(record: _Record) -> bool:
    """Whether a record read through a mapping has something to name its contact by."""
    return next(_naming(record.cells), None) is not None


# What names a contact read through a mapping, in the order it is tried.
_NAMING = ("name", "organization", "email", "emails", "phone", "phones")


def _records(
    text: str, source: str, mapping: Mapping[str, str] | None
) -> tuple[list[str | None], list[_Record]]:
    found = rows(text, source)
    try:
        header_line, header = next(found)
    except StopIteration:
        raise ImportFailed(
            "the file is empty; expected a header row naming the columns", path=source
        ) from None
    if mapping is None:
        columns: list[str | None] = list(_columns(header, header_line, source, text))
    else:
        columns = _mapped(header, header_line, source, mapping)
    records: list[_Record] = []
    for line, row in found:
        if len(row) != len(columns):
            raise ImportFailed(
                f"{len(row)} cells, but the header on line {header_line} "
                f"names {len(columns)} columns",
                path=source,
                line=line,
            )
        cells = {
            name: cell.strip()
            for name, cell in zip(columns, row, strict=True)
            if name is not None and cell.strip()
        }
        records.append(_Record(line, cells))
    return columns, records


def _mapped(
    header: Sequence[str], line: int, source: str, mapping: Mapping[str, str]
) -> list[str | None]:
    """The cadence column each header cell is read as, or None for a column left out."""
    wanted: dict[str, str] = {}
    for theirs, ours in mapping.items():
        column = ours.strip().lower()
        if column not in COLUMNS:
            raise ImportFailed(
                f"--map {shown(f'{theirs}={ours}')}: {shown(ours)} is not a column of "
                f"cadence's; known: {', '.join(COLUMNS)}",
                path=source,
                line=line,
            )
        wanted[theirs.strip().casefold()] = column
    cells = [cell.strip().casefold() for cell in header]
    absent = [theirs for theirs in mapping if theirs.strip().casefold() not in cells]
    if absent:
        raise ImportFailed(
            f"--map names column{'s' if len(absent) > 1 else ''} "
            f"{', '.join(shown(name) for name in absent)}, which the header does not have; "
            f"it has {', '.join(shown(cell.strip()) for cell in header)}",
            path=source,
            line=line,
        )
    columns: list[str | None] = []
    seen: set[str] = set()
    for cell in cells:
        # A column the header names twice is read once, the first time.
        columns.append(wanted.get(cell) if cell not in seen else None)
        seen.add(cell)
    twice = sorted({c for c in columns if c is not None and columns.count(c) > 1})
    if twice:
        raise ImportFailed(
            f"--map reads more than one column as {', '.join(twice)}", path=source, line=line
        )
    return columns


def _columns(header: Sequence[str], line: int, source: str, text: str) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        listed = ", ".join(shown(name) for name in unknown[:_LISTED])
        if len(unknown) > _LISTED:
            listed += f" and {len(unknown) - _LISTED} more"
        raise ImportFailed(
            f"unknown column{'s' if len(unknown) > 1 else ''} {listed}; "
            f"known: {', '.join(COLUMNS)}{_hint(header, unknown, text)}",
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


def _hint(header: Sequence[str], unknown: Sequence[str], text: str) -> str:
    """What to do about a header that is not cadence's own."""
    if any(";" in name or "\t" in name for name in unknown):
        return " (cells must be separated by commas)"
    for name, what, recognises in _EXPORTS:
        if recognises(text):
            return f". This looks like {what}: import it with --format {name}"
    theirs = next(cell.strip() for cell in header if cell.strip().lower() in unknown)
    return (
        f". To read another program's spreadsheet, say which of its columns are "
        f'which: --map "{theirs}=name" (once for each column to read)'
    )


def _contact(
    record: _Record, source: str, required: Sequence[str], ids: ProposedIds | None
) -> Contact:
    """The contact of ``record``; with ``ids``, its id is proposed from its name."""
    cells = record.cells
    for name in required:
        if name not in cells:
            raise ImportFailed(f"column {name!r} is empty", path=source, line=record.line)
    timezone = cells.get("timezone", _DEFAULT_ZONE)
    with reading(source, record.line, "column 'timezone'"):
        zone(timezone)
    since = _since(cells["since"], record.line, source) if "since" in cells else None
    tags = [tag for tag in (clean_name(t) for t in cells.get("tags", "").split(";")) if tag]
    name = clean_name(next(_naming(cells)))
    with reading(source, record.line):
        return Contact(
            ids(name) if ids is not None else cells["id"],
            name,
            email=cells.get("email"),
            emails=_list(cells.get("emails", "")),
            phones=_list(cells.get("phone", "")) + _list(cells.get("phones", "")),
            organization=cells.get("organization"),
            timezone=timezone,
            channel=cells.get("channel"),
            tags=tags,
            since=since,
        )


def _naming(cells: Mapping[str, str]) -> Iterator[str]:
    """What can name a contact: its name, organization, email, then phone, as far as present."""
    for column in _NAMING:
        value = cells.get(column, "")
        parts = _list(value) if column in ("emails", "phones") else [value] if value else []
        if parts:
            yield parts[0]


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
