"""The PostgreSQL store, for teams and several dispatchers: ``postgresql://user@host/db``.

Needs the ``postgres`` extra (``pip install 'cadence[postgres]'``): psycopg 3
and its connection pool. The schema is migrated when the store opens, under
an advisory lock, so several processes may open a new database at once.
Dispatchers claim deliveries with ``SELECT ... FOR UPDATE SKIP LOCKED``: each
takes the free ones and skips those another is claiming, and claims expire by
the database server's clock, so the dispatchers' clocks need not agree.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cadence.core.errors import CadenceError, ConfigError
from cadence.sources.batch import ImportBatch
from cadence.stores._sql import Claim, Cursor, SqlStore

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresStore", "translate"]

#: Each step brings the schema from version N to N + 1; never edit a released step.
#: Column names and meanings match the SQLite store's, so the shared queries
#: read both. Text that is sorted or compared by range uses the "C" collation,
#: which orders by code point as Python and SQLite do, whatever the database's
#: locale.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE contacts (
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT,
        timezone TEXT NOT NULL,
        channel TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        since TEXT
    );
    CREATE TABLE contact_tags (
        contact_id TEXT COLLATE "C" NOT NULL,
        tag TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (tag, contact_id)
    );
    CREATE INDEX contact_tags_contact ON contact_tags (contact_id);
    CREATE TABLE rules (
        kind TEXT COLLATE "C" NOT NULL,
        target TEXT COLLATE "C" NOT NULL,
        cadence TEXT NOT NULL,
        PRIMARY KEY (kind, target)
    );
    CREATE TABLE occasions (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind TEXT COLLATE "C" NOT NULL,
        contact_id TEXT COLLATE "C",
        tag TEXT COLLATE "C",
        data TEXT NOT NULL
    );
    CREATE INDEX occasions_contact ON occasions (contact_id);
    CREATE TABLE touchpoints (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        contact_id TEXT COLLATE "C" NOT NULL,
        at TEXT NOT NULL,
        at_ts DOUBLE PRECISION NOT NULL,
        channel TEXT NOT NULL,
        personal INTEGER NOT NULL,
        direction TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX touchpoints_contact ON touchpoints (contact_id, personal, at_ts);
    CREATE TABLE snoozes (
        key TEXT COLLATE "C" PRIMARY KEY,
        contact_id TEXT COLLATE "C" NOT NULL,
        until TEXT NOT NULL
    );
    CREATE INDEX snoozes_contact ON snoozes (contact_id);
    CREATE TABLE dismissals (
        key TEXT COLLATE "C" PRIMARY KEY,
        contact_id TEXT COLLATE "C" NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX dismissals_contact ON dismissals (contact_id);
    CREATE TABLE plan_state (
        contact_id TEXT COLLATE "C" PRIMARY KEY,
        stable_until DOUBLE PRECISION NOT NULL,
        covers_until DOUBLE PRECISION NOT NULL,
        planned_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX plan_state_stable ON plan_state (stable_until);
    CREATE INDEX plan_state_covers ON plan_state (covers_until);
    CREATE TABLE next_due (
        key TEXT COLLATE "C" PRIMARY KEY,
        contact_id TEXT COLLATE "C" NOT NULL,
        due_ts BIGINT NOT NULL,
        due TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX next_due_due ON next_due (due_ts, contact_id, key);
    CREATE INDEX next_due_contact ON next_due (contact_id);
    CREATE TABLE deliveries (
        key TEXT COLLATE "C" NOT NULL,
        route TEXT COLLATE "C" NOT NULL,
        status TEXT COLLATE "C" NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ts DOUBLE PRECISION,
        next_attempt TEXT,
        claimed_by TEXT,
        claimed_until DOUBLE PRECISION,
        last_error TEXT,
        contact_id TEXT COLLATE "C",
        title TEXT,
        updated TEXT COLLATE "C",
        PRIMARY KEY (key, route)
    );
    CREATE INDEX deliveries_status ON deliveries (route, status);
    CREATE TABLE route_state (
        route TEXT COLLATE "C" PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        gone_at TEXT NOT NULL,
        error TEXT NOT NULL
    )
    """,
    # Occasions remember the source that gave them; NULL for those added by hand.
    """
    ALTER TABLE occasions ADD COLUMN source TEXT COLLATE "C";
    CREATE INDEX occasions_source ON occasions (source)
    """,
)

#: Planning or importing this many contacts at once refreshes the planner's
#: statistics of the tables they changed.
ANALYZE_AFTER = 5_000

#: The advisory lock held while the schema is migrated ("cadence" in ASCII).
MIGRATION_LOCK = 0x63616465_6E6365

#: cadence's own URL parameter; every other one goes to libpq as written.
SCHEMA_PARAMETER = "schema"

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SECRET_PARAMETERS = frozenset({"password", "sslpassword"})

#: The database server's clock, in seconds since the epoch: claims expire by
#: this one clock, however far the dispatchers' clocks drift apart.
_SERVER_CLOCK = "EXTRACT(EPOCH FROM clock_timestamp())::DOUBLE PRECISION"


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """``sql`` written with ``?`` placeholders, rewritten for psycopg's ``%s`` ones.

    A ``?`` inside a quoted literal or identifier stays as it is, and every
    literal ``%`` is doubled, since psycopg reads ``%`` as the start of a
    placeholder wherever it stands.
    """
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if char == "%":
            out.append("%%")
        elif quote is not None:
            out.append(char)
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


def _redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and reprs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        if ":" in userinfo:
            netloc = f"{userinfo.partition(':')[0]}:***@{host}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name in _SECRET_PARAMETERS for name, _ in query):
        query = [(n, "***" if n in _SECRET_PARAMETERS else v) for n, v in query]
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe=":/,=-*")))
    return urlunsplit(parts._replace(netloc=netloc))


def split_url(url: str) -> tuple[str, str | None]:
    """The libpq URL and the schema that a store URL names (None: the server's search_path).

    ``postgres://`` and ``postgresql+psycopg://`` are read as ``postgresql://``;
    the ``schema`` parameter is cadence's own and is taken out.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ConfigError(f"not a PostgreSQL URL: {_redacted(url)!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == SCHEMA_PARAMETER]
    schema = schemas[-1] if schemas else None
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise ConfigError(
            f"the schema must be a plain lower-case name (letters, digits, _), not {schema!r}"
        )
    rest = [(name, value) for name, value in query if name != SCHEMA_PARAMETER]
    libpq = urlunsplit(parts._replace(scheme="postgresql", query=urlencode(rest)))
    return libpq, schema


def _message(error: BaseException) -> str:
    """The first line of a database error, without libpq's trailing detail."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _psycopg() -> Any:
    """The psycopg module, or a CadenceError saying how to install it."""
    try:
        import psycopg
        import psycopg_pool  # noqa: F401  # checked here so the error names both
    except ImportError:
        raise CadenceError(
            "the PostgreSQL store needs psycopg 3: pip install 'cadence[postgres]'"
        ) from None
    return psycopg


class _Cursor:
    """A psycopg cursor that reads the shared queries' ``?`` placeholders."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] | None = None, /) -> _Cursor:
        if params is None:
            # Without parameters psycopg sends the text as it is: nothing to rewrite.
            self._cursor.execute(sql)
        else:
            self._cursor.execute(translate(sql), params)
        return self

    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> _Cursor:
        rows = list(params)
        if rows:
            self._cursor.executemany(translate(sql), rows)
        return self

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class PostgresStore(SqlStore):
    """cadence's store in a PostgreSQL database, shared by any number of processes.

    ``url`` is a libpq URL, ``postgresql://user:password@host:5432/dbname``,
    with any libpq parameter, plus cadence's own ``schema=name``: the schema
    (created when missing) that holds cadence's tables, so one database can
    hold several stores. Without it the tables live in the first schema of
    the server's search_path. Each process keeps a pool of up to
    ``max_size`` connections; ``timeout`` is how many seconds an operation
    waits for one.
    """

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 4, timeout: float = 30.0
    ) -> None:
        psycopg = _psycopg()
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
        from psycopg_pool import ConnectionPool

        self.url = _redacted(url)
        libpq, self.schema = split_url(url)
        try:
            params = conninfo_to_dict(libpq)
        except psycopg.Error as error:
            raise ConfigError(f"bad PostgreSQL URL {self.url}: {_message(error)}") from None
        if self.schema is not None:
            # Unqualified names resolve to the chosen schema, and only there.
            options = str(params.get("options") or "")
            params["options"] = f"{options} -c search_path={self.schema}".strip()
        params.setdefault("connect_timeout", 10)
        params.setdefault("application_name", "cadence")
        self._conninfo = make_conninfo("", **params)
        self._local = threading.local()
        with self._errors():
            with psycopg.connect(self._conninfo, autocommit=True) as conn:
                self._migrate(conn)
            self._pool: ConnectionPool[Any] = ConnectionPool(
                self._conninfo,
                min_size=min_size,
                max_size=max_size,
                timeout=timeout,
                kwargs={"autocommit": True},
                name="cadence",
                open=True,
            )

    # -- opening --------------------------------------------------------------

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        """Bring the schema up to date, one process at a time."""
        from psycopg import sql

        current = conn.execute("SELECT to_regclass('cadence_migrations') IS NOT NULL").fetchone()
        if current is not None and current[0]:
            row = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM cadence_migrations"
            ).fetchone()
            if row is not None and int(row[0]) == len(MIGRATIONS):
                return  # up to date: no need to queue behind the lock
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if self.schema is not None:
                found = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
                ).fetchone()
                if found is None:
                    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS cadence_migrations ("
                "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            row = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM cadence_migrations"
            ).fetchone()
            version = int(row[0]) if row is not None else 0
            if version > len(MIGRATIONS):
                raise CadenceError(
                    f"{self.url} was written by a newer cadence (schema {version}); upgrade cadence"
                )
            for step in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO cadence_migrations (version) VALUES (%s)", (step + 1,))

    @property
    def schema_version(self) -> int:
        """The version of the schema in the database."""
        with self._read() as cur:
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM cadence_migrations")
            return int(cur.fetchone()[0])

    # -- connections and transactions ---------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn the database errors a user can meet into one-line CadenceErrors."""
        import psycopg

        try:
            yield
        except psycopg.OperationalError as error:
            raise CadenceError(f"the store {self.url}: {_message(error)}") from None
        except psycopg.DataError as error:
            raise CadenceError(f"PostgreSQL refused a value: {_message(error)}") from None

    @contextmanager
    def _connection(self) -> Iterator[tuple[psycopg.Connection[Any], bool]]:
        """This thread's connection, and whether an outer block of this thread holds it."""
        held: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if held is not None:
            yield held, True
            return
        with self._pool.connection() as conn:
            self._local.conn = conn
            try:
                yield conn, False
            finally:
                self._local.conn = None

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with (
            self._errors(),
            self._connection() as (conn, _),
            conn.transaction(),
            conn.cursor() as cur,
        ):
            yield _Cursor(cur)

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._errors(), self._connection() as (conn, nested):
            if nested:
                with conn.cursor() as cur:
                    yield _Cursor(cur)
                return
            # One snapshot for every query of the block: a roster is read whole.
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                with conn.cursor() as cur:
                    yield _Cursor(cur)
            finally:
                conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close the pool's connections."""
        self._pool.close()

    # -- keeping the query planner informed -----------------------------------

    def refresh(self, *, now: datetime, within: timedelta | str = timedelta(0)) -> int:
        planned = super().refresh(now=now, within=within)
        if planned >= ANALYZE_AFTER:
            # Re-planning rewrites a row of each table per contact: vacuum too,
            # or the indexes keep pointing at the old rows until autovacuum.
            self._analyze("plan_state", "next_due", vacuum=True)
        return planned

    def import_batch(self, batch: ImportBatch) -> int:
        kept = super().import_batch(batch)
        if kept >= ANALYZE_AFTER:
            self._analyze("contacts", "contact_tags", "occasions", "touchpoints")
        return kept

    def _analyze(self, *tables: str, vacuum: bool = False) -> None:
        # Until autovacuum comes round (a minute or more), the planner would
        # read the grown tables with the statistics of the empty ones and scan
        # them whole: `due` on 100,000 fresh contacts took 60 ms, not 2 ms.
        command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
        with self._errors(), self._connection() as (conn, nested):
            if nested:
                return  # inside a transaction, where VACUUM cannot run; autovacuum will
            conn.execute(f"{command} {', '.join(tables)}")  # fixed table names

    # -- what row locks do better -------------------------------------------

    def _lock_plans(self, cur: Cursor, ids: Sequence[str]) -> None:
        if ids:
            cur.execute(
                "SELECT contact_id FROM plan_state WHERE contact_id = ANY(?::text[]) "
                "ORDER BY contact_id FOR UPDATE",
                (list(ids),),
            )

    def _claim(
        self,
        cur: Cursor,
        wanted: Sequence[tuple[str, str]],
        *,
        now: datetime,
        worker: str,
        ttl: float,
        titles: dict[str, tuple[str, str]],
    ) -> list[Claim]:
        """Claim the free deliveries of ``wanted``, skipping rows another dispatcher holds.

        Unknown deliveries are added first, in key order, so two dispatchers
        adding the same ones wait for each other briefly and never deadlock.
        Then one statement locks the free rows with SKIP LOCKED and stamps
        the claim, which expires ``ttl`` seconds later by the server's clock.
        """
        pairs = sorted(set(wanted))
        if not pairs:
            return []
        keys = [key for key, _ in pairs]
        routes = [route for _, route in pairs]
        contacts = [titles.get(key, (None, None))[0] for key in keys]
        names = [titles.get(key, (None, None))[1] for key in keys]
        cur.execute(
            "INSERT INTO deliveries (key, route, status, attempts, contact_id, title, updated) "
            "SELECT k, r, 'pending', 0, c, t, ? "
            "FROM unnest(?::text[], ?::text[], ?::text[], ?::text[]) AS w (k, r, c, t) "
            "ON CONFLICT (key, route) DO NOTHING",
            (now.isoformat(), keys, routes, contacts, names),
        )
        cur.execute(
            "WITH free AS ("
            " SELECT d.key, d.route FROM deliveries d"
            " JOIN unnest(?::text[], ?::text[]) AS w (k, r) ON d.key = w.k AND d.route = w.r"
            " WHERE d.status IN ('pending', 'failed')"
            f" AND (d.claimed_until IS NULL OR d.claimed_until <= {_SERVER_CLOCK})"
            " AND (d.next_attempt_ts IS NULL OR d.next_attempt_ts <= ?)"
            " ORDER BY d.key, d.route FOR UPDATE OF d SKIP LOCKED) "
            f"UPDATE deliveries SET claimed_by = ?, claimed_until = {_SERVER_CLOCK} + ? "
            "FROM free WHERE deliveries.key = free.key AND deliveries.route = free.route "
            "RETURNING deliveries.key, deliveries.route, deliveries.attempts",
            (keys, routes, now.timestamp(), worker, ttl),
        )
        found = {(key, route): int(attempts) for key, route, attempts in cur.fetchall()}
        # In the order asked, as the shared claim returns them.
        return [
            Claim(key, route, found.pop((key, route)))
            for key, route in wanted
            if (key, route) in found
        ]
