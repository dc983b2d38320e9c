"""The SQLite store, cadence's embedded default: ``sqlite:///path/to/cadence.db``."""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from cadence.core.errors import CadenceError, ConfigError, StoreBusy
from cadence.stores._sql import Cursor, SqlStore, legacy_emails

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
        route TEXT NOT NULL PRIMARY KEY,
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
    # Contacts have several email addresses (the primary stays in email), phones
    # and an organization; contact_emails finds a contact by any address. The
    # existing addresses are copied in by ``_fill_contact_emails``.
    """
    ALTER TABLE contacts ADD COLUMN emails TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE contacts ADD COLUMN phones TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE contacts ADD COLUMN organization TEXT;
    CREATE TABLE contact_emails (
        contact_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        address TEXT NOT NULL,
        address_key TEXT NOT NULL,
        PRIMARY KEY (contact_id, position)
    );
    CREATE INDEX contact_emails_key ON contact_emails (address_key);
    """,
    # Contacts remember the day they were added (their first check-in is
    # spread from it); contact_links tie each source's own ids (a vCard UID)
    # to contacts, so re-importing merges; source_state keeps what a source
    # needs for its next sync (a sync token, ETags, a folder's last UID).
    # Touchpoints a source brought in carry its name and their ref there;
    # touch_removals remembers those removed by hand, so they stay removed.
    """
    ALTER TABLE touchpoints ADD COLUMN source TEXT;
    ALTER TABLE touchpoints ADD COLUMN ref TEXT;
    CREATE UNIQUE INDEX touchpoints_source_ref ON touchpoints (source, ref, contact_id);
    CREATE TABLE touch_removals (
        source TEXT NOT NULL,
        ref TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        PRIMARY KEY (source, ref, contact_id)
    );
    ALTER TABLE contacts ADD COLUMN added TEXT;
    CREATE TABLE contact_links (
        source TEXT NOT NULL,
        uid TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        PRIMARY KEY (source, uid)
    );
    CREATE INDEX contact_links_contact ON contact_links (contact_id);
    CREATE TABLE source_state (
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (source, key)
    );
    """,
    # A link remembers the digest of the record that made it, so that a
    # record imported again unchanged is not read again.
    """
    ALTER TABLE contact_links ADD COLUMN digest TEXT
    """,
    # What a publishing route (a CalDAV calendar) wrote where: per route and
    # event UID, the href and ETag it was written at, digests of what was
    # written and of what it was rendered from, and whether the owner of the
    # calendar changed it ("theirs").
    """
    CREATE TABLE published (
        route TEXT NOT NULL,
        uid TEXT NOT NULL,
        href TEXT NOT NULL,
        etag TEXT,
        digest TEXT NOT NULL,
        inputs TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (route, uid)
    );
    """,
    # Where a publishing route last read its calendar's changes from: the
    # collection's URL and the server's sync token (RFC 6578), so that the
    # next run asks only what changed since.
    """
    CREATE TABLE published_tokens (
        route TEXT NOT NULL PRIMARY KEY,
        collection TEXT NOT NULL,
        token TEXT NOT NULL
    );
    """,
    # A counter raised by every write that can change an agenda (contacts,
    # rules, occasions, touchpoints, snoozes, dismissals), in the same
    # transaction: a served feed asks it whether what it shows may have changed.
    """
    CREATE TABLE agenda_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
    );
    INSERT INTO agenda_version (id, version) VALUES (1, 0)
    """,
    # Planning remembers which contacts no rule applies to (no_cadence), so
    # that listing them reads an index instead of every contact; the writes
    # that can change it (contacts, rules) clear it as they mark plans stale,
    # and this step works it out for the plans already made.
    """
    ALTER TABLE plan_state ADD COLUMN no_cadence INTEGER NOT NULL DEFAULT 0;
    UPDATE plan_state SET no_cadence = 1 WHERE NOT EXISTS
    (SELECT 1 FROM rules WHERE kind = 'everyone') AND NOT EXISTS
    (SELECT 1 FROM rules r WHERE r.kind = 'contact' AND r.target = plan_state.contact_id)
    AND NOT EXISTS (SELECT 1 FROM contact_tags t JOIN rules r ON r.kind = 'tag'
    AND r.target = t.tag WHERE t.contact_id = plan_state.contact_id);
    CREATE INDEX plan_state_no_cadence ON plan_state (contact_id) WHERE no_cadence = 1
    """,
)

#: The step after which the contacts' existing addresses are copied into contact_emails.
EMAILS_STEP = 2


def _is_busy(error: sqlite3.Error) -> bool:
    """Whether ``error`` says another connection held a lock for longer than the timeout."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return True
    text = str(error)
    return "database is locked" in text or "database table is locked" in text


@contextmanager
def _busy(url: str) -> Iterator[None]:
    """Turn a lock held too long by another process into a StoreBusy that says to try again."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if not _is_busy(error):
            raise
        raise StoreBusy(
            f"the store {url} is busy: another cadence process held it locked for too long; "
            "nothing was changed, try again"
        ) from None


#: Seconds a write waits for another process's lock before giving up (StoreBusy).
LOCK_TIMEOUT = 30.0


def lock_timeout(url: str) -> float:
    """The seconds a URL's ``?timeout=`` asks writers to wait for a lock; 30 by default."""
    values = [v for n, v in parse_qsl(_split(url).query, keep_blank_values=True) if n == "timeout"]
    if not values:
        return LOCK_TIMEOUT
    try:
        seconds = float(values[-1])
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 <= seconds <= 86400:
        raise ConfigError(
            f"timeout in a SQLite URL is a number of seconds from 0 to 86400, not {values[-1]!r}"
        )
    return seconds


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError as error:  # "Invalid IPv6 URL" and the like
        raise ConfigError(f"not a store URL: {error}") from None


def _use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Put the file in WAL mode, waiting up to ``timeout`` seconds for other openers.

    SQLite answers "database is locked" at once, without its busy handler,
    when two connections switch a new file's journal mode together: the
    switch needs the file to itself. So wait here, as the busy handler would.
    """
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return  # the mode is kept in the file: nothing to switch
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def path_from_url(url: str) -> Path | None:
    """The file a SQLite URL names, or None for an in-memory database.

    ``sqlite:///cadence.db`` is relative to the working folder and
    ``sqlite:////var/lib/cadence.db`` absolute, as in SQLAlchemy;
    ``sqlite://`` and ``sqlite:///:memory:`` are in memory.
    """
    parts = _split(url)
    if parts.scheme != "sqlite":
        raise ConfigError(f"not a SQLite URL: {url!r}")
    if parts.netloc not in ("", "localhost"):
        raise ConfigError(f"a SQLite URL names a local file, like sqlite:///path/to.db: {url!r}")
    # As in SQLAlchemy: sqlite:///relative.db and sqlite:////absolute/path.db.
    path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
    if path in ("", ":memory:"):
        return None
    return Path(path)


def _create_private(path: Path) -> None:
    """Create the database file, and any folder it needs, readable by its owner only.

    The store holds names, notes and histories of people, so what cadence
    creates is private whatever the umask: folders 0700, the file 0600. SQLite
    gives its WAL, shared-memory and journal files the database file's mode.
    A file or folder that already exists keeps the mode its owner chose.
    """
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    try:
        for made in reversed(missing):
            try:
                os.mkdir(made, 0o700)
            except FileExistsError:
                continue  # another process made it first: its mode stays as it is
            os.chmod(made, 0o700)  # the umask may have taken bits mkdir was given
    except OSError as error:
        raise CadenceError(f"cannot create the folder for {path}: {error.strerror}") from None
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first
    except OSError as error:
        raise CadenceError(f"cannot create the store {path}: {error.strerror}") from None
    try:
        if hasattr(os, "fchmod"):  # POSIX; elsewhere the mode bits mean little
            os.fchmod(handle, 0o600)
    finally:
        os.close(handle)


def _fold_or_none(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) else None


class SqliteStore(SqlStore):
    """cadence's store in one SQLite file (WAL mode; every write in a transaction).

    Several processes may share the file: writers take the database's lock
    with ``BEGIN IMMEDIATE`` and wait for each other, up to ``timeout``
    seconds (the URL's ``?timeout=``, else 30), then raise StoreBusy. A
    missing file is created (private to its owner) unless ``create`` is
    false: then only an existing cadence store opens, and anything else
    raises CadenceError naming the file.
    """

    _fold_sql = "cadence_fold"
    _fold_text = staticmethod(str.casefold)

    def __init__(self, url: str, *, timeout: float | None = None, create: bool = True) -> None:
        self.url = url
        path = path_from_url(url)
        timeout = lock_timeout(url) if timeout is None else timeout
        if path is not None:
            if path.exists() and path.is_dir():
                raise CadenceError(f"{path} is a directory, not a database file")
            if not path.exists():
                if not create:
                    raise CadenceError(f"no cadence store at {path}: the file does not exist")
                _create_private(path)
        if path is None:
            target, uri = ":memory:", False
        elif create:
            target, uri = str(path), False
        else:
            # mode=rw: a store that must exist is never created, even if it vanishes meanwhile.
            target, uri = f"{path.absolute().as_uri()}?mode=rw", True
        try:
            self._conn = sqlite3.connect(
                target, timeout=timeout, isolation_level=None, check_same_thread=False, uri=uri
            )
        except sqlite3.Error as error:
            raise CadenceError(f"cannot open the store {url}: {error}") from None
        # SQLite's own lower() folds ASCII only: "élo" would never find "Élodie".
        self._conn.create_function("cadence_fold", 1, _fold_or_none, deterministic=True)
        self._lock = threading.RLock()
        try:
            if not create and path is not None and self.schema_version == 0:
                # An empty file, or another program's database: nothing of cadence's to read.
                self._conn.close()
                raise CadenceError(f"no cadence store at {path}: the file holds none")
            _use_wal(self._conn, timeout)
            self._conn.execute("PRAGMA synchronous = NORMAL")
            # Up to 64 MiB of pages rather than 2: planning and the delivery ledger
            # write keys in hash order, all over their indexes, and a large store's
            # indexes outgrow the default cache (each miss a read from the file).
            self._conn.execute("PRAGMA cache_size = -65536")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as error:
            self._conn.close()
            if _is_busy(error):
                with _busy(url):
                    raise
            raise CadenceError(f"{url} is not a cadence database: {error}") from None

    def _migrate(self) -> None:
        if self.schema_version == len(MIGRATIONS):
            return  # up to date: no need to wait for the write lock another process holds
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
                if step == EMAILS_STEP:
                    cur.execute("SELECT id, email FROM contacts WHERE email IS NOT NULL")
                    emails, rows = legacy_emails(cur.fetchall())
                    cur.executemany("UPDATE contacts SET emails = ? WHERE id = ?", emails)
                    cur.executemany(
                        "INSERT INTO contact_emails (contact_id, position, address, address_key) "
                        "VALUES (?, ?, ?, ?)",
                        rows,
                    )
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
        with self._lock, _busy(self.url):
            cur = self._cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                # COMMIT itself may fail (busy), leaving the transaction open.
                if self._conn.in_transaction:
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._lock, _busy(self.url):
            cur = self._cursor()
            try:
                yield cur
            finally:
                cur.close()

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._conn.close()
