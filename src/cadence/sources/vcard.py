"""The ``vcard`` importer: contacts from vCard files (.vcf), versions 2.1, 3.0 and 4.0.

Each card becomes a contact. What is read from a card:

- ``FN`` is the name; when it is empty or missing, ``N``, then the first
  ``NICKNAME``, then ``ORG``, then the card's preferred email address, then
  its preferred phone number. A card with none of these is an error.
- ``UID`` is kept to find the contact again when the file is imported
  again (``docs/importing.md``); two cards with the same ``UID`` in one file
  are an error. A new contact's id is made from its name ("Zoë Ålund" ->
  ``zoe-alund``, then ``zoe-alund-2``).
- ``EMAIL``, grouped (Apple's ``item1.EMAIL``) or not: every address, the
  preferred one first (the lowest ``PREF``, ``TYPE=pref``, or vCard 2.1's
  bare ``PREF``), then in the file's order, each once whatever its letter
  case. The first is the contact's email.
- ``TEL``: every number, in the same order (a ``tel:`` URI is read as its
  number). ``ORG``: the organization's name, its first part.
  Each card's fields are gathered in a ``CardFields`` first (``card_fields``).
- ``CATEGORIES`` are the contact's tags, without the ids of Google Contacts'
  own groups (``myContacts``, ``starred``, ``friends``, ``family``,
  ``coworkers``, ``chatBuddies``, ``all``, ``blocked``), which its export
  writes among the user's labels. They are compared as written, so a label
  the user named "Family" stays.
- ``TZ`` given as an IANA name ("Europe/Paris") is the contact's zone. A UTC
  offset names no place, so it cannot say when daylight saving time
  applies: a whole-hour offset becomes the fixed zone of that offset
  (``-05:00`` -> ``Etc/GMT+5``, which keeps the same offset all year), and
  any other offset (``+05:30``) is ignored, as is a ``TZ`` given as a URI.
  Any other text that names no zone is an error.
- ``BDAY`` becomes a ``cadence.Birthday``: ``YYYY-MM-DD`` or ``YYYYMMDD``
  with a year, ``--MM-DD`` or ``--MMDD`` without one. Apple Contacts
  (macOS, iOS, iCloud) stores a date without a year in the year 1604, as
  ``BDAY;X-APPLE-OMIT-YEAR=1604:1604-MM-DD`` or plainly
  ``BDAY;VALUE=date:1604-MM-DD``: the year 1604, or the year named by
  ``X-APPLE-OMIT-YEAR``, means no year. A birthday given as text
  (``VALUE=text``) or without a day (a year alone) is ignored.
- ``ANNIVERSARY`` (vCard 4.0), ``X-ANNIVERSARY``, Outlook's
  ``X-MS-ANNIVERSARY``, Evolution's ``X-EVOLUTION-ANNIVERSARY`` and Apple's
  ``X-ABDATE`` labelled ``_$!<Anniversary>!$_`` by the ``X-ABLabel`` of its
  item group become a ``cadence.Anniversary`` labelled "anniversary"; one
  without a year becomes a yearly ``cadence.Occasion`` titled "anniversary".

Not read: addresses, photos and notes (their lines are delimited, not
parsed, so a large base64 ``PHOTO`` costs only its length). The preferred
channel is left unset, since a card does not say how someone likes to be
reached. Group cards (``KIND:group``, or Apple's
``X-ADDRESSBOOKSERVER-KIND:group``) are skipped.

Each content line that is read (its group, name and parameters,
quoted-printable and charsets of vCard 2.1) is read as ``vobject`` reads
it: by vobject itself for quoted parameter values and quoted-printable, and
by an equivalent, faster reading for the plain lines that are most of a
file. A line that is not a property at all is an error, while the lines of
properties not read are not parsed. A card whose digest is known from an
earlier import (``read_vcard``'s ``known``) is not parsed at all. vobject's
whole-card reader is not used: it reports line numbers that are not the file's, and it cuts a
single-valued property at an unescaped comma ("FN:Lovelace, Ada" becomes
"Lovelace"), which real files contain. So cards are delimited and values
unescaped (RFC 6350, section 3.4) here, and errors name the line of the
property at fault, or else the line of the card's ``BEGIN:VCARD``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterator
from datetime import date
from functools import lru_cache, partial
from typing import NamedTuple

import attrs
from vobject.base import parseLine, textLineToContentLine

from cadence.core.durations import month_day
from cadence.core.errors import CadenceError, ImportFailed
from cadence.core.model import Contact
from cadence.core.occasions import Anniversary, Occasion, OccasionKind
from cadence.core.time import zone
from cadence.sources._common import (
    BOM,
    GOOGLE_SYSTEM_GROUPS,
    ProposedIds,
    birthday,
    clean_name,
    note_first_line,
    reading,
    shown,
)
from cadence.sources.batch import ImportBatch, Origin, record_digest

__all__ = ["CardFields", "card_fields", "read_vcard"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FOLDED = (" ", "\t")
_QP = "quoted-printable"
# How vobject's ContentLine spots a quoted-printable value, letter case and all.
_QP_MARK = "QUOTED-PRINTABLE"
_BEGIN = "BEGIN:VCARD"
_END = "END:VCARD"
# A quoted-printable soft line break: a line that ends in "=".
_SOFT_BREAK = re.compile(r"=(?:\r\n|\r|\n)")
# The end of a line that may begin or end a card: found by its colon, which
# is much faster than a pattern that starts at each line.
# The name and parameters of a content line with no quoted parameter value:
# group, name and the parameters, as vobject's parseLine reads them.
_PLAIN_HEAD = re.compile(
    r"(?:([A-Za-z0-9_-]+)\.)?([A-Za-z0-9_-]+)((?:;[A-Za-z0-9_-]+(?:=[^\";:]*)?)*)"
)
# How far before the colon of a marker line the line may start.
_MARKER_WIDTH = 64
_VCARD_END = re.compile(r":[Vv][Cc][Aa][Rr][Dd][ \t]*(?:\r\n|\r|\n|\Z)")
#: What a card's digest is salted with: bumped whenever a card is read differently.
DIGEST_SALT = "cadence vcard 1"
# RFC 6350 escapes backslash, comma, semicolon and newline; Apple also escapes colons.
_ESCAPED = re.compile(r"\\([\\,;:nN])")
# A content line starts with its name, after an optional group: "item1.EMAIL;TYPE=...:...".
_NAMED = re.compile(r"(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)[;:]")
# The properties read here. Only these are parsed: a card's photo alone can
# be larger than the rest of the file.
_READ = frozenset(
    {"FN", "N", "NICKNAME", "ORG", "UID", "EMAIL", "TEL", "CATEGORIES", "TZ", "BDAY",
     "ANNIVERSARY", "X-ANNIVERSARY", "X-MS-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY",
     "X-ABDATE", "X-ABLABEL", "KIND", "X-ADDRESSBOOKSERVER-KIND"}
)  # fmt: skip
# A line of a card that starts a property _READ, with the lines folded into it:
# its group, name, parameters and value when its head is plain (as in
# _PLAIN_HEAD), else only the rest of it after the name. Every pattern here
# starts at a line break, which the regular expression engine finds fast.
_READ_LINE = re.compile(
    r"\n(?:([A-Za-z0-9-]+)\.)?("
    + "|".join(sorted(_READ, key=len, reverse=True))
    + r")(?:((?:;[A-Za-z0-9_-]+(?:=[^\";:\r\n]*)?)*):|(?=[;:]))"
    + r"([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)",
    re.IGNORECASE,
)
_UNFOLD = re.compile(r"\r?\n[ \t]")
_PLAIN_START = re.compile(r"BEGIN:VCARD\r?\n(?![ \t])", re.IGNORECASE)
# A line that is neither a property's first line nor a folded one.
_ODD_LINE = re.compile(r"\n(?![ \t]|(?:[A-Za-z0-9-]+\.)?[A-Za-z0-9-]+[;:]|\Z)")
# A line that may begin a card inside the card, or end it before its last line
# (a folded "END:\r\n VCARD", which only the line-by-line reading unfolds).
_NESTED = re.compile(
    r"\n[ \t]*(?:BEGIN[ \t]*:|END[ \t]*:(?!VCARD[ \t]*(?:\r?\n)?\Z))", re.IGNORECASE
)
# The anniversary properties, the standard one first.
_ANNIVERSARIES = ("ANNIVERSARY", "X-ANNIVERSARY", "X-MS-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY")
# Dates of RFC 6350 that name no day: a year, a year and month, a day, a month.
_NO_DAY = re.compile(r"\d{4}|\d{4}-\d{2}|---\d{2}|--\d{2}")
# Long enough for any number a card means; longer ones are read as no number.
_ASCII_NUMBER = re.compile(r"0*[0-9]{1,9}")
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})?")
_APPLE_OMIT_YEAR = "X-APPLE-OMIT-YEAR"
# Apple Contacts (macOS, iOS, iCloud) stores a date without a year in the
# year 1604, with or without X-APPLE-OMIT-YEAR saying so.
_APPLE_NO_YEAR = 1604
_APPLE_ANNIVERSARY = "_$!<Anniversary>!$_"
_ANNIVERSARY = "anniversary"
_DEFAULT_ZONE = str(attrs.fields(Contact).timezone.default)


class _Property(NamedTuple):
    """One content line of a card: its value unescaped and trimmed, and as written.

    ``preference`` is what its parameters say of it (``_preference``).
    """

    line: int
    name: str
    group: str | None
    params: dict[str, list[str]]
    value: str
    text: str
    preference: int

    def param(self, name: str) -> list[str]:
        """The values of parameter ``name`` (uppercase), split at commas."""
        return _param(self.params, name)


def _param(params: dict[str, list[str]], name: str) -> list[str]:
    return [part.strip() for value in params.get(name, ()) for part in value.split(",")]


# A property made from its fields in order, without NamedTuple's __new__ in
# between: a large file has a million of them.
_new_property = partial(tuple.__new__, _Property)


class _Card:
    """The properties of one card, by name, and the line of its BEGIN:VCARD."""

    def __init__(self, line: int, properties: list[_Property]) -> None:
        self.line = line
        self._by_name: dict[str, list[_Property]] = {}
        for prop in properties:
            found = self._by_name.get(prop.name)
            if found is None:
                self._by_name[prop.name] = [prop]
            else:
                found.append(prop)

    def all(self, name: str) -> list[_Property]:
        """Every property called ``name`` (uppercase), in the card's order."""
        return self._by_name.get(name, [])

    def first(self, name: str) -> _Property | None:
        """The first property called ``name`` with a value, if any."""
        for prop in self._by_name.get(name, ()):
            if prop.text:
                return prop
        return None


def read_vcard(text: str, *, source: str, known: Container[str] = frozenset()) -> ImportBatch:
    """Read a whole vCard file; any bad card raises ImportFailed and nothing is kept.

    A card whose digest (``record_digest``) is in ``known`` is left out
    unread, and its digest is in the batch's ``unchanged``.
    """
    contacts: list[Contact] = []
    occasions: list[OccasionKind] = []
    origins: dict[str, Origin] = {}
    unchanged: list[str] = []
    first_line: dict[str, int] = {}
    ids = ProposedIds()
    spans = 0
    for line, raw in _card_texts(text.removeprefix(BOM), source):
        spans += 1
        # A file saved again with other line breaks says the same.
        digest = record_digest(DIGEST_SALT, raw.replace("\r\n", "\n").replace("\r", "\n"))
        if digest in known:
            unchanged.append(digest)
            continue
        card = _card(raw, line, source)
        if _is_group(card):
            continue
        fields = _fields(card, source)
        if fields.uid:
            note_first_line(first_line, fields.uid, card.line, source, what="UID")
        contact = _contact(ids(fields.name), fields, source)
        contacts.append(contact)
        origins[contact.id] = Origin(line=card.line, uid=fields.uid, digest=digest)
        occasions.extend(_birthday(card, contact.id, source))
        occasions.extend(_anniversary(card, contact.id, source))
    if not spans:
        raise ImportFailed("no vCard in the file (expected BEGIN:VCARD)", path=source)
    return ImportBatch(
        contacts, occasions=occasions, origins=origins, proposed_ids=True, unchanged=unchanged
    )


def card_fields(text: str, *, source: str) -> list[CardFields]:
    """What each card of a vCard file says about its person, group cards left out.

    Raises ImportFailed as read_vcard does, for the same faults.
    """
    cards = (_card(raw, line, source) for line, raw in _card_texts(text.removeprefix(BOM), source))
    return [_fields(card, source) for card in cards if not _is_group(card)]


# -- from text to cards ------------------------------------------------------------


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Each content line with the number of its first line in the file.

    Folded lines (RFC 6350, section 3.2) are joined. In vCard 2.1 a
    quoted-printable value that ends in "=" goes on over the next line; the
    line break is kept for the quoted-printable decoding to remove.
    """
    current: list[str] = []
    start = 0
    # One card's text at a time: its lines are few.
    lines = _LINE_BREAK.split(text)
    if not _SOFT_BREAK.search(text):
        # No line ends in "=", so only folds join lines (most cards).
        for number, line in enumerate(lines, start=1):
            if current and line.startswith(_FOLDED):
                current.append(line[1:])
                continue
            if current:
                yield start, "".join(current)
            current, start = ([line] if line.strip() else []), number
        if current:
            yield start, "".join(current)
        return
    # What the soft-break test needs is kept as the line grows, so a value
    # continued over many lines costs time in proportion to its length.
    tail = ""
    quoted_printable = False
    for number, line in enumerate(lines, start=1):
        if current and line.startswith(_FOLDED):
            piece = line[1:]
        elif current and quoted_printable and tail.endswith("="):
            piece = "\n" + line
        else:
            if current:
                yield start, "".join(current)
            current, start = ([line] if line.strip() else []), number
            tail = line if current else ""
            quoted_printable = _QP in tail.lower()
            continue
        current.append(piece)
        # The marker may straddle a fold, so look for it across the join.
        joined = tail[-len(_QP) :] + piece
        quoted_printable = quoted_printable or _QP in joined.lower()
        tail = joined[-len(_QP) :]
    if current:
        yield start, "".join(current)


def _breaks(text: str, start: int, end: int) -> int:
    """How many line breaks (CRLF, CR or LF) ``text[start:end]`` holds."""
    return (
        text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)
    )


def _markers(text: str) -> Iterator[tuple[bool, int, int]]:
    """Each BEGIN:VCARD (True) or END:VCARD (False) line: whether it begins, its start and end."""
    for found in _VCARD_END.finditer(text):
        colon = found.start()
        # Only a short line can be a marker: look no further back than that.
        window = max(0, colon - _MARKER_WIDTH)
        start = max(text.rfind("\n", window, colon), text.rfind("\r", window, colon)) + 1
        if start == 0 and window:
            continue
        word = text[start:colon].strip(" \t").upper()
        if word in ("BEGIN", "END"):
            yield word == "BEGIN", start, found.end()


def _card_texts(text: str, source: str) -> Iterator[tuple[int, str]]:
    """The text of each card of a file, from its BEGIN:VCARD to its END:VCARD, and its first line.

    Only blank lines may come between cards. A card may hold another
    (vCard 2.1's AGENT): it is part of the outer card's text.
    """
    depth = 0
    line, at = 1, 0  # the line number of position ``at`` of the text
    start = start_line = 0
    for begins, begin, end in _markers(text):
        if not depth:
            _only_blank(text, start, begin, source)
        if begins:
            if not depth:
                line += _breaks(text, at, begin)
                at = begin
                start, start_line = begin, line
            depth += 1
        elif depth:
            depth -= 1
            if not depth:
                yield start_line, text[start:end]
                start = end
        else:
            _only_blank(text, begin, end, source)
    if depth:
        raise ImportFailed("the card is never closed (no END:VCARD)", path=source, line=start_line)
    _only_blank(text, start, len(text), source)


def _only_blank(text: str, start: int, end: int, source: str) -> None:
    """ImportFailed naming the first line of ``text[start:end]`` that is not blank, if any."""
    gap = text[start:end]
    if not gap.strip():
        return
    at = start + len(gap) - len(gap.lstrip())
    found = _LINE_BREAK.split(text[at:end], maxsplit=1)[0]
    raise ImportFailed(
        f"expected BEGIN:VCARD, found {shown(found.strip())}",
        path=source,
        line=1 + _breaks(text, 0, at),
    )


def _card(text: str, first_line: int, source: str) -> _Card:
    """The card whose text (from BEGIN:VCARD to END:VCARD) starts on ``first_line``."""
    if _is_plain(text):
        return _Card(first_line, _plain_properties(text, first_line, source))
    return _Card(first_line, _properties(text, first_line, source))


def _is_plain(text: str) -> bool:
    """Whether a card's text can be read by ``_plain_properties``, as ``_properties`` reads it.

    That is a card without what calls for reading it line by line: no
    quoted-printable soft break, no line break but LF and CRLF, no empty
    line, no line that is neither a property nor a fold, no nested card, no
    END line but the last.
    Most cards of any export are so.
    """
    return (
        "=\n" not in text
        and "=\r" not in text
        and text.count("\r") == text.count("\r\n")
        and "\n\n" not in text
        and "\n\r\n" not in text
        and _PLAIN_START.match(text) is not None
        and _ODD_LINE.search(text) is None
        and _NESTED.search(text) is None
    )


def _plain_properties(text: str, first_line: int, source: str) -> list[_Property]:
    """The properties of a card read by ``_READ_LINE``: most lines are never looked at.

    A property with a plain head (its value may be folded) and no
    quoted-printable value is taken as the pattern found it (most are); any
    other is read by ``_property``.
    """
    properties: list[_Property] = []
    number, at = first_line, 0
    # Asked of the card once, rather than of each of its lines.
    folded = "\n " in text or "\n\t" in text
    quoted = _QP_MARK in text
    for found in _READ_LINE.finditer(text):
        start = found.start()
        number += text.count("\n", at, start) + 1
        at = start + 1
        group, name, given, value = found.groups()
        if given is not None and folded and "\n" in value:
            # A plain head ends on the line it starts: only the value is folded,
            # and the mark may straddle a fold.
            value = _UNFOLD.sub("", value)
            marked = _QP_MARK in value
        else:
            marked = False
        # The mark cannot straddle the parts: "." and ":" come between them.
        if (
            given is None
            or marked
            or (
                quoted
                and (
                    _QP_MARK in value
                    or _QP_MARK in given
                    or (group is not None and _QP_MARK in group)
                )
            )
        ):
            line = found.group()[1:]
            if "\n" in line:
                line = _UNFOLD.sub("", line)
            properties.append(_property(number, line, source))
            continue
        text_value = _unescape(value).strip() if "\\" in value else value.strip()
        params, preference = _given_params(given)
        properties.append(
            _new_property((number, name.upper(), group, params, value, text_value, preference))
        )
    return properties


# Shared by every property written with the same parameters: never changed.
_NO_PARAMS: dict[str, list[str]] = {}


@lru_cache(maxsize=1024)
def _given_params(given: str) -> tuple[dict[str, list[str]], int]:
    """``_plain_params`` of ``given`` and their ``_preference``, once for each way of writing them.

    An export writes the same few parameters on most of its lines
    (";type=INTERNET;type=HOME;type=pref"); the dict given back is shared by
    the properties written so, which only read it.
    """
    if not given:
        return _NO_PARAMS, _NOT_PREFERRED
    params: dict[str, list[str]] = {}
    _plain_params(given, params)
    return params, _preference(params)


def _properties(text: str, first_line: int, source: str) -> list[_Property]:
    """The properties of a card read line by line: any card, nested ones included."""
    properties: list[_Property] = []
    depth = 0
    for offset, line in _logical_lines(text):
        number = first_line + offset - 1
        named = _NAMED.match(line)
        name = named.group(1).upper() if named else ""
        marker = line.strip().upper() if name in ("BEGIN", "END") else ""
        if marker == _BEGIN:
            # vCard 2.1 may nest a card (AGENT): its lines are not the outer card's.
            depth += 1
        elif marker == _END:
            depth -= 1
        elif depth == 1:
            if named is None:
                raise ImportFailed(
                    f"cannot read the line {shown(line)}: not a property", path=source, line=number
                )
            if name in _READ:
                properties.append(_property(number, line, source))
    return properties


def _property(number: int, line: str, source: str) -> _Property:
    try:
        name, group, params, value = _content_line(line, number)
    except Exception as error:
        # vobject raises its ParseError for a malformed line, and LookupError
        # or UnicodeDecodeError for a quoted-printable value in a bad charset:
        # any of them means the line cannot be read.
        reason = str(error) or type(error).__name__
        raise ImportFailed(
            f"cannot read the line {shown(line)}: {reason}", path=source, line=number
        ) from None
    return _Property(
        number, name, group, params, value, _unescape(value).strip(), _preference(params)
    )


def _content_line(line: str, number: int) -> tuple[str, str | None, dict[str, list[str]], str]:
    """vobject's reading of a content line: its name and parameters in capitals, group, value.

    Types given without a name, as vCard 2.1 writes them ("TEL;CELL;PREF:..."),
    are among the values of TYPE. Only a quoted-printable value needs
    vobject's ContentLine, which decodes it (in its charset); a line with a
    quoted parameter value is read by vobject's parseLine; any other line is
    read here the same way, several times faster (most of the time a large
    file takes).
    """
    pairs: list[list[str]]
    params: dict[str, list[str]] = {}
    if _QP_MARK in line:
        content = textLineToContentLine(line, number)
        value = content.value if isinstance(content.value, str) else ""
        named = [[str(k), *map(str, v)] for k, v in content.params.items()]
        pairs = named + [[str(v)] for v in content.singletonparams]
        name, group = str(content.name), content.group
    else:
        head, colon, value = line.partition(":")
        plain = _PLAIN_HEAD.fullmatch(head) if colon and '"' not in head else None
        if plain is None:
            # Quoted parameter values, or no property at all: vobject reads or refuses it.
            name, pairs, value, group = parseLine(line, number)
        else:
            # As parseLine reads it: "_" in a name is "-".
            group, name, given = plain.groups()
            if given:
                _plain_params(given, params)
            return name.replace("_", "-").upper(), group, params, value
    for pair in pairs:
        key = pair[0].upper() if len(pair) > 1 else "TYPE"
        params.setdefault(key, []).extend(pair[1:] if len(pair) > 1 else pair)
    return name.upper(), group, params, value


def _plain_params(given: str, params: dict[str, list[str]]) -> None:
    """Put into ``params`` the parameters ``given`` (";TYPE=a,b;PREF=1") as parseLine reads them.

    Empty values are dropped, and a parameter without a value is a TYPE.
    """
    for piece in given[1:].split(";"):
        key, _, values = piece.partition("=")
        found = [v for v in values.split(",") if v]
        if found:
            params.setdefault(key.upper(), []).extend(found)
        else:
            params.setdefault("TYPE", []).append(key)


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return _ESCAPED.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _split(value: str, separator: str) -> list[str]:
    """``value`` cut at each ``separator`` not escaped by a backslash, each part unescaped."""
    if "\\" not in value:
        # Nothing escaped (most values): every separator cuts.
        return value.split(separator)
    parts: list[str] = []
    start = 0
    escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append(_unescape(value[start:index]))
            start = index + 1
    parts.append(_unescape(value[start:]))
    return parts


# -- from a card to a contact --------------------------------------------------------


def _is_group(card: _Card) -> bool:
    kinds = (card.first("KIND"), card.first("X-ADDRESSBOOKSERVER-KIND"))
    return any(kind is not None and kind.text.lower() == "group" for kind in kinds)


@attrs.frozen
class CardFields:
    """What one card says about a person, before it becomes a Contact.

    ``emails`` and ``phones`` are every address and number of the card, the
    preferred one first (the lowest ``PREF``, or ``TYPE=pref``), then in the
    file's order, each once. ``organization`` is the name in ``ORG``.
    """

    line: int
    uid: str | None
    name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    organization: str | None
    tags: tuple[str, ...]
    timezone: str


def _fields(card: _Card, source: str) -> CardFields:
    emails = _ranked(card.all("EMAIL"), _email_value)
    phones = _ranked(card.all("TEL"), _phone_value)
    organization = _organization(card)
    name = _name(card) or organization or (emails[0] if emails else "")
    name = name or (phones[0] if phones else "")
    if not name:
        raise ImportFailed(
            "the card has nothing to name the contact by (no FN, N, NICKNAME, ORG, EMAIL or TEL)",
            path=source,
            line=card.line,
        )
    uid = card.first("UID")
    return CardFields(
        line=card.line,
        uid=uid.text if uid else None,
        name=name,
        emails=emails,
        phones=phones,
        organization=organization,
        tags=tuple(
            tag
            for p in card.all("CATEGORIES")
            for tag in _list(p.value, ",")
            if tag not in GOOGLE_SYSTEM_GROUPS
        ),
        timezone=_timezone(card, source),
    )


def _contact(ident: str, fields: CardFields, source: str) -> Contact:
    """The one place a card's fields become a Contact."""
    with reading(source, fields.line):
        return Contact(
            ident,
            fields.name,
            emails=fields.emails,
            phones=fields.phones,
            organization=fields.organization,
            timezone=fields.timezone,
            tags=fields.tags,
        )


def _list(value: str, separator: str) -> list[str]:
    """The non-empty parts of a list or structured value, each with its spaces made single."""
    return [part for part in (clean_name(p) for p in _split(value, separator)) if part]


def _name(card: _Card) -> str:
    """The name a card gives: FN, else N, else NICKNAME, else the whole of ORG; else ""."""
    formatted = card.first("FN")
    if formatted:
        return clean_name(formatted.text)
    structured = card.first("N")
    if structured:
        # N is family;given;additional;prefix;suffix: say it in the usual order.
        parts = _split(structured.value, ";") + [""] * 5
        family, given, additional, prefix, suffix = parts[:5]
        name = clean_name(" ".join((prefix, given, additional, family, suffix)).replace(",", " "))
        if name:
            return name
    nickname = card.first("NICKNAME")
    if nickname:
        names = _list(nickname.value, ",")
        if names:
            return names[0]
    organisation = card.first("ORG")
    return " ".join(_list(organisation.value, ";")) if organisation else ""


def _organization(card: _Card) -> str | None:
    """The organization's name: the first part of ORG (the others are its units)."""
    prop = card.first("ORG")
    parts = _list(prop.value, ";") if prop else []
    return parts[0] if parts else None


def _ranked(props: list[_Property], value: Callable[[_Property], str]) -> tuple[str, ...]:
    """The values of ``props``, the preferred first, then in order, each once.

    Values that differ only in case are the same (an email address's domain
    has no case, and its local part is compared the same way everywhere in
    cadence).
    """
    ranked = sorted((p.preference, n, text) for n, p in enumerate(props) if (text := value(p)))
    seen: set[str] = set()
    values: list[str] = []
    for _, _, text in ranked:
        if text.casefold() not in seen:
            seen.add(text.casefold())
            values.append(text)
    return tuple(values)


def _email_value(prop: _Property) -> str:
    text = prop.text
    # vCard 4.0 allows an address as a URI.
    return text[len("mailto:") :].strip() if text.lower().startswith("mailto:") else text


def _phone_value(prop: _Property) -> str:
    text = prop.text
    # vCard 4.0 writes numbers as URIs: "TEL;VALUE=uri:tel:+1-555-555-5555".
    return text[len("tel:") :].strip() if text.lower().startswith("tel:") else text


def _preference(params: dict[str, list[str]]) -> int:
    """How much a property is preferred: 1 (most) to 100, and 101 for not at all (RFC 6350)."""
    for value in _param(params, "PREF"):
        number = _number(value)
        if number is not None:
            return max(1, min(number, 100))
    if any(kind.lower() == "pref" for kind in _param(params, "TYPE")):
        return 1
    return _NOT_PREFERRED


_NOT_PREFERRED = 101


def _number(text: str) -> int | None:
    """A whole number written in ASCII digits, else None.

    str.isdigit() holds for "²" too, which int() refuses, and int() refuses
    a number of thousands of digits: neither may escape as a Python error.
    """
    if _ASCII_NUMBER.fullmatch(text):
        return int(text.lstrip("0") or "0")
    return None


def _timezone(card: _Card, source: str) -> str:
    prop = card.first("TZ")
    if prop is None or any(kind.lower() == "uri" for kind in prop.param("VALUE")):
        return _DEFAULT_ZONE
    offsets = False
    # vCard 3.0 allows "-05:00; EST; Raleigh/North America": the first part
    # that names a zone wins.
    for part in (p.strip() for p in prop.text.split(";")):
        match = _OFFSET.fullmatch(part)
        if match or part.upper() == "Z":
            offsets = True
            found = _offset_zone(match, part, prop, source)
            if found is not None:
                return found
        elif part and _known_zone(part):
            return part
    if offsets:
        return _DEFAULT_ZONE
    raise ImportFailed(
        f"TZ: unknown time zone {shown(prop.text)}; expected an IANA name such as "
        "Europe/Paris or a UTC offset",
        path=source,
        line=prop.line,
    )


def _offset_zone(
    match: re.Match[str] | None, text: str, prop: _Property, source: str
) -> str | None:
    """The fixed zone of a whole-hour UTC offset, or None for other offsets."""
    if match is None:  # "Z"
        return "UTC"
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    # The Etc zones run from 14 hours ahead of UTC to 12 behind.
    if minutes >= 60 or hours > (14 if sign == "+" else 12):
        raise ImportFailed(f"TZ: {shown(text)} is not a UTC offset", path=source, line=prop.line)
    if minutes:
        return None
    if hours == 0:
        return "UTC"
    # POSIX-style names: Etc/GMT+5 is five hours behind UTC.
    return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"


def _known_zone(name: str) -> bool:
    try:
        zone(name)
    except CadenceError:
        return False
    return True


# -- dates ------------------------------------------------------------------------------


def _date_parts(prop: _Property, source: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a date property, or None when it names no day."""
    if any(kind.lower() == "text" for kind in prop.param("VALUE")):
        return None
    value = prop.text
    # A date-time ("19850412T103000Z"): the day is what matters.
    day = value.partition("T")[0]
    parts = month_day(day)
    if parts is None:
        if _NO_DAY.fullmatch(day):
            return None
        raise ImportFailed(
            f"{prop.name} {shown(value)}: not a date; expected YYYY-MM-DD or --MM-DD",
            path=source,
            line=prop.line,
        )
    year, month, mday = parts
    omitted = prop.param(_APPLE_OMIT_YEAR)
    if year == _APPLE_NO_YEAR or (year is not None and omitted and _number(omitted[0]) == year):
        return None, month, mday
    return parts


def _birthday(card: _Card, contact: str, source: str) -> list[OccasionKind]:
    prop = card.first("BDAY")
    parts = _date_parts(prop, source) if prop else None
    if prop is None or parts is None:
        return []
    with reading(source, prop.line, f"BDAY {shown(prop.text)}"):
        return [birthday(contact, parts)]


def _anniversary_property(card: _Card) -> _Property | None:
    for name in _ANNIVERSARIES:
        found = card.first(name)
        if found:
            return found
    # Apple labels a date by a property of the same group.
    labelled = {
        p.group.lower() for p in card.all("X-ABLABEL") if p.group and p.text == _APPLE_ANNIVERSARY
    }
    for prop in card.all("X-ABDATE"):
        if prop.group and prop.group.lower() in labelled and prop.text:
            return prop
    return None


def _anniversary(card: _Card, contact: str, source: str) -> list[OccasionKind]:
    prop = _anniversary_property(card)
    parts = _date_parts(prop, source) if prop else None
    if prop is None or parts is None:
        return []
    year, month, day = parts
    about = f"{prop.name} {shown(prop.text)}"
    with reading(source, prop.line, about):
        if year is None:
            return [Occasion(_ANNIVERSARY, month=month, day=day, contact=contact)]
        try:
            when = date(year, month, day)
        except ValueError:
            raise ImportFailed(f"{about}: not a date", path=source, line=prop.line) from None
        return [Anniversary(contact, when, label=_ANNIVERSARY)]
