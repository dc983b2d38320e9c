"""What the SQL stores share: the schema's meaning, replanning, and the ledger's rules.

A dialect subclass supplies the connection, transactions and migrations;
queries here are written with ``?`` placeholders and plain SQL that SQLite and
PostgreSQL read alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import attrs

from cadence.core.durations import parse_duration, shown_value
from cadence.core.errors import CadenceError
from cadence.core.model import Contact, Rule, Snooze, Touchpoint, _identifier, email_key
from cadence.core.reminders import Agenda, PlanningProblem, Reminder
from cadence.core.serial import (
    CONTACT_COLUMNS,
    cadence_from_data,
    cadence_to_data,
    contact_from_row,
    contact_to_row,
    dumps,
    occasion_from_data,
    occasion_to_data,
    reminder_from_row,
    reminder_row,
)
from cadence.core.time import require_aware

if TYPE_CHECKING:
    # Imported where they are used: reading what is planned, as `cadence due`
    # does, needs no planning, occasions, drift, lookup, roster nor ledger.
    from cadence._delivery import Delivery, Published
    from cadence.core.occasions import OccasionKind
    from cadence.core.roster import Roster
    from cadence.sources.batch import ImportBatch
    from cadence.sources.merge import ImportReport, Known, MergePlan

__all__ = ["Claim", "LedgerEntry", "SqlStore"]

#: The contact columns every query reads, in ``contact_from_row``'s order.
_CONTACT_COLUMNS = ", ".join(CONTACT_COLUMNS)
_CONTACT_COLUMNS_OF_C = ", ".join(f"c.{c}" for c in CONTACT_COLUMNS)

#: The touchpoint columns ``_touch`` reads, in its order.
_TOUCH_COLUMNS = "contact_id, at, channel, personal, direction, note, source, ref"

#: Stable-until value of a contact whose plan must be made again before use.
STALE = -1e15
#: Stable-until value of a plan that time alone never changes.
NEVER = 1e15
#: The shortest window planned ahead for each contact; a longer ``within`` plans further.
PLAN_AHEAD = timedelta(days=62)
#: How many contacts are planned together when plans are brought up to date.
REPLAN_BATCH = 2000


class Cursor(Protocol):
    """The part of a DB-API cursor the stores use."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ..., /) -> list[Any]: ...
    def fetchone(self) -> Any: ...

    @property
    def rowcount(self) -> int: ...


# Rows of the ledger, as named tuples: defining an attrs class costs five
# times as much, at the start of every command that opens a store.


class Claim(NamedTuple):
    """A delivery this dispatcher may attempt now: reminder key, route and attempts so far."""

    key: str
    route: str
    attempts: int


class LedgerEntry(NamedTuple):
    """One row of the delivery ledger, as ``cadence status`` shows it."""

    key: str
    route: str
    status: str
    attempts: int
    contact: str | None
    title: str | None
    updated: str | None
    next_attempt: str | None
    error: str | None


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def legacy_emails(
    found: Iterable[Sequence[Any]],
) -> tuple[list[tuple[str, str]], list[tuple[str, int, str, str]]]:
    """For (id, email) rows stored when a contact had one address: the emails
    column's (value, id) and the contact_emails rows, that address the primary."""
    emails = []
    rows = []
    for ident, address in found:
        emails.append((dumps([address]), ident))
        rows.append((ident, 0, address, email_key(address)))
    return emails, rows


def _marks(n: int) -> str:
    return ",".join("?" * n)


class SqlStore:
    """A store of contacts, rules, occasions, touchpoints, snoozes and the delivery ledger.

    Every write runs in one transaction. Each contact's next reminders are
    kept, planned by the pure core, in an indexed table: asking what is due
    reads that table and plans again only the contacts whose data changed or
    whose plan has run out.
    """

    url: str
    #: The SQL function and its Python twin that fold names and ids for a
    #: case-insensitive prefix search; a dialect may give a better pair.
    _fold_sql: str = "lower"
    _fold_text: Callable[[str], str] = staticmethod(str.lower)
    #: How many contacts this store object has planned again, over its life.
    replanned: int = 0
    #: The clock claims expire by, in seconds since the epoch; a database
    #: with a clock of its own (PostgreSQL) uses that one instead.
    claim_clock: Callable[[], float] = staticmethod(time.time)

    # -- supplied by each dialect -------------------------------------------

    def _tx(self) -> AbstractContextManager[Cursor]:
        """A cursor inside a write transaction, committed on success and rolled back on error."""
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Cursor]:
        """A cursor for reading."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the store's connections."""
        raise NotImplementedError

    def _lock_plans(self, cur: Cursor, ids: Sequence[str]) -> None:
        """Hold the plans of ``ids`` until the transaction ends, before their data is read.

        A database whose write transactions run one at a time needs nothing;
        one with row locks locks the plan_state rows, so two processes never
        plan the same contact at once and no change slips in between.
        """

    @contextmanager
    def _changing(self) -> Iterator[Cursor]:
        """A write transaction that may change an agenda: it raises the agenda version too.

        The counter is raised last, so that a transaction holding its row
        waits for nothing more before it commits: concurrent writers queue
        for it but never deadlock over it.
        """
        with self._tx() as cur:
            yield cur
            self._raise_agenda_version(cur)

    def _raise_agenda_version(self, cur: Cursor) -> None:
        cur.execute(
            "INSERT INTO agenda_version (id, version) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET version = agenda_version.version + 1"
        )

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    # -- contacts -------------------------------------------------------------

    def put_contact(self, contact: Contact) -> None:
        """Add ``contact``, or update the contact with its id."""
        self.put_contacts([contact])

    def put_contacts(self, contacts: Iterable[Contact]) -> int:
        """Add or update many contacts in one transaction; returns how many."""
        items = list(contacts)
        for contact in items:
            if not isinstance(contact, Contact):
                raise CadenceError(f"not a Contact: {contact!r}")
        with self._changing() as cur:
            self._put_contacts(cur, items)
        return len(items)

    def _put_contacts(self, cur: Cursor, contacts: Sequence[Contact]) -> None:
        updates = ", ".join(f"{c} = excluded.{c}" for c in CONTACT_COLUMNS if c != "id")
        cur.executemany(
            f"INSERT INTO contacts ({_CONTACT_COLUMNS}) "
            f"VALUES ({_marks(len(CONTACT_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET "
            + updates,  # column names are ours
            [contact_to_row(c) for c in contacts],
        )
        for chunk in _chunks([c.id for c in contacts], 500):
            marks = _marks(len(chunk))
            cur.execute(f"DELETE FROM contact_emails WHERE contact_id IN ({marks})", chunk)
            cur.execute(
                f"DELETE FROM contact_tags WHERE contact_id IN ({marks})", chunk
            )  # placeholders only
        cur.executemany(
            "INSERT INTO contact_emails (contact_id, position, address, address_key) "
            "VALUES (?, ?, ?, ?)",
            [
                (c.id, position, address, email_key(address))
                for c in contacts
                for position, address in enumerate(c.emails)
            ],
        )
        cur.executemany(
            "INSERT INTO contact_tags (contact_id, tag) VALUES (?, ?)",
            [(c.id, tag) for c in contacts for tag in sorted(c.tags)],
        )
        cur.executemany(
            "INSERT INTO plan_state (contact_id, stable_until, covers_until, planned_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (contact_id) DO UPDATE SET "
            "stable_until = excluded.stable_until, no_cadence = 0",
            [(c.id, STALE, STALE, STALE) for c in contacts],
        )

    def get_contact(self, contact_id: str) -> Contact:
        """The contact with ``contact_id``; an unknown id raises CadenceError."""
        with self._read() as cur:
            return self._contact(cur, contact_id)

    def _contact(self, cur: Cursor, contact_id: str) -> Contact:
        cur.execute(
            f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE id = ?",
            (contact_id,),
        )
        row = cur.fetchone()
        if row is None:
            raise CadenceError(f"unknown contact {contact_id!r}")
        return contact_from_row(tuple(row))

    def list_contacts(self) -> list[Contact]:
        """Every contact, by id."""
        with self._read() as cur:
            cur.execute(f"SELECT {_CONTACT_COLUMNS} FROM contacts ORDER BY id")
            return [contact_from_row(tuple(row)) for row in cur.fetchall()]

    def contacts_by_email(self, address: str) -> list[Contact]:
        """The contacts with ``address`` among their emails, compared case-insensitively, by id."""
        given: object = address  # callers may pass anything at run time
        if not isinstance(given, str):
            raise CadenceError(f"an email address must be text, not {given!r}")
        with self._read() as cur:
            cur.execute(
                f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE id IN "
                "(SELECT contact_id FROM contact_emails WHERE address_key = ?) ORDER BY id",
                (email_key(given),),
            )
            return [contact_from_row(tuple(row)) for row in cur.fetchall()]

    def contacts_starting(self, text: str, *, limit: int = 100) -> tuple[list[Contact], int]:
        """The contacts whose id or name starts with ``text``, in any case, and how many there are.

        At most ``limit`` contacts are read: those whose whole name is
        ``text`` first, then by id; the count is of every match.
        """
        given: object = text  # callers may pass anything at run time
        if not isinstance(given, str):
            raise CadenceError(f"a contact must be named by text, not {given!r}")
        wanted = self._fold_text(given.strip())
        if not wanted:
            return [], 0
        from cadence.core.lookup import like_prefix

        fold = self._fold_sql  # a function name of ours, never input
        pattern = like_prefix(wanted)
        where = f"({fold}(id) LIKE ? ESCAPE '\\' OR {fold}(name) LIKE ? ESCAPE '\\')"
        with self._read() as cur:
            cur.execute(
                f"SELECT {_CONTACT_COLUMNS}, COUNT(*) OVER () FROM contacts WHERE {where} "
                f"ORDER BY CASE WHEN {fold}(name) = ? THEN 0 ELSE 1 END, id LIMIT ?",
                (pattern, pattern, wanted, max(0, limit)),
            )
            rows = [tuple(row) for row in cur.fetchall()]
        if not rows:
            return [], 0
        return [contact_from_row(row[:-1]) for row in rows], int(rows[0][-1])

    def find_contact(self, text: str) -> Contact:
        """The contact ``text`` names: its id, one of its emails, or the start of its id or name.

        An exact id wins, then an email address (any case), then the whole
        name, then the start of the id or name (any case); text that names
        no contact, or several equally well, raises CadenceError naming the
        candidates.
        """
        from cadence.core.lookup import BY_PREFIX, SHOWN, match_contacts, match_kind, pick_contact

        given: object = text  # callers may pass anything at run time
        if not isinstance(given, str):
            raise CadenceError(f"a contact must be named by text, not {given!r}")
        wanted = given.strip()
        if wanted:
            with self._read() as cur:
                cur.execute(f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE id = ?", (wanted,))
                row = cur.fetchone()
            if row is not None:
                return contact_from_row(tuple(row))
        by_email = self.contacts_by_email(wanted) if "@" in wanted else []
        if by_email:
            # An address outranks every prefix: no need to scan names for one.
            return pick_contact(given, match_contacts(wanted, by_email))
        starting, total = self.contacts_starting(wanted, limit=SHOWN + 1)
        matches = match_contacts(wanted, starting)
        more = 0
        if matches and match_kind(wanted, matches[0]) == BY_PREFIX:
            more = total - len(matches)
        return pick_contact(given, matches, more=more)

    def count_contacts(self) -> int:
        """How many contacts the store holds."""
        with self._read() as cur:
            cur.execute("SELECT COUNT(*) FROM contacts")
            return int(cur.fetchone()[0])

    def remove_contact(self, contact_id: str) -> None:
        """Remove a contact with its rules, occasions, touchpoints and planned reminders.

        The delivery ledger keeps its history.
        """
        with self._changing() as cur:
            self._contact(cur, contact_id)
            self._remove_contact(cur, contact_id)

    def _remove_contact(self, cur: Cursor, contact_id: str) -> None:
        self._lock_plans(cur, [contact_id])
        for table in (
            "touchpoints",
            "occasions",
            "snoozes",
            "dismissals",
            "next_due",
            "contact_tags",
            "contact_emails",
            "contact_links",
            "touch_removals",
            "plan_state",
        ):
            cur.execute(
                f"DELETE FROM {table} WHERE contact_id = ?", (contact_id,)
            )  # table names are ours
        cur.execute("DELETE FROM rules WHERE kind = 'contact' AND target = ?", (contact_id,))
        cur.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))

    # -- contact sources' state -------------------------------------------------

    def source_state(self, source: str) -> dict[str, str]:
        """What the contact source called ``source`` kept for its next sync (empty at first)."""
        with self._read() as cur:
            cur.execute("SELECT key, value FROM source_state WHERE source = ?", (source,))
            return {str(k): str(v) for k, v in cur.fetchall()}

    def _put_state(self, cur: Cursor, source: str, state: Mapping[str, str]) -> None:
        """Make ``state`` the source's kept state, writing only the keys that changed."""
        cur.execute("SELECT key, value FROM source_state WHERE source = ?", (source,))
        kept = {str(k): str(v) for k, v in cur.fetchall()}
        gone = sorted(set(kept) - set(state))
        for chunk in _chunks(gone, 500):
            cur.execute(
                f"DELETE FROM source_state WHERE source = ? AND key IN ({_marks(len(chunk))})",
                [source, *chunk],
            )  # placeholders only
        cur.executemany(
            "INSERT INTO source_state (source, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (source, key) DO UPDATE SET value = excluded.value",
            [(source, k, v) for k, v in sorted(state.items()) if kept.get(k) != v],
        )

    # -- rules ----------------------------------------------------------------

    def set_rule(self, rule: Rule) -> None:
        """Set the rule for its target (a contact, a tag, or everyone), replacing any before it."""
        if not isinstance(rule, Rule):
            raise CadenceError(f"not a Rule: {rule!r}")
        with self._changing() as cur:
            self._set_rule(cur, rule)

    def _set_rule(self, cur: Cursor, rule: Rule) -> None:
        kind, target = rule.target
        if kind == "contact":
            assert target is not None
            self._contact(cur, target)
        cur.execute(
            "INSERT INTO rules (kind, target, cadence) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, target) DO UPDATE SET cadence = excluded.cadence",
            (kind, target or "", dumps(cadence_to_data(rule.cadence))),
        )
        self._mark_stale(cur, kind, target)

    def remove_rule(self, *, contact: str | None = None, tag: str | None = None) -> bool:
        """Remove the rule for a contact, a tag, or (with neither) everyone; False if none."""
        kind = "contact" if contact is not None else "tag" if tag is not None else "everyone"
        target = contact or tag
        with self._changing() as cur:
            cur.execute("DELETE FROM rules WHERE kind = ? AND target = ?", (kind, target or ""))
            removed = cur.rowcount > 0
            if removed:
                self._mark_stale(cur, kind, target)
        return removed

    def list_rules(self) -> list[Rule]:
        """Every rule: contacts' first, then tags', then everyone's."""
        with self._read() as cur:
            return self._rules(cur)

    def without_cadence(self) -> list[str]:
        """The ids of the contacts no rule applies to, in order: they are never due.

        Planning notes them (``no_cadence``), so those planned since the last
        write that could change it are read from an index; only the contacts
        whose plan such a write made stale are looked at rule by rule.
        """
        with self._read() as cur:
            cur.execute(
                "SELECT p.contact_id FROM plan_state p WHERE p.no_cadence = 1 "
                "AND NOT EXISTS (SELECT 1 FROM rules WHERE kind = 'everyone') "
                "UNION SELECT p.contact_id FROM plan_state p WHERE p.stable_until <= ? "
                "AND NOT EXISTS (SELECT 1 FROM rules WHERE kind = 'everyone') "
                "AND NOT EXISTS (SELECT 1 FROM rules r "
                "WHERE r.kind = 'contact' AND r.target = p.contact_id) "
                "AND NOT EXISTS (SELECT 1 FROM contact_tags t JOIN rules r "
                "ON r.kind = 'tag' AND r.target = t.tag WHERE t.contact_id = p.contact_id) "
                "ORDER BY 1",
                (STALE,),
            )
            return [str(ident) for (ident,) in cur.fetchall()]

    def _rules(self, cur: Cursor) -> list[Rule]:
        rules, broken = self._readable_rules(cur)
        if broken:
            kind, target, why = broken[0]
            where = f"the {kind} rule" + (f" for {target!r}" if target else "")
            raise CadenceError(
                f"{where} cannot be used ({why}); set it again with 'cadence rule set'"
            )
        return rules

    def _readable_rules(self, cur: Cursor) -> tuple[list[Rule], list[tuple[str, str | None, str]]]:
        """The rules that can be read, and (kind, target, why) of those that cannot.

        A rule stored before its kind was refused must not stop planning for
        the contacts it does not reach.
        """
        cur.execute("SELECT kind, target, cadence FROM rules ORDER BY kind, target")
        rules: list[Rule] = []
        broken: list[tuple[str, str | None, str]] = []
        for kind, target, data in cur.fetchall():
            try:
                cadence = cadence_from_data(json.loads(data))
            except (CadenceError, ValueError, KeyError, TypeError) as error:
                from cadence.core.planning import problem_reason

                broken.append((kind, target, problem_reason(error)))
                continue
            if kind == "contact":
                rules.append(Rule(cadence, contact=target))
            elif kind == "tag":
                rules.append(Rule(cadence, tag=target))
            else:
                rules.append(Rule(cadence))
        return rules, broken

    def _mark_stale(self, cur: Cursor, kind: str, target: str | None) -> None:
        # Whether a rule applies is known again once the contact is planned.
        if kind == "contact":
            cur.execute(
                "UPDATE plan_state SET stable_until = ?, no_cadence = 0 WHERE contact_id = ?",
                (STALE, target),
            )
        elif kind == "tag":
            cur.execute(
                "UPDATE plan_state SET stable_until = ?, no_cadence = 0 WHERE contact_id IN "
                "(SELECT contact_id FROM contact_tags WHERE tag = ?)",
                (STALE, target),
            )
        else:
            cur.execute("UPDATE plan_state SET stable_until = ?, no_cadence = 0", (STALE,))

    # -- occasions ------------------------------------------------------------

    def add_occasion(self, occasion: OccasionKind) -> int:
        """Add an occasion; returns its id in the store."""
        with self._changing() as cur:
            return self._add_occasion(cur, occasion)

    def _add_occasion(self, cur: Cursor, occasion: OccasionKind) -> int:
        _check_occasion(occasion)
        if occasion.contact is not None:
            self._contact(cur, occasion.contact)
        data = occasion_to_data(occasion)
        cur.execute(
            "INSERT INTO occasions (kind, contact_id, tag, data) VALUES (?, ?, ?, ?) RETURNING id",
            (data["kind"], occasion.contact, _occasion_tag(occasion), dumps(data)),
        )
        ident = int(cur.fetchone()[0])
        self._occasions_changed(cur, [(occasion.contact, _occasion_tag(occasion))])
        return ident

    def _occasions_changed(
        self, cur: Cursor, targets: Iterable[tuple[str | None, str | None]]
    ) -> None:
        """Mark stale the plans of everyone that occasions for these (contact, tag) pairs reach.

        An occasion with a contact reaches that contact, one with a tag every
        contact with the tag, and one with neither everyone.
        """
        found = set(targets)
        if any(contact is None and tag is None for contact, tag in found):
            self._mark_stale(cur, "everyone", None)
            return
        for contact, tag in sorted(found, key=lambda t: (t[0] or "", t[1] or "")):
            if contact is not None:
                self._mark_stale(cur, "contact", contact)
            else:
                self._mark_stale(cur, "tag", tag)

    def list_occasions(
        self, contact: str | None = None, *, source: str | None = None
    ) -> list[tuple[int, OccasionKind]]:
        """Occasions with their ids: all of them, or those of one contact, or one source's."""
        where, params = _contact_and_source(contact, source)
        with self._read() as cur:
            cur.execute(f"SELECT id, data FROM occasions{where} ORDER BY id", params)
            return [(int(i), occasion_from_data(json.loads(d))) for i, d in cur.fetchall()]

    def remove_occasion(self, occasion_id: int) -> None:
        """Remove the occasion with ``occasion_id``."""
        given: object = occasion_id
        if isinstance(given, bool) or not isinstance(given, int) or not 0 < given < 2**63:
            # Ids are positive 64-bit integers: anything else names no occasion.
            raise CadenceError(f"no occasion with id {shown_value(given)}")
        with self._changing() as cur:
            cur.execute("SELECT contact_id, tag FROM occasions WHERE id = ?", (occasion_id,))
            row = cur.fetchone()
            if row is None:
                raise CadenceError(f"no occasion with id {occasion_id}")
            cur.execute("DELETE FROM occasions WHERE id = ?", (occasion_id,))
            self._occasions_changed(cur, [(row[0], row[1])])

    def replace_source_occasions(
        self, source: str, occasions: Sequence[OccasionKind]
    ) -> tuple[int, int]:
        """Make ``occasions`` the whole of what the source called ``source`` gave; in one go.

        The source's occasions that are not among ``occasions`` are removed,
        and those of ``occasions`` it did not have yet are added (an occasion
        given twice is kept once); the others stay as they were, under their
        ids. Occasions added by hand or by other sources are never touched.
        An occasion for an unknown contact changes nothing and raises
        CadenceError. Returns how many occasions were removed and added.
        """
        _identifier("a source's name", source)
        items = list(occasions)
        wanted: dict[str, OccasionKind] = {}
        for occasion in items:
            _check_occasion(occasion)
            wanted.setdefault(dumps(occasion_to_data(occasion)), occasion)
        with self._changing() as cur:
            self._known_contacts(cur, {o.contact for o in wanted.values() if o.contact})
            cur.execute(
                "SELECT id, contact_id, tag, data FROM occasions WHERE source = ? ORDER BY id",
                (source,),
            )
            kept: set[str] = set()
            gone: list[int] = []
            touched: set[tuple[str | None, str | None]] = set()
            for ident, contact, tag, data in cur.fetchall():
                if data in wanted and data not in kept:
                    kept.add(data)
                else:
                    gone.append(int(ident))
                    touched.add((contact, tag))
            for chunk in _chunks(gone, 500):
                # The f-string only inserts "?" placeholders.
                cur.execute(f"DELETE FROM occasions WHERE id IN ({_marks(len(chunk))})", chunk)
            new = [(data, o) for data, o in wanted.items() if data not in kept]
            cur.executemany(
                "INSERT INTO occasions (kind, contact_id, tag, data, source) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (occasion_to_data(o)["kind"], o.contact, _occasion_tag(o), data, source)
                    for data, o in new
                ],
            )
            touched.update((o.contact, _occasion_tag(o)) for _, o in new)
            self._occasions_changed(cur, touched)
        return len(gone), len(new)

    def occasion_sources(self) -> dict[str, int]:
        """How many occasions each source has in the store, by the source's name."""
        with self._read() as cur:
            cur.execute(
                "SELECT source, COUNT(*) FROM occasions WHERE source IS NOT NULL "
                "GROUP BY source ORDER BY source"
            )
            return {str(name): int(n) for name, n in cur.fetchall()}

    def _known_contacts(self, cur: Cursor, ids: Iterable[str]) -> None:
        """Raise CadenceError naming the first of ``ids`` that is not a contact of the store."""
        wanted = sorted(ids)
        found: set[str] = set()
        for chunk in _chunks(wanted, 500):
            cur.execute(f"SELECT id FROM contacts WHERE id IN ({_marks(len(chunk))})", chunk)
            found.update(str(i) for (i,) in cur.fetchall())
        missing = [i for i in wanted if i not in found]
        if missing:
            raise CadenceError(f"unknown contact {missing[0]!r}")

    # -- touchpoints, snoozes, dismissals -----------------------------------

    def log(self, touchpoint: Touchpoint) -> None:
        """Log a touchpoint; a personal one restarts the contact's cadence."""
        if not isinstance(touchpoint, Touchpoint):
            raise CadenceError(f"not a Touchpoint: {touchpoint!r}")
        with self._changing() as cur:
            self._contact(cur, touchpoint.contact)
            self._log(cur, [touchpoint])

    def _log(self, cur: Cursor, touches: Sequence[Touchpoint]) -> None:
        cur.executemany(
            "INSERT INTO touchpoints "
            "(contact_id, at, at_ts, channel, personal, direction, note, source, ref) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    t.contact,
                    t.at.isoformat(),
                    _ts(t.at),
                    t.channel,
                    1 if t.personal else 0,
                    t.direction,
                    t.note,
                    t.source,
                    t.ref,
                )
                for t in touches
            ],
        )
        for contact in sorted({t.contact for t in touches if t.personal}):
            self._mark_stale(cur, "contact", contact)

    def touchpoints(self, contact_id: str) -> list[Touchpoint]:
        """The touchpoints logged with a contact, oldest first."""
        return [t for _, t in self.list_touches(contact_id)]

    def list_touches(
        self, contact: str | None = None, *, source: str | None = None
    ) -> list[tuple[int, Touchpoint]]:
        """Touchpoints with their ids, oldest first: all, one contact's, or one source's."""
        where, params = _contact_and_source(contact, source)
        with self._read() as cur:
            cur.execute(
                f"SELECT id, {_TOUCH_COLUMNS} FROM touchpoints{where} ORDER BY at_ts, id", params
            )
            return [(int(row[0]), _touch(row[1:])) for row in cur.fetchall()]

    def remove_touch(self, touch_id: int) -> Touchpoint:
        """Remove the touchpoint ``touch_id``; returns it.

        One a source brought in is remembered as removed, so that the
        source's next sync does not bring it back.
        """
        given: object = touch_id
        if isinstance(given, bool) or not isinstance(given, int) or not 0 < given < 2**63:
            raise CadenceError(f"no touchpoint with id {shown_value(given)}")
        with self._changing() as cur:
            cur.execute(f"SELECT {_TOUCH_COLUMNS} FROM touchpoints WHERE id = ?", (touch_id,))
            row = cur.fetchone()
            if row is None:
                raise CadenceError(f"no touchpoint with id {touch_id}")
            touch = _touch(row)
            cur.execute("DELETE FROM touchpoints WHERE id = ?", (touch_id,))
            if touch.source is not None:
                cur.execute(
                    "INSERT INTO touch_removals (source, ref, contact_id) VALUES (?, ?, ?) "
                    "ON CONFLICT (source, ref, contact_id) DO NOTHING",
                    (touch.source, touch.ref, touch.contact),
                )
            self._mark_stale(cur, "contact", touch.contact)
        return touch

    def forget_source(self, source: str, *, key: str) -> tuple[int, int]:
        """Forget the source called ``source`` (one no longer configured), in one transaction.

        Its occasions and touchpoints are removed; the contacts it brought in
        stay, untied from it; what it kept for its next sync (under ``key``)
        goes. Returns how many occasions and touchpoints were removed.
        """
        _identifier("a source's name", source)
        with self._changing() as cur:
            cur.execute("SELECT DISTINCT contact_id FROM touchpoints WHERE source = ?", (source,))
            touched = [str(c) for (c,) in cur.fetchall()]
            cur.execute("DELETE FROM touchpoints WHERE source = ?", (source,))
            touches = int(cur.rowcount)
            cur.execute("DELETE FROM touch_removals WHERE source = ?", (source,))
            for contact in touched:
                self._mark_stale(cur, "contact", contact)
            cur.execute("DELETE FROM contact_links WHERE source = ?", (key,))
            cur.execute("DELETE FROM source_state WHERE source = ?", (key,))
        occasions, _ = self.replace_source_occasions(source, [])
        return occasions, touches

    def import_digests(self, source: str) -> frozenset[str]:
        """The digests of the records earlier imports of ``source`` read (see ImportBatch).

        Only those whose contact the store still has: a record whose contact
        was removed is read again.
        """
        _identifier("a source's name", source)
        with self._read() as cur:
            cur.execute(
                "SELECT l.digest FROM contact_links l JOIN contacts c ON c.id = l.contact_id "
                "WHERE l.source = ? AND l.digest IS NOT NULL",
                (source,),
            )
            return frozenset(str(digest) for (digest,) in cur.fetchall())

    def touch_sources(self) -> dict[str, int]:
        """How many touchpoints each source has in the store, by the source's name."""
        with self._read() as cur:
            cur.execute(
                "SELECT source, COUNT(*) FROM touchpoints WHERE source IS NOT NULL "
                "GROUP BY source ORDER BY source"
            )
            return {str(name): int(n) for name, n in cur.fetchall()}

    def address_book(self) -> dict[str, str]:
        """Each email address of every contact (as ``email_key`` folds it) and its contact's id.

        An address two contacts share belongs to the first of them by id.
        """
        with self._read() as cur:
            cur.execute(
                "SELECT address_key, contact_id FROM contact_emails ORDER BY contact_id DESC"
            )
            return {str(key): str(ident) for key, ident in cur.fetchall()}

    def merge_source_touches(
        self,
        source: str,
        touches: Sequence[Touchpoint],
        *,
        gone: Iterable[str] = (),
        everything: Iterable[str] | None = None,
        state: Mapping[str, str] | None = None,
        state_key: str | None = None,
    ) -> tuple[int, int]:
        """Keep what a touch source found, in one transaction; returns (added, removed).

        ``touches`` are the source's touchpoints (each with ``source`` and a
        ``ref``): those the store has already, or that were removed by hand,
        are left out, as are those of contacts no longer in the store. The
        source's touchpoints whose ref is in ``gone``, or (when
        ``everything`` lists every ref the source has) not in
        ``everything``, are removed. ``state`` replaces what is kept for the
        source's next sync under ``state_key`` (default ``source``).
        """
        _identifier("a source's name", source)
        items = list(touches)
        for touch in items:
            given: object = touch  # callers may pass anything at run time
            if not isinstance(given, Touchpoint) or given.source != source:
                raise CadenceError(f"not a touchpoint of source {source!r}: {given!r}")
        with self._changing() as cur:
            cur.execute("SELECT ref, contact_id FROM touchpoints WHERE source = ?", (source,))
            have = {(str(r), str(c)) for r, c in cur.fetchall()}
            cur.execute("SELECT ref, contact_id FROM touch_removals WHERE source = ?", (source,))
            removed_by_hand = {(str(r), str(c)) for r, c in cur.fetchall()}
            known: set[str] = set()
            for chunk in _chunks(sorted({t.contact for t in items}), 500):
                cur.execute(f"SELECT id FROM contacts WHERE id IN ({_marks(len(chunk))})", chunk)
                known.update(str(i) for (i,) in cur.fetchall())
            new: dict[tuple[str, str], Touchpoint] = {}
            for touch in items:
                pair = (str(touch.ref), touch.contact)
                if pair not in have and pair not in removed_by_hand and touch.contact in known:
                    new.setdefault(pair, touch)
            dropped = set(gone)
            if everything is not None:
                listed = set(everything)
                dropped.update(ref for ref, _ in have if ref not in listed)
            dropped &= {ref for ref, _ in have}
            for chunk in _chunks(sorted(dropped), 500):
                marks = _marks(len(chunk))  # placeholders only, below
                cur.execute(
                    "SELECT DISTINCT contact_id FROM touchpoints "
                    f"WHERE source = ? AND ref IN ({marks})",
                    [source, *chunk],
                )
                for (contact,) in cur.fetchall():
                    self._mark_stale(cur, "contact", str(contact))
                cur.execute(
                    f"DELETE FROM touchpoints WHERE source = ? AND ref IN ({marks})",
                    [source, *chunk],
                )
            self._log(cur, list(new.values()))
            if state is not None:
                self._put_state(cur, state_key or source, state)
        return len(new), sum(1 for ref, _ in have if ref in dropped)

    def _owner(self, cur: Cursor, key: str) -> str:
        cur.execute("SELECT contact_id FROM next_due WHERE key = ?", (key,))
        row = cur.fetchone()
        if row is None:
            raise CadenceError(f"no planned reminder has the key {key!r}")
        return str(row[0])

    def snooze(self, key: str, until: datetime) -> Contact:
        """Hide the planned reminder ``key`` until ``until``; returns its contact."""
        snooze = Snooze(key, until)
        with self._changing() as cur:
            contact = self._owner(cur, key)
            cur.execute(
                "INSERT INTO snoozes (key, contact_id, until) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET until = excluded.until",
                (key, contact, snooze.until.isoformat()),
            )
            self._mark_stale(cur, "contact", contact)
            return self._contact(cur, contact)

    def dismiss(self, key: str, *, at: datetime) -> Contact:
        """Dismiss the planned reminder ``key`` for good; returns its contact."""
        at = require_aware(at, "the dismissal's time")
        with self._changing() as cur:
            contact = self._owner(cur, key)
            cur.execute(
                "INSERT INTO dismissals (key, contact_id, at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING",
                (key, contact, at.isoformat()),
            )
            self._mark_stale(cur, "contact", contact)
            return self._contact(cur, contact)

    def resolve_key(self, prefix: str) -> str:
        """The full key of the planned reminder whose key starts with ``prefix`` (6+ characters)."""
        given: object = prefix  # callers may pass anything at run time
        text = given.strip().lower() if isinstance(given, str) else ""
        if len(text) < 6 or any(c not in "0123456789abcdef" for c in text):
            raise CadenceError(
                f"not a reminder key: {shown_value(prefix)} (keys are 6 or more hexadecimal digits)"
            )
        with self._read() as cur:
            cur.execute(
                "SELECT key FROM next_due WHERE key >= ? AND key < ? ORDER BY key LIMIT 2",
                (text, text + "g"),
            )
            found = [k for (k,) in cur.fetchall()]
        if not found:
            raise CadenceError(f"no planned reminder has the key {prefix!r}")
        if len(found) > 1:
            raise CadenceError(f"the key {prefix!r} is ambiguous; give more of it")
        return str(found[0])

    def planned(self, key: str, *, now: datetime) -> Reminder:
        """The planned reminder with ``key``, as seen at ``now``."""
        with self._read() as cur:
            cur.execute(
                f"SELECT n.key, n.due, n.data, {_CONTACT_COLUMNS_OF_C} "
                "FROM next_due n JOIN contacts c ON c.id = n.contact_id "
                "WHERE n.key = ?",
                (key,),
            )
            row = cur.fetchone()
        if row is None:
            raise CadenceError(f"no planned reminder has the key {key!r}")
        return reminder_from_row(row[0], contact_from_row(tuple(row[3:])), row[1], row[2], now)

    # -- imports --------------------------------------------------------------

    def import_batch(self, batch: ImportBatch) -> int:
        """Merge ``batch`` as an import of its own; returns how many contacts the file had.

        ``merge_batch`` with the source "import" and today's UTC date: see there.
        """
        self.merge_batch(batch, source="import", today=datetime.now(UTC).date())
        return len(batch.contacts)

    def merge_batch(
        self,
        batch: ImportBatch,
        *,
        source: str,
        today: date,
        dry_run: bool = False,
        prune: bool = False,
        complete: bool = True,
        gone: Iterable[str] = (),
        state: Mapping[str, str] | None = None,
    ) -> ImportReport:
        """Merge what ``batch`` says into the store, all of it in one transaction, or nothing.

        ``cadence.sources.merge`` says how a record finds its contact and
        what it changes; new contacts are added on ``today``. ``source`` names
        where the batch comes from ("file:vcard", a contact source's name):
        the source's uids are tied to the contacts they found, so the next
        import of the same source finds them again. With ``complete`` (a
        whole file) the contacts tied to ``source`` that the batch lacks are
        reported missing; otherwise those whose uid is in ``gone``.
        ``prune`` removes the missing ones. ``state`` replaces what the store
        keeps for the source's next sync (``source_state``). With ``dry_run``
        nothing is written and the report says what would have been.
        """
        _identifier("a source's name", source)
        _check_batch(batch)
        if isinstance(today, datetime) or not isinstance(today, date):
            raise CadenceError(f"today must be a date, not {today!r}")
        opened = self._read() if dry_run else self._tx()
        with opened as cur:
            known = self._known(cur, batch, source)
            from cadence.sources.merge import merge

            plan = merge(batch, known, today=today, complete=complete, gone=frozenset(gone))
            report = plan.report
            if prune:
                report = attrs.evolve(report, removed=report.missing)
            if dry_run:
                return attrs.evolve(report, dry_run=True)
            self._apply(cur, plan, source, prune=prune)
            if state is not None:
                self._put_state(cur, source, state)
            # An import that changes nothing leaves served feeds as they are.
            if plan.changes_agenda(prune=prune):
                self._raise_agenda_version(cur)
        self._after_import(len(plan.contacts))
        return report

    def _after_import(self, written: int) -> None:
        """Run after an import wrote ``written`` contacts; a dialect may refresh statistics."""

    def _known(self, cur: Cursor, batch: ImportBatch, source: str) -> Known:
        """What the store has that ``batch`` may meet, for ``merge``."""
        from cadence.sources.merge import Known, occasion_group

        cur.execute("SELECT uid, contact_id, digest FROM contact_links WHERE source = ?", (source,))
        links: dict[str, str] = {}
        digests: dict[str, str] = {}
        for uid, ident, digest in cur.fetchall():
            links[str(uid)] = str(ident)
            if digest is not None:
                digests[str(uid)] = str(digest)
        # The contacts of records left unread are neither matched nor
        # missing: they need not be read.
        unread = set(batch.unchanged)
        uids = {o.uid for o in batch.origins.values() if o.uid}
        wanted: set[str] = {i for u, i in links.items() if digests.get(u) not in unread} | uids
        if not batch.proposed_ids:
            wanted.update(c.id for c in batch.contacts)
        keys = sorted({email_key(a) for c in batch.contacts for a in c.emails})
        by_email: dict[str, list[str]] = {}
        for chunk in _chunks(keys, 500):
            cur.execute(
                "SELECT address_key, contact_id FROM contact_emails "
                f"WHERE address_key IN ({_marks(len(chunk))})",  # placeholders only
                chunk,
            )
            for key, ident in cur.fetchall():
                by_email.setdefault(str(key), []).append(str(ident))
        wanted.update(i for found in by_email.values() for i in found)
        names = {c.name for c in batch.contacts if not c.emails}
        cur.execute("SELECT id, name FROM contacts")
        ids: set[str] = set()
        by_name: dict[str, list[str]] = {}
        for ident, name in cur.fetchall():
            ids.add(str(ident))
            if name in names:
                by_name.setdefault(str(name), []).append(str(ident))
        wanted.update(i for found in by_name.values() for i in found)
        wanted &= ids
        contacts: dict[str, Contact] = {}
        occasions: dict[str, list[tuple[int, OccasionKind]]] = {}
        rules: dict[str, str] = {}
        for chunk in _chunks(sorted(wanted), 500):
            marks = _marks(len(chunk))  # placeholders only, below
            cur.execute(f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE id IN ({marks})", chunk)
            for row in cur.fetchall():
                contact = contact_from_row(tuple(row))
                contacts[contact.id] = contact
            # Occasions of a source are left out here rather than in SQL: a
            # "source IS NULL" term leads SQLite to the index on source,
            # which holds every occasion added by hand, for each chunk.
            cur.execute(
                "SELECT id, contact_id, data, source FROM occasions "
                "WHERE kind IN ('birthday', 'anniversary', 'occasion') "
                f"AND contact_id IN ({marks}) ORDER BY id",
                chunk,
            )
            for ident, contact_id, data, given_by in cur.fetchall():
                if given_by is not None:
                    continue
                occasion = occasion_from_data(json.loads(data))
                if occasion_group(occasion) is not None:
                    occasions.setdefault(str(contact_id), []).append((int(ident), occasion))
            cur.execute(
                f"SELECT target, cadence FROM rules WHERE kind = 'contact' AND target IN ({marks})",
                chunk,
            )
            rules.update((str(t), str(c)) for t, c in cur.fetchall())
        return Known(
            contacts=contacts,
            ids=ids,
            links=links,
            digests={u: d for u, d in digests.items() if links[u] in ids},
            by_email=by_email,
            by_name=by_name,
            occasions=occasions,
            rules=rules,
        )

    def _apply(self, cur: Cursor, plan: MergePlan, source: str, *, prune: bool) -> None:
        """Write what ``merge`` planned."""
        self._put_contacts(cur, plan.contacts)
        cur.executemany(
            "INSERT INTO contact_links (source, uid, contact_id, digest) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (source, uid) DO UPDATE "
            "SET contact_id = excluded.contact_id, digest = excluded.digest",
            [(source, uid, ident, digest) for uid, ident, digest in plan.links],
        )
        for chunk in _chunks(plan.drop_occasions, 500):
            cur.execute(
                f"DELETE FROM occasions WHERE id IN ({_marks(len(chunk))})", chunk
            )  # placeholders only
        written = {c.id for c in plan.contacts}
        # The contacts just written are there.
        self._known_contacts(
            cur, {o.contact for o in plan.add_occasions if o.contact and o.contact not in written}
        )
        cur.executemany(
            "INSERT INTO occasions (kind, contact_id, tag, data) VALUES (?, ?, ?, ?)",
            [
                (_occasion_kind(o), o.contact, _occasion_tag(o), data)
                for o, data in zip(plan.add_occasions, plan.add_data, strict=True)
            ],
        )
        self._occasions_changed(
            cur,
            {(o.contact, _occasion_tag(o)) for o in plan.add_occasions if o.contact is None},
        )
        for contact in sorted(set(plan.dated) - written):
            # Written contacts are stale already.
            self._mark_stale(cur, "contact", contact)
        for rule in plan.rules:
            self._set_rule(cur, rule)
        self._known_contacts(cur, {t.contact for t in plan.touchpoints})
        self._log(cur, plan.touchpoints)
        if prune:
            for ident in plan.missing:
                self._remove_contact(cur, ident)

    # -- the whole roster and the agenda ------------------------------------

    def roster(self) -> Roster:
        """Everything in the store as a Roster, for planning or health.

        The touchpoints stream from the database into the roster, which
        keeps a few bytes of each: they are never all held as objects.
        """
        from cadence.core.roster import Roster

        with self._read() as cur:
            contacts = self.list_contacts()
            rules = self._rules(cur)
            cur.execute("SELECT data FROM occasions ORDER BY id")
            occasions = [occasion_from_data(json.loads(d)) for (d,) in cur.fetchall()]
            cur.execute("SELECT key, until FROM snoozes")
            snoozes = [Snooze(k, datetime.fromisoformat(u)) for k, u in cur.fetchall()]
            cur.execute("SELECT key FROM dismissals")
            dismissed = [k for (k,) in cur.fetchall()]
            # Contact by contact, in id order: the order a roster takes fastest.
            touches = (
                _touch(row)
                for row in _streamed(
                    cur, f"SELECT {_TOUCH_COLUMNS} FROM touchpoints ORDER BY contact_id, at_ts, id"
                )
            )
            return Roster(contacts, rules, occasions, touches, snoozes=snoozes, dismissed=dismissed)

    def rosters(self, size: int = REPLAN_BATCH) -> Iterator[Roster]:
        """The store's roster in parts of up to ``size`` contacts each, in id order.

        Each part holds its contacts with all that applies to them (their
        rules and those of tags and everyone, their occasions and those of
        tags and everyone, their touchpoints, snoozes and dismissals), so
        health, drift and plans read from a part are those of the whole
        roster. A pass over every contact holds one part at a time; each
        part is read in a read transaction of its own.
        """
        after = ""
        while True:
            with self._read() as cur:
                cur.execute(
                    f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE id > ? ORDER BY id LIMIT ?",
                    (after, size),
                )
                contacts = [contact_from_row(tuple(row)) for row in cur.fetchall()]
                if not contacts:
                    return
                part = self._roster_of(cur, contacts)
            after = contacts[-1].id
            yield part

    def contact_roster(self, contact_id: str) -> Roster:
        """One contact as a Roster, with all that its cadence, health and drift depend on.

        Its own rules and those of tags and everyone, its occasions and those
        of tags and everyone, its touchpoints, snoozes and dismissals: what
        is read is one contact's, however large the store. An unknown id
        raises CadenceError.
        """
        return self.roster_of([contact_id])

    def roster_of(self, contact_ids: Iterable[str]) -> Roster:
        """The contacts of ``contact_ids`` as one Roster, each with all that applies to it.

        As ``contact_roster`` gives one contact, for a few at once (a page of
        them), read in one read transaction. An unknown id raises
        CadenceError.
        """
        with self._read() as cur:
            return self._roster_of(cur, [self._contact(cur, cid) for cid in contact_ids])

    def _roster_of(self, cur: Cursor, contacts: Sequence[Contact]) -> Roster:
        """``contacts`` as a Roster with all that applies to them, read with ``cur``."""
        from cadence.core.roster import Roster

        ids = [c.id for c in contacts]
        wanted = set(ids)
        marks = _marks(len(ids))  # placeholders only, below
        rules = [r for r in self._rules(cur) if r.contact is None or r.contact in wanted]
        cur.execute(
            f"SELECT data FROM occasions WHERE contact_id IS NULL OR contact_id IN ({marks}) "
            "ORDER BY id",
            ids,
        )
        occasions = [occasion_from_data(json.loads(d)) for (d,) in cur.fetchall()]
        cur.execute(
            f"SELECT {_TOUCH_COLUMNS} FROM touchpoints WHERE contact_id IN ({marks}) "
            "ORDER BY contact_id, at_ts, id",
            ids,
        )
        touches = [_touch(row) for row in cur.fetchall()]
        cur.execute(f"SELECT key, until FROM snoozes WHERE contact_id IN ({marks})", ids)
        snoozes = [Snooze(k, datetime.fromisoformat(u)) for k, u in cur.fetchall()]
        cur.execute(f"SELECT key FROM dismissals WHERE contact_id IN ({marks})", ids)
        dismissed = [k for (k,) in cur.fetchall()]
        return Roster(contacts, rules, occasions, touches, snoozes=snoozes, dismissed=dismissed)

    def agenda(
        self, *, now: datetime, within: timedelta | str = timedelta(0), tag: str | None = None
    ) -> Agenda:
        """What is due at ``now`` and what falls due ``within`` after it, from the planned table.

        ``within`` is a ``timedelta`` or text that ``parse_duration`` reads ("7d").
        Contacts whose plan is stale or runs out before ``now + within`` are
        planned again first; the rest is one indexed range query.
        """
        now = require_aware(now, "now")
        within = _within(within)
        _, problems = self._refresh(now, within)
        end = _end(now, within)
        limit = _ts(end)
        with self._read() as cur:
            sql = (
                f"SELECT n.key, n.due, n.data, {_CONTACT_COLUMNS_OF_C} "
                "FROM next_due n JOIN contacts c ON c.id = n.contact_id "
                "WHERE n.due_ts <= ?"
            )
            params: list[Any] = [int(limit) + 1]
            if tag is not None:
                sql += " AND n.contact_id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)"
                params.append(tag)
            cur.execute(sql + " ORDER BY n.due_ts, n.contact_id, n.key", params)
            rows = cur.fetchall()
        contacts: dict[str, Contact] = {}
        found = []
        for key, due, data, *contact_row in rows:
            contact = contacts.get(contact_row[0])
            if contact is None:
                contact = contacts[contact_row[0]] = contact_from_row(tuple(contact_row))
            reminder = reminder_from_row(key, contact, due, data, now)
            if reminder.due <= end:
                found.append(reminder)
        return Agenda(found, now=now, horizon=within, problems=problems)

    def agenda_version(self) -> int:
        """A number that changes with every write that can change an agenda; one cheap read.

        Writes to contacts, rules, occasions, touchpoints, snoozes and
        dismissals raise it in their own transaction, from any process or
        connection. Deliveries and the other ledgers leave it alone, and so
        does planning: a plan changes only after such a write or when the
        clock reaches ``agenda_changes_at``. Read it before the agenda: an
        agenda read after a version is at least as new as it.
        """
        with self._read() as cur:
            cur.execute("SELECT version FROM agenda_version WHERE id = 1")
            row = cur.fetchone()
        return 0 if row is None else int(row[0])

    def agenda_changes_at(
        self, *, now: datetime, within: timedelta | str = timedelta(0)
    ) -> datetime | None:
        """The first moment after ``now`` at which the agenda could change with nothing written.

        That is when a planned reminder comes within ``within`` of the
        moment, or a contact's plan runs out (see ``ContactPlan``); None when
        neither ever happens. Call it after ``agenda(now=now, within=within)``:
        until the moment it gives, and while ``agenda_version`` stays the
        same, an agenda for a later moment holds the same reminders (only
        how overdue they are differs). Contacts that cannot be planned are
        left aside: planning them again at a later moment changes nothing.
        """
        now = require_aware(now, "now")
        within = _within(within)
        limit = int(_ts(_end(now, within)))
        with self._read() as cur:
            # due_ts is the due moment's whole second: a reminder in the same
            # second as the window's end may be due just after it.
            cur.execute("SELECT MIN(due_ts) FROM next_due WHERE due_ts >= ?", (limit,))
            first = cur.fetchone()[0]
            cur.execute(
                "SELECT MIN(stable_until), MIN(covers_until) FROM plan_state "
                "WHERE stable_until > ?",
                (_ts(now),),
            )
            stable, covers = cur.fetchone()
        moments: list[float] = []
        if first is not None:
            enters = float(first) - within.total_seconds()
            moments.append(enters if enters > _ts(now) else enters + 1)
        if stable is not None and float(stable) < NEVER:
            moments.append(float(stable))
        if covers is not None and float(covers) < NEVER:
            moments.append(float(covers) - within.total_seconds())
        if not moments:
            return None
        try:
            return datetime.fromtimestamp(min(moments), UTC)
        except (OverflowError, OSError, ValueError):
            return None

    def refresh(self, *, now: datetime, within: timedelta | str = timedelta(0)) -> int:
        """Plan again every contact whose plan is stale at ``now`` for a look ``within`` ahead.

        Returns how many contacts this call planned. ``agenda`` calls it; call
        it yourself to roll plans forward ahead of a busy moment. Several
        processes may refresh at once: each checks again, inside the write
        transaction of each chunk, which contacts are still stale, so a
        contact is planned once however many processes asked, and other
        writers get the database between chunks.
        """
        return self._refresh(require_aware(now, "now"), _within(within))[0]

    def _refresh(self, now: datetime, within: timedelta) -> tuple[int, tuple[PlanningProblem, ...]]:
        """``refresh``: how many contacts were planned, and those that could not be."""
        horizon = max(PLAN_AHEAD, within * 2)
        with self._read() as cur:
            cur.execute(
                "SELECT contact_id FROM plan_state WHERE stable_until <= ? "
                "UNION SELECT contact_id FROM plan_state WHERE covers_until < ?",
                (_ts(now), _ts(_end(now, within))),
            )
            stale = sorted(row[0] for row in cur.fetchall())
        planned = 0
        problems: list[PlanningProblem] = []
        for chunk in _chunks(stale, REPLAN_BATCH):
            count, found = self._replan(list(chunk), now, horizon, within)
            planned += count
            problems.extend(found)
        self.replanned += planned
        self._after_replan(planned)
        return planned, tuple(problems)

    def _after_replan(self, planned: int) -> None:
        """What a store does once ``planned`` contacts were planned again: nothing here."""

    def _replan(
        self, ids: list[str], now: datetime, horizon: timedelta, within: timedelta
    ) -> tuple[int, list[PlanningProblem]]:
        """Plan those of ``ids`` still stale once their plans are held: how many, and the problems.

        Another process may have planned some while this one waited for the
        lock. A contact that cannot be planned is returned as a problem, not
        raised: its plan stays stale and empty, so every agenda names it until
        the cause is fixed, while everyone else is planned and delivered.
        """
        from cadence.core.planning import plan_contact, problem_reason
        from cadence.core.roster import Roster

        with self._tx() as cur:
            self._lock_plans(cur, ids)
            ids = self._still_stale(cur, ids, now, within)
            if not ids:
                return 0, []
            marks = _marks(len(ids))
            cur.execute(
                f"SELECT {_CONTACT_COLUMNS} FROM contacts "
                f"WHERE id IN ({marks})",  # placeholders only
                ids,
            )
            contacts = [contact_from_row(tuple(row)) for row in cur.fetchall()]
            wanted = {c.id for c in contacts}
            rules, broken = self._readable_rules(cur)
            rules = [r for r in rules if r.contact is None or r.contact in wanted]
            cur.execute(
                "SELECT data FROM occasions WHERE contact_id IS NULL "
                f"OR contact_id IN ({marks}) ORDER BY id",  # placeholders only
                ids,
            )
            occasions = [occasion_from_data(json.loads(d)) for (d,) in cur.fetchall()]
            touches = self._edge_touches(cur, ids, now)
            cur.execute(
                f"SELECT key, until FROM snoozes WHERE contact_id IN ({marks})",
                ids,
            )
            snoozes = [Snooze(k, datetime.fromisoformat(u)) for k, u in cur.fetchall()]
            cur.execute(
                f"SELECT key FROM dismissals WHERE contact_id IN ({marks})",
                ids,
            )
            dismissed = [k for (k,) in cur.fetchall()]
            roster = Roster(
                contacts, rules, occasions, touches, snoozes=snoozes, dismissed=dismissed
            )
            rows: list[tuple[Any, ...]] = []
            states: list[tuple[Any, ...]] = []
            covers = _ts(now + horizon)
            problems: list[PlanningProblem] = []
            failed: set[str] = set()
            for contact in contacts:
                reason = _broken_rule_for(contact, rules, broken)
                if reason is None:
                    try:
                        planned = plan_contact(roster, contact.id, now=now, horizon=horizon)
                    except Exception as error:  # one contact must not stop the others
                        reason = problem_reason(error)
                if reason is not None:
                    problems.append(PlanningProblem(contact.id, reason))
                    failed.add(contact.id)
                    continue
                rows.extend(reminder_row(r) for r in planned.reminders)
                stable = NEVER if planned.stable_until is None else _ts(planned.stable_until)
                states.append((stable, covers, _ts(now), contact.id))
            cur.execute(
                f"DELETE FROM next_due WHERE contact_id IN ({marks})", ids
            )  # placeholders only
            uncovered = [
                c.id for c in contacts if c.id not in failed and _no_rule_applies(c, rules, broken)
            ]
            if uncovered:
                cur.execute(
                    "UPDATE plan_state SET no_cadence = 1 "
                    f"WHERE contact_id IN ({_marks(len(uncovered))})",  # placeholders only
                    uncovered,
                )
            self._write_plans(cur, rows, states)
        return len(ids) - len(problems), problems

    def _write_plans(
        self, cur: Cursor, rows: Sequence[tuple[Any, ...]], states: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert planned reminder rows (key, contact_id, due_ts, due, data) and update plan
        states (stable_until, covers_until, planned_at, contact_id) in the open transaction."""
        cur.executemany(
            "INSERT INTO next_due (key, contact_id, due_ts, due, data) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        cur.executemany(
            "UPDATE plan_state SET stable_until = ?, covers_until = ?, planned_at = ? "
            "WHERE contact_id = ?",
            states,
        )

    def _still_stale(
        self, cur: Cursor, ids: list[str], now: datetime, within: timedelta
    ) -> list[str]:
        """Those of ``ids`` whose plan is still stale: another process may have planned the rest
        while this one waited for the lock."""
        cur.execute(
            f"SELECT contact_id FROM plan_state WHERE contact_id IN ({_marks(len(ids))}) "
            "AND (stable_until <= ? OR covers_until < ?) ORDER BY contact_id",  # placeholders only
            [*ids, _ts(now), _ts(now + within)],
        )
        return [row[0] for row in cur.fetchall()]

    def _edge_touches(self, cur: Cursor, ids: list[str], now: datetime) -> list[Touchpoint]:
        """What planning needs of each contact's touches at ``now``.

        The personal touches drift reads (those from ``LOOKBACK`` before
        their last touch "in" or meeting, up to ``now``; the last personal
        touch at least), and the first personal touch after ``now``.
        """
        from cadence.core.drift import LOOKBACK

        marks = _marks(len(ids))
        stamp = _ts(now)
        cur.execute(
            f"SELECT {_TOUCH_COLUMNS} FROM touchpoints t WHERE personal = 1 "
            f"AND contact_id IN ({marks}) AND at_ts <= ? AND at_ts >= COALESCE(("
            "SELECT MIN(x) FROM (SELECT MAX(at_ts) - ? AS x FROM touchpoints u "
            "WHERE u.contact_id = t.contact_id AND u.personal = 1 AND u.at_ts <= ? "
            "AND (u.direction = 'in' OR u.channel = 'meeting') "
            "UNION ALL SELECT MAX(at_ts) FROM touchpoints u "
            "WHERE u.contact_id = t.contact_id AND u.personal = 1 AND u.at_ts <= ?) AS m), ?) "
            "UNION ALL SELECT contact_id, at, channel, personal, direction, note, source, ref "
            f"FROM touchpoints t WHERE personal = 1 AND contact_id IN ({marks}) "
            "AND at_ts = (SELECT MIN(at_ts) FROM touchpoints u "
            "WHERE u.contact_id = t.contact_id AND u.personal = 1 AND u.at_ts > ?)",
            [*ids, stamp, LOOKBACK.total_seconds(), stamp, stamp, stamp, *ids, stamp],
        )
        return [_touch(row) for row in cur.fetchall()]

    # -- the delivery ledger --------------------------------------------------

    def claim(
        self,
        wanted: Sequence[tuple[str, str]],
        *,
        now: datetime,
        worker: str,
        ttl: timedelta,
        titles: dict[str, tuple[str, str]] | None = None,
    ) -> list[Claim]:
        """Claim deliveries (reminder key, route name) that are free to attempt at ``now``.

        A delivery is free when it was never attempted, or failed and its next
        attempt is due, and no live claim holds it. Claims expire ``ttl`` of
        wall-clock time after they are made, so a dispatcher that dies loses
        nothing: another takes its deliveries over. Returns those claimed.
        """
        with self._tx() as cur:
            return self._claim(
                cur, wanted, now=now, worker=worker, ttl=ttl.total_seconds(), titles=titles or {}
            )

    def _claim(
        self,
        cur: Cursor,
        wanted: Sequence[tuple[str, str]],
        *,
        now: datetime,
        worker: str,
        ttl: float,
        titles: dict[str, tuple[str, str]],
    ) -> list[Claim]:
        """Claim ``wanted`` inside the open write transaction; ``ttl`` is in seconds.

        Here the write transaction holds the whole database (SQLite), so the
        ledger rows read first cannot change before they are written: the
        free ones are found in Python and claimed with two bulk statements.
        A database with row locks overrides it to skip the rows another
        dispatcher is claiming instead of waiting for them.
        """
        stamp = _ts(now)
        wall = self.claim_clock()
        pairs = list(dict.fromkeys(wanted))
        known: dict[tuple[str, str], tuple[str, int, float | None, float | None]] = {}
        for part in _chunks(sorted({key for key, _ in pairs}), 500):
            cur.execute(
                "SELECT key, route, status, attempts, claimed_until, next_attempt_ts "
                f"FROM deliveries WHERE key IN ({_marks(len(part))})",
                part,
            )
            for key, route, status, attempts, until, next_ts in cur.fetchall():
                known[key, route] = (status, int(attempts), until, next_ts)
        fresh: list[tuple[Any, ...]] = []
        free: list[tuple[Any, ...]] = []
        claimed: dict[tuple[str, str], int] = {}
        for key, route in pairs:
            row = known.get((key, route))
            if row is None:
                contact, title = titles.get(key, (None, None))
                fresh.append((key, route, worker, wall + ttl, contact, title, now.isoformat()))
                claimed[key, route] = 0
                continue
            status, attempts, until, next_ts = row
            if (
                status in ("pending", "failed")
                and (until is None or until <= wall)
                and (next_ts is None or next_ts <= stamp)
            ):
                free.append((worker, wall + ttl, key, route))
                claimed[key, route] = attempts
        if fresh:
            cur.executemany(
                "INSERT INTO deliveries (key, route, status, attempts, claimed_by, "
                "claimed_until, contact_id, title, updated) "
                "VALUES (?, ?, 'pending', 0, ?, ?, ?, ?, ?)",
                fresh,
            )
        if free:
            cur.executemany(
                "UPDATE deliveries SET claimed_by = ?, claimed_until = ? "
                "WHERE key = ? AND route = ?",
                free,
            )
        return [Claim(key, route, n) for (key, route), n in claimed.items()]

    def record(
        self,
        key: str,
        route: str,
        *,
        status: str,
        attempts: int,
        at: datetime,
        error: str | None = None,
        next_attempt: datetime | None = None,
    ) -> None:
        """Record the outcome of an attempt and release the claim on it."""
        from cadence._delivery import Delivery

        self.record_many(
            [Delivery(key, route, status, attempts, at, error, next_attempt)]  # type: ignore[arg-type]
        )

    def record_many(self, outcomes: Sequence[Delivery]) -> None:
        """Record the outcomes of several attempts in one transaction and release their claims.

        A delivery already recorded sent keeps that status. Either every
        outcome is recorded or, on an error, none is.
        """
        for outcome in outcomes:
            if outcome.status not in ("sent", "failed", "dead"):
                raise CadenceError(f"unknown delivery status {outcome.status!r}")
        if not outcomes:
            return
        rows = [
            (
                o.key,
                o.route,
                o.status,
                o.attempts,
                o.error,
                _ts(o.next_attempt) if o.next_attempt else None,
                o.next_attempt.isoformat() if o.next_attempt else None,
                o.at.isoformat(),
            )
            for o in outcomes
        ]
        with self._recording() as cur:
            self._record(cur, rows)

    def _recording(self) -> AbstractContextManager[Cursor]:
        """Where ``_record`` writes: a write transaction, unless one statement is atomic enough."""
        return self._tx()

    def _record(self, cur: Cursor, rows: Sequence[tuple[Any, ...]]) -> None:
        """Write outcome rows (key, route, status, attempts, error, next_attempt_ts,
        next_attempt, updated) inside the open write transaction."""
        cur.executemany(
            "UPDATE deliveries SET status = ?, attempts = ?, last_error = ?, "
            "next_attempt_ts = ?, next_attempt = ?, updated = ?, claimed_by = NULL, "
            "claimed_until = NULL WHERE key = ? AND route = ? AND status != 'sent'",
            [(*row[2:], row[0], row[1]) for row in rows],
        )

    def release(self, claims: Iterable[tuple[str, str]]) -> None:
        """Give claims back without an attempt; never-attempted deliveries are forgotten."""
        pairs = list(claims)
        if not pairs:
            return
        with self._tx() as cur:
            cur.executemany(
                "DELETE FROM deliveries WHERE key = ? AND route = ? AND attempts = 0 "
                "AND status = 'pending'",
                pairs,
            )
            cur.executemany(
                "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL "
                "WHERE key = ? AND route = ?",
                pairs,
            )

    def mark_gone(self, route: str, fingerprint: str, *, at: datetime, error: str) -> None:
        """Remember that ``route``'s receiver is gone, until the route's settings change."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO route_state (route, fingerprint, gone_at, error) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (route) DO UPDATE SET fingerprint = excluded.fingerprint, "
                "gone_at = excluded.gone_at, error = excluded.error",
                (route, fingerprint, at.isoformat(), error),
            )

    def gone_routes(self) -> dict[str, tuple[str, str, str]]:
        """Routes whose receiver is gone: name -> (fingerprint, when, error)."""
        with self._read() as cur:
            cur.execute("SELECT route, fingerprint, gone_at, error FROM route_state")
            return {r: (f, g, e) for r, f, g, e in cur.fetchall()}

    def clear_gone(self, route: str) -> None:
        """Forget that ``route`` was gone (its settings changed)."""
        with self._tx() as cur:
            cur.execute("DELETE FROM route_state WHERE route = ?", (route,))

    def ledger(
        self, *, statuses: Iterable[str] | None = None, limit: int = 1000
    ) -> list[LedgerEntry]:
        """Ledger rows, most recently updated first; all statuses unless narrowed."""
        sql = (
            "SELECT key, route, status, attempts, contact_id, title, updated, next_attempt, "
            "last_error FROM deliveries"
        )
        params: list[Any] = []
        if statuses is not None:
            wanted = list(statuses)
            sql += f" WHERE status IN ({_marks(len(wanted))})"
            params.extend(wanted)
        sql += " ORDER BY updated DESC, key LIMIT ?"
        params.append(limit)
        with self._read() as cur:
            cur.execute(sql, params)
            return [LedgerEntry(*row) for row in cur.fetchall()]

    def ledger_counts(self) -> dict[str, dict[str, int]]:
        """Per route, how many deliveries are in each status."""
        with self._read() as cur:
            cur.execute("SELECT route, status, COUNT(*) FROM deliveries GROUP BY route, status")
            counts: dict[str, dict[str, int]] = {}
            for route, status, n in cur.fetchall():
                counts.setdefault(route, {})[status] = int(n)
            return counts

    def delivered_keys(self, route: str) -> set[str]:
        """Keys the route has taken (status sent)."""
        with self._read() as cur:
            cur.execute("SELECT key FROM deliveries WHERE route = ? AND status = 'sent'", (route,))
            return {k for (k,) in cur.fetchall()}

    # -- what publishing routes wrote ------------------------------------------

    def published(self, route: str) -> dict[str, Published]:
        """What the publishing ``route`` wrote, by event UID (empty at first)."""
        from cadence._delivery import Published

        with self._read() as cur:
            cur.execute(
                "SELECT uid, href, etag, digest, inputs, state FROM published WHERE route = ?",
                (route,),
            )
            return {
                str(uid): Published(str(uid), str(href), etag, str(digest), str(inputs), state)
                for uid, href, etag, digest, inputs, state in cur.fetchall()
            }

    def keep_published(self, route: str, items: Iterable[Published]) -> None:
        """Record ``items`` for ``route`` in one transaction, replacing those of their UIDs."""
        rows = [(route, i.uid, i.href, i.etag, i.digest, i.inputs, i.state) for i in items]
        for row in rows:
            if row[6] not in ("ours", "theirs"):
                raise CadenceError(
                    f"a published item's state is 'ours' or 'theirs', not {row[6]!r}"
                )
        with self._tx() as cur:
            cur.executemany(
                "INSERT INTO published (route, uid, href, etag, digest, inputs, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (route, uid) DO UPDATE SET "
                "href = excluded.href, etag = excluded.etag, digest = excluded.digest, "
                "inputs = excluded.inputs, state = excluded.state",
                rows,
            )

    def forget_published(self, route: str, uids: Iterable[str]) -> None:
        """Forget what ``route`` wrote under ``uids``, in one transaction."""
        wanted = sorted(set(uids))
        with self._tx() as cur:
            for chunk in _chunks(wanted, 500):
                cur.execute(
                    f"DELETE FROM published WHERE route = ? AND uid IN ({_marks(len(chunk))})",
                    [route, *chunk],
                )  # placeholders only

    def published_token(self, route: str) -> tuple[str, str] | None:
        """The collection the publishing ``route`` last read, and its sync token; None if none."""
        with self._read() as cur:
            cur.execute("SELECT collection, token FROM published_tokens WHERE route = ?", (route,))
            row = cur.fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def keep_published_token(self, route: str, collection: str, token: str | None) -> None:
        """Record the sync token of ``collection`` for ``route``; None forgets the route's token."""
        with self._tx() as cur:
            if token is None:
                cur.execute("DELETE FROM published_tokens WHERE route = ?", (route,))
                return
            cur.execute(
                "INSERT INTO published_tokens (route, collection, token) VALUES (?, ?, ?) "
                "ON CONFLICT (route) DO UPDATE SET "
                "collection = excluded.collection, token = excluded.token",
                (route, collection, token),
            )


def _contact_and_source(contact: str | None, source: str | None) -> tuple[str, list[Any]]:
    """A WHERE clause (with its leading space, or empty) keeping one contact's or source's rows."""
    where: list[str] = []
    params: list[Any] = []
    if contact is not None:
        where.append("contact_id = ?")
        params.append(contact)
    if source is not None:
        where.append("source = ?")
        params.append(source)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _check_batch(batch: object) -> None:
    from cadence.sources.batch import ImportBatch

    if not isinstance(batch, ImportBatch):
        raise CadenceError(f"not an ImportBatch: {batch!r}")
    for contact in batch.contacts:
        if not isinstance(contact, Contact):
            raise CadenceError(f"not a Contact: {contact!r}")
    for occasion in batch.occasions:
        _check_occasion(occasion)
    for rule in batch.rules:
        if not isinstance(rule, Rule):
            raise CadenceError(f"not a Rule: {rule!r}")
    for touch in batch.touchpoints:
        if not isinstance(touch, Touchpoint):
            raise CadenceError(f"not a Touchpoint: {touch!r}")


def _check_occasion(occasion: object) -> None:
    from cadence.core.occasions import Anniversary, Birthday, Occasion

    if not isinstance(occasion, Birthday | Anniversary | Occasion):
        raise CadenceError(f"not an occasion: {occasion!r}")


def _occasion_kind(occasion: OccasionKind) -> str:
    """The "kind" of ``occasion_to_data``."""
    from cadence.core.occasions import Anniversary, Birthday

    if isinstance(occasion, Birthday):
        return "birthday"
    return "anniversary" if isinstance(occasion, Anniversary) else "occasion"


def _occasion_tag(occasion: OccasionKind) -> str | None:
    from cadence.core.occasions import Occasion

    return occasion.tag if isinstance(occasion, Occasion) else None


#: How many rows a query that streams reads at a time.
STREAM_ROWS = 5000


def _streamed(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
    """The rows of a query, read a few thousand at a time (one at a time where the driver can).

    A cursor with a ``stream`` method (PostgreSQL's) streams; any other
    is read ``STREAM_ROWS`` rows at a time.
    """
    stream = getattr(cur, "stream", None)
    if stream is not None:
        yield from stream(sql, params)
        return
    cur.execute(sql, params)
    while rows := cur.fetchmany(STREAM_ROWS):
        yield from rows


def _touch(row: Sequence[Any]) -> Touchpoint:
    contact, at, channel, personal, direction, note, source, ref = row
    return Touchpoint(
        contact,
        datetime.fromisoformat(at),
        channel,
        personal=bool(personal),
        direction=direction,
        note=note or "",
        source=source,
        ref=ref,
    )


def _broken_rule_for(
    contact: Contact, rules: list[Rule], broken: list[tuple[str, str | None, str]]
) -> str | None:
    """Why the rule that decides ``contact``'s cadence cannot be read, if so; else None.

    The contact's own rule decides, else its tags' rules, else the default:
    a broken rule matters only where it could be the one that decides.
    """
    if not broken:
        return None
    own = [b for b in broken if b[0] == "contact" and b[1] == contact.id]
    if own:
        return _broken_words("its own rule", own[0][2])
    if any(r.contact == contact.id for r in rules):
        return None
    tagged = [b for b in broken if b[0] == "tag" and b[1] in contact.tags]
    if tagged:
        return _broken_words(f"the rule for tag {tagged[0][1]!r}", tagged[0][2])
    if any(r.tag is not None and r.tag in contact.tags for r in rules):
        return None
    default = [b for b in broken if b[0] not in ("contact", "tag")]
    if default:
        return _broken_words("the default rule", default[0][2])
    return None


def _broken_words(where: str, reason: str) -> str:
    return f"{where} cannot be used ({reason}); set it again with 'cadence rule set'"


def _within(value: object) -> timedelta:
    """How far ahead to look: a timedelta, or text such as "7d"; checked."""
    within = parse_duration(value) if isinstance(value, str) else value
    if not isinstance(within, timedelta) or within < timedelta(0):
        shown = shown_value(within)
        raise CadenceError(f"within must be a duration of zero or more, not {shown}")
    return within


def _end(now: datetime, within: timedelta) -> datetime:
    try:
        return now + within
    except OverflowError:
        raise CadenceError(
            f"{now.isoformat()} plus {shown_value(within)} lies past the end of the calendar"
        ) from None


def _no_rule_applies(
    contact: Contact, rules: list[Rule], broken: list[tuple[str, str | None, str]]
) -> bool:
    """Whether no rule, readable or broken, applies to ``contact``: ``without_cadence``'s test."""
    for rule in rules:
        if rule.contact == contact.id:
            return False
        if rule.contact is None and (rule.tag is None or rule.tag in contact.tags):
            return False
    for kind, target, _ in broken:
        if kind == "contact" and target == contact.id:
            return False
        if kind == "tag" and target in contact.tags:
            return False
        if kind not in ("contact", "tag"):
            return False
    return True
