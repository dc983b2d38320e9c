"""What the installed distributions offer cadence: its entry points and their versions, cached.

Reading them through ``importlib.metadata`` means importing it (and the email
parser it reads metadata with) and opening every distribution's metadata:
tens of milliseconds at every start of the command line. So what it found is
kept in a file in the user's cache folder, keyed on what is installed: every
distribution's metadata folder on ``sys.path``, with its modification time
and that of its ``entry_points.txt``. Installing, upgrading or removing a
distribution changes the key, and the next start reads everything afresh.

The cache is never required: a file that is missing, unreadable, broken or
written for another set of distributions is ignored (and replaced), and a
cache folder that cannot be written only means reading afresh next time.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from typing import Any, NamedTuple

__all__ = ["CACHE_ENV", "Point", "cache_folder", "distribution_version", "entry_points", "forget"]

#: The entry-point group cadence's plugins are declared in.
GROUP = "cadence"
#: Set to "0" to neither read nor write the cache (it is on by default).
CACHE_ENV = "CADENCE_PLUGIN_CACHE"
#: Bumped whenever the file's layout changes, so an older file is ignored.
_FORMAT = 1
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


class Point(NamedTuple):
    """An entry point of the ``cadence`` group and the distribution that declares it."""

    name: str
    value: str
    distribution: str | None
    version: str | None


class _Scan(NamedTuple):
    points: tuple[Point, ...]
    #: Versions by normalised distribution name: cadence's and its plugins'.
    versions: dict[str, str]


_scanned: _Scan | None = None
_lock = threading.Lock()


def entry_points() -> list[Point]:
    """The entry points of the ``cadence`` group, sorted by name."""
    return list(_scan().points)


def distribution_version(name: str) -> str | None:
    """The installed version of distribution ``name``; None when it is not installed."""
    found = _scan().versions.get(_normalise(name))
    if found is not None:
        return found
    # Not cadence nor a plugin of it: the cache does not hold it, so ask.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def forget() -> None:
    """Drop what this process read, so the next call reads again (the file stays)."""
    global _scanned
    with _lock:
        _scanned = None


def _scan() -> _Scan:
    global _scanned
    with _lock:
        if _scanned is None:
            _scanned = _cached_scan()
        return _scanned


def _cached_scan() -> _Scan:
    if os.environ.get(CACHE_ENV, "1") == "0":
        return _read_installed()
    key = _key()
    path = _cache_path()
    found = _load(path, key) if path is not None else None
    if found is None:
        found = _read_installed()
        if path is not None:
            _store(path, key, found)
    return found


def _read_installed() -> _Scan:
    """What importlib.metadata finds: slow to import and to run, hence the cache."""
    from importlib.metadata import PackageNotFoundError, distribution
    from importlib.metadata import entry_points as read

    points = []
    versions: dict[str, str] = {}
    for ep in read(group=GROUP):
        dist = ep.dist
        name = dist.metadata["Name"] if dist is not None else None
        version = dist.version if dist is not None else None
        points.append(Point(ep.name, ep.value, name, version))
        if name is not None and version is not None:
            versions.setdefault(_normalise(name), version)
    with contextlib.suppress(PackageNotFoundError):  # a source tree never installed has none
        versions.setdefault(_normalise(GROUP), distribution(GROUP).version)
    return _Scan(tuple(sorted(points, key=lambda point: point.name)), versions)


def _normalise(name: str) -> str:
    # As PEP 503 compares distribution names: case, "-", "_" and "." do not matter.
    return "-".join(name.replace("_", "-").replace(".", "-").split("-")).lower()


def _key() -> list[Any]:
    """What is installed, as cheaply as it can be told: see the module's docstring.

    Each folder on ``sys.path`` is listed (a few hundred names at most) and each
    metadata folder in it stat'ed: well under a millisecond, where reading the
    metadata itself takes tens. Folders that hold no distribution are left
    out, so ``python -m cadence`` run from any folder (the first entry of
    ``sys.path``) finds the same key.
    """
    places: list[Any] = []
    for entry in sys.path:
        where = entry or "."
        try:
            with os.scandir(where) as listing:
                names = sorted(e.name for e in listing if e.name.endswith(_METADATA_SUFFIXES))
        except NotADirectoryError:  # a zip file, which may hold distributions too
            places.append([entry, _mtime(where)])
            continue
        except OSError:  # not there: nothing to find
            continue
        if names:
            found = []
            for name in names:
                folder = os.path.join(where, name)
                entry_points = os.path.join(folder, "entry_points.txt")
                found.append([name, _mtime(folder), _mtime(entry_points)])
            places.append([os.path.abspath(where), found])
    return [_FORMAT, sys.version, sys.executable, places]


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def cache_folder() -> str:
    """cadence's folder in the user's cache folder, as ``platformdirs.user_cache_dir`` names it.

    On Linux and the BSDs that is the XDG rule, followed here: importing
    platformdirs costs more than all the rest of reading the cache.
    """
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):
            base = os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(base, "cadence")
    import platformdirs

    return platformdirs.user_cache_dir("cadence", appauthor=False)


def _cache_path() -> str | None:
    try:
        folder = cache_folder()
    except Exception:  # no home folder to speak of: go without the cache
        return None
    if not os.path.isabs(folder):  # a home folder that is not one: nowhere safe to write
        return None
    # One file per interpreter, so several virtual environments never take turns.
    from zlib import crc32

    tag = crc32(f"{sys.prefix}\0{sys.executable}".encode("utf-8", "surrogateescape"))
    return os.path.join(folder, f"plugins-{tag:08x}.json")


def _load(path: str, key: list[Any]) -> _Scan | None:
    """The scan kept at ``path`` for ``key``; None if there is none or it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if data["key"] != key:
            return None
        points = tuple(_point(*point) for point in data["points"])
        versions = {str(name): str(version) for name, version in data["versions"].items()}
        if any(not point.name or not point.value for point in points):
            return None
        return _Scan(points, versions)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _point(name: object, value: object, distribution: object, version: object) -> Point:
    if not (isinstance(name, str) and isinstance(value, str)):
        raise TypeError("an entry point's name and value are text")
    return Point(name, value, _text(distribution), _text(version))


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"not text: {value!r}")


def _store(path: str, key: list[Any], scan: _Scan) -> None:
    """Keep ``scan`` at ``path`` for next time; any failure only means reading afresh then."""
    data = {"key": key, "points": [list(p) for p in scan.points], "versions": scan.versions}
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        _make_private_folders(os.path.dirname(path))
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(handle, "w", encoding="utf-8") as file:
            json.dump(data, file)
        os.replace(temporary, path)  # readers see the old file or the new, never half of one
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _make_private_folders(folder: str) -> None:
    # As the store's folders: whatever cadence creates in the user's folders is
    # theirs alone, whatever the umask; a folder that exists keeps its mode.
    missing = []
    while folder and not os.path.isdir(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for made in reversed(missing):
        try:
            os.mkdir(made, 0o700)
        except FileExistsError:
            continue
        os.chmod(made, 0o700)
