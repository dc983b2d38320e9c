"""cadence: remember how often each contact should hear from you, and when.

The core is pure: build a ``Roster`` of contacts, rules, occasions and
touchpoints, then ``plan(roster, now=...)`` returns an ``Agenda`` of
``Reminder``\\ s. Stores, dispatch and adapters live around it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadence._config import open_store
    from cadence._delivery import Delivery, DeliveryStatus, Failure, Published, PublishLedger, Route
    from cadence._dispatch import DispatchReport, RetryPolicy, dispatch
    from cadence._plugins import lazy
    from cadence.adapters.ical.render import to_ical
    from cadence.core.cadences import Cadence, Every, Recurring, parse_cadence
    from cadence.core.drift import Drift, DriftReason, drift, reason_words
    from cadence.core.durations import parse_duration
    from cadence.core.errors import (
        CadenceError,
        ConfigError,
        DeliveryError,
        EndpointGone,
        ImportFailed,
        PluginError,
        StoreBusy,
    )
    from cadence.core.model import Contact, Rule, Snooze, Touchpoint
    from cadence.core.occasions import Anniversary, Birthday, LeapDay, Occasion, OccasionKind
    from cadence.core.planning import ContactPlan, health, health_over, plan, plan_contact
    from cadence.core.reminders import (
        Agenda,
        PlanningProblem,
        Reminder,
        ReminderKind,
        occasion_words,
        reminder_key,
    )
    from cadence.core.roster import Roster
    from cadence.core.touches import Meeting, Message, TouchRules
    from cadence.hookspecs import hookimpl, hookspec
    from cadence.sources.batch import (
        ContactChanges,
        ImportBatch,
        Origin,
        Skipped,
        TouchChanges,
        record_digest,
    )
    from cadence.sources.merge import ImportReport
    from cadence.sources.sync import SourceConfig, SourceSync, SyncReport, sync_sources
    from cadence.web.feed import make_feed_app, new_token

    __version__: str

# Every public name, with the module that defines it. Each is imported on
# first use, so `import cadence` costs next to nothing and the command line
# loads only what the command it runs needs; `from cadence import X` and the
# attribute `cadence.X` both go through __getattr__ below.
_EXPORTS = {
    "open_store": "cadence._config",
    "Delivery": "cadence._delivery",
    "DeliveryStatus": "cadence._delivery",
    "Failure": "cadence._delivery",
    "Published": "cadence._delivery",
    "PublishLedger": "cadence._delivery",
    "Route": "cadence._delivery",
    "DispatchReport": "cadence._dispatch",
    "RetryPolicy": "cadence._dispatch",
    "dispatch": "cadence._dispatch",
    "lazy": "cadence._plugins",
    "Cadence": "cadence.core.cadences",
    "Every": "cadence.core.cadences",
    "Recurring": "cadence.core.cadences",
    "parse_cadence": "cadence.core.cadences",
    "Drift": "cadence.core.drift",
    "DriftReason": "cadence.core.drift",
    "drift": "cadence.core.drift",
    "reason_words": "cadence.core.drift",
    "parse_duration": "cadence.core.durations",
    "CadenceError": "cadence.core.errors",
    "ConfigError": "cadence.core.errors",
    "DeliveryError": "cadence.core.errors",
    "EndpointGone": "cadence.core.errors",
    "ImportFailed": "cadence.core.errors",
    "PluginError": "cadence.core.errors",
    "StoreBusy": "cadence.core.errors",
    "Contact": "cadence.core.model",
    "Rule": "cadence.core.model",
    "Snooze": "cadence.core.model",
    "Touchpoint": "cadence.core.model",
    "Anniversary": "cadence.core.occasions",
    "Birthday": "cadence.core.occasions",
    "LeapDay": "cadence.core.occasions",
    "Occasion": "cadence.core.occasions",
    "OccasionKind": "cadence.core.occasions",
    "ContactPlan": "cadence.core.planning",
    "health": "cadence.core.planning",
    "health_over": "cadence.core.planning",
    "plan": "cadence.core.planning",
    "plan_contact": "cadence.core.planning",
    "Agenda": "cadence.core.reminders",
    "PlanningProblem": "cadence.core.reminders",
    "Reminder": "cadence.core.reminders",
    "ReminderKind": "cadence.core.reminders",
    "occasion_words": "cadence.core.reminders",
    "reminder_key": "cadence.core.reminders",
    "Roster": "cadence.core.roster",
    "Meeting": "cadence.core.touches",
    "Message": "cadence.core.touches",
    "TouchRules": "cadence.core.touches",
    "hookimpl": "cadence.hookspecs",
    "hookspec": "cadence.hookspecs",
    "ContactChanges": "cadence.sources.batch",
    "ImportBatch": "cadence.sources.batch",
    "Origin": "cadence.sources.batch",
    "Skipped": "cadence.sources.batch",
    "TouchChanges": "cadence.sources.batch",
    "record_digest": "cadence.sources.batch",
    "ImportReport": "cadence.sources.merge",
    "SourceConfig": "cadence.sources.sync",
    "SourceSync": "cadence.sources.sync",
    "SyncReport": "cadence.sources.sync",
    "sync_sources": "cadence.sources.sync",
    "make_feed_app": "cadence.web.feed",
    "new_token": "cadence.web.feed",
    "to_ical": "cadence.adapters.ical.render",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    else:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'cadence' has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _version() -> str:
    # The installed distributions are read once and cached (see cadence._installed),
    # so the version costs no import of importlib.metadata when the cache holds it.
    from cadence._installed import distribution_version

    return distribution_version("cadence") or "0.0.0"


__all__ = [
    "Agenda",
    "Anniversary",
    "Birthday",
    "Cadence",
    "CadenceError",
    "ConfigError",
    "Contact",
    "ContactChanges",
    "ContactPlan",
    "Delivery",
    "DeliveryError",
    "DeliveryStatus",
    "DispatchReport",
    "Drift",
    "DriftReason",
    "EndpointGone",
    "Every",
    "Failure",
    "ImportBatch",
    "ImportFailed",
    "ImportReport",
    "LeapDay",
    "Meeting",
    "Message",
    "Occasion",
    "OccasionKind",
    "Origin",
    "PlanningProblem",
    "PluginError",
    "PublishLedger",
    "Published",
    "Recurring",
    "Reminder",
    "ReminderKind",
    "RetryPolicy",
    "Roster",
    "Route",
    "Rule",
    "Skipped",
    "Snooze",
    "SourceConfig",
    "SourceSync",
    "StoreBusy",
    "SyncReport",
    "TouchChanges",
    "TouchRules",
    "Touchpoint",
    "__version__",
    "dispatch",
    "drift",
    "health",
    "health_over",
    "hookimpl",
    "hookspec",
    "lazy",
    "make_feed_app",
    "new_token",
    "occasion_words",
    "open_store",
    "parse_cadence",
    "parse_duration",
    "plan",
    "plan_contact",
    "reason_words",
    "record_digest",
    "reminder_key",
    "sync_sources",
    "to_ical",
]
