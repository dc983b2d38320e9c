"""A small sample roster, relative to a moment, for ``cadence demo`` and the examples."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from cadence.core.cadences import Every, Recurring
from cadence.core.model import Contact, Rule, Touchpoint
from cadence.core.occasions import Anniversary, Birthday, Occasion, OccasionKind
from cadence.sources.batch import ImportBatch

__all__ = ["sample_batch", "sample_rules"]


def sample_rules() -> list[Rule]:
    """Tier rules: retainer clients fortnightly, clients monthly, everyone else quarterly."""
    return [
        Rule(Every(weeks=2), tag="retainer"),
        Rule(Every(months=1), tag="client"),
        Rule(Every(months=3)),
    ]


def sample_batch(now: datetime) -> ImportBatch:
    """Six contacts in four zones, with dates and touchpoints placed around ``now``."""
    today = now.date()
    soon = today + timedelta(days=5)
    contacts = [
        Contact(
            "ana",
            "Ana López",
            email="ana@example.com",
            timezone="Europe/Madrid",
            channel="phone",
            tags=["retainer", "card-list"],
        ),
        Contact(
            "ben",
            "Ben Okafor",
            email="ben@example.com",
            timezone="Africa/Lagos",
            channel="video",
            tags=["client"],
        ),
        Contact(
            "chloe",
            "Chloé Martin",
            email="chloe@example.com",
            timezone="Europe/Paris",
            channel="email",
            tags=["client", "card-list"],
        ),
        Contact(
            "dev",
            "Dev Patel",
            email="dev@example.com",
            timezone="Asia/Kolkata",
            channel="text",
            tags=["retainer"],
        ),
        Contact(
            "emma",
            "Emma Schultz",
            email="emma@example.com",
            timezone="America/New_York",
            channel="email",
            since=today - timedelta(days=400),
        ),
        Contact("farid", "Farid Haddad", timezone="Asia/Dubai", channel="phone", tags=["client"]),
    ]
    # In cadence for over a year, as a roster one has kept: not spread as a fresh import is.
    contacts = [attrs.evolve(c, added=today - timedelta(days=400)) for c in contacts]
    touches = [
        Touchpoint("ana", now - timedelta(days=16), "phone", note="quarterly review"),
        Touchpoint("ben", now - timedelta(days=9), "video"),
        Touchpoint("chloe", now - timedelta(days=45), "email"),
        Touchpoint("chloe", now - timedelta(days=3), "email", personal=False, note="newsletter"),
        Touchpoint("dev", now - timedelta(days=2), "text", direction="in"),
    ]
    occasions: list[OccasionKind] = [
        Birthday("ana", soon.month, soon.day, year=1986, lead=timedelta(days=3)),
        Birthday("dev", 2, 29),
        Anniversary(
            "emma",
            today.replace(year=today.year - 5) + timedelta(days=2),
            label="client anniversary",
        ),
        Occasion("Year-end card", month=12, day=20, tag="card-list", lead=timedelta(days=7)),
    ]
    rules = [
        *sample_rules(),
        Rule(
            Recurring("FREQ=WEEKLY;BYDAY=FR", at=datetime.min.time().replace(hour=16)),
            contact="farid",
        ),
    ]
    return ImportBatch(contacts, rules, occasions, touches)
