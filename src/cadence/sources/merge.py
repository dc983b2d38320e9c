"""Merging an import into what the store has: the rules, with no I/O.

A record of the batch is the same person as a contact the store has when,
in this order:

1. the source gave it a uid (a vCard ``UID``, a LinkedIn profile address)
   that an earlier import of the same source tied to that contact;
2. its uid is that contact's id (contacts imported before uids were kept
   had their vCard ``UID`` as their id);
3. the file chose its id (cadence's own CSV) and the store has that id;
4. one of its email addresses is one of the contact's, compared
   case-insensitively;
5. it has no email address, and exactly one contact has its name, as
   written (a LinkedIn connection whose address is hidden).

A matched contact takes what the file carries: the name; its email
addresses and phone numbers first, then those it already had; the
organization, zone, channel and start date when the file gives them; the
file's tags added to its own. What was set in cadence and the file does not
carry stays: tags, channel, rules, touchpoints. A birthday in the file
replaces the contact's birthday; anniversaries in the file replace its
anniversaries; a date the file does not give is kept, so occasions never
duplicate. A contact the store does not have gets a readable id made from
its name (``ana-lopez``, then ``ana-lopez-2``), unless the file chose one,
and remembers the day it was added.

A record that an earlier import of the same source read exactly as it is
now is not read again (``ImportBatch.unchanged``): its contact is left as
it is, with what was changed in cadence since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import date
from typing import Literal

import attrs

from cadence.core.errors import CadenceError, ImportFailed
from cadence.core.model import Contact, Rule, Touchpoint, email_key
from cadence.core.occasions import Anniversary, Birthday, OccasionKind
from cadence.core.serial import cadence_to_data, dumps, occasion_to_data
from cadence.sources._common import shown, slug
from cadence.sources.batch import ImportBatch, Skipped

__all__ = [
    "Change",
    "ImportReport",
    "Known",
    "MergePlan",
    "StaleImport",
    "merge",
    "occasion_group",
]

#: The fields of a contact a report names, in the order it names them.
FIELDS = (
    "name",
    "emails",
    "phones",
    "organization",
    "timezone",
    "channel",
    "tags",
    "since",
)

#: The uid under which a record without one is tied to its contact: its id.
_BY_ID = "cadence-id:"
#: The zone of a contact whose record names none.
_DEFAULT_ZONE = attrs.fields(Contact).timezone.default


def occasion_group(occasion: OccasionKind) -> str | None:
    """Which of a contact's dates an imported occasion stands for: "birthday", "anniversary".

    A file's birthday replaces the contact's birthday and its anniversaries
    the contact's anniversaries (a yearly occasion called "anniversary" is
    one without a year). Other occasions are None: imports never replace them.
    """
    if isinstance(occasion, Birthday):
        return "birthday"
    if isinstance(occasion, Anniversary) or occasion.title.casefold() == "anniversary":
        return "anniversary"
    return None


@attrs.frozen
class Known:
    """What the store has that an import may meet, read in the import's transaction.

    ``contacts`` are the contacts the batch may match (by uid, id, email or
    name), by id; ``ids`` every id in the store; ``links`` the contact each
    uid of this source was tied to; ``by_email`` and ``by_name`` the contacts
    with an address (its ``email_key``) or a name; ``occasions`` the
    birthdays and anniversaries of ``contacts`` that were not given by an
    occasion source, with their ids; ``rules`` the cadence of each of their
    own rules (as data); ``digests`` the digest of the record that made
    each uid's link, for the links whose contact the store still has.
    """

    contacts: Mapping[str, Contact]
    ids: Set[str]
    links: Mapping[str, str]
    by_email: Mapping[str, Sequence[str]]
    by_name: Mapping[str, Sequence[str]]
    occasions: Mapping[str, Sequence[tuple[int, OccasionKind]]] = attrs.field(factory=dict)
    rules: Mapping[str, str] = attrs.field(factory=dict)
    digests: Mapping[str, str] = attrs.field(factory=dict)


class StaleImport(CadenceError):
    """The store changed between reading an import's known digests and merging it.

    Read the file again without leaving anything out, and merge that.
    """


@attrs.frozen
class Change:
    """What an import does to one contact: ``new``, ``updated`` (with the fields) or ``unchanged``.

    ``line`` is where the record starts in the file, when known.
    """

    contact: Contact
    status: Literal["new", "updated", "unchanged"]
    fields: tuple[str, ...] = ()
    line: int | None = None


@attrs.frozen
class ImportReport:
    """What an import did, or with ``dry_run`` would do, contact by contact.

    ``missing`` are contacts an earlier import of the same source brought in
    that the file no longer has (or that a contact source deleted);
    ``removed`` those of them taken out of the store (``prune``).
    ``unread`` counts the records left unread because an earlier import
    read them as they are (``ImportBatch.unchanged``): their contacts are
    unchanged too, but not among ``unchanged``.
    """

    changes: tuple[Change, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    unread: int = 0
    missing: tuple[Contact, ...] = ()
    removed: tuple[Contact, ...] = ()
    occasions: int = 0
    rules: int = 0
    dry_run: bool = False

    def _with(self, status: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.status == status)

    @property
    def new(self) -> tuple[Change, ...]:
        """The contacts the import added."""
        return self._with("new")

    @property
    def updated(self) -> tuple[Change, ...]:
        """The contacts the import changed."""
        return self._with("updated")

    @property
    def unchanged(self) -> tuple[Change, ...]:
        """The contacts the file has that were already as it says."""
        return self._with("unchanged")

    @property
    def changed_anything(self) -> bool:
        """Whether the import changes the store at all."""
        return bool(self.new or self.updated or self.removed or self.occasions or self.rules)


@attrs.frozen
class MergePlan:
    """The writes that make the store hold what the batch says, and the report of them.

    ``dated`` are the contacts whose occasions change; ``links`` tie a
    uid to a contact, with the digest of the record that made the link.
    ``add_data`` holds the stored form of each of ``add_occasions``
    (``dumps(occasion_to_data(o))``), which merging made already.
    """

    report: ImportReport
    contacts: tuple[Contact, ...] = ()
    links: tuple[tuple[str, str, str | None], ...] = ()
    drop_occasions: tuple[int, ...] = ()
    add_occasions: tuple[OccasionKind, ...] = ()
    add_data: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    touchpoints: tuple[Touchpoint, ...] = ()
    missing: tuple[str, ...] = ()
    dated: tuple[str, ...] = ()

    def changes_agenda(self, *, prune: bool) -> bool:
        """Whether the writes may change what is due: not when they only tie uids and digests."""
        return bool(
            self.contacts
            or self.drop_occasions
            or self.add_occasions
            or self.rules
            or self.touchpoints
            or self.dated
            or (prune and self.missing)
        )


def link_uid(uid: str | None, contact_id: str) -> str:
    """The uid a record is tied to its contact under: its own, else the contact's id."""
    return uid if uid else _BY_ID + contact_id


def merge(
    batch: ImportBatch,
    known: Known,
    *,
    today: date,
    complete: bool = True,
    gone: Set[str] = frozenset(),
) -> MergePlan:
    """What merging ``batch`` into the store that ``known`` describes writes, and its report.

    ``today`` is the day new contacts are added on. With ``complete`` (a
    whole file), the contacts tied to this source that the batch does not
    have are missing; otherwise (a contact source's changes) those whose uid
    is in ``gone`` are.
    """
    merged: dict[str, Contact] = {}
    before: dict[str, Contact] = {}
    lines: dict[str, int | None] = {}
    order: list[str] = []
    final: dict[str, str] = {}
    links: dict[str, str] = {}
    digests: dict[str, str | None] = {}
    unread = _unread(batch, known)
    fresh = _Ids(known.ids)
    for record in batch.contacts:
        origin = batch.origin(record.id)
        if origin.uid and origin.uid in unread:
            raise ImportFailed(
                f"UID {shown(origin.uid)} is on two records of the file", line=origin.line
            )
        found = _match(record, origin.uid, batch.proposed_ids, known)
        if found is not None and found in merged:
            target = found
            merged[target] = _merged(merged[target], record)
        elif found is not None:
            target = found
            before[target] = known.contacts[found]
            merged[target] = _merged(known.contacts[found], record)
        else:
            target = fresh.make(record.name) if batch.proposed_ids else record.id
            fresh.take(target)
            merged[target] = record._entered(target, record.added or today)
        if target not in lines:
            order.append(target)
            lines[target] = origin.line
        final[record.id] = target
        links[link_uid(origin.uid, target)] = target
        digests[link_uid(origin.uid, target)] = origin.digest

    changes: list[Change] = []
    writes: list[Contact] = []
    for ident in order:
        contact = merged[ident]
        old = before.get(ident)
        if old is None:
            changes.append(Change(contact, "new", line=lines[ident]))
            writes.append(contact)
            continue
        fields = tuple(f for f in FIELDS if getattr(old, f) != getattr(contact, f))
        changes.append(
            Change(contact, "updated" if fields else "unchanged", fields, line=lines[ident])
        )
        if fields:
            writes.append(contact)

    drop, add, add_data = _occasions(batch, final, known)
    rules = _rules(batch, final, known)
    at = {change.contact.id: index for index, change in enumerate(changes)}
    for rule in rules:
        _note(changes, at, rule.contact, "every")
    dated: set[str] = set()
    for occasion in (*add, *(o for _, o in _dropped(known, drop))):
        group = occasion_group(occasion)
        if occasion.contact is not None:
            dated.add(occasion.contact)
        if group is not None:
            _note(changes, at, occasion.contact, group)
    touches = tuple(
        attrs.evolve(t, contact=final.get(t.contact, t.contact)) for t in batch.touchpoints
    )
    new_links = tuple(
        (uid, ident, digests[uid])
        for uid, ident in sorted(links.items())
        if known.links.get(uid) != ident or known.digests.get(uid) != digests[uid]
    )
    if complete:
        missing_ids = {
            ident for uid, ident in known.links.items() if uid not in links and uid not in unread
        }
    else:
        missing_ids = {known.links[uid] for uid in gone if uid in known.links}
    missing_ids -= set(order)
    report = ImportReport(
        changes=tuple(changes),
        skipped=batch.skipped,
        unread=len(batch.unchanged),
        missing=tuple(known.contacts[i] for i in sorted(missing_ids) if i in known.contacts),
        occasions=len(add),
        rules=len(rules),
    )
    return MergePlan(
        report,
        contacts=tuple(writes),
        links=new_links,
        drop_occasions=tuple(drop),
        add_occasions=tuple(add),
        add_data=tuple(add_data),
        rules=tuple(rules),
        touchpoints=touches,
        missing=tuple(sorted(i for i in missing_ids if i in known.contacts)),
        dated=tuple(sorted(dated)),
    )


def _unread(batch: ImportBatch, known: Known) -> set[str]:
    """The uids of the links whose records the batch left unread; StaleImport if one is gone."""
    if not batch.unchanged:
        return set()
    by_digest = {digest: uid for uid, digest in known.digests.items()}
    if not by_digest.keys() >= set(batch.unchanged):
        raise StaleImport(
            "the store changed while the file was read (a contact it had imported is gone)"
        )
    return {by_digest[digest] for digest in batch.unchanged}


def _note(changes: list[Change], at: Mapping[str, int], contact: str | None, field: str) -> None:
    """Name ``field`` among what changed for ``contact`` (an occasion or a rule)."""
    index = at.get(contact or "")
    if index is None:
        return
    change = changes[index]
    if change.status == "new" or field in change.fields:
        return
    changes[index] = attrs.evolve(change, status="updated", fields=(*change.fields, field))


def _match(record: Contact, uid: str | None, proposed: bool, known: Known) -> str | None:
    if uid:
        if uid in known.links and known.links[uid] in known.contacts:
            return known.links[uid]
        if uid in known.contacts:
            return uid
    if not proposed and record.id in known.contacts:
        return record.id
    for address in record.emails:
        found = known.by_email.get(email_key(address), ())
        if found:
            return sorted(found)[0]
    if not record.emails:
        named = known.by_name.get(record.name, ())
        if len(named) == 1:
            return named[0]
    return None


def _merged(old: Contact, new: Contact) -> Contact:
    """``old`` with what ``new`` (a record of the file) carries."""
    # Both are checked contacts already: the lists are joined as Contact
    # joins them (an address once, whatever its case; a number once).
    emails: dict[str, str] = {}
    for address in (*new.emails, *old.emails):
        emails.setdefault(email_key(address), address)
    phones = tuple(dict.fromkeys((*new.phones, *old.phones)))
    organization = new.organization or old.organization
    timezone = new.timezone if new.timezone != _DEFAULT_ZONE else old.timezone
    channel = new.channel or old.channel
    tags = old.tags | new.tags
    since = new.since or old.since
    if (
        new.name == old.name
        and tuple(emails.values()) == old.emails
        and phones == old.phones
        and (organization, timezone, channel, tags, since)
        == (old.organization, old.timezone, old.channel, old.tags, old.since)
    ):
        # Nothing changes, as on most records of a file imported again: the
        # contact as it is, rather than the same one made and checked anew.
        return old
    return Contact(
        old.id,
        new.name,
        emails=emails.values(),
        phones=phones,
        organization=organization,
        timezone=timezone,
        channel=channel,
        tags=tags,
        since=since,
        added=old.added,
    )


def _occasions(
    batch: ImportBatch, final: Mapping[str, str], known: Known
) -> tuple[list[int], list[OccasionKind], list[str]]:
    """The stored occasions the file's replace, the file's that are not stored yet, and their data.

    The data of an occasion is its stored form, ``dumps(occasion_to_data(o))``.
    """
    wanted: dict[tuple[str, str], dict[str, OccasionKind]] = {}
    extra: list[OccasionKind] = []
    for occasion in batch.occasions:
        group = occasion_group(occasion)
        if occasion.contact is None or group is None:
            extra.append(occasion)
            continue
        contact = final.get(occasion.contact, occasion.contact)
        moved = occasion if contact == occasion.contact else attrs.evolve(occasion, contact=contact)
        wanted.setdefault((contact, group), {}).setdefault(dumps(occasion_to_data(moved)), moved)
    drop: list[int] = []
    add: list[OccasionKind] = list(extra)
    add_data = [dumps(occasion_to_data(o)) for o in extra]
    for (contact, group), given in wanted.items():
        kept: set[str] = set()
        for ident, stored in known.occasions.get(contact, ()):
            if occasion_group(stored) != group:
                continue
            data = dumps(occasion_to_data(stored))
            if data in given and data not in kept:
                kept.add(data)
            else:
                drop.append(ident)
        for data, occasion in given.items():
            if data not in kept:
                add.append(occasion)
                add_data.append(data)
    return drop, add, add_data


def _dropped(known: Known, drop: Sequence[int]) -> list[tuple[int, OccasionKind]]:
    wanted = set(drop)
    return [
        (ident, occasion)
        for stored in known.occasions.values()
        for ident, occasion in stored
        if ident in wanted
    ]


def _rules(batch: ImportBatch, final: Mapping[str, str], known: Known) -> list[Rule]:
    """The batch's rules, for the final ids, less those the store has already."""
    found = []
    for rule in batch.rules:
        if rule.contact is not None:
            contact = final.get(rule.contact, rule.contact)
            rule = attrs.evolve(rule, contact=contact)
            if known.rules.get(contact) == dumps(cadence_to_data(rule.cadence)):
                continue
        found.append(rule)
    return found


class _Ids:
    """Free readable ids for new contacts: the name's slug, then ``-2``, ``-3``..."""

    def __init__(self, taken: Set[str]) -> None:
        self._taken = taken
        self._mine: set[str] = set()
        self._next: dict[str, int] = {}

    def _free(self, ident: str) -> bool:
        return ident not in self._taken and ident not in self._mine

    def take(self, ident: str) -> None:
        self._mine.add(ident)

    def make(self, name: str) -> str:
        base = slug(name) or "contact"
        if base not in self._next and self._free(base):
            self._next[base] = 2
            self._mine.add(base)
            return base
        count = self._next.get(base, 2)
        while not self._free(f"{base}-{count}"):
            count += 1
        self._next[base] = count + 1
        self._mine.add(f"{base}-{count}")
        return f"{base}-{count}"
