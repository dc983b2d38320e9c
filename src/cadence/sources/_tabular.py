"""What the readers of spreadsheets exported by other programs share.

Rows are read with the line each starts on; columns are found by name
whatever their letter case; a record becomes a contact named by whatever it
has, or is skipped with its line and the reason when it has nothing to name
the contact by.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from datetime import date

import attrs

from cadence.core.errors import CadenceError, ImportFailed
from cadence.core.model import Contact
from cadence.core.occasions import Anniversary, Occasion, OccasionKind
from cadence.sources._common import BOM, ProposedIds, birthday, clean_name, reading, shown
from cadence.sources.batch import ImportBatch, Origin, Skipped, record_digest

__all__ = [
    "NOTHING_TO_NAME",
    "Gathered",
    "Record",
    "Table",
    "anniversary",
    "born",
    "leading_rows",
    "looks_like",
    "not_a_date",
    "rows",
    "table",
    "values",
]

# How much of a file's start a recogniser reads: enough for a header after
# a few lines of notes, however long the header.
_LEADING = 64 * 1024
_ANNIVERSARY = "anniversary"
NOTHING_TO_NAME = "nothing to name the contact by (no name, email, organization or phone)"


def rows(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank row of ``text`` with its first line; bad quoting raises ImportFailed."""
    # newline="" hands line breaks to the csv module, which keeps the ones
    # inside quoted cells and counts lines across them.
    reader = csv.reader(io.StringIO(text.removeprefix(BOM), newline=""), strict=True)
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


def leading_rows(text: str, count: int) -> list[list[str]]:
    """The first ``count`` non-blank rows of ``text``, read leniently: for telling formats apart."""
    found: list[list[str]] = []
    reader = csv.reader(io.StringIO(text[:_LEADING].removeprefix(BOM), newline=""))
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                found.append(row)
                if len(found) == count:
                    break
    except csv.Error:
        pass
    return found


def _key(cell: str) -> str:
    return cell.strip().casefold()


def looks_like(text: str, needed: Iterable[str], *, within: int = 1) -> bool:
    """Whether one of the first ``within`` rows of ``text`` has every column in ``needed``.

    Columns compare trimmed and whatever their letter case.
    """
    wanted = {_key(name) for name in needed}
    return any(wanted <= {_key(cell) for cell in row} for row in leading_rows(text, within))


@attrs.frozen
class Record:
    """One data row: the line it starts on and its non-empty cells, trimmed, by column.

    Columns are keyed by their name in lower case (``str.casefold``).
    """

    line: int
    cells: Mapping[str, str]

    def get(self, column: str) -> str:
        """The cell of ``column`` (any letter case), or "" when it is empty or absent."""
        return self.cells.get(_key(column), "")

    def digest(self, salt: str) -> str:
        """The record's ``record_digest``, of its cells by column: their order does not count."""
        return record_digest(salt, "\x1e".join(f"{k}\x1f{v}" for k, v in self.cells.items()))


@attrs.frozen
class Table:
    """A header (the line it is on, its columns as written) and the records under it."""

    header_line: int
    columns: tuple[str, ...]
    records: tuple[Record, ...]

    def has(self, column: str) -> bool:
        """Whether the header names ``column`` (any letter case)."""
        return _key(column) in {_key(name) for name in self.columns}

    def matching(self, pattern: re.Pattern[str]) -> list[str]:
        """The columns whose lower-case name matches ``pattern`` whole, in the header's order."""
        return [name for name in self.columns if pattern.fullmatch(_key(name))]


def table(
    text: str,
    source: str,
    *,
    is_header: Callable[[Sequence[str]], bool] | None = None,
    expected: str = "",
) -> Table:
    """The header and records of ``text``.

    The header is the first row, or with ``is_header`` the first row it
    accepts (rows before it, such as notes, are passed over); ``expected``
    says what header is missing when none is found. A record with
    more cells than the header raises ImportFailed; one with fewer has the
    missing cells empty.
    """
    found = rows(text, source)
    header_line, header = 0, None
    for line, row in found:
        if is_header is None or is_header([_key(cell) for cell in row]):
            header_line, header = line, row
            break
    if header is None:
        wanted = f" ({expected})" if expected else ""
        raise ImportFailed(f"no header row naming the columns{wanted}", path=source)
    keys = [_key(cell) for cell in header]
    records: list[Record] = []
    for line, row in found:
        if len(row) > len(keys):
            raise ImportFailed(
                f"{len(row)} cells, but the header on line {header_line} names {len(keys)} columns",
                path=source,
                line=line,
            )
        cells: dict[str, str] = {}
        for key, cell in zip(keys, row, strict=False):
            if cell.strip() and key not in cells:
                cells[key] = cell.strip()
        records.append(Record(line, cells))
    return Table(header_line, tuple(cell.strip() for cell in header), tuple(records))


def values(cell: str, separator: str) -> list[str]:
    """The non-empty parts of ``cell`` cut at ``separator``, each with its spaces made single."""
    return [part for part in (clean_name(p) for p in cell.split(separator)) if part]


def born(
    contact: str, parts: tuple[int | None, int, int], line: int, about: str, source: str
) -> OccasionKind:
    """The Birthday of ``contact`` on (year or None, month, day); a day that is no date raises."""
    with reading(source, line, about):
        return birthday(contact, parts)


def anniversary(
    contact: str, parts: tuple[int | None, int, int], line: int, about: str, source: str
) -> OccasionKind:
    """An Anniversary labelled "anniversary", or a yearly Occasion of that title without a year."""
    year, month, day = parts
    with reading(source, line, about):
        if year is None:
            return Occasion(_ANNIVERSARY, month=month, day=day, contact=contact)
        try:
            when = date(year, month, day)
        except ValueError:
            raise CadenceError(f"{year}-{month:02}-{day:02} is not a date") from None
        return Anniversary(contact, when, label=_ANNIVERSARY)


class Gathered:
    """The contacts of one file as they are read, with their origins and what was skipped.

    Ids are proposed from names (``ProposedIds``), fresh for each file.
    Records whose digest (salted with ``salt``) is in ``known`` are left
    out by ``unread`` (see ``ImportBatch.unchanged``).
    """

    def __init__(self, source: str, *, salt: str, known: Container[str] = frozenset()) -> None:
        self.source = source
        self._salt = salt
        self._known = known
        self._digests: dict[int, str] = {}
        self._unchanged: list[str] = []
        self._ids = ProposedIds()
        self._contacts: list[Contact] = []
        self._occasions: list[OccasionKind] = []
        self._origins: dict[str, Origin] = {}
        self._skipped: list[Skipped] = []

    def unread(self, records: Iterable[Record]) -> Iterator[Record]:
        """The records not read by an earlier import exactly as they are, to be read now."""
        for record in records:
            digest = record.digest(self._salt)
            if digest in self._known:
                self._unchanged.append(digest)
            else:
                self._digests[record.line] = digest
                yield record

    def contact(
        self,
        line: int,
        *,
        names: Sequence[str] = (),
        nickname: str = "",
        organization: str = "",
        emails: Sequence[str] = (),
        phones: Sequence[str] = (),
        tags: Iterable[str] = (),
        since: date | None = None,
        uid: str | None = None,
    ) -> str | None:
        """Add the contact of the record on ``line``; its id, or None when it was skipped.

        The name is ``names`` joined (the parts of a person's name in the
        order they are said), else the nickname, the organization, the first
        email address, the first phone number. With none of these the record
        is skipped.
        """
        name = clean_name(" ".join(names)) or clean_name(nickname) or clean_name(organization)
        name = name or (emails[0] if emails else "") or (phones[0] if phones else "")
        if not name:
            self._skipped.append(Skipped(line, NOTHING_TO_NAME))
            return None
        contact_id = self._ids(name)
        with reading(self.source, line):
            self._contacts.append(
                Contact(
                    contact_id,
                    name,
                    emails=emails,
                    phones=phones,
                    organization=clean_name(organization) or None,
                    tags=tags,
                    since=since,
                )
            )
        self._origins[contact_id] = Origin(
            line=line, uid=uid or None, digest=self._digests.get(line)
        )
        return contact_id

    def occasion(self, occasion: OccasionKind) -> None:
        """Add a date that matters to one of the contacts."""
        self._occasions.append(occasion)

    def batch(self) -> ImportBatch:
        """Everything gathered, as one batch whose ids are proposals."""
        return ImportBatch(
            self._contacts,
            occasions=self._occasions,
            origins=self._origins,
            skipped=self._skipped,
            proposed_ids=True,
            unchanged=self._unchanged,
        )


def not_a_date(column: str, value: str, expected: str, line: int, source: str) -> ImportFailed:
    """The error for a cell of ``column`` that holds no date."""
    return ImportFailed(
        f"column {column!r} {shown(value)}: not a date; expected {expected}",
        path=source,
        line=line,
    )
