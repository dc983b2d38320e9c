"""What an importer returns: contacts and the dates and rules that came with them."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from cadence.core.model import Contact, Rule, Touchpoint
from cadence.core.occasions import OccasionKind

__all__ = ["ImportBatch"]


def _contacts(items: Iterable[Contact]) -> tuple[Contact, ...]:
    return tuple(items)


def _rules(items: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(items)


def _occasions(items: Iterable[OccasionKind]) -> tuple[OccasionKind, ...]:
    return tuple(items)


def _touchpoints(items: Iterable[Touchpoint]) -> tuple[Touchpoint, ...]:
    return tuple(items)


@attrs.frozen
class ImportBatch:
    """Everything read from one file, kept or dropped as a whole.

    ``contacts`` are added or updated by id; ``rules`` and ``occasions`` that
    came with them (a CSV ``every`` column, a vCard BDAY) replace the ones
    those contacts had.
    """

    contacts: tuple[Contact, ...] = attrs.field(converter=_contacts)
    rules: tuple[Rule, ...] = attrs.field(default=(), converter=_rules)
    occasions: tuple[OccasionKind, ...] = attrs.field(default=(), converter=_occasions)
    touchpoints: tuple[Touchpoint, ...] = attrs.field(default=(), converter=_touchpoints)
