"""What an importer returns: contacts and the dates and rules that came with them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from cadence.core.errors import CadenceError
from cadence.core.model import Contact, Rule, Touchpoint
from cadence.core.occasions import OccasionKind
from cadence.core.touches import Meeting, Message

__all__ = [
    "ContactChanges",
    "ImportBatch",
    "Origin",
    "Skipped",
    "TouchChanges",
    "record_digest",
]


def record_digest(salt: str, text: str) -> str:
    """A short fingerprint of one record of a file, as read by one version of one reader.

    An importer that leaves out the records an earlier import read (see
    ``ImportBatch.unchanged``) fingerprints each record's text with a
    ``salt`` of its own: its name and a version it changes whenever it
    would read the same text differently, and anything else that changes
    the reading (a CSV's header).
    """
    found = hashlib.blake2b(salt.encode(), digest_size=16)
    found.update(b"\x00")
    found.update(text.encode("utf-8", "surrogatepass"))
    return found.hexdigest()


def _contacts(items: Iterable[Contact]) -> tuple[Contact, ...]:
    return tuple(items)


def _rules(items: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(items)


def _occasions(items: Iterable[OccasionKind]) -> tuple[OccasionKind, ...]:
    return tuple(items)


def _touchpoints(items: Iterable[Touchpoint]) -> tuple[Touchpoint, ...]:
    return tuple(items)


@attrs.frozen
class Origin:
    """Where one contact of a batch came from.

    ``line`` is the line of the file its record starts on; ``uid`` is the
    source's own id for it (a vCard ``UID``, a LinkedIn profile address),
    kept so that a later import of the same source finds the same contact.
    ``digest`` is the record's ``record_digest``, kept so that a later
    import can leave the record out when it has not changed.
    """

    line: int | None = None
    uid: str | None = None
    # A fingerprint of the text, not part of what the record says.
    digest: str | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Skipped:
    """A record an importer left out, with the line it starts on and why, in plain words."""

    line: int | None
    reason: str


def _origins(items: Mapping[str, Origin]) -> Mapping[str, Origin]:
    if not isinstance(items, Mapping):
        raise CadenceError(f"an import batch's origins must be a mapping, not {items!r}")
    return MappingProxyType(dict(items))


def _digests(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _skipped(items: Iterable[Skipped]) -> tuple[Skipped, ...]:
    return tuple(items)


@attrs.frozen
class ImportBatch:
    """Everything read from one file, kept or dropped as a whole.

    ``contacts`` are merged into the store: a contact the store already has
    (found by the source's uid, by id, or by an email address) is updated
    with what the batch carries, and keeps what was set by hand. ``rules``
    and ``occasions`` name the batch's contacts by their ids in the batch.

    ``origins`` tell, by contact id in the batch, the line and the source's
    uid of each contact; ``skipped`` lists the records left out and why.
    ``proposed_ids`` says that the ids were made up by the importer (from
    names) rather than chosen in the file: the store then gives a new
    contact a free readable id of its own, and never matches on these ids.

    ``unchanged`` holds the digests of records the importer left out
    because an earlier import of the same source read them exactly so
    (it was given their digests as ``known``): the store counts their
    contacts as unchanged and leaves them as they are, including what was
    changed in cadence since.
    """

    contacts: tuple[Contact, ...] = attrs.field(converter=_contacts)
    rules: tuple[Rule, ...] = attrs.field(default=(), converter=_rules)
    occasions: tuple[OccasionKind, ...] = attrs.field(default=(), converter=_occasions)
    touchpoints: tuple[Touchpoint, ...] = attrs.field(default=(), converter=_touchpoints)
    origins: Mapping[str, Origin] = attrs.field(factory=dict, kw_only=True, converter=_origins)
    skipped: tuple[Skipped, ...] = attrs.field(default=(), kw_only=True, converter=_skipped)
    proposed_ids: bool = attrs.field(default=False, kw_only=True)
    unchanged: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_digests)

    def origin(self, contact_id: str) -> Origin:
        """The origin of the batch's contact ``contact_id`` (an empty one when none was given)."""
        return self.origins.get(contact_id, _NOWHERE)


_NOWHERE = Origin()


def _state(value: Mapping[str, str] | None) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CadenceError(f"a contact source's state must be a mapping, not {value!r}")
    return MappingProxyType(dict(value))


def _uids(items: Iterable[str]) -> frozenset[str]:
    return frozenset(items)


@attrs.frozen
class ContactChanges:
    """What a contact source (an address book on a server) has changed since its last sync.

    ``batch`` holds the cards that are new or changed, each with its uid in
    ``batch.origins``; ``gone`` the uids of those the source no longer has.
    ``state`` is what the source wants back on its next sync (a sync token,
    the ETag of each card); the store keeps it with the changes, in the same
    transaction, and None leaves the kept state as it was.
    """

    batch: ImportBatch
    gone: frozenset[str] = attrs.field(default=frozenset(), converter=_uids)
    state: Mapping[str, str] | None = attrs.field(default=None, converter=_state, eq=False)


def _items(items: Iterable[Message | Meeting]) -> tuple[Message | Meeting, ...]:
    found = tuple(items)
    for item in found:
        if not isinstance(item, Message | Meeting):
            raise CadenceError(f"a touch source gave {item!r}, which is no Message or Meeting")
    return found


@attrs.frozen
class TouchChanges:
    """What a touch source (a mailbox, a calendar) has that is new since its last sync.

    ``items`` are the messages and meetings read; the rules of
    ``cadence.core.touches`` make touchpoints of them for the contacts they
    involve. ``gone`` holds the refs of those the source no longer has
    (their touchpoints are removed); with ``complete``, ``items`` are
    everything the source has, and the touchpoints of refs not among them
    are removed too. ``state`` is what the source wants back on its next
    sync (a folder's UIDVALIDITY and last UID, a sync token), kept in the
    same transaction; None leaves the kept state as it was.
    """

    items: tuple[Message | Meeting, ...] = attrs.field(default=(), converter=_items)
    gone: frozenset[str] = attrs.field(default=frozenset(), converter=_uids)
    complete: bool = False
    state: Mapping[str, str] | None = attrs.field(default=None, converter=_state, eq=False)
