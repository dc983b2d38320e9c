"""Configuration: where the store is, the routes reminders take, the sources of occasions.

All of it but the store is read from ``cadence.toml``.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from cadence._plugins import Lazy, Plugins, get_plugins
from cadence.core.errors import CadenceError, ConfigError

if TYPE_CHECKING:
    # Imported where they are used: opening a store, all that most commands
    # do with this module, needs none of them.
    from cadence._delivery import Route
    from cadence.sources.sync import SourceConfig

__all__ = [
    "Config",
    "default_db_url",
    "load_config",
    "open_store",
    "routes_from_data",
    "sources_from_data",
]

DB_ENV = "CADENCE_DB"
CONFIG_ENV = "CADENCE_CONFIG"
_ROUTE_KEYS = frozenset({"adapter", "name", "tags", "kinds"})
_SOURCE_KEYS = frozenset(
    {"source", "name", "ahead", "prune", "me", "ignore", "bulk_recipients", "keep_subject"}
)


@attrs.frozen
class Config:
    """What a ``cadence.toml`` says: the routes, how dispatch behaves, the occasion sources.

    ``source`` is the file it was read from.
    """

    routes: tuple[Route, ...] = ()
    horizon: Any = None
    claim_timeout: Any = None
    source: str | None = None
    sources: tuple[SourceConfig, ...] = ()


def default_db_url() -> str:
    """The store URL used when none is given.

    ``CADENCE_DB`` if set, else a SQLite file in the user's data folder.
    """
    env = os.environ.get(DB_ENV)
    if env:
        return env
    import platformdirs

    folder = Path(platformdirs.user_data_dir("cadence", appauthor=False))
    return f"sqlite:///{folder / 'cadence.db'}"


def open_store(
    url: str | None = None, *, plugins: Plugins | None = None, create: bool = True
) -> Any:
    """Open the store at ``url`` through the store registered for its scheme.

    ``sqlite:///path/to/cadence.db`` is the embedded default; plugins add
    others (``postgresql://...``). A bare file path is read as a SQLite file.

    A store that does not exist yet is created, unless ``create`` is false:
    then only an existing store opens, and a missing one (a mistyped path, a
    database or schema without cadence's tables) raises CadenceError naming
    it, having created nothing. Code that only reads should pass
    ``create=False``, as the CLI's reading commands do.
    """
    url = url or default_db_url()
    if "\x00" in url:  # no file name or host may hold it, and os calls refuse it
        raise ConfigError("not a store URL: it holds a NUL character")
    found = _SCHEME.match(url)
    scheme = found.group(1).lower() if found else ""
    if not scheme or (len(scheme) == 1 and os.name == "nt"):
        url = f"sqlite:///{Path(url).resolve()}"
        scheme = "sqlite"
    factory: Any = (plugins or get_plugins()).store_factory(scheme)
    if create or not _takes_create(factory):
        # A store plugin without a ``create`` keyword decides on its own.
        return factory(url)
    return factory(url, create=False)


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def _takes_create(factory: Any) -> bool:
    """Whether a store factory accepts the ``create`` keyword."""
    target = factory.resolve() if isinstance(factory, Lazy) else factory
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == "create" and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


def routes_from_data(items: object, *, source: str = "the configuration") -> tuple[Route, ...]:
    """Routes from a list of tables, as ``[[routes]]`` in a TOML file gives them."""
    from cadence._delivery import Route

    if items is None:
        return ()
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise ConfigError(f"{source}: 'routes' must be a list of tables ([[routes]])")
    routes = []
    names: set[str] = set()
    for number, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            raise ConfigError(f"{source}: route {number} must be a table")
        if "adapter" not in item:
            raise ConfigError(f"{source}: route {number} has no 'adapter'")
        settings = {k: v for k, v in item.items() if k not in _ROUTE_KEYS}
        route = Route(
            item["adapter"],
            name=item.get("name", ""),
            tags=item.get("tags"),
            kinds=item.get("kinds"),
            settings=settings,
        )
        if route.name in names:
            raise ConfigError(f"{source}: two routes are called {route.name!r}; give them names")
        names.add(route.name)
        routes.append(route)
    return tuple(routes)


def sources_from_data(
    items: object, *, source: str = "the configuration"
) -> tuple[SourceConfig, ...]:
    """Occasion sources from a list of tables, as ``[[sources]]`` in a TOML file gives them.

    Each table names the registered ``source``; ``name`` (by default the
    source's) tells its occasions apart and must be unique; ``ahead`` says how
    far ahead to ask for occasions ("400d" by default); ``prune`` (false by
    default) lets a contact source remove the contacts deleted at the source;
    a touch source's tables may say ``me`` (your own addresses), ``ignore``
    (patterns of addresses never matched), ``bulk_recipients`` and
    ``keep_subject`` (see ``cadence.core.touches.TouchRules``); every other
    key is a setting for the source's factory.
    """
    from cadence.core.durations import parse_duration
    from cadence.core.touches import BULK_RECIPIENTS
    from cadence.sources.sync import DEFAULT_AHEAD, SourceConfig

    if items is None:
        return ()
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise ConfigError(f"{source}: 'sources' must be a list of tables ([[sources]])")
    found = []
    names: set[str] = set()
    for number, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            raise ConfigError(f"{source}: source {number} must be a table")
        if "source" not in item:
            raise ConfigError(f"{source}: source {number} has no 'source' (the source to use)")
        settings = {k: v for k, v in item.items() if k not in _SOURCE_KEYS}
        try:
            ahead = parse_duration(item["ahead"]) if "ahead" in item else DEFAULT_AHEAD
            made = SourceConfig(
                item["source"],
                name=item.get("name", ""),
                ahead=ahead,
                prune=item.get("prune", False),
                me=item.get("me", ()),
                ignore=item.get("ignore", ()),
                bulk_recipients=item.get("bulk_recipients", BULK_RECIPIENTS),
                keep_subject=item.get("keep_subject", False),
                settings=settings,
            )
        except CadenceError as error:
            raise ConfigError(f"{source}: source {number}: {error}") from None
        if made.name in names:
            raise ConfigError(f"{source}: two sources are called {made.name!r}; give them names")
        names.add(made.name)
        found.append(made)
    return tuple(found)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read ``cadence.toml`` from ``path``, else ``CADENCE_CONFIG``, else the user's config folder.

    A missing file is an error only when it was named; otherwise the result
    has no routes and no sources.
    """
    import tomllib

    import platformdirs

    from cadence.core.durations import parse_duration

    named = path is not None or bool(os.environ.get(CONFIG_ENV))
    chosen = Path(
        path
        or os.environ.get(CONFIG_ENV)
        or Path(platformdirs.user_config_dir("cadence", appauthor=False)) / "cadence.toml"
    )
    if not chosen.exists():
        if named:
            raise ConfigError(f"{chosen}: no such configuration file")
        return Config()
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{chosen}: {error}") from None
    except ValueError:  # tomllib lets int() refuse a number of thousands of digits
        raise ConfigError(f"{chosen}: a number with too many digits") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{chosen}: cannot read it: {error}") from None
    unknown = set(data) - {"routes", "dispatch", "sources"}
    if unknown:
        raise ConfigError(f"{chosen}: unknown section(s) {', '.join(sorted(unknown))}")
    dispatch = data.get("dispatch", {})
    if not isinstance(dispatch, Mapping):
        raise ConfigError(f"{chosen}: [dispatch] must be a table")
    unknown = set(dispatch) - {"horizon", "claim_timeout"}
    if unknown:
        raise ConfigError(f"{chosen}: unknown [dispatch] setting(s) {', '.join(sorted(unknown))}")
    try:
        horizon = parse_duration(dispatch["horizon"]) if "horizon" in dispatch else None
        claim = parse_duration(dispatch["claim_timeout"]) if "claim_timeout" in dispatch else None
    except CadenceError as error:
        raise ConfigError(f"{chosen}: [dispatch]: {error}") from None
    return Config(
        routes=routes_from_data(data.get("routes"), source=str(chosen)),
        horizon=horizon,
        claim_timeout=claim,
        source=str(chosen),
        sources=sources_from_data(data.get("sources"), source=str(chosen)),
    )
