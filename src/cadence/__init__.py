"""cadence: remember how often each contact should hear from you, and when.

The core is pure: build a ``Roster`` of contacts, rules, occasions and
touchpoints, then ``plan(roster, now=...)`` returns an ``Agenda`` of
``Reminder``\\ s. Stores, dispatch and adapters live around it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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
from cadence._reminders import Agenda, Reminder, ReminderKind, reminder_key
from cadence._roster import Roster
from cadence.hookspecs import hookimpl, hookspec

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
    "Touchpoint",
    "__version__",
    "dispatch",
    "health",
    "hookimpl",
    "hookspec",
    "open_store",
    "parse_cadence",
    "parse_duration",
    "plan",
    "plan_contact",
    "reminder_key",
]
