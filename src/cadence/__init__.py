"""cadence: remember how often each contact should hear from you, and when.

The core is pure: build a ``Roster`` of contacts, rules, occasions and
touchpoints, then ``plan(roster, now=...)`` returns an ``Agenda`` of
``Reminder``\\ s. Stores, dispatch and adapters live around it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadence._config import open_store
from cadence._delivery import Delivery, DeliveryStatus, Failure, Published, PublishLedger, Route
from cadence._dispatch import DispatchReport, RetryPolicy, dispatch
from cadence._plugins import lazy
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
from cadence.core.planning import ContactPlan, health, plan, plan_contact
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

if TYPE_CHECKING:
    from cadence.adapters.ical.render import to_ical
    from cadence.web.feed import make_feed_app, new_token

# Imported on first use: the calendar library and the HTTP server are not
# needed by most of what imports cadence, and the CLI starts faster without.
_LAZY = {
    "make_feed_app": "cadence.web.feed",
    "new_token": "cadence.web.feed",
    "to_ical": "cadence.adapters.ical.render",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = globals()[name] = _version()
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cadence' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _version() -> str:
    # Read on first use: importlib.metadata is slow to import, and most commands never ask.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cadence")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0"


if TYPE_CHECKING:
    __version__: str

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
