"""The SQLite store, cadence's embedded default: ``sqlite:///path/to/cadence.db``."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cadence.core.errors import CadenceError, ConfigError
from cadence.stores._sql import Cursor, SqlStore

__all__ = ["SqliteStore", "path_from_url"]

#: Each step brings the schema from version N to N + 1; never edit a released step.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT,
        timezone TEXT NOT NULL,
        channel TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        since TEXT
    );
    CREATE TABLE contact_tags (
        contact_id TEXT NOT NULL,
        tag TEXT NOT NULL,
        PRIMARY KEY (tag, contact_id)
    );
    CREATE INDEX contact_tags_contact ON contact_tags (contact_id);
    CREATE TABLE rules (
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        cadence TEXT NOT NULL,
        PRIMARY KEY (kind, target)
    );
    CREATE TABLE occasions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        contact_id TEXT,
        tag TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX occasions_contact ON occasions (contact_id);
    CREATE TABLE touchpoints (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        contact_id TEXT NOT NULL,
        at TEXT NOT NULL,
        at_ts REAL NOT NULL,
        channel TEXT NOT NULL,
        personal INTEGER NOT NULL,
        direction TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX touchpoints_contact ON touchpoints (contact_id, personal, at_ts);
    CREATE TABLE snoozes (
        key TEXT PRIMARY KEY,
        contact_id TEXT NOT NULL,
        until TEXT NOT NULL
    );
    CREATE INDEX snoozes_contact ON snoozes (contact_id);
    CREATE TABLE dismissals (
        key TEXT PRIMARY KEY,
        contact_id TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX dismissals_contact ON dismissals (contact_id);
    CREATE TABLE plan_state (
        contact_id TEXT PRIMARY KEY,
        stable_until REAL NOT NULL,
        covers_until REAL NOT NULL,
        planned_at REAL NOT NULL
    );
    CREATE INDEX plan_state_stable ON plan_state (stable_until);
    CREATE INDEX plan_state_covers ON plan_state (covers_until);
    CREATE TABLE next_due (
        key TEXT PRIMARY KEY,
        contact_id TEXT NOT NULL,
        due_ts INTEGER NOT NULL,
        due TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX next_due_due ON next_due (due_ts, contact_id, key);
    CREATE INDEX next_due_contact ON next_due (contact_id);
    CREATE TABLE deliveries (
        key TEXT NOT NULL,
        route TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ts REAL,
        next_attempt TEXT,
        claimed_by TEXT,
        claimed_until REAL,
        last_error TEXT,
        contact_id TEXT,
        title TEXT,
        updated TEXT,
        PRIMARY KEY (key, route)
    );
    CREATE INDEX deliveries_status ON deliveries (route, status);
    CREATE TABLE route_state (
        route TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        gone_at TEXT NOT NULL,
        error TEXT NOT NULL
    );
    """,
    # Occasions remember the source that gave them; NULL for those added by hand.
    """
    ALTER TABLE occasions ADD COLUMN source TEXT;
    CREATE INDEX occasions_source ON occasions (source);
    """,
)


def path_from_url(url: str) -> Path | None:
    """The file a SQLite URL names, or None for an in-memory database.

    ``sqlite:///cadence.db`` is relative to the working folder and
    ``sqlite:////var/lib/cadence.db`` absolute, as in SQLAlchemy;
    ``sqlite://`` and ``sqlite:///:memory:`` are in memory.
    """
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise ConfigError(f"not a SQLite URL: {url!r}")
    if parts.netloc not in ("", "localhost"):
        raise ConfigError(f"a SQLite URL names a local file, like sqlite:///path/to.db: {url!r}")
    # As in SQLAlchemy: sqlite:///relative.db and sqlite:////absolute/path.db.
    path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
    if path in ("", ":memory:"):
        return None
    return Path(path)


class SqliteStore(SqlStore):
    """cadence's store in one SQLite file (WAL mode; every write in a transaction).

    Several processes may share the file: writers take the database's lock
    with ``BEGIN IMMEDIATE`` and wait for each other, up to ``timeout``
    seconds.
    """

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        path = path_from_url(url)
        if path is not None:
            if path.exists() and path.is_dir():
                raise CadenceError(f"{path} is a directory, not a database file")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise CadenceError(
                    f"cannot create the folder for {path}: {error.strerror}"
                ) from None
        try:
            self._conn = sqlite3.connect(
                str(path) if path is not None else ":memory:",
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise CadenceError(f"cannot open the store {url}: {error}") from None
        self._lock = threading.RLock()
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as error:
            self._conn.close()
            raise CadenceError(f"{url} is not a cadence database: {error}") from None

    def _migrate(self) -> None:
        with self._tx() as cur:
            cur.execute("PRAGMA user_version")
            version = int(cur.fetchone()[0])
            if version > len(MIGRATIONS):
                raise CadenceError(
                    f"{self.url} was written by a newer cadence (schema {version}); upgrade cadence"
                )
            for step in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        cur.execute(statement)
                cur.execute(f"PRAGMA user_version = {step + 1}")

    @property
    def schema_version(self) -> int:
        """The version of the schema in the file."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _cursor(self) -> sqlite3.Cursor:
        try:
            return self._conn.cursor()
        except sqlite3.ProgrammingError:  # the only one cursor() raises: a closed connection
            raise CadenceError(f"the store {self.url} is closed") from None

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with self._lock:
            cur = self._cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._lock:
            cur = self._cursor()
            try:
                yield cur
            finally:
                cur.close()

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._conn.close()
