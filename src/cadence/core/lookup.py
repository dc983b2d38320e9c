"""Which contact a text a person typed names: an id, an email address or a prefix.

Pure: the store finds the candidates, these functions rank them and word the
refusal when the text names none or more than one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cadence.core.errors import CadenceError
from cadence.core.model import Contact, email_key

__all__ = [
    "BY_EMAIL",
    "BY_ID",
    "BY_NAME",
    "BY_PREFIX",
    "SHOWN",
    "fold",
    "like_prefix",
    "match_contacts",
    "match_kind",
    "pick_contact",
]

#: How many candidates an ambiguous lookup names before "and N more".
SHOWN = 5


def fold(text: str) -> str:
    """The form names and id prefixes are compared in: case-insensitive."""
    return text.casefold()


def like_prefix(text: str, escape: str = "\\") -> str:
    """A LIKE pattern matching what starts with ``text``, its ``%`` and ``_`` taken literally."""
    for special in (escape, "%", "_"):
        text = text.replace(special, escape + special)
    return text + "%"


def match_contacts(text: str, candidates: Iterable[Contact]) -> list[Contact]:
    """The contacts ``text`` names, best first, from the best kind of match only.

    The kinds, best first: the exact id; one of the contact's email
    addresses (any case); the whole name (any case); the start of the id or
    of the name (any case). Only the best kind any candidate reaches counts,
    so an exact id is never ambiguous with a longer id it starts. Within a
    kind, contacts come by id. A text that is empty or only spaces names nobody.
    """
    tiers: list[dict[str, Contact]] = [{}, {}, {}, {}]
    for person in candidates:
        tier = match_kind(text, person)
        if tier is not None:
            tiers[tier].setdefault(person.id, person)
    for found in tiers:
        if found:
            return [found[key] for key in sorted(found)]
    return []


#: The kinds of match :func:`match_kind` tells, best first.
BY_ID, BY_EMAIL, BY_NAME, BY_PREFIX = range(4)


def match_kind(text: str, person: Contact) -> int | None:
    """How ``text`` names ``person`` (BY_ID, BY_EMAIL, BY_NAME or BY_PREFIX), or None."""
    wanted = text.strip()
    if not wanted:
        return None
    folded = fold(wanted)
    if person.id == wanted:
        return BY_ID
    if any(email_key(e) == email_key(wanted) for e in person.emails):
        return BY_EMAIL
    if fold(person.name) == folded:
        return BY_NAME
    if fold(person.id).startswith(folded) or fold(person.name).startswith(folded):
        return BY_PREFIX
    return None


def pick_contact(text: str, matches: Sequence[Contact], *, more: int = 0) -> Contact:
    """The one contact of ``matches`` (from :func:`match_contacts`), or a CadenceError.

    ``more`` is how many further candidates exist beyond ``matches`` (a store
    reads only a few); the refusal counts them in its "and N more".
    """
    if len(matches) == 1 and not more:
        return matches[0]
    if not matches:
        raise CadenceError(
            f"no contact has the id, email or name {text!r} (nor one starting with it); "
            "'cadence contact list' lists them"
        )
    named = ", ".join(f"{p.id} ({p.name})" for p in matches[:SHOWN])
    rest = len(matches) - min(len(matches), SHOWN) + more
    tail = f" and {rest} more" if rest else ""
    raise CadenceError(
        f"{text!r} could be several contacts: {named}{tail}; give more of it, or the id"
    )
