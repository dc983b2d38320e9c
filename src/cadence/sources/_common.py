"""What the built-in importers share: reading dates, naming places in a file, making ids."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from cadence.core.errors import CadenceError, ImportFailed
from cadence.core.occasions import Birthday

__all__ = [
    "BOM",
    "GOOGLE_SYSTEM_GROUPS",
    "ProposedIds",
    "birthday",
    "clean_name",
    "note_first_line",
    "reading",
    "shown",
    "slug",
]

BOM = "\ufeff"

#: The ids of Google Contacts' own groups, which its exports write next to the
#: user's labels (vCard ``CATEGORIES:myContacts,starred,Clients``; CSV
#: ``Labels``: ``* myContacts ::: Clients ::: * starred``). They are compared
#: as written: a label the user made ("Family") is kept.
GOOGLE_SYSTEM_GROUPS = frozenset(
    {"myContacts", "starred", "friends", "family", "coworkers", "chatBuddies", "all", "blocked"}
)

# The longest value quoted whole in an error message; longer ones are cut.
_SHOWN = 60


def shown(value: str) -> str:
    """``value`` quoted for an error message, cut short when long."""
    if len(value) > _SHOWN:
        value = value[: _SHOWN - 3] + "..."
    return repr(value)


def birthday(contact: str, parts: tuple[int | None, int, int]) -> Birthday:
    """The Birthday of ``contact`` on (year or None, month, day); a missing day raises."""
    year, month, day = parts
    return Birthday(contact, month, day, year=year)


def clean_name(text: str) -> str:
    """``text`` with each run of white space (newlines too) made one space, and trimmed."""
    return " ".join(text.split())


# Latin letters that have no base letter to decompose into, written as people type them.
_LATIN = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ß": "ss"}
    | {"\u0131": "i"}  # the dotless i of Turkish
)


def slug(text: str) -> str:
    """Lowercase words of ``text`` joined by hyphens, accents dropped: "Zoë Ålund" -> "zoe-alund".

    Latin letters without a base letter are spelt out ("Søren Łukasz" ->
    "soren-lukasz").

    Letters without an ASCII base (CJK, Cyrillic...) are kept as they are.
    """
    if text.isascii():
        # Most names: nothing to decompose (for ASCII, casefold is lower).
        return "-".join(_WORD.findall(text.lower()))
    # Word by word, as names share their words: white space neither joins a
    # word nor composes with a letter, so this is _slug(text).
    return "-".join(filter(None, map(_word_slug, text.split())))


def _slug(text: str) -> str:
    """``slug`` of ``text`` in one piece, spaces or not."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LATIN))
    bare = decomposed if decomposed.isascii() else decomposed.translate(_UNMARKED)
    return "-".join(_WORD.findall(unicodedata.normalize("NFC", bare).casefold()))


_WORD = re.compile(r"[^\W_]+")
_word_slug = lru_cache(maxsize=4096)(_slug)


class _Unmarked(dict[int, int | None]):
    """A translation table that drops combining marks, filled in as characters are met."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if len(self) < _UNMARKED_SIZE:  # however many characters a file holds
            self[code] = kept
        return kept


_UNMARKED_SIZE = 1 << 16
_UNMARKED = _Unmarked()


def reading(source: str, line: int | None, about: str | None = None) -> _Reading:
    """Turn a CadenceError raised inside into ImportFailed at ``line`` of ``source``.

    ``about`` says which column or property the error is about; it prefixes
    the message.
    """
    return _Reading(source, line, about)


class _Reading:
    """What ``reading`` gives: a plain class, as it is entered once or more for each record."""

    __slots__ = ("_about", "_line", "_source")

    def __init__(self, source: str, line: int | None, about: str | None) -> None:
        self._source = source
        self._line = line
        self._about = about

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: object
    ) -> None:
        if error is None or isinstance(error, ImportFailed):
            return
        if isinstance(error, CadenceError):
            message = f"{self._about}: {error}" if self._about else str(error)
            raise ImportFailed(message, path=self._source, line=self._line) from None


def note_first_line(
    seen: dict[str, int], contact_id: str, line: int, source: str, *, what: str = "contact id"
) -> None:
    """Remember the line ``contact_id`` is on; ImportFailed if an earlier record had it."""
    if contact_id in seen:
        raise ImportFailed(
            f"{what} {shown(contact_id)} appears twice (first on line {seen[contact_id]})",
            path=source,
            line=line,
        )
    seen[contact_id] = line


class ProposedIds:
    """Readable ids made from names, each unique within one file: ``ana-lopez``, ``ana-lopez-2``.

    They are proposals (``ImportBatch.proposed_ids``): the store keeps the id
    of a contact it already has and makes a new one free in the store.
    """

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def __call__(self, name: str) -> str:
        """A readable id for ``name`` not proposed before in this file."""
        base = slug(name) or "contact"
        proposed, count = base, 1
        while proposed in self._taken:
            count += 1
            proposed = f"{base}-{count}"
        self._taken.add(proposed)
        return proposed
