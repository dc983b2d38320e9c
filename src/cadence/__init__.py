"""cadence: remember how often each contact should hear from you, and when.

The core is pure: build a ``Roster`` of contacts, rules, occasions and
touchpoints, then ``plan(roster, now=...)`` returns an ``Agenda`` of
``Reminder``\\ s. Stores, dispatch and adapters live around it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from cadence._cadences import Cadence, Every, Recurring, parse_cadence
from cadence._config import open_store
from cadence._delivery import Delivery, DeliveryStatus, Failure, Route
from cadence._dispatch import DispatchReport, RetryPolicy, dispatch
from cadence._durations import parse_duration
from cadence._errors import (
    CadenceError,
    ConfigError,
    DeliveryError,
    EndpointGone,
    ImportFailed,
    PluginError,
)
from cadence._imports import ImportBatch
from cadence._model import Contact, Rule, Snooze, Touchpoint
from cadence._occasions import Anniversary, Birthday, LeapDay, Occasion, OccasionKind
from cadence._planning import ContactPlan, health, plan, plan_contact
from cadence._plugins import lazy
from cadence._reminders import Agenda, Reminder, ReminderKind, reminder_key
from cadence._roster import Roster
from cadence._sources import SourceConfig, SourceSync, SyncReport, sync_sources
from cadence.hookspecs import hookimpl, hookspec

if TYPE_CHECKING:
    from cadence._feed import make_feed_app, new_token
    from cadence._ical import to_ical

# Imported on first use: the calendar library and the HTTP server are not
# needed by most of what imports cadence, and the CLI starts faster without.
_LAZY = {
    "make_feed_app": "cadence._feed",
    "new_token": "cadence._feed",
    "to_ical": "cadence._ical",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cadence' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


try:
    __version__ = version("cadence")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "Agenda",
    "Anniversary",
    "Birthday",
    "Cadence",
    "CadenceError",
    "ConfigError",
    "Contact",
    "ContactPlan",
    "Delivery",
    "DeliveryError",
    "DeliveryStatus",
    "DispatchReport",
    "EndpointGone",
    "Every",
    "Failure",
    "ImportBatch",
    "ImportFailed",
    "LeapDay",
    "Occasion",
    "OccasionKind",
    "PluginError",
    "Recurring",
    "Reminder",
    "ReminderKind",
    "RetryPolicy",
    "Roster",
    "Route",
    "Rule",
    "Snooze",
    "SourceConfig",
    "SourceSync",
    "SyncReport",
    "Touchpoint",
    "__version__",
    "dispatch",
    "health",
    "hookimpl",
    "hookspec",
    "lazy",
    "make_feed_app",
    "new_token",
    "open_store",
    "parse_cadence",
    "parse_duration",
    "plan",
    "plan_contact",
    "reminder_key",
    "sync_sources",
    "to_ical",
]
