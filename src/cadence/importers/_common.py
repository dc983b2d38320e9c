"""What the built-in importers share: reading dates, naming places in a file, making ids."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

from cadence._errors import CadenceError, ImportFailed
from cadence._occasions import Birthday

__all__ = [
    "BOM",
    "birthday",
    "clean_name",
    "month_day",
    "reading",
    "shown",
    "slug",
]

BOM = "\ufeff"

# The longest value quoted whole in an error message; longer ones are cut.
_SHOWN = 60

_YEAR_MONTH_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})|(\d{4})(\d{2})(\d{2})")
_MONTH_DAY = re.compile(r"(?:--)?(\d{2})-(\d{2})|--(\d{2})(\d{2})")


def shown(value: str) -> str:
    """``value`` quoted for an error message, cut short when long."""
    if len(value) > _SHOWN:
        value = value[: _SHOWN - 3] + "..."
    return repr(value)


def month_day(text: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) read from a date with or without its year, else None.

    Reads ``YYYY-MM-DD`` and ``YYYYMMDD``, and without a year ``--MM-DD``,
    ``--MMDD`` (vCard 4.0) and ``MM-DD``. Whether the day exists is left to
    the occasion that receives it.
    """
    match = _YEAR_MONTH_DAY.fullmatch(text)
    if match:
        year, month, day = (g for g in match.groups() if g is not None)
        return int(year), int(month), int(day)
    match = _MONTH_DAY.fullmatch(text)
    if match:
        month, day = (g for g in match.groups() if g is not None)
        return None, int(month), int(day)
    return None


def birthday(contact: str, parts: tuple[int | None, int, int]) -> Birthday:
    """The Birthday of ``contact`` on (year or None, month, day); a missing day raises."""
    year, month, day = parts
    return Birthday(contact, month, day, year=year)


def clean_name(text: str) -> str:
    """``text`` with each run of white space (newlines too) made one space, and trimmed."""
    return " ".join(text.split())


def slug(text: str) -> str:
    """Lowercase words of ``text`` joined by hyphens, accents dropped: "Zoë Ålund" -> "zoe-alund".

    Letters without an ASCII base (CJK, Cyrillic...) are kept as they are.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFC", bare).casefold())
    return "-".join(words)


@contextmanager
def reading(source: str, line: int | None, about: str | None = None) -> Iterator[None]:
    """Turn a CadenceError raised inside into ImportFailed at ``line`` of ``source``.

    ``about`` says which column or property the error is about; it prefixes
    the message.
    """
    try:
        yield
    except ImportFailed:
        raise
    except CadenceError as error:
        message = f"{about}: {error}" if about else str(error)
        raise ImportFailed(message, path=source, line=line) from None
