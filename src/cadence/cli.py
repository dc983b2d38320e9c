"""The ``cadence`` command: keep a roster, see what is due, and deliver it.

Every command reads the store named by ``--db`` (or ``CADENCE_DB``, or a
SQLite file in the user's data folder). Bad input prints one line to stderr
and exits non-zero, and changes nothing.
"""

from __future__ import annotations

import gc
import heapq
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

import cadence
from cadence._output import Output, Table, Text
from cadence._terminal import escape_json, neutralise
from cadence.core.errors import CadenceError, ImportFailed, StoreBusy

if TYPE_CHECKING:
    # Each command imports what it needs when it runs: `cadence --help` and
    # `cadence due` start in a fraction of the time importing all of it takes.
    from cadence._config import Config
    from cadence._delivery import Route
    from cadence._dispatch import DispatchReport
    from cadence.core.cadences import Every, Recurring
    from cadence.core.drift import Drift
    from cadence.core.model import Contact, Rule
    from cadence.core.occasions import OccasionKind
    from cadence.core.reminders import Agenda
    from cadence.core.roster import Roster
    from cadence.sources.batch import ImportBatch
    from cadence.sources.merge import ImportReport
    from cadence.sources.sync import SyncReport

F = TypeVar("F", bound=Callable[..., Any])


out = Output()
err = Output(stderr=True)


class State:
    """What the global options chose, opened on first use."""

    def __init__(
        self, db: str | None, config: str | None, now: str | None, locale: str | None = None
    ) -> None:
        self.db = db
        self.config_path = config
        #: The language ``--locale`` (or ``CADENCE_LOCALE``) asked for; None for the platform's.
        self.locale = locale
        #: The moment ``--now`` gave, if any.
        self.pinned = _pinned(now) if now else None
        self._now = self.pinned
        self._store: Any = None
        self._config: Config | None = None

    @property
    def now(self) -> datetime:
        """The moment commands act at: ``--now``, else the clock."""
        if self._now is None:
            self._now = datetime.now(UTC)
        return self._now

    @property
    def store(self) -> Any:
        """The store, opened once; created only for a command that may create it."""
        from cadence._config import open_store

        if self._store is None:
            self._store = open_store(self.db, create=_may_create_store())
        return self._store

    @property
    def words(self) -> Any:
        """The words reminders are shown in (``cadence.l10n``), for ``--locale`` or the default."""
        from cadence.l10n import words

        return words(self.locale)

    @property
    def config(self) -> Config:
        """The configuration file's content."""
        from cadence._config import load_config

        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def existing_store(self) -> Any:
        """The store if it exists already, else None, having created nothing."""
        from cadence._config import open_store

        if self._store is None:
            try:
                self._store = open_store(self.db, create=False)
            except CadenceError:
                return None
        return self._store

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()


pass_state = click.make_pass_decorator(State)

#: The commands that may create the store when it does not exist yet: each
#: writes something a new store can hold. Every other command needs an
#: existing store, so a mistyped --db is refused instead of being answered
#: from a new, empty store.
CREATING_COMMANDS = frozenset(
    {"contact add", "rule set", "occasion add", "import", "sync", "run", "demo"}
)


def contact_health(roster: Roster, contact_id: str, *, now: datetime) -> float | None:
    """``cadence.health``, imported when a command first asks for it."""
    from cadence.core.planning import health

    return health(roster, contact_id, now=now)


def _may_create_store() -> bool:
    """Whether the command running now may create the store (a dry run may not)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    names = []
    at: click.Context | None = ctx
    while at is not None and at.parent is not None:
        names.append(at.info_name or "")
        at = at.parent
    return " ".join(reversed(names)) in CREATING_COMMANDS and not ctx.params.get("dry_run")


# The span planning reckons in (see cadence.plan): a --now outside it could
# only fail later, deep in date arithmetic.
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _pinned(text: str) -> datetime:
    from cadence.core.durations import parse_moment

    moment = parse_moment(text)
    try:
        inside = _EARLIEST <= moment.astimezone(UTC) < _LATEST
    except OverflowError:  # the offset takes it past the year 9999
        inside = False
    if not inside:
        raise CadenceError(f"--now must lie between the years 1900 and 9000, not {text.strip()!r}")
    return moment


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, in the plural unless it is one: "1 rule", "2 rules"."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def _fail(message: str) -> NoReturn:
    raise CadenceError(message)


#: How a command's help names the ways to give a contact.
CONTACT_HELP = "the id, one of the emails, or the start of the id or name"


def _find(state: State, text: str) -> Contact:
    """The contact ``text`` names (see :data:`CONTACT_HELP`), or one error line."""
    store = state.store
    finder = getattr(store, "find_contact", None)
    found: Contact = finder(text) if finder is not None else store.get_contact(text)
    return found


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; a no-op otherwise."""
    if not sys.stderr.isatty() or (total is not None and total < 50):
        yield lambda n: None
        return
    # Only a terminal shows a bar: commands run from scripts never import it.
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err.console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _show_version(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    # As click's version_option says it, with the version read only when asked for:
    # importlib.metadata is slow to import, and no other command needs it.
    if value and not ctx.resilient_parsing:
        click.echo(f"cadence, version {cadence.__version__}")
        ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.option(
    "--db", metavar="URL", envvar="CADENCE_DB", help="Store URL, e.g. sqlite:///cadence.db."
)
@click.option(
    "--config", metavar="FILE", envvar="CADENCE_CONFIG", help="Routes file (cadence.toml)."
)
@click.option(
    "--now", metavar="ISO-8601", help="Act as of this moment, e.g. 2026-11-23T09:00+01:00."
)
@click.option(
    "--locale",
    metavar="TAG",
    envvar="CADENCE_LOCALE",
    help="Language of reminders, e.g. es, de_AT (default: the platform's).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, config: str | None, now: str | None, locale: str | None
) -> None:
    """Remember how often each contact should hear from you, and when."""
    if ctx.invoked_subcommand is None:
        # Bare "cadence" asks what it can do: the help, not a usage error.
        click.echo(ctx.get_help())
        return
    state = State(db, config, now, locale)
    ctx.obj = state
    ctx.call_on_close(state.close)


# -- contacts -------------------------------------------------------------------


@cli.group()
def contact() -> None:
    """Add, list, show, edit and remove contacts.

    A command that takes a contact takes its id, one of its email addresses,
    or the start of its id or name, in any case; text that fits several
    contacts is refused with the candidates listed.
    """


@contact.command("add")
@click.argument("contact_id", metavar="ID")
@click.option("--name", required=True, help="The contact's name.")
@click.option(
    "--email",
    "emails",
    multiple=True,
    help="An email address (repeat for several; the first is the primary).",
)
@click.option("--phone", "phones", multiple=True, help="A phone number (repeat for several).")
@click.option("--org", "organization", help="The organization they work for.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA zone, e.g. Europe/Madrid.")
@click.option("--channel", help="Preferred channel: phone, email, video, text...")
@click.option("--tag", "tags", multiple=True, help="A tag (repeat for several).")
@click.option("--since", help="The day the relationship began (YYYY-MM-DD).")
@click.option("--every", help="The contact's own cadence: '2 weeks', 'monthly', 'RRULE:...'.")
@pass_state
def contact_add(
    state: State,
    contact_id: str,
    name: str,
    emails: tuple[str, ...],
    phones: tuple[str, ...],
    organization: str | None,
    timezone: str,
    channel: str | None,
    tags: tuple[str, ...],
    since: str | None,
    every: str | None,
) -> None:
    """Add a new contact.

    An ID already in use is refused: 'cadence contact edit' changes a contact.
    """
    from cadence.core.cadences import parse_cadence
    from cadence.core.durations import parse_date
    from cadence.core.model import Contact, Rule

    person = Contact(
        contact_id,
        name,
        emails=emails,
        phones=phones,
        organization=organization,
        timezone=timezone,
        channel=channel,
        tags=tags,
        since=parse_date(since) if since else None,
    )
    rule = Rule(parse_cadence(every), contact=contact_id) if every else None
    store = state.store
    try:
        there = store.get_contact(person.id)
    except CadenceError:
        there = None
    if there is not None:
        _fail(
            f"there is already a contact {there.id} ({there.name}); "
            f"change it with 'cadence contact edit {there.id} --name ...' (only what you give "
            "changes), or remove it first"
        )
    store.put_contact(person)
    if rule is not None:
        store.set_rule(rule)
    out.print(f"saved {person.id} ({person.name})")


@contact.command("edit")
@click.argument("contact_id", metavar="ID")
@click.option("--name", help="A new name.")
@click.option("--add-email", "add_emails", multiple=True, help="Add an email address (repeatable).")
@click.option(
    "--remove-email", "remove_emails", multiple=True, help="Remove an email address (any case)."
)
@click.option("--primary-email", help="Make this address the primary one (added if new).")
@click.option("--phone", "add_phones", multiple=True, help="Add a phone number (repeatable).")
@click.option("--remove-phone", "remove_phones", multiple=True, help="Remove a phone number.")
@click.option("--org", "organization", help="A new organization ('' removes it).")
@click.option("--tag", "add_tags", multiple=True, help="Add a tag (repeatable).")
@click.option("--untag", "remove_tags", multiple=True, help="Remove a tag (repeatable).")
@click.option("--channel", help="A new preferred channel ('' removes it).")
@click.option("--timezone", help="A new IANA zone, e.g. Europe/Madrid.")
@click.option("--since", help="A new day the relationship began, YYYY-MM-DD ('' removes it).")
@click.option("--every", help="Give the contact a cadence of its own: '2 weeks', 'monthly'...")
@click.option("--no-cadence", is_flag=True, help="Remove the contact's own cadence rule.")
@pass_state
def contact_edit(
    state: State,
    contact_id: str,
    name: str | None,
    add_emails: tuple[str, ...],
    remove_emails: tuple[str, ...],
    primary_email: str | None,
    add_phones: tuple[str, ...],
    remove_phones: tuple[str, ...],
    organization: str | None,
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
    channel: str | None,
    timezone: str | None,
    since: str | None,
    every: str | None,
    no_cadence: bool,
) -> None:
    """Change a contact: only what is given changes, the rest is kept.

    ID is the id, one of the emails, or the start of the id or name.
    """
    from cadence import _actions as actions

    if every and no_cadence:
        _fail("give --every or --no-cadence, not both")
    person = _find(state, contact_id)
    changed, saved = actions.edit_contact(
        state.store,
        person,
        name=name,
        add_emails=add_emails,
        remove_emails=remove_emails,
        primary_email=primary_email,
        add_phones=add_phones,
        remove_phones=remove_phones,
        organization=organization,
        add_tags=add_tags,
        remove_tags=remove_tags,
        channel=channel,
        timezone=timezone,
        since=since,
        every=every,
        no_cadence=no_cadence,
    )
    if saved:
        out.print(f"saved {changed.id} ({changed.name})")
    else:
        out.print(f"unchanged {changed.id} ({changed.name})")


@contact.command("list")
@pass_state
def contact_list(state: State) -> None:
    """List every contact."""
    table = Table("id", "name", "email", "zone", "channel", "tags", box=None)
    for person in state.store.list_contacts():
        table.add_row(
            person.id,
            person.name,
            person.email or "",
            person.timezone,
            person.channel or "",
            ", ".join(sorted(person.tags)),
        )
    out.print(table)


_NO_CADENCE = "none, so never due ('cadence rule set' gives one)"


@contact.command("show")
@click.argument("contact_id", metavar="ID")
@pass_state
def contact_show(state: State, contact_id: str) -> None:
    """Show a contact with its cadence, occasions, touchpoints and health.

    ID is the id, one of the emails, or the start of the id or name.
    """
    from cadence.core.drift import drift

    store = state.store
    person = _find(state, contact_id)
    contact_id = person.id
    roster = store.contact_roster(contact_id)
    cadence = roster.cadence_for(person)
    score = contact_health(roster, contact_id, now=state.now)
    found = drift(roster, contact_id, now=state.now)
    out.print(Text.assemble((person.name, "bold"), f" ({person.id})"))
    for label, value in (
        ("email", person.email),
        ("other emails", ", ".join(person.emails[1:]) or None),
        ("phones", ", ".join(person.phones) or None),
        ("organization", person.organization),
        ("zone", person.timezone),
        ("channel", person.channel),
        ("tags", ", ".join(sorted(person.tags)) or None),
        ("since", person.since.isoformat() if person.since else None),
        ("cadence", cadence.describe() if cadence else _NO_CADENCE),
        ("health", f"{score:.0%}" if score is not None else None),
        ("drift", f"{found.level} (score {found.score:g}, {found.trend})"),
    ):
        if value:
            out.print(f"  {label}: {value}")
    for words in found.words:
        out.print(f"    {words}")
    for ident, occasion in store.list_occasions(contact_id):
        out.print(f"  occasion {ident}: {_describe_occasion(occasion)}")
    for touch in store.touchpoints(contact_id)[-10:]:
        kind = "" if touch.personal else " (bulk)"
        note = f": {touch.note}" if touch.note else ""
        out.print(f"  {touch.at:%Y-%m-%d %H:%M} {touch.direction} via {touch.channel}{kind}{note}")


@contact.command("remove")
@click.argument("contact_id", metavar="ID")
@pass_state
def contact_remove(state: State, contact_id: str) -> None:
    """Remove a contact with its rules, occasions and touchpoints.

    ID is the id, one of the emails, or the start of the id or name.
    """
    person = _find(state, contact_id)
    state.store.remove_contact(person.id)
    out.print(f"removed {person.id} ({person.name})")


# -- rules ----------------------------------------------------------------------


@cli.group()
def rule() -> None:
    """Set how often contacts should hear from you, per contact, per tag, or for everyone."""


@rule.command("set")
@click.argument("cadence_text", metavar="CADENCE")
@click.option(
    "--contact", "contact_id", metavar="CONTACT", help=f"For one contact: {CONTACT_HELP}."
)
@click.option("--tag", help="For every contact with this tag.")
@pass_state
def rule_set(state: State, cadence_text: str, contact_id: str | None, tag: str | None) -> None:
    """Set a cadence ('2 weeks', 'monthly', 'every weekday at 17:00', 'RRULE:...')."""
    from cadence.core.cadences import parse_cadence
    from cadence.core.model import Rule

    if contact_id is not None:
        contact_id = _find(state, contact_id).id
    made = Rule(parse_cadence(cadence_text), contact=contact_id, tag=tag)
    state.store.set_rule(made)
    out.print(f"{_target(made)}: {made.cadence.describe()}")


def _target(made: Rule) -> str:
    kind, target = made.target
    return "everyone" if kind == "everyone" else f"{kind} {target}"


@rule.command("list")
@pass_state
def rule_list(state: State) -> None:
    """List the rules."""
    table = Table("for", "cadence", box=None)
    for made in state.store.list_rules():
        table.add_row(_target(made), made.cadence.describe())
    out.print(table)


@rule.command("remove")
@click.option(
    "--contact", "contact_id", metavar="CONTACT", help=f"The contact's rule: {CONTACT_HELP}."
)
@click.option("--tag", help="The tag's rule.")
@pass_state
def rule_remove(state: State, contact_id: str | None, tag: str | None) -> None:
    """Remove a rule (with neither option, the rule for everyone)."""
    if contact_id is not None:
        contact_id = _find(state, contact_id).id
    if not state.store.remove_rule(contact=contact_id, tag=tag):
        _fail("there is no such rule")
    out.print("removed")


# -- occasions ------------------------------------------------------------------


def _month_day(text: str) -> tuple[int, int, int | None]:
    """Read YYYY-MM-DD, --MM-DD or MM-DD as (month, day, year or None)."""
    from cadence.core.durations import month_day

    parts = month_day(text.strip())
    if parts is not None:
        year, month, day = parts
        return month, day, year
    raise CadenceError(f"not a date: {text!r}; write YYYY-MM-DD or MM-DD")


def _describe_occasion(occasion: OccasionKind) -> str:
    from cadence.core.occasions import Anniversary, Birthday

    lead = f", {occasion.lead.days} days ahead" if occasion.lead else ""
    if isinstance(occasion, Birthday):
        year = f"{occasion.year}-" if occasion.year else ""
        return f"birthday {year}{occasion.month:02}-{occasion.day:02}{lead}"
    if isinstance(occasion, Anniversary):
        return f"{occasion.label} {occasion.date.isoformat()}{lead}"
    who = (
        f" for tag {occasion.tag}" if occasion.tag else "" if occasion.contact else " for everyone"
    )
    when = (
        occasion.on.isoformat() if occasion.on else f"every {occasion.month:02}-{occasion.day:02}"
    )
    return f"{occasion.title} {when}{who}{lead}"


@cli.group()
def occasion() -> None:
    """Dates that matter: birthdays, anniversaries, one-off and yearly dates."""


@occasion.command("add")
@click.option(
    "--contact", "contact_id", metavar="CONTACT", help=f"For one contact: {CONTACT_HELP}."
)
@click.option("--tag", help="For every contact with this tag (one-off and yearly dates).")
@click.option("--birthday", metavar="DATE", help="YYYY-MM-DD, or MM-DD without a year.")
@click.option("--anniversary", metavar="DATE", help="YYYY-MM-DD the relationship or event began.")
@click.option("--label", default="anniversary", show_default=True, help="Names an anniversary.")
@click.option("--on", "on_date", metavar="DATE", help="A one-off date (YYYY-MM-DD).")
@click.option("--yearly", metavar="MM-DD", help="A date every year, e.g. 02-14.")
@click.option("--title", help="What the one-off or yearly date is.")
@click.option("--lead", default="0d", show_default=True, help="How long before to remind: 7d, 2w.")
@click.option(
    "--leap-day",
    type=click.Choice(["feb28", "mar1"]),
    default="feb28",
    show_default=True,
    help="Where 29 February falls in common years.",
)
@pass_state
def occasion_add(
    state: State,
    contact_id: str | None,
    tag: str | None,
    birthday: str | None,
    anniversary: str | None,
    label: str,
    on_date: str | None,
    yearly: str | None,
    title: str | None,
    lead: str,
    leap_day: str,
) -> None:
    """Add an occasion for a contact, a tag, or everyone."""
    from cadence.core.durations import parse_date, parse_duration
    from cadence.core.occasions import Anniversary, Birthday, Occasion

    if contact_id is not None:
        contact_id = _find(state, contact_id).id
    chosen = [x for x in (birthday, anniversary, on_date, yearly) if x]
    if len(chosen) != 1:
        _fail("give exactly one of --birthday, --anniversary, --on or --yearly")
    ahead = parse_duration(lead)
    leap = "mar1" if leap_day == "mar1" else "feb28"
    made: OccasionKind
    if birthday or anniversary:
        if not contact_id or tag:
            _fail("birthdays and anniversaries are for one contact: give --contact")
        if birthday:
            month, day, year = _month_day(birthday)
            made = Birthday(contact_id, month, day, year=year, lead=ahead, leap_day=leap)
        else:
            made = Anniversary(
                contact_id, parse_date(anniversary), label=label, lead=ahead, leap_day=leap
            )
    else:
        if not title:
            _fail("one-off and yearly dates need a --title")
        if on_date:
            made = Occasion(title, on=parse_date(on_date), contact=contact_id, tag=tag, lead=ahead)
        else:
            assert yearly is not None
            month, day, _ = _month_day(yearly)
            made = Occasion(
                title, month=month, day=day, contact=contact_id, tag=tag, lead=ahead, leap_day=leap
            )
    ident = state.store.add_occasion(made)
    out.print(f"occasion {ident}: {_describe_occasion(made)}")


@occasion.command("list")
@click.option(
    "--contact", "contact_id", metavar="CONTACT", help=f"Only this contact's: {CONTACT_HELP}."
)
@click.option("--source", metavar="NAME", help="Only those a source gave ([[sources]]).")
@pass_state
def occasion_list(state: State, contact_id: str | None, source: str | None) -> None:
    """List occasions, with the source that gave each (none: added by hand)."""
    store = state.store
    if contact_id is not None:
        contact_id = _find(state, contact_id).id
    given = {
        ident: name
        for name in store.occasion_sources()
        for ident, _ in store.list_occasions(contact_id, source=name)
    }
    table = Table("id", "contact", "occasion", "source", box=None)
    for ident, item in store.list_occasions(contact_id, source=source):
        table.add_row(
            str(ident), item.contact or "", _describe_occasion(item), given.get(ident, "")
        )
    out.print(table)


@occasion.command("remove")
@click.argument("occasion_id", metavar="ID", type=int)
@pass_state
def occasion_remove(state: State, occasion_id: int) -> None:
    """Remove an occasion by its id."""
    if not 0 < occasion_id < 2**63:
        _fail(f"no occasion with id {occasion_id}")
    state.store.remove_occasion(occasion_id)
    out.print(f"removed occasion {occasion_id}")


# -- import, log ----------------------------------------------------------------


@contextmanager
def _cycles_collected_after() -> Iterator[None]:
    """Leave Python's collector of reference cycles off while a file is imported.

    An import holds every record it read until the merge is written: a
    large file's hundreds of thousands of objects, which each of the
    collector's full passes would walk again, to find next to no cycles
    (the passes took a tenth of the time of 100,000 contacts). What the
    import frees is freed as it goes, by reference counting; any cycle is
    left for the collector's next pass.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "format_name",
    help="Importer to use (default: told from the file's content and suffix).",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar='"COLUMN=FIELD"',
    help="Read a column of any CSV as one of cadence's (repeatable): --map 'Full Name=name'.",
)
@click.option("--dry-run", is_flag=True, help="Print what would change and change nothing.")
@click.option(
    "--prune",
    is_flag=True,
    help="Remove the contacts an earlier import of this format brought in "
    "that the file no longer has.",
)
@click.option(
    "--since",
    "since_text",
    metavar="YYYY-MM-DD",
    help="The day the relationship began, for every contact the file gives none.",
)
@pass_state
@_cycles_collected_after()
def import_file(
    state: State,
    path: Path,
    format_name: str | None,
    mapping: tuple[str, ...],
    dry_run: bool,
    prune: bool,
    since_text: str | None,
) -> None:
    """Import contacts from a file, merging them with those cadence has; all or nothing.

    Reads vCard (.vcf: Apple, iCloud, Google, Outlook, vCard 2.1 to 4.0), the
    CSV exports of Google Contacts, Outlook and LinkedIn (told apart by their
    header), and cadence's own CSV, whose columns are

    \b
        id,name,email,emails,phone,phones,organization,timezone,channel,tags,since,birthday,every

    (id and name required; emails, phones and tags separated by ";"; since
    and birthday as YYYY-MM-DD, birthday also --MM-DD without a year; every
    a cadence such as "monthly"). Any other CSV is read with --map, one for
    each column to read. docs/importing.md says what is read from each.

    A contact the store already has (by the file's own id for it, by id, or
    by email address) is updated with what the file carries and keeps what
    was set in cadence: channel, tags, rules, touchpoints. New contacts get
    an id made from their name and their first check-in spread over their
    cadence's first interval.
    """
    import attrs

    from cadence._plugins import get_plugins
    from cadence.core.durations import parse_date
    from cadence.sources.csv import read_csv
    from cadence.sources.merge import StaleImport

    since = parse_date(since_text) if since_text else None
    text = _read_import(path)
    if mapping:
        if format_name not in (None, "csv"):
            _fail("--map reads a CSV with cadence's own importer; leave out --format")
        columns = _mapping(mapping)
        batch = read_csv(text, source=str(path), mapping=columns)
        format_name = "csv"
    else:
        entry = get_plugins().importer_for(path.name, format_name, text)
        format_name = entry.name
        # --since changes records that did not change: each is read again.
        existing = state.existing_store()
        if entry.options.get("skips_unchanged") and since is None and existing is not None:
            known = existing.import_digests(f"file:{format_name}")
            try:
                report = _merge_import(
                    state,
                    entry.thing(text, source=str(path), known=known),
                    path,
                    format_name,
                    dry_run=dry_run,
                    prune=prune,
                )
            except StaleImport:
                pass  # the store changed meanwhile: read the whole file
            else:
                _print_import(report, path.name, format_name)
                return
        batch = entry.thing(text, source=str(path))
    if since is not None:
        batch = attrs.evolve(
            batch,
            contacts=[c if c.since else attrs.evolve(c, since=since) for c in batch.contacts],
        )
    report = _merge_import(state, batch, path, format_name, dry_run=dry_run, prune=prune)
    _print_import(report, path.name, format_name)


def _merge_import(
    state: State, batch: ImportBatch, path: Path, format_name: str, *, dry_run: bool, prune: bool
) -> ImportReport:
    try:
        report: ImportReport = state.store.merge_batch(
            batch,
            source=f"file:{format_name}",
            today=state.now.date(),
            dry_run=dry_run,
            prune=prune,
        )
    except ImportFailed as error:
        if error.path is not None:
            raise
        # Merging finds faults of the file too: say which file.
        raise ImportFailed(error.reason, path=str(path), line=error.line) from None
    return report


def _read_import(path: Path) -> str:
    from cadence.sources._encoding import decode

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _fail(f"{path}: no such file")
    except OSError as error:
        _fail(f"{path}: cannot read it: {error}")
    return decode(data, source=str(path))


def _mapping(pairs: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.rpartition("=")
        if not sep or not column.strip() or not field.strip():
            _fail(f'--map {pair!r}: write it as "Their Column=field"')
        found[column.strip()] = field.strip()
    return found


def _print_import(report: ImportReport, name: str, format_name: str) -> None:
    counts = [
        f"{len(report.new)} new",
        f"{len(report.updated)} updated",
        f"{len(report.unchanged) + report.unread} unchanged",
    ]
    if report.skipped:
        counts.append(f"{len(report.skipped)} skipped")
    if report.removed:
        counts.append(f"{len(report.removed)} removed")
    verb = "would import" if report.dry_run else "imported"
    out.print(
        f"{verb} {name} ({format_name}): {', '.join(counts)}; "
        f"{plural(report.occasions, 'occasion')}, {plural(report.rules, 'rule')}"
    )
    lines: list[tuple[str, str]] = []
    if report.dry_run:
        lines += [("new", f"{c.contact.id}  {c.contact.name}{_at(c.line)}") for c in report.new]
    for change in report.updated:
        lines.append(
            (
                "updated",
                f"{change.contact.id}  {change.contact.name}: "
                f"{', '.join(change.fields)}{_at(change.line)}",
            )
        )
    for skipped in report.skipped:
        where = f"line {skipped.line}: " if skipped.line else ""
        lines.append(("skipped", f"{where}{skipped.reason}"))
    removed = {c.id for c in report.removed}
    for contact in report.missing:
        if contact.id in removed:
            verb = "would remove" if report.dry_run else "removed"
            lines.append((verb, f"{contact.id}  {contact.name}"))
        else:
            lines.append(
                ("missing", f"{contact.id}  {contact.name}: not in the file (--prune removes it)")
            )
    for label, text in lines:
        out.print(f"{label:<10} {text}", markup=False, highlight=False)


def _at(line: int | None) -> str:
    return f" (line {line})" if line else ""


@cli.command("log")
@click.argument("contact_id", metavar="CONTACT")
@click.option(
    "--via", "channel", default=None, help="Channel (default: the contact's preferred one)."
)
@click.option(
    "--at",
    "at_text",
    metavar="ISO-8601",
    help="When (default: now); without an offset, in the contact's zone; not in the future.",
)
@click.option("--note", default="", help="A note.")
@click.option(
    "--bulk", is_flag=True, help="Bulk contact (a newsletter): does not restart the cadence."
)
@click.option("--in", "inbound", is_flag=True, help="They reached out to you.")
@pass_state
def log_touch(
    state: State,
    contact_id: str,
    channel: str | None,
    at_text: str | None,
    note: str,
    bulk: bool,
    inbound: bool,
) -> None:
    """Log a touchpoint with a contact.

    CONTACT is the id, one of the emails, or the start of the id or name
    ("ana", "Ana L", "ana@example.com"); one that fits several is refused.
    """
    from cadence import _actions as actions
    from cadence.core.durations import parse_moment

    person = _find(state, contact_id)
    at = parse_moment(at_text, default_zone=person.timezone) if at_text else None
    touch = actions.log_touch(
        state.store,
        person,
        now=state.now,
        at=at,
        said=f"--at {at_text}",
        channel=channel,
        note=note,
        bulk=bulk,
        inbound=inbound,
    )
    local = touch.at.astimezone(person.zone)
    out.print(f"logged {touch.channel} with {person.name} at {local:%Y-%m-%d %H:%M %Z}")


@cli.command("touches")
@click.argument("contact_id", metavar="[CONTACT]", required=False)
@click.option("--source", metavar="NAME", help="Only those a source brought in ([[sources]]).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list of touchpoints.")
@pass_state
def list_touches(state: State, contact_id: str | None, source: str | None, as_json: bool) -> None:
    """List touchpoints, oldest first, with where each came from (none: logged by hand).

    CONTACT narrows the list to one contact (see 'cadence log --help').
    """
    store = state.store
    person = _find(state, contact_id) if contact_id is not None else None
    found = store.list_touches(person.id if person else None, source=source)
    if as_json:
        text = json.dumps(
            [
                {
                    "id": ident,
                    "contact": t.contact,
                    "at": t.at.isoformat(),
                    "channel": t.channel,
                    "direction": t.direction,
                    "personal": t.personal,
                    "note": t.note,
                    "source": t.source,
                }
                for ident, t in found
            ],
            ensure_ascii=False,
            indent=2,
        )
        click.echo(escape_json(text))
        return
    table = Table("id", "when", "contact", "channel", "way", "source", "note", box=None)
    for ident, touch in found:
        way = ("in" if touch.direction == "in" else "out") + ("" if touch.personal else ", bulk")
        table.add_row(
            str(ident),
            f"{touch.at:%Y-%m-%d %H:%M}",
            touch.contact,
            touch.channel,
            way,
            touch.source or "",
            touch.note,
        )
    out.print(table)


@cli.group()
def touch() -> None:
    """Change touchpoints already logged."""


@touch.command("remove")
@click.argument("touch_id", metavar="ID", type=int)
@pass_state
def touch_remove(state: State, touch_id: int) -> None:
    """Remove a touchpoint by its id ('cadence touches' lists them).

    One that a source brought in stays removed: the source's next sync does
    not bring it back.
    """
    if not 0 < touch_id < 2**63:
        _fail(f"no touchpoint with id {touch_id}")
    removed = state.store.remove_touch(touch_id)
    out.print(f"removed touchpoint {touch_id} ({removed.channel} with {removed.contact})")


# -- due, snooze, done ----------------------------------------------------------


def warn_problems(agenda: Agenda) -> None:
    """One warning line on standard error per contact that could not be planned."""
    for problem in agenda.problems:
        err.print(f"warning: {problem}", markup=False)


def _note_without_cadence(state: State) -> None:
    """Say on stderr which contacts no rule applies to: they are never due, silently else."""
    ids = state.store.without_cadence()
    if ids:
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        have = "has" if len(ids) == 1 else "have"
        err.print(
            f"note: {plural(len(ids), 'contact')} {have} no cadence and will never be due "
            f"({shown}); 'cadence rule set quarterly' gives everyone one, "
            "'--tag' or '--contact' some",
            markup=False,
        )


def N_(message: str) -> str:
    """Mark ``message`` for translation (as ``cadence.l10n.N_``, without importing it)."""
    return message


#: The columns of ``cadence due``, in English (the title's has no heading).
_DUE_COLUMNS = (N_("when"), "", N_("contact"), N_("channel"), N_("key"))


@cli.command("due")
@click.option(
    "--within", default="7d", show_default=True, help="Also show what falls due this far ahead."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list of reminders.")
@pass_state
def due(state: State, within: str, as_json: bool) -> None:
    """Show what is due, overdue first, and what is coming up."""
    from cadence.core.durations import parse_duration
    from cadence.core.serial import reminder_to_json

    agenda = state.store.agenda(now=state.now, within=parse_duration(within))
    warn_problems(agenda)
    _note_without_cadence(state)
    if as_json:
        text = json.dumps([reminder_to_json(r) for r in agenda], ensure_ascii=False, indent=2)
        click.echo(escape_json(text))
        return
    words = state.words
    if not len(agenda):
        out.print(words.gettext("nothing due"))
        return
    table = Table(*(words.gettext(c) if c else c for c in _DUE_COLUMNS), box=None)
    table.columns[4].no_wrap = True
    for reminder in agenda:
        occasion = words.occasion_words(reminder, agenda.now)
        if reminder.overdue and occasion is not None:
            # A lead reminder is late, but what matters is how far the day itself is.
            when = Text(occasion, style="yellow")
        elif reminder.overdue:
            days = reminder.overdue.days
            when = Text(words.late(days), style="red" if days else "yellow")
        else:
            when = words.date(reminder.date)
        table.add_row(
            when,
            words.title(reminder),
            reminder.contact.id,
            reminder.channel or "",
            reminder.key[:10],
        )
    out.print(table)


@cli.command("feed")
@click.option(
    "-o", "--output", metavar="FILE", help="Write the .ics here instead of to standard output."
)
@click.option(
    "--within", default="30d", show_default=True, help="Also show what falls due this far ahead."
)
@click.option("--tag", help="Only the contacts with this tag.")
@click.option("--name", default="cadence", show_default=True, help="The calendar's name.")
@pass_state
def feed(state: State, output: str | None, within: str, tag: str | None, name: str) -> None:
    """Write the agenda as an iCalendar (.ics) feed."""
    from cadence.adapters.ical import write_atomically
    from cadence.adapters.ical.render import tagged_feed
    from cadence.core.durations import parse_duration

    agenda = state.store.agenda(now=state.now, within=parse_duration(within), tag=tag)
    warn_problems(agenda)
    # Titled and identified as the server's ?tag= feed is, by the same function.
    body = tagged_feed(agenda, [tag] if tag else [], name=name, words=state.words)
    if output is None or output == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    try:
        write_atomically(Path(output), body)
    except (OSError, ValueError) as error:  # ValueError: a NUL in the name
        reason = error.strerror if isinstance(error, OSError) else error
        raise CadenceError(f"cannot write {output}: {reason}") from None
    err.print(f"wrote {plural(len(agenda), 'reminder')} to {output}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--token",
    envvar="CADENCE_FEED_TOKEN",
    help="Secret the feed URL must carry as ?token=... (or CADENCE_FEED_TOKEN). "
    "Required on any address but loopback.",
)
@click.option(
    "--within", default="30d", show_default=True, help="Also show what falls due this far ahead."
)
@click.option("--name", default="cadence", show_default=True, help="The calendar's name.")
@click.option(
    "--locale",
    metavar="TAG",
    default=None,
    help="Language of the page and the feed, e.g. es, de_AT "
    "(default: cadence --locale, CADENCE_LOCALE, else the platform's).",
)
@pass_state
def serve(
    state: State,
    host: str,
    port: int,
    token: str | None,
    within: str,
    name: str,
    locale: str | None,
) -> None:
    """Serve the web page at / and the agenda as a calendar at /feed.ics (per tag: ?tag=NAME).

    The page opens with the token: visit /?token=... or sign in with it.
    """
    from cadence.core.durations import parse_duration
    from cadence.web.app import make_web_app
    from cadence.web.feed import FEED_PATH, make_feed_app, make_feed_server

    ahead = parse_duration(within)
    if locale:
        state.locale = locale
    words = state.words

    def clock() -> datetime:
        # A served feed follows the clock, unless --now pins it for a replay.
        return state.pinned or datetime.now(UTC)

    def current() -> Any:
        return state.store.agenda(now=clock(), within=ahead)

    feed_app = make_feed_app(current, token=token or None, name=name, words=words)
    try:
        # Built with the feed alone, so that an open feed off loopback is refused first.
        server = make_feed_server(feed_app, host, port, token=token or None)
    except OSError as error:  # the port is taken, the address is not this machine's...
        reason = error.strerror or str(error)
        raise CadenceError(f"cannot listen on {host} port {port}: {reason}") from None
    # Opening the store here refuses a missing one now, not at the first request.
    # Given the store, the feed is kept between requests until something it shows changes.
    feed_app = make_feed_app(
        current, token=token or None, name=name, store=state.store, clock=clock, words=words
    )
    server.set_app(
        make_web_app(
            state.store,
            token=token or None,
            feed=feed_app,
            clock=clock,
            name=name,
            words=words,
        )
    )
    shown = f"[{host}]" if ":" in host else host
    query = "?token=YOUR-TOKEN" if token else ""
    err.print(f"serving http://{shown}:{server.server_port}{FEED_PATH}{query} (Ctrl+C stops)")
    err.print(f"the web page: http://{shown}:{server.server_port}/{query}")
    try:
        with server:
            server.serve_forever()
    except KeyboardInterrupt:
        pass


@cli.command("snooze")
@click.argument("key")
@click.option(
    "--until",
    "until_text",
    required=True,
    help="A date (09:00 in the contact's zone) or an ISO moment.",
)
@pass_state
def snooze(state: State, key: str, until_text: str) -> None:
    """Hide a reminder until a later date."""
    from cadence import _actions as actions

    key, reminder = _planned(state, key)
    until = actions.snooze_moment(until_text, reminder, now=state.now)
    actions.snooze(state.store, key, until)
    out.print(f"snoozed '{reminder.title}' until {until:%Y-%m-%d %H:%M %Z}")


@cli.command("done")
@click.argument("key")
@click.option("--via", "channel", default=None, help="How you got in touch (check-ins only).")
@click.option("--note", default="", help="A note for the touchpoint.")
@pass_state
def done(state: State, key: str, channel: str | None, note: str) -> None:
    """Mark a reminder done: a check-in logs a touchpoint, an occasion is dismissed."""
    from cadence import _actions as actions

    key, reminder = _planned(state, key)
    touch = actions.finish(state.store, key, reminder, now=state.now, channel=channel, note=note)
    if touch is not None:
        out.print(f"logged a touch with {reminder.contact.name}")
    else:
        out.print(f"dismissed '{reminder.title}'")


def _planned(state: State, prefix: str) -> tuple[str, Any]:
    """The full key and the planned reminder that ``prefix`` names."""
    from cadence import _actions as actions

    try:
        return actions.planned(state.store, prefix, now=state.now)
    except CadenceError as error:
        raise CadenceError(f"{error}; 'cadence due' lists the keys") from None


# -- run, status ----------------------------------------------------------------


def _routes(state: State) -> Sequence[Route]:
    from cadence._delivery import Route

    routes = state.config.routes
    if not routes and state.locale:
        return (Route("console", settings={"locale": state.locale}),)
    return routes or (Route("console"),)


@cli.command("run")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be delivered; deliver and record nothing."
)
@click.option(
    "--claim-timeout",
    default=None,
    metavar="DURATION",
    help="How long a claim holds before another dispatcher may take it over (default 10m).",
)
@pass_state
def run(state: State, dry_run: bool, claim_timeout: str | None) -> None:
    """Sync the configured sources, then deliver what is due through the routes.

    Without routes in cadence.toml, reminders go to the console. A dry run
    syncs nothing.

    \b
    Exit status (when several apply, the first of 1, 4, 3):
      0   every due reminder was delivered, or nothing was due
      1   error: the run was refused (configuration, option, store), or a
          source, a feed or an adapter failed; see the error: lines
      2   usage error: an unknown option or command
      3   some deliveries failed and will be retried by a later run
      4   some deliveries are dead (cadence gave up on them), a route's
          receiver is gone and the route is parked until its settings change,
          or a contact could not be planned (its reminders were not sent)
      75  the store was busy (locked by another process): run again later
    """
    from cadence._dispatch import dispatch
    from cadence.core.durations import parse_duration

    config = state.config
    routes = _routes(state)
    options: dict[str, Any] = {}
    ttl = parse_duration(claim_timeout) if claim_timeout else config.claim_timeout
    if ttl is not None:
        options["claim_ttl"] = ttl
    if config.horizon is not None:
        options["horizon"] = config.horizon
    store = state.store
    synced = None
    if config.sources and not dry_run:
        # A dry run writes nothing, so it plans from the occasions synced last time.
        synced = _sync(state, quiet=True, to=err)
    with _progress("delivering", None) as advance:
        report = dispatch(
            store, routes, now=state.now, dry_run=dry_run, progress=advance, **options
        )
    _summarise(report, dry_run, gone=store.gone_routes() if report.gone_routes else None)
    status = run_status(report, synced_errors=synced is not None and bool(synced.errors))
    if status:
        sys.exit(status)


#: The exit status of ``cadence run``: see its help and docs/operating.md.
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_RETRY, EXIT_DEAD, EXIT_BUSY = 0, 1, 2, 3, 4, 75


def run_status(report: DispatchReport, *, synced_errors: bool = False) -> int:
    """The exit status of a run that ``report`` describes: what most needs a person wins."""
    if report.errors or synced_errors:
        return EXIT_ERROR
    if report.count("dead") or report.gone_routes or report.problems:
        return EXIT_DEAD
    if report.count("failed"):
        return EXIT_RETRY
    return EXIT_OK


def _sync(state: State, *, quiet: bool, to: Output = out) -> SyncReport:
    """Sync the configured sources as of ``--now``'s UTC date; print a line per source to ``to``.

    ``quiet`` leaves out the sources that changed nothing; errors go to stderr.
    """
    from cadence.sources.sync import sync_sources

    report = sync_sources(
        state.store,
        state.config.sources,
        today=state.now.astimezone(UTC).date(),
        now=state.now,
    )
    for synced in report.sources:
        if synced.error is not None:
            err.print(f"error: {synced.error}")
            continue
        people = synced.contacts
        if people is not None and (not quiet or people.changed_anything or people.missing):
            to.print(
                f"source {synced.name}: contacts {len(people.new)} new, "
                f"{len(people.updated)} updated, {len(people.removed)} removed"
            )
            removed = {c.id for c in people.removed}
            for contact in people.missing:
                if contact.id not in removed:
                    to.print(
                        f"source {synced.name}: {contact.id} ({contact.name}) is gone from the "
                        "source; 'prune = true' removes it",
                        markup=False,
                        highlight=False,
                    )
        if "touches" in synced.gave and (
            not quiet or synced.touches_added or synced.touches_removed
        ):
            to.print(
                f"source {synced.name}: {plural(synced.touches_added, 'touch', 'touches')} "
                f"added, {synced.touches_removed} removed"
            )
        if "occasions" in synced.gave and (not quiet or synced.added or synced.removed):
            to.print(f"source {synced.name}: {synced.added} added, {synced.removed} removed")
    return report


@cli.command("sync")
@click.option(
    "--forget",
    "forget",
    metavar="NAME",
    multiple=True,
    help="Forget a source no longer configured: its occasions and touches go, its contacts "
    "stay (repeat for several).",
)
@pass_state
def sync(state: State, forget: tuple[str, ...]) -> None:
    """Bring in the occasions, contacts and touches of the configured sources ([[sources]])."""
    from cadence.sources.sync import contact_source_key

    configured = {source.name for source in state.config.sources}
    for name in forget:
        if name in configured:
            _fail(f"source {name!r} is configured; remove its [[sources]] table first")
    store = state.store
    for name in forget:
        occasions, touches = store.forget_source(name, key=contact_source_key(name))
        removed = f"{occasions} removed"
        if touches:
            removed = (
                f"{plural(occasions, 'occasion')} and {plural(touches, 'touch', 'touches')} removed"
            )
        out.print(f"source {name}: forgotten, {removed}")
    failed = bool(state.config.sources) and bool(_sync(state, quiet=False).errors)
    if not state.config.sources and not forget:
        out.print("no sources configured")
    kept = {name: plural(count, "occasion") for name, count in store.occasion_sources().items()}
    for name, count in store.touch_sources().items():
        touches = plural(count, "touch", "touches")
        kept[name] = f"{kept[name]} and {touches}" if name in kept else touches
    for name, what in sorted(kept.items()):
        if name not in configured:
            err.print(
                f"source {name!r} is not configured but keeps {what}; "
                f"'cadence sync --forget {name}' forgets the source"
            )
    if failed:
        sys.exit(1)


def _summarise(
    report: DispatchReport, dry_run: bool, gone: dict[str, tuple[str, str, str]] | None = None
) -> None:
    for problem in report.problems:
        err.print(f"warning: {problem}")
    if dry_run:
        for route, reminder in report.planned:
            err.print(f"would deliver via {route}: {reminder.title} ({reminder.key})")
        planned = plural(len(report.planned), "delivery", "deliveries")
        err.print(f"dry run: {planned} planned, nothing sent")
        return
    parts = [f"{report.count('sent')} sent"]
    for status in ("failed", "dead"):
        if report.count(status):
            parts.append(f"{report.count(status)} {status}")
    if report.filtered:
        parts.append(f"{report.filtered} held back by filters")
    if report.published:
        parts.append(f"published {', '.join(report.published)}")
    err.print("; ".join(parts))
    for name in report.gone_routes:
        why = f" ({gone[name][2]})" if gone and name in gone else ""
        err.print(f"route {name!r} is gone{why}; change its settings to use it again")
    for warning in report.warnings:
        err.print(f"warning: {warning}")
    for error in report.errors:
        err.print(f"error: {error}")


@cli.command("status")
@click.option("--all", "show_all", is_flag=True, help="List sent deliveries too.")
@pass_state
def status(state: State, show_all: bool) -> None:
    """The delivery ledger: sent, failed (and when next), dead, per route."""
    store = state.store
    counts = store.ledger_counts()
    gone = store.gone_routes()
    if not counts and not gone:
        out.print("no deliveries yet")
        return
    table = Table("route", "sent", "pending", "failed", "dead", box=None)
    for route in sorted(counts):
        c = counts[route]
        table.add_row(route, *(str(c.get(s, 0)) for s in ("sent", "pending", "failed", "dead")))
    out.print(table)
    for route, (_, when, error) in sorted(gone.items()):
        out.print(Text.assemble((f"route {route} is gone", "red"), f" since {when}: {error}"))
    statuses = None if show_all else ("failed", "dead", "pending")
    rows = store.ledger(statuses=statuses)
    if rows:
        detail = Table(
            "route", "status", "attempts", "next attempt", "contact", "reminder", "error", box=None
        )
        for row in rows:
            detail.add_row(
                row.route,
                row.status,
                str(row.attempts),
                row.next_attempt or "",
                row.contact or "",
                row.title or row.key,
                (row.error or "")[:80],
            )
        out.print(detail)


#: The columns of ``cadence health``, in English; the table words them in the locale.
_HEALTH_COLUMNS = (
    N_("health"),
    N_("drift"),
    N_("trend"),
    N_("contact"),
    N_("name"),
    N_("cadence"),
    N_("why"),
)

#: How ``cadence health`` colours each band of health.
_BAND_COLOURS = {"healthy": "green", "drifting": "yellow", "overdue": "red"}


@cli.command("health")
@click.option("--limit", default=50, show_default=True, help="How many contacts to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list of contacts.")
@pass_state
def health(state: State, limit: int, as_json: bool) -> None:
    """Contacts by relationship health and drift, the drifting ones first."""
    from cadence import _actions as actions
    from cadence.core.drift import drift

    # A part of the roster at a time; of those with a cadence only the
    # ``limit`` first in the order shown are kept, so no pass holds everyone.
    bare: list[Contact] = []
    bare_count = 0

    def scored() -> Iterator[tuple[int, float, str, Contact, Drift, Every | Recurring]]:
        nonlocal bare_count
        for roster in state.store.rosters():
            for person in roster.contacts:
                cadence = roster.cadence_for(person)
                score = contact_health(roster, person.id, now=state.now)
                if cadence is None or score is None:
                    bare_count += 1
                    if len(bare) < limit:
                        bare.append(person)
                    continue
                found = drift(roster, person.id, now=state.now)
                yield (_DRIFT_ORDER[found.level], score, person.id, person, found, cadence)

    first = heapq.nsmallest(max(0, limit), scored(), key=lambda item: item[:3])
    shown = first[: max(0, limit - bare_count)]
    if as_json:
        click.echo(json.dumps([_health_data(*item[1:]) for item in shown], indent=2))
        return
    words = state.words
    table = Table(*map(words.gettext, _HEALTH_COLUMNS), box=None)
    for person in bare[:limit]:
        table.add_row(
            Text(words.gettext("never due"), style="red"),
            "",
            "",
            person.id,
            person.name,
            words.gettext("no cadence"),
        )
    for _, score, _, person, found, rhythm in shown:
        colour = _BAND_COLOURS[actions.health_band(score)]
        table.add_row(
            Text(words.percent(score).rjust(4), style=colour),
            Text(words.level(found.level), style=_DRIFT_STYLE[found.level]),
            words.level(found.trend),
            person.id,
            person.name,
            words.cadence(rhythm),
            words.drift_reason(found.reasons[0], found.name) if found.reasons else "",
        )
    out.print(table)
    if bare_count:
        err.print(
            f"{plural(bare_count, 'contact')} without a cadence will never be due: "
            "'cadence rule set' gives them one",
            markup=False,
        )


_DRIFT_ORDER = {"at-risk": 0, "watch": 1, "steady": 2}
_DRIFT_STYLE = {"at-risk": "red", "watch": "yellow", "steady": "green"}


def _health_data(
    score: float, _: str, person: Contact, found: Drift, cadence: Every | Recurring
) -> dict[str, Any]:
    return {
        "contact": person.id,
        "name": person.name,
        "health": round(score, 3),
        "cadence": cadence.describe(),
        "level": found.level,
        "score": found.score,
        "trend": found.trend,
        "since": found.since.isoformat() if found.since else None,
        "reasons": list(found.words),
    }


@cli.command("plugins")
def plugins_command() -> None:
    """Installed plugins, their versions and what they register."""
    from cadence._plugins import get_plugins

    registry = get_plugins()
    table = Table("plugin", "version", "distribution", "registers", "hooks", box=None)
    for info in registry.list():
        table.add_row(
            info.name,
            info.version or "",
            info.distribution or "",
            ", ".join(f"{kind} {name}" for kind, name in info.registered),
            ", ".join(info.hooks),
        )
    out.print(table)
    for problem in registry.errors:
        err.print(Text.assemble(("error:", "red"), f" {problem}"))


@cli.command("demo")
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Seed a sample roster into a temporary store, show what is due, and run the console route."""
    import tempfile

    from cadence._delivery import Route
    from cadence._demo import sample_batch
    from cadence._dispatch import dispatch

    state: State = ctx.obj
    folder = Path(tempfile.mkdtemp(prefix="cadence-demo-"))
    state.db = f"sqlite:///{folder / 'demo.db'}"
    store = state.store
    store.import_batch(sample_batch(state.now))
    roster = plural(store.count_contacts(), "contact")
    out.print(Text.assemble(("A sample roster", "bold"), f" of {roster} in {state.db}\n"))
    out.print("cadence due --within 14d", style="bold")
    ctx.invoke(due, within="14d", as_json=False)
    out.print(Text.assemble("\n", ("cadence run", "bold"), " (the console route)"))
    report = dispatch(store, [Route("console")], now=state.now)
    _summarise(report, dry_run=False)
    again = dispatch(store, [Route("console")], now=state.now)
    out.print(f"\nrunning again delivers {again.count('sent')}: each reminder goes out once.")
    ics = folder / "cadence.ics"
    ctx.invoke(feed, output=str(ics), within="30d", tag=None, name="cadence demo")
    out.print(f"A calendar app can open {ics}; `cadence serve` serves it for subscription.")
    out.print(f"Try: cadence --db {state.db} health")


class _NeutralFormatter(logging.Formatter):
    """Log lines with the terminal controls of what they quote neutralised."""

    def format(self, record: logging.LogRecord) -> str:
        return neutralise(super().format(record))


#: The exit status of an error that is cadence's fault, not the input's (BSD's EX_SOFTWARE).
INTERNAL_ERROR = 70
_DEBUG_ENV = "CADENCE_DEBUG"


class _Warnings(logging.Handler):
    """Writes cadence's warnings to whatever standard error is at the moment."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(_NeutralFormatter("warning: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # logging must never take the command down
            self.handleError(record)


def _say(message: str) -> None:
    # One line, whatever the message holds: scripts read the first line only.
    click.echo("error: " + neutralise(" ".join(message.split()), one_line=True), err=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; errors become one line on stderr and a non-zero exit status, no traceback.

    Bad input and a refusing machine (a port in use, a folder not writable)
    exit 1, or 2 for a command line click cannot read. Anything else is a
    bug in cadence: it exits 70 with one line naming the error and asking
    for a report, and ``CADENCE_DEBUG=1`` shows its traceback instead.
    """
    logger = logging.getLogger("cadence")
    if not any(isinstance(h, _Warnings) for h in logger.handlers):
        logger.addHandler(_Warnings())
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="cadence",
            standalone_mode=False,
        )
    except StoreBusy as error:
        _say(str(error))
        sys.exit(EXIT_BUSY)
    except CadenceError as error:
        _say(str(error))
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as stop:
        sys.exit(stop.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as error:
        _say(error.format_message())
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except OSError as error:
        # The machine refused (a full disk, a file not readable): the user can act on it.
        where = f"{error.filename}: " if error.filename else ""
        _say(f"{where}{error.strerror or error}")
        sys.exit(1)
    except Exception as error:
        if os.environ.get(_DEBUG_ENV):
            raise
        # A bug: say so plainly, and how to see more, rather than print a traceback.
        what = f"{type(error).__name__}: {str(error)[:200]}"
        _say(
            f"internal error: {what}; this is a bug in cadence, "
            f"please report it (set {_DEBUG_ENV}=1 to see where it happened)"
        )
        sys.exit(INTERNAL_ERROR)


if __name__ == "__main__":
    main()
