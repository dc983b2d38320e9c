"""The plugins that ship with cadence: what each registers, and where its code lives.

Each is declared as an entry point in cadence's own distribution and loaded
like a third party's. What they register is a ``lazy`` reference, so a
command that only reads the store never imports the HTTP, email or calendar
libraries the adapters and sources need.
"""

from __future__ import annotations

from typing import Any

from cadence._plugins import lazy
from cadence.hookspecs import hookimpl
from cadence.typing import Register

__all__ = [
    "carddav",
    "console",
    "csv",
    "ical",
    "jsonl",
    "postgresql",
    "smtp",
    "sqlite",
    "vcard",
    "webhook",
]


class _Builtin:
    def __init__(
        self, name: str, target: str, *, aliases: tuple[str, ...] = (), **options: Any
    ) -> None:
        self.name = name
        self.names = (name, *aliases)
        self.target = target
        self.options = options

    def __repr__(self) -> str:
        return f"<built-in plugin {self.name!r}: {self.target}>"


class _Adapter(_Builtin):
    @hookimpl
    def cadence_register_adapters(self, register: Register) -> None:
        for name in self.names:
            register(name, lazy(self.target), **self.options)


class _Importer(_Builtin):
    @hookimpl
    def cadence_register_importers(self, register: Register) -> None:
        for name in self.names:
            register(name, lazy(self.target), **self.options)


class _Source(_Builtin):
    @hookimpl
    def cadence_register_sources(self, register: Register) -> None:
        for name in self.names:
            register(name, lazy(self.target), **self.options)


class _Store(_Builtin):
    @hookimpl
    def cadence_register_stores(self, register: Register) -> None:
        for name in self.names:
            register(name, lazy(self.target), **self.options)


console = _Adapter("console", "cadence.adapters.console:ConsoleAdapter")
ical = _Adapter("ical", "cadence.adapters.ical:IcalAdapter")
jsonl = _Adapter("jsonl", "cadence.adapters.jsonl:JsonLinesAdapter")
smtp = _Adapter("smtp", "cadence.adapters.smtp:smtp_adapter")
webhook = _Adapter("webhook", "cadence.adapters.webhook:webhook_adapter")
csv = _Importer("csv", "cadence.sources.csv:read_csv", suffixes=(".csv",))
vcard = _Importer("vcard", "cadence.sources.vcard:read_vcard", suffixes=(".vcf", ".vcard"))
carddav = _Source("carddav", "cadence.sources.carddav:carddav")
sqlite = _Store("sqlite", "cadence.stores.sqlite:SqliteStore")
postgresql = _Store(
    "postgresql",
    "cadence.stores.postgresql:PostgresStore",
    aliases=("postgres", "postgresql+psycopg"),
)
