"""What the ``webhook`` adapter sends: the Standard Webhooks body of a reminder
(``reminder.due``, its JSON schema shipped as
``cadence/schemas/reminder.due.v1.json``) and the incoming-webhook messages of
Slack, Discord and Microsoft Teams."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal, TypeAlias

from cadence.core.reminders import Reminder

__all__ = [
    "EVENT_TYPE",
    "FORMATS",
    "SCHEMA_VERSION",
    "Format",
    "discord_payload",
    "encode",
    "payload_schema",
    "reminder_data",
    "slack_payload",
    "standard_payload",
    "teams_payload",
]

#: The Standard Webhooks event type of a due reminder.
EVENT_TYPE = "reminder.due"

#: The version of the ``reminder.due`` payload schema that cadence sends.
SCHEMA_VERSION = 1

Format: TypeAlias = Literal["standard", "slack", "discord", "teams"]


# -- payloads -------------------------------------------------------------------


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def reminder_data(reminder: Reminder) -> dict[str, Any]:
    """The ``data`` of a ``reminder.due`` webhook: the reminder and its contact."""
    contact = reminder.contact
    return {
        "reminder": {
            "key": reminder.key,
            "kind": reminder.kind,
            "purpose": reminder.purpose,
            "title": reminder.title,
            "reason": reminder.reason,
            "date": reminder.date.isoformat(),
            "due": reminder.due.isoformat(),
            "overdue_seconds": int(reminder.overdue.total_seconds()),
            "channel": reminder.channel,
            "occasion_date": (
                reminder.occasion_date.isoformat() if reminder.occasion_date else None
            ),
        },
        "contact": {
            "id": contact.id,
            "name": contact.name,
            "email": contact.email,
            "timezone": contact.timezone,
            "tags": sorted(contact.tags),
        },
    }


def standard_payload(reminder: Reminder) -> dict[str, Any]:
    """The Standard Webhooks body of ``reminder``: type, timestamp and data.

    ``timestamp`` is when the event happened, the moment the reminder fell
    due, so it is the same on every retry; the moment of each attempt goes in
    the ``webhook-timestamp`` header.
    """
    return {
        "type": EVENT_TYPE,
        "timestamp": _utc_text(reminder.due),
        "data": reminder_data(reminder),
    }


def _facts(reminder: Reminder) -> list[tuple[str, str]]:
    contact = reminder.contact
    who = contact.name if contact.email is None else f"{contact.name} <{contact.email}>"
    facts = [("Contact", who), ("Due", reminder.date.isoformat())]
    if reminder.occasion_date is not None:
        facts.append(("Occasion", reminder.occasion_date.isoformat()))
    if reminder.channel:
        facts.append(("Channel", reminder.channel))
    days = reminder.overdue.days
    if days:
        facts.append(("Overdue", f"{days} day" + ("" if days == 1 else "s")))
    return facts


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _slack_escape(text: str) -> str:
    # Slack reads &, < and > as markup ("<!channel>" pings everyone); nothing else is escaped.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(reminder: Reminder) -> dict[str, Any]:
    """A Slack incoming-webhook message: a plain fallback ``text`` and Block Kit blocks."""
    facts = "  \u00b7  ".join(f"{name}: {value}" for name, value in _facts(reminder))
    lines = [f"*{_slack_escape(reminder.title)}*"]
    if reminder.reason:
        lines.append(_slack_escape(reminder.reason))
    return {
        "text": _clip(_slack_escape(f"{reminder.title} (due {reminder.date.isoformat()})"), 3000),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), 3000)}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _clip(_slack_escape(facts), 3000)}],
            },
        ],
    }


def discord_payload(reminder: Reminder) -> dict[str, Any]:
    """A Discord webhook message: one embed, and no mentions, whatever the text holds."""
    embed: dict[str, Any] = {
        "title": _clip(reminder.title, 256),
        "timestamp": _utc_text(reminder.due),
        "fields": [
            {"name": name, "value": _clip(value, 1024), "inline": True}
            for name, value in _facts(reminder)
        ],
    }
    if reminder.reason:
        embed["description"] = _clip(reminder.reason, 4096)
    # A contact called "@everyone" must not ping a whole server.
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def teams_payload(reminder: Reminder) -> dict[str, Any]:
    """A Microsoft Teams Workflows message: an Adaptive Card in a message attachment."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": reminder.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    if reminder.reason:
        body.append({"type": "TextBlock", "text": reminder.reason, "isSubtle": True, "wrap": True})
    body.append(
        {
            "type": "FactSet",
            "facts": [{"title": name, "value": value} for name, value in _facts(reminder)],
        }
    )
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }
        ],
    }


#: The body builder of each format.
FORMATS: Mapping[Format, Callable[[Reminder], dict[str, Any]]] = {
    "standard": standard_payload,
    "slack": slack_payload,
    "discord": discord_payload,
    "teams": teams_payload,
}


def encode(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed and sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@cache
def _schema_text() -> str:
    name = f"{EVENT_TYPE}.v{SCHEMA_VERSION}.json"
    return resources.files("cadence.schemas").joinpath(name).read_text(encoding="utf-8")


def payload_schema() -> dict[str, Any]:
    """The JSON schema of the ``reminder.due`` body that cadence sends, as shipped."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema
