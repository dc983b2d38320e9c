"""Loading plugins and the registry of what they provide.

Built-in adapters, importers and stores are plugins like any other: declared
as entry points in cadence's own distribution and loaded by the same code as a
third party's. Each plugin is loaded, registered and called on its own, so one
faulty plugin is reported by name while the others keep working.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs
import pluggy

from cadence import _installed, hookspecs
from cadence._installed import Point
from cadence.core.errors import CadenceError, ConfigError, PluginError
from cadence.core.time import require_aware

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from cadence._delivery import Delivery, Route
    from cadence.core.reminders import Reminder
    from cadence.sources.sync import SourceConfig

__all__ = [
    "DEFAULT_PLUGINS",
    "DISABLE_ENV",
    "Lazy",
    "PluginInfo",
    "Plugins",
    "Registered",
    "get_plugins",
    "lazy",
    "load_plugins",
    "reset_plugins",
]

log = logging.getLogger("cadence.plugins")

#: The plugins that ship with cadence, by entry-point name. They are declared
#: as entry points in cadence's pyproject too; this tuple lets a source tree
#: that was never installed find them by the same path.
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("caldav", "cadence._builtins:caldav"),
    ("calendars", "cadence._builtins:calendars"),
    ("carddav", "cadence._builtins:carddav"),
    ("console", "cadence._builtins:console"),
    ("csv", "cadence._builtins:csv"),
    ("ical", "cadence._builtins:ical"),
    ("imap", "cadence._builtins:imap"),
    ("jsonl", "cadence._builtins:jsonl"),
    ("mailfiles", "cadence._builtins:mailfiles"),
    ("postgresql", "cadence._builtins:postgresql"),
    ("smtp", "cadence._builtins:smtp"),
    ("sqlite", "cadence._builtins:sqlite"),
    ("vcard", "cadence._builtins:vcard"),
    ("webhook", "cadence._builtins:webhook"),
)

#: Comma-separated plugin names that are not loaded; "*" blocks every plugin
#: that does not ship with cadence.
DISABLE_ENV = "CADENCE_DISABLE_PLUGINS"

_DISTRIBUTION = "cadence"

#: The kinds of things the registration hooks register, with the hook of each.
KINDS: Mapping[str, str] = {
    "adapter": "cadence_register_adapters",
    "importer": "cadence_register_importers",
    "source": "cadence_register_sources",
    "store": "cadence_register_stores",
}

#: The keyword options ``register`` accepts for each kind.
_OPTIONS: Mapping[str, frozenset[str]] = {
    "adapter": frozenset(),
    "importer": frozenset({"suffixes", "recognises", "skips_unchanged"}),
    "source": frozenset(),
    "store": frozenset(),
}

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


def _resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        value = getattr(value, part)
    return value


@attrs.frozen
class Lazy:
    """A callable that imports ``target`` ("package.module:name") on first use and calls it.

    Register one instead of the class or function itself, so the module and
    the libraries it needs are imported only when a route, an import or a
    store actually uses it.
    """

    target: str

    def resolve(self) -> Any:
        """The object ``target`` names, imported now if it was not yet.

        A module that fails to import raises PluginError naming ``target``.
        """
        # After the first call the import is a lookup in sys.modules: nothing to cache.
        try:
            return _resolve(self.target)
        except Exception as error:
            raise PluginError(f"cannot load {self.target}: {error!r}") from error

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the object ``target`` names with these arguments."""
        return self.resolve()(*args, **kwargs)


def lazy(target: str) -> Lazy:
    """A factory for ``target`` ("package.module:name") that imports it only when first called."""
    module, colon, attribute = target.partition(":")
    if not module or not colon or not attribute:
        raise PluginError(f"lazy target {target!r} is not of the form 'package.module:name'")
    return Lazy(target)


# The records below are named tuples, not attrs classes: every command that
# opens a store loads the plugins, and a named tuple costs a fifth of an attrs
# class to define.


class Registered(NamedTuple):
    """One thing a plugin registered: its kind, name, the object, the plugin, its options."""

    kind: str
    name: str
    thing: Any
    plugin: str
    options: dict[str, Any]

    def __repr__(self) -> str:
        # The object and its options say little and can be long.
        return f"Registered(kind={self.kind!r}, name={self.name!r}, plugin={self.plugin!r})"


class PluginInfo(NamedTuple):
    """An installed plugin: where it comes from, its hooks, what it registered, what went wrong.

    A plugin that failed to load or was refused is listed too, with
    ``loaded`` false and the reason in ``problems``.
    """

    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    hooks: tuple[str, ...]
    registered: tuple[tuple[str, str], ...]
    problems: tuple[str, ...] = ()
    loaded: bool = True


class _Source(NamedTuple):
    distribution: str | None
    version: str | None
    builtin: bool


def _blocked_names(disable: Iterable[str] | None) -> set[str]:
    if disable is None:
        raw = os.environ.get(DISABLE_ENV, "")
        disable = [name.strip() for name in raw.split(",")]
    return {name for name in disable if name}


def _one_line(text: str) -> str:
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _arguments(impl: pluggy.HookImpl, offered: Mapping[str, object]) -> dict[str, object]:
    # pluggy checked at registration that every argument is one the hook offers.
    return {name: offered[name] for name in impl.argnames}


class _Manager(pluggy.PluginManager):
    """pluggy's manager, looking for hook implementations among a plugin's own names only.

    pluggy inspects every name ``dir(plugin)`` gives, without running
    properties; for a plugin that is an object, most of them are the
    dunders every object has (``__init__``, ``__repr__``...), and reading
    each one statically costs more than everything else that registering
    does. None of them can be a hook: cadence's hooks are ``cadence_``
    functions, and pluggy itself never takes a dunder for one.
    """

    def parse_hookimpl_opts(self, plugin: object, name: str) -> Any:
        """pluggy's reading of ``name`` on ``plugin``; nothing for a dunder name."""
        if name.startswith("__") and name.endswith("__"):
            return None
        return super().parse_hookimpl_opts(plugin, name)


class Plugins:
    """A plugin manager with cadence's registry of adapters, importers, stores and sources.

    Build one with ``load_plugins()``; ``get_plugins()`` keeps one per
    process. ``errors`` lists every plugin problem met so far, each naming its
    plugin.
    """

    def __init__(self) -> None:
        self.pm: pluggy.PluginManager = _Manager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.errors: list[PluginError] = []
        self._registry: dict[str, dict[str, Registered]] = {kind: {} for kind in KINDS}
        self._sources: dict[str, _Source] = {}
        self._failed: dict[str, _Source] = {}
        self._problems: dict[str, list[str]] = {}

    # -- registration -------------------------------------------------------

    def _report(self, message: str, plugin: str | None = None) -> PluginError:
        error = PluginError(message)
        self.errors.append(error)
        if plugin is not None:
            self._problems.setdefault(plugin, []).append(message)
        log.warning("%s", message)
        return error

    def register(
        self,
        plugin: object,
        name: str | None = None,
        *,
        distribution: str | None = None,
        version: str | None = None,
        builtin: bool = False,
    ) -> str | None:
        """Register ``plugin`` (a module or an object with hook implementations).

        Its registration hooks run at once. Returns the plugin's name, or None
        when it was refused; the reason is in ``errors``.
        """
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        label = f"plugin {name!r}" + (f" ({distribution})" if distribution else "")
        if self.pm.is_registered(plugin):
            self._report(f"{label} is registered already, as {self.pm.get_name(plugin)!r}")
            return None
        if self.pm.has_plugin(name):
            self._report(f"{label} is not registered: another plugin has that name")
            return None
        try:
            self.pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as error:
            self._failed[name] = _Source(distribution, version, builtin)
            self._report(f"{label} does not fit cadence's hooks: {_one_line(str(error))}", name)
            return None
        refusal = self._refusal(plugin, name)
        if refusal is not None:
            self.pm.unregister(name=name)
            self._failed[name] = _Source(distribution, version, builtin)
            self._report(refusal, name)
            return None
        for unmarked in self._unmarked(plugin):
            self._report(
                f"plugin {name!r} defines {unmarked} without @cadence.hookimpl, "
                "so cadence does not call it",
                name,
            )
        self._sources[name] = _Source(distribution, version, builtin)
        self._failed.pop(name, None)
        for kind, hook in KINDS.items():
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                if impl.plugin_name == name:
                    self._run_registration(kind, hook, impl)
        return name

    def _refusal(self, plugin: object, name: str) -> str | None:
        """Why ``plugin``, just registered with pluggy, does not fit cadence; None if it does."""
        known = hookspecs.hook_names()
        for caller in self.pm.get_hookcallers(plugin) or ():
            impls = [impl for impl in caller.get_hookimpls() if impl.plugin_name == name]
            if not caller.has_spec():
                if all(impl.optionalhook for impl in impls):
                    continue
                import difflib

                close = difflib.get_close_matches(caller.name, known, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                return (
                    f"plugin {name!r} implements {caller.name}, which is not a cadence hook{hint}"
                )
            if any(impl.hookwrapper or impl.wrapper for impl in impls):
                return (
                    f"plugin {name!r} implements {caller.name} as a wrapper; cadence calls "
                    "each implementation on its own, so wrappers are not supported"
                )
        return None

    def check_pending(self) -> None:
        """Report hook implementations that match no hook, as pluggy's ``check_pending`` finds them.

        ``register`` refuses such plugins already; this catches any plugin
        registered with ``pm`` directly.
        """
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as error:
            self._report(f"plugins do not fit cadence's hooks: {_one_line(str(error))}")

    def _unmarked(self, plugin: object) -> list[str]:
        """Hook names that ``plugin`` defines as plain functions, forgetting the marker."""
        known = set(hookspecs.hook_names())
        marked = {caller.name for caller in self.pm.get_hookcallers(plugin) or ()}
        return sorted(
            attribute for attribute in known - marked if callable(getattr(plugin, attribute, None))
        )

    def unregister(self, name: str) -> None:
        """Remove the plugin called ``name`` and everything it registered."""
        self.pm.unregister(name=name)
        self._sources.pop(name, None)
        self._failed.pop(name, None)
        self._problems.pop(name, None)
        for table in self._registry.values():
            for key in [k for k, entry in table.items() if entry.plugin == name]:
                del table[key]

    def _run_registration(self, kind: str, hook: str, impl: pluggy.HookImpl) -> None:
        plugin = impl.plugin_name

        def register(name: str, thing: Any, /, **options: Any) -> None:
            problem = self._check_registration(kind, name, thing, options, plugin)
            if problem is not None:
                self._report(problem, plugin)
                return
            if kind == "importer":
                options["suffixes"] = tuple(s.lower() for s in options.get("suffixes", ()))
            self._registry[kind][name] = Registered(kind, name, thing, plugin, dict(options))

        try:
            returned = impl.function(**_arguments(impl, {"register": register}))
        except Exception as error:
            self._report(f"plugin {plugin!r} failed in {hook}: {error!r}", plugin)
            return
        if returned is not None:
            self._report(
                f"plugin {plugin!r} returned {returned!r} from {hook}; "
                "expected None (call register(...) instead)",
                plugin,
            )

    def _check_registration(
        self, kind: str, name: object, thing: object, options: Mapping[str, Any], plugin: str
    ) -> str | None:
        """Why ``register(name, thing, **options)`` is refused; None when it is accepted."""
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            return f"plugin {plugin!r} registered {kind} {name!r}, which is not a name"
        if kind == "store" and not _SCHEME.fullmatch(name):
            return f"plugin {plugin!r} registered a store for {name!r}, which is not a URL scheme"
        if not callable(thing):
            return (
                f"plugin {plugin!r} registered {kind} {name!r} as {thing!r}, which is not callable"
            )
        unknown = sorted(set(options) - _OPTIONS[kind])
        if unknown:
            return f"plugin {plugin!r} registered {kind} {name!r} with unknown options {unknown}"
        suffixes = options.get("suffixes", ())
        if not isinstance(suffixes, tuple | list) or not all(
            isinstance(s, str) and s.startswith(".") for s in suffixes
        ):
            return (
                f"plugin {plugin!r} registered importer {name!r} with suffixes {suffixes!r}; "
                "expected a tuple such as ('.vcf',)"
            )
        recognises = options.get("recognises")
        if recognises is not None and not callable(recognises):
            return (
                f"plugin {plugin!r} registered importer {name!r} with recognises={recognises!r}, "
                "which is not callable"
            )
        skips = options.get("skips_unchanged", False)
        if not isinstance(skips, bool):
            return (
                f"plugin {plugin!r} registered importer {name!r} with "
                f"skips_unchanged={skips!r}; expected True or False"
            )
        taken = self._registry[kind].get(name)
        if taken is not None:
            return (
                f"plugin {plugin!r} registered {kind} {name!r}, "
                f"which plugin {taken.plugin!r} registered already"
            )
        return None

    # -- lookups ------------------------------------------------------------

    def problems(self, plugin: str) -> tuple[str, ...]:
        """The messages of every problem met so far with the plugin called ``plugin``."""
        return tuple(self._problems.get(plugin, ()))

    def registered(self, kind: str) -> dict[str, Registered]:
        """What is registered of ``kind`` ("adapter", "importer", "source", "store"), by name."""
        return dict(self._registry[kind])

    def adapter_names(self) -> list[str]:
        """The names of every registered adapter."""
        return sorted(self._registry["adapter"])

    def build_adapter(self, route: Route) -> Any:
        """The adapter for ``route``, built from its settings.

        An unknown adapter or bad settings raise ConfigError naming the route;
        a factory that breaks its contract raises PluginError naming its plugin.
        """
        return self._build(
            "adapter",
            route.adapter,
            route.settings,
            where=f"route {route.name!r}",
            needs=("deliver", "publish"),
        )

    def source_names(self) -> list[str]:
        """The names of every registered occasion source."""
        return sorted(self._registry["source"])

    def build_source(self, config: SourceConfig) -> Any:
        """The source for ``config`` (a ``[[sources]]`` table), built from its settings.

        It gives occasions (``occasions()``), contacts (``contact_changes()``),
        touches (``touch_changes()``), or several of these.

        An unknown source or bad settings raise ConfigError naming the source's
        table; a factory that breaks its contract raises PluginError naming its
        plugin.
        """
        return self._build(
            "source",
            config.source,
            config.settings,
            where=f"source {config.name!r}",
            needs=("occasions", "contact_changes", "touch_changes"),
        )

    def _build(
        self, kind: str, name: str, settings: Mapping[str, Any], *, where: str, needs: Sequence[str]
    ) -> Any:
        """Build the ``kind`` registered as ``name`` from ``settings``.

        The result must have one of the methods in ``needs``. ``where`` names
        the route or table in errors.
        """
        entry = self._registry[kind].get(name)
        if entry is None:
            known = ", ".join(sorted(self._registry[kind])) or "none"
            raise ConfigError(f"{where}: unknown {kind} {name!r} (known: {known})")
        try:
            _check_settings(entry.thing, settings, name)
            built = entry.thing(**settings)
        except PluginError as error:
            raise PluginError(
                f"plugin {entry.plugin!r}: {kind} {name!r} failed to build for {where}: {error}"
            ) from error
        except CadenceError as error:
            # cadence's errors are written for users (parse_duration's, for one).
            raise ConfigError(f"{where}: {error}") from None
        except TypeError as error:
            raise ConfigError(f"{where}: bad settings for {name!r}: {error}") from None
        except Exception as error:
            raise PluginError(
                f"plugin {entry.plugin!r}: {kind} {name!r} failed to build "
                f"for {where}: {type(error).__name__}"
            ) from error
        if not any(callable(getattr(built, method, None)) for method in needs):
            wanted = " nor ".join(f"{method}()" for method in needs)
            has = "has neither" if len(needs) > 1 else "has no"
            raise PluginError(f"plugin {entry.plugin!r}: {kind} {name!r} {has} {wanted}")
        return built

    def importer_for(
        self, filename: str, format: str | None = None, text: str | None = None
    ) -> Registered:
        """The importer for a file called ``filename`` whose text starts with ``text``.

        An explicit ``format`` wins. Otherwise, among the importers whose
        suffixes end ``filename``, the first whose ``recognises(text)`` is
        true, else the one that recognises nothing (cadence's own ``csv``
        for a .csv file); when no suffix matches, the first importer that
        recognises the text. Without ``text``, the suffix alone decides.
        Nothing found raises ConfigError.
        """
        table = self._registry["importer"]
        if format is not None:
            if format not in table:
                known = ", ".join(sorted(table)) or "none"
                raise ConfigError(f"unknown import format {format!r} (known: {known})")
            return table[format]
        lower = filename.lower()
        by_suffix = [
            entry
            for entry in table.values()
            if lower.endswith(tuple(entry.options.get("suffixes", ())))
        ]
        if text is not None:
            for entry in by_suffix or table.values():
                if self._recognises(entry, text):
                    return entry
        plain = [entry for entry in by_suffix if entry.options.get("recognises") is None]
        if plain or by_suffix:
            return (plain or by_suffix)[0]
        known = ", ".join(sorted(table)) or "none"
        raise ConfigError(f"{filename}: no importer reads this kind of file (known: {known})")

    def _recognises(self, entry: Registered, text: str) -> bool:
        """Whether ``entry``'s ``recognises`` says yes to ``text``; a failing one says no."""
        recognises = entry.options.get("recognises")
        if recognises is None:
            return False
        try:
            return bool(recognises(text))
        except Exception as error:
            self._report(
                f"plugin {entry.plugin!r}: importer {entry.name!r} failed to recognise "
                f"a file: {error!r}",
                entry.plugin,
            )
            return False

    def store_factory(self, scheme: str) -> Callable[[str], Any]:
        """The store factory for a URL scheme; an unknown scheme raises ConfigError."""
        entry = self._registry["store"].get(scheme)
        if entry is None:
            known = ", ".join(sorted(self._registry["store"])) or "none"
            raise ConfigError(f"no store for URLs of scheme {scheme!r} (known: {known})")
        return entry.thing  # type: ignore[no-any-return]  # a registered factory

    # -- hooks called at dispatch -------------------------------------------

    def keep(self, reminder: Reminder, route: Route, now: datetime | None = None) -> bool:
        """Whether every ``cadence_filter_reminder`` implementation lets ``reminder`` through.

        ``now`` is the moment of the dispatch run; the clock when not given.
        """
        now = datetime.now(UTC) if now is None else require_aware(now, "now")
        offered = {"reminder": reminder, "route": route, "now": now}
        keep = True
        for impl in self.pm.hook.cadence_filter_reminder.get_hookimpls():
            plugin = impl.plugin_name
            try:
                verdict = impl.function(**_arguments(impl, offered))
            except Exception as error:
                self._report(
                    f"plugin {plugin!r} failed in cadence_filter_reminder: {error!r}", plugin
                )
                continue
            if verdict is False:
                keep = False
            elif verdict is not None and verdict is not True:
                self._report(
                    f"plugin {plugin!r} returned {verdict!r} from cadence_filter_reminder; "
                    "expected True, False or None",
                    plugin,
                )
        return keep

    def delivered(self, delivery: Delivery) -> None:
        """Tell every ``cadence_delivered`` implementation about ``delivery``."""
        for impl in self.pm.hook.cadence_delivered.get_hookimpls():
            try:
                impl.function(**_arguments(impl, {"delivery": delivery}))
            except Exception as error:
                self._report(
                    f"plugin {impl.plugin_name!r} failed in cadence_delivered: {error!r}",
                    impl.plugin_name,
                )

    # -- listing ------------------------------------------------------------

    def _failed_to_load(self, name: str, source: _Source, message: str) -> None:
        self._failed[name] = source
        self._report(message, name)

    def list(self) -> list[PluginInfo]:
        """Every plugin met, with its version and what it registered, built-ins first.

        Plugins that failed to load are listed too, with their problems.
        """
        found = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            source = self._sources.get(name, _Source(None, None, False))
            hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ()))
            registered = tuple(
                sorted(
                    (entry.kind, entry.name)
                    for table in self._registry.values()
                    for entry in table.values()
                    if entry.plugin == name
                )
            )
            problems = tuple(self._problems.get(name, ()))
            found.append(
                PluginInfo(
                    name,
                    source.distribution,
                    source.version,
                    source.builtin,
                    hooks,
                    registered,
                    problems,
                )
            )
        for name, source in self._failed.items():
            problems = tuple(self._problems.get(name, ()))
            found.append(
                PluginInfo(
                    name,
                    source.distribution,
                    source.version,
                    source.builtin,
                    (),
                    (),
                    problems,
                    loaded=False,
                )
            )
        return sorted(found, key=lambda info: (not info.builtin, info.name))


def _entry_points() -> Sequence[Point | EntryPoint]:
    # Read through a cache kept in the user's cache folder: importlib.metadata is
    # slow to import and to read, and every command that opens a store loads plugins.
    return _installed.entry_points()


def _point(ep: Point | EntryPoint) -> Point:
    """``ep`` with its distribution's name and version (tests hand importlib's own)."""
    if isinstance(ep, Point):
        return ep
    dist = ep.dist
    distribution = dist.metadata["Name"] if dist is not None else None
    version = dist.version if dist is not None else None
    return Point(ep.name, ep.value, distribution, version)


def _source(point: Point) -> _Source:
    builtin = (point.distribution or "").lower() == _DISTRIBUTION
    return _Source(point.distribution, point.version, builtin)


#: An entry point's value, as importlib.metadata reads it: "module:attribute [extras]".
_ENTRY_VALUE = re.compile(
    r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$"
)


def _load_point(point: Point) -> Any:
    """The object ``point`` names, imported as ``EntryPoint.load()`` would."""
    found = _ENTRY_VALUE.match(point.value)
    if found is None:
        raise ValueError(f"entry point value {point.value!r} is not 'module:attribute'")
    value: Any = importlib.import_module(found.group("module"))
    for part in (found.group("attr") or "").split("."):
        if part:
            value = getattr(value, part)
    return value


def _load_entry_point(plugins: Plugins, point: Point, source: _Source) -> None:
    try:
        plugin = _load_point(point)
    except Exception as error:
        where = source.distribution or "unknown distribution"
        plugins._failed_to_load(
            point.name, source, f"plugin {point.name!r} ({where}) failed to load: {error!r}"
        )
        return
    plugins.register(
        plugin,
        point.name,
        distribution=source.distribution,
        version=source.version,
        builtin=source.builtin,
    )


def _load_builtin(plugins: Plugins, name: str, target: str) -> None:
    from cadence import __version__

    source = _Source(_DISTRIBUTION, __version__, True)
    try:
        plugin = _resolve(target)
    except Exception as error:
        plugins._failed_to_load(
            name, source, f"plugin {name!r} (cadence) failed to load: {error!r}"
        )
        return
    plugins.register(plugin, name, distribution=_DISTRIBUTION, version=__version__, builtin=True)


def load_plugins(*, disable: Iterable[str] | None = None, entry_points: bool = True) -> Plugins:
    """A new plugin manager with every installed plugin loaded and registered.

    cadence's own plugins come first, so no other plugin can take their
    names; the others follow in the order of their entry-point names.
    ``disable`` names plugins not to load (by default, those in the
    ``CADENCE_DISABLE_PLUGINS`` environment variable; "*" blocks all that do
    not ship with cadence). With ``entry_points=False`` only the built-in
    plugins are loaded.
    """
    blocked = _blocked_names(disable)
    plugins = Plugins()
    points = [_point(ep) for ep in _entry_points()] if entry_points else []
    found = [(point, _source(point)) for point in points]
    seen: set[str] = set()
    for ep, source in found:
        if source.builtin and ep.name not in blocked:
            seen.add(ep.name)
            _load_entry_point(plugins, ep, source)
    for name, target in DEFAULT_PLUGINS:
        if name not in seen and name not in blocked:
            seen.add(name)
            _load_builtin(plugins, name, target)
    for ep, source in found:
        if source.builtin or ep.name in blocked or "*" in blocked:
            continue
        _load_entry_point(plugins, ep, source)
    plugins.check_pending()
    return plugins


_default: Plugins | None = None
_default_lock = threading.Lock()


def get_plugins() -> Plugins:
    """The process's plugin manager, loaded on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = load_plugins()
        return _default


def reset_plugins(plugins: Plugins | None = None) -> Plugins | None:
    """Replace the process's plugin manager and return the one it had, if any.

    None loads it afresh on next use. For tests.
    """
    global _default
    with _default_lock:
        previous, _default = _default, plugins
        return previous


def _check_settings(factory: Any, settings: Mapping[str, Any], name: str) -> None:
    """Refuse settings that ``factory``'s signature does not take, or lacks, in words.

    Left to Python, they would read "__init__() got an unexpected keyword
    argument". A factory that takes ``**settings`` checks unknown ones itself.
    """
    if isinstance(factory, Lazy):
        factory = factory.resolve()
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # no signature to read: the factory checks
        return
    params = signature.parameters.values()
    known = [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(settings) - set(known))
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in params):
        listed = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"unknown {name} setting {unknown[0]!r} (known: {listed})")
    missing = [
        p.name
        for p in params
        if p.default is p.empty
        and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.name not in settings
    ]
    if missing:
        raise ConfigError(f"{name} needs the setting {missing[0]!r}")
