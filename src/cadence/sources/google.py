"""The ``google-csv`` importer: the CSV file Google Contacts exports ("Google CSV").

Google Contacts writes a fixed set of columns, then numbered groups for as
many emails, phones, addresses and events as the contacts have::

    First Name,Middle Name,Last Name,Phonetic First Name,...,Name Prefix,Name Suffix,
    Nickname,File As,Organization Name,Organization Title,Organization Department,
    Birthday,Notes,Photo,Labels,E-mail 1 - Label,E-mail 1 - Value,...,
    Phone 1 - Label,Phone 1 - Value,...,Event 1 - Label,Event 1 - Value,...

What is read, by column (any letter case):

- ``Name Prefix``, ``First Name``, ``Middle Name``, ``Last Name`` and
  ``Name Suffix``, joined in that order, are the name; else ``Nickname``,
  else ``Organization Name``, else the first email, else the first phone. A
  row with none of these is skipped (``ImportBatch.skipped``).
- ``E-mail N - Value`` and ``Phone N - Value``: every address and number,
  in the header's order, each once. One cell may hold several, separated by
  `` ::: ``. The first address is the contact's email.
- ``Organization Name`` is the organization.
- ``Labels`` are the tags, separated by `` ::: ``. Google's own groups are
  left out: those written with a leading ``* `` (``* myContacts``,
  ``* starred``) and the ids of ``cadence.sources._common.GOOGLE_SYSTEM_GROUPS``.
- ``Birthday``: ``YYYY-MM-DD``, or ``--MM-DD`` without a year, becomes a
  ``cadence.Birthday``.
- ``Event N - Value`` whose ``Event N - Label`` is "Anniversary" becomes a
  ``cadence.Anniversary`` labelled "anniversary" (a yearly
  ``cadence.Occasion`` titled "anniversary" when it has no year); other
  events are not read.

The export before 2020 is read too: ``Name`` (else ``Given Name``,
``Additional Name``, ``Family Name`` with the prefix and suffix),
``Group Membership`` for the labels, ``Organization 1 - Name``, and
``Type`` where the current export says ``Label``.

Not read: phonetic names, ``File As``, job titles, notes, photos, addresses,
relations, websites and custom fields. Google's CSV has no id for a
contact, so ids are proposed from names and origins carry no uid. A UTF-8
byte order mark is skipped. Errors name the line on which the bad record
starts.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence

from cadence.core.durations import month_day
from cadence.core.occasions import OccasionKind
from cadence.sources._common import GOOGLE_SYSTEM_GROUPS
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

__all__ = ["read_google_csv", "recognises_google_csv"]

#: What a record's digest is salted with: bumped whenever a record is read differently.
DIGEST_SALT = "cadence google-csv 1"

# Google writes several values of one field into one cell, separated so.
_SEPARATOR = " ::: "
# Columns every current export has, whatever the contacts hold.
_CURRENT = ("First Name", "Last Name", "Name Prefix", "Nickname", "File As", "Labels")
# And those of the export before 2020.
_OLDER = ("Name", "Given Name", "Family Name", "Group Membership")
_EMAILS = re.compile(r"e-mail \d+ - value")
_PHONES = re.compile(r"phone \d+ - value")
_EVENT = re.compile(r"event (\d+) - value")
# A group of Google's own is written with this mark: "* myContacts".
_SYSTEM_MARK = "* "
_SYSTEM_NAMES = frozenset(name.casefold() for name in GOOGLE_SYSTEM_GROUPS)
_DATES = "YYYY-MM-DD or --MM-DD"


def recognises_google_csv(text: str) -> bool:
    """Whether ``text`` starts with the header of a Google Contacts CSV export."""
    return looks_like(text, _CURRENT) or looks_like(text, _OLDER)


def read_google_csv(text: str, *, source: str, known: Container[str] = frozenset()) -> ImportBatch:
    """Read a whole Google Contacts CSV export; a bad record raises ImportFailed, keeps nothing.

    Records whose digest is in ``known`` are left out (``ImportBatch.unchanged``).
    """
    found = table(text, source)
    emails, phones = found.matching(_EMAILS), found.matching(_PHONES)
    events = found.matching(_EVENT)
    gathered = Gathered(source, salt=DIGEST_SALT, known=known)
    for record in gathered.unread(found.records):
        contact = gathered.contact(
            record.line,
            names=_names(record),
            nickname=record.get("Nickname"),
            organization=record.get("Organization Name") or record.get("Organization 1 - Name"),
            emails=[v for column in emails for v in values(record.get(column), _SEPARATOR)],
            phones=[v for column in phones for v in values(record.get(column), _SEPARATOR)],
            tags=_tags(record.get("Labels") or record.get("Group Membership")),
        )
        if contact is None:
            continue
        for occasion in _birthday(record, contact, source):
            gathered.occasion(occasion)
        for column in events:
            for occasion in _anniversary(record, column, contact, source):
                gathered.occasion(occasion)
    return gathered.batch()


def _names(record: Record) -> Sequence[str]:
    # The export before 2020 has the whole name in one column.
    if record.get("Name"):
        return [record.get("Name")]
    first = record.get("First Name") or record.get("Given Name")
    middle = record.get("Middle Name") or record.get("Additional Name")
    last = record.get("Last Name") or record.get("Family Name")
    return [record.get("Name Prefix"), first, middle, last, record.get("Name Suffix")]


def _tags(cell: str) -> list[str]:
    tags = []
    for label in values(cell, _SEPARATOR.strip()):
        if label.startswith(_SYSTEM_MARK.strip()):
            # "* My Contacts" in older exports, "* myContacts" now.
            bare = label[1:].strip()
            if bare.replace(" ", "").casefold() in _SYSTEM_NAMES or not bare:
                continue
            label = bare
        if label not in GOOGLE_SYSTEM_GROUPS:
            tags.append(label)
    return tags


def _date(record: Record, column: str, source: str) -> tuple[int | None, int, int] | None:
    value = record.get(column)
    if not value:
        return None
    parts = month_day(value)
    if parts is None:
        raise not_a_date(column, value, _DATES, record.line, source)
    return parts


def _birthday(record: Record, contact: str, source: str) -> list[OccasionKind]:
    parts = _date(record, "Birthday", source)
    if parts is None:
        return []
    about = f"column 'Birthday' {record.get('Birthday')!r}"
    return [born(contact, parts, record.line, about, source)]


def _anniversary(record: Record, column: str, contact: str, source: str) -> list[OccasionKind]:
    number = _EVENT.fullmatch(column.casefold())
    assert number is not None
    kind = record.get(f"Event {number.group(1)} - Label") or record.get(
        f"Event {number.group(1)} - Type"
    )
    if kind.casefold() != "anniversary":
        return []
    parts = _date(record, column, source)
    if parts is None:
        return []
    about = f"column {column!r} {record.get(column)!r}"
    return [anniversary(contact, parts, record.line, about, source)]
