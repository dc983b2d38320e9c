"""The hooks a cadence plugin can implement, and the markers to implement them with.

A plugin is a module (or an object) with functions named after these hooks
and marked with ``@cadence.hookimpl``. cadence calls each implementation on
its own, so a plugin that fails is reported by name and the others keep
working. An implementation may accept fewer arguments than its hook offers,
in any order: cadence passes each argument by name, so adding an argument to
a hook later never breaks a plugin.

The docstrings below are the hook reference for plugin authors;
``docs/hooks.md`` is generated from them. Each one has the sections
Arguments, Returns and Called, and ends with the version that added the hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from datetime import datetime

    from cadence._delivery import Delivery, Route
    from cadence.core.reminders import Reminder
    from cadence.typing import Register

__all__ = ["PROJECT", "hook_names", "hookimpl", "hookspec"]

#: The pluggy project name; also the entry-point group plugins are published in.
PROJECT = "cadence"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def cadence_register_adapters(register: Register) -> None:
    """Register delivery adapters, the channels reminders go out through.

    Arguments:
        register: call ``register(name, factory)`` once for each adapter. A
            route names the adapter it uses; ``factory(**settings)`` is called
            with that route's settings as keyword arguments and returns the
            adapter. The factory raises ``cadence.ConfigError`` for bad
            settings, with a message that shows no secret. The adapter has
            ``deliver(reminders)``, which takes a sequence of
            ``cadence.Reminder`` and returns None when all were delivered, or
            one ``cadence.Failure`` for each reminder that was not (the rest
            count as delivered); raising ``cadence.DeliveryError`` (or any
            exception) says the whole batch failed. A feed-like adapter offers
            ``publish(agenda)`` instead and gets the route's whole
            ``cadence.Agenda`` on every dispatch, untracked by the ledger; a
            ``publish`` that names a ``ledger`` keyword is also given the
            route's record of what it published (href, ETag, digests per
            UID, kept in the store), and may return lines to tell the user
            once, as warnings of the run. Any
            adapter may offer ``close()``, called when dispatch ends. Adapter
            names are unique across all plugins: a name that is taken is
            refused with an error naming both plugins.

    Returns:
        Nothing; call ``register`` instead of returning adapters.

    Called:
        Once for each plugin, when it is registered: cadence loads plugins
        lazily, the first time something needs them. Adapters do not retry:
        dispatch retries failed deliveries for every adapter alike.

    New in 0.1.0.
    """


@hookspec
def cadence_register_importers(register: Register) -> None:
    """Register contact importers, which read files of contacts.

    Arguments:
        register: call ``register(name, importer, suffixes=(".vcf",))`` once
            for each importer, adding ``recognises=fn`` for a format told
            apart by its content. ``name`` is the format's name (as in
            ``cadence import --format NAME``) and ``suffixes`` the file name
            endings the importer reads when no format is given.
            ``fn(text)`` looks at the start of a file's text (a CSV header,
            say) and returns True when the importer reads it. With no format
            given, the first importer whose suffix matches and whose
            ``recognises`` says yes is used, else the one with that suffix
            and no ``recognises`` (cadence's own ``csv`` for .csv files);
            for a file whose suffix no importer has, the first that
            recognises its text. ``importer(text, source=...)`` reads the
            whole text of a file and returns a ``cadence.ImportBatch``; it
            raises ``cadence.ImportFailed`` naming the line of the first bad
            record and never returns part of a file. Format names are unique
            across all plugins. With ``skips_unchanged=True`` the importer
            is also given ``known=``, the digests (``cadence.record_digest``)
            of the records earlier imports of its format read; it leaves
            those records out unread and lists their digests in the batch's
            ``unchanged``, which makes importing a large file again fast.

    Returns:
        Nothing; call ``register`` instead of returning importers.

    Called:
        Once for each plugin, when it is registered.

    New in 0.1.0.
    """


@hookspec
def cadence_register_stores(register: Register) -> None:
    """Register stores, which keep contacts, touchpoints and the delivery ledger.

    Arguments:
        register: call ``register(scheme, factory)`` once for each URL scheme.
            ``factory(url)`` opens the store at ``url`` (for instance
            ``sqlite:///path/to/cadence.db`` for the scheme ``sqlite``) and
            returns the store; ``cadence.stores.sqlite`` shows what a store
            provides. Schemes are lowercase and unique across all plugins.
            A factory that accepts a ``create`` keyword is called with
            ``create=False`` when the caller only reads (``open_store(url,
            create=False)``, the CLI's reading commands): it then raises
            ``cadence.CadenceError`` for a store that does not exist instead
            of creating one. A factory without it is called with the URL alone.

    Returns:
        Nothing; call ``register`` instead of returning stores.

    Called:
        Once for each plugin, when it is registered.

    New in 0.1.0.
    """


@hookspec
def cadence_register_sources(register: Register) -> None:
    """Register sources, which bring in dates that matter, or contacts, from elsewhere.

    Arguments:
        register: call ``register(name, factory)`` once for each source. A
            ``[[sources]]`` table of ``cadence.toml`` names the source it uses;
            ``factory(**settings)`` is called with that table's other keys as
            keyword arguments and returns the source. The factory raises
            ``cadence.ConfigError`` for bad settings, with a message that
            shows no secret. The source has ``occasions(start, end)``, which
            takes two dates and returns an iterable of occasions
            (``cadence.Occasion``, ``cadence.Birthday`` or
            ``cadence.Anniversary``); a one-off occasion should fall between
            ``start`` and ``end``, both included, and one outside them is left
            out. A contact source (an address book on a server) has instead,
            or as well, ``contact_changes(state)``: ``state`` is the mapping
            of text it returned the time before (empty at first), and it
            returns a ``cadence.ContactChanges``: an ``ImportBatch`` of the
            contacts new or changed since, each with its uid at the source in
            the batch's ``origins``, the uids of those deleted there
            (``gone``), and the ``state`` to hand back next time. A touch
            source (a mailbox, a calendar) has ``touch_changes(state, *,
            now)`` and returns a ``cadence.TouchChanges``: the
            ``cadence.Message``s and ``cadence.Meeting``s new since, read
            from their headers alone; cadence's rules make the touchpoints
            (``cadence.core.touches``), and a ``me`` attribute may name the
            user's own addresses. A source may offer ``close()``, called
            when the sync ends.
            Source names are unique across all plugins: a name that is taken
            is refused with an error naming both plugins.

    Returns:
        Nothing; call ``register`` instead of returning sources.

    Called:
        Once for each plugin, when it is registered. Each configured source
        is then asked for its occasions, contact changes or touches
        whenever ``cadence sync`` or ``cadence run`` syncs: occasions
        replace, in one transaction, what it gave the time before; contact
        changes are merged as an import is, with the state, in one
        transaction, and the contacts it deleted are removed when its table
        says ``prune = true``; touches are kept once each under the source's
        name and their ref. A source that raises is reported by name and changes
        nothing in the store.

    New in 0.1.0.
    """


@hookspec
def cadence_filter_reminder(reminder: Reminder, route: Route, now: datetime) -> bool | None:
    """Decide whether a route takes a reminder on this dispatch run.

    Arguments:
        reminder: the ``cadence.Reminder`` about to go out, frozen. Its
            ``contact`` carries the contact's zone and tags.
        route: the ``cadence.Route`` it would go out through, frozen: its
            ``name``, ``adapter``, ``tags`` and ``kinds``. Do not read your
            own options from ``route.settings``: they are the adapter's
            keyword arguments, and a key the adapter does not know is an error.
        now: the aware moment of the dispatch run. Use it instead of reading
            the clock, so that the filter can be tested.

    Returns:
        False to drop the reminder from that route for this run (quiet hours,
        weekends, a do-not-disturb list); it is asked again on the next run.
        True or None to let it through. Any implementation returning False
        drops it. An implementation that raises, or returns anything else, is
        reported by name and does not drop the reminder.

    Called:
        During dispatch, for every reminder and every route that takes it by
        its tags and kinds, before anything is delivered. For a route whose
        adapter publishes a feed, it is asked about each reminder of the
        agenda, upcoming ones included.

    New in 0.1.0.
    """


@hookspec
def cadence_delivered(delivery: Delivery) -> None:
    """Observe the outcome of a delivery attempt.

    Arguments:
        delivery: a frozen ``cadence.Delivery``: the reminder's ``key``, the
            ``route``'s name, the ``status`` ("sent", "failed" and to be
            retried at ``next_attempt``, "dead" when cadence gave up, or
            "gone" when the route's receiver is gone), the count of
            ``attempts``, the moment ``at``, the ``error`` if any, and the
            ``reminder`` itself when it is known.

    Returns:
        Nothing; the return value is ignored. An exception is reported by
        name and changes nothing.

    Called:
        After each attempt to deliver one reminder through one route,
        retries within a run included. Not called for feeds, whose
        publishing is not tracked.

    New in 0.1.0.
    """


def hook_names() -> list[str]:
    """The names of all hooks, in alphabetical order."""
    return sorted(name for name in globals() if name.startswith("cadence_"))
