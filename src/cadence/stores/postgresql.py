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
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, unquote

import attrs

from cadence.core.errors import CadenceError, ConfigError, StoreBusy
from cadence.stores._sql import Claim, Cursor, SqlStore, legacy_emails

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
        route TEXT COLLATE "C" NOT NULL PRIMARY KEY,
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
    # Contacts have several email addresses (the primary stays in email), phones
    # and an organization; contact_emails finds a contact by any address. The
    # existing addresses are copied in by the step after this one.
    """
    ALTER TABLE contacts ADD COLUMN emails TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE contacts ADD COLUMN phones TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE contacts ADD COLUMN organization TEXT;
    CREATE TABLE contact_emails (
        contact_id TEXT COLLATE "C" NOT NULL,
        position INTEGER NOT NULL,
        address TEXT NOT NULL,
        address_key TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (contact_id, position)
    );
    CREATE INDEX contact_emails_key ON contact_emails (address_key)
    """,
    # Contacts remember the day they were added (their first check-in is
    # spread from it); contact_links tie each source's own ids (a vCard UID)
    # to contacts, so re-importing merges; source_state keeps what a source
    # needs for its next sync (a sync token, ETags, a folder's last UID).
    # Touchpoints a source brought in carry its name and their ref there;
    # touch_removals remembers those removed by hand, so they stay removed.
    """
    ALTER TABLE touchpoints ADD COLUMN source TEXT COLLATE "C";
    ALTER TABLE touchpoints ADD COLUMN ref TEXT COLLATE "C";
    CREATE UNIQUE INDEX touchpoints_source_ref ON touchpoints (source, ref, contact_id);
    CREATE TABLE touch_removals (
        source TEXT COLLATE "C" NOT NULL,
        ref TEXT COLLATE "C" NOT NULL,
        contact_id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (source, ref, contact_id)
    );
    ALTER TABLE contacts ADD COLUMN added TEXT;
    CREATE TABLE contact_links (
        source TEXT COLLATE "C" NOT NULL,
        uid TEXT COLLATE "C" NOT NULL,
        contact_id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (source, uid)
    );
    CREATE INDEX contact_links_contact ON contact_links (contact_id);
    CREATE TABLE source_state (
        source TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (source, key)
    )
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
        route TEXT COLLATE "C" NOT NULL,
        uid TEXT COLLATE "C" NOT NULL,
        href TEXT NOT NULL,
        etag TEXT,
        digest TEXT NOT NULL,
        inputs TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (route, uid)
    )
    """,
    # Where a publishing route last read its calendar's changes from: the
    # collection's URL and the server's sync token (RFC 6578), so that the
    # next run asks only what changed since.
    """
    CREATE TABLE published_tokens (
        route TEXT COLLATE "C" NOT NULL PRIMARY KEY,
        collection TEXT NOT NULL,
        token TEXT NOT NULL
    )
    """,
    # A counter raised by every write that can change an agenda (contacts,
    # rules, occasions, touchpoints, snoozes, dismissals), in the same
    # transaction: a served feed asks it whether what it shows may have changed.
    """
    CREATE TABLE agenda_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version BIGINT NOT NULL
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
    # A delivery is written twice: claimed, then its outcome. With no index
    # on the status the outcome changes, and room left on each page, the
    # second write stays on the row's page and touches no index (a HOT
    # update); without it, each outcome moved the row to another page and
    # recording cost grew with the ledger. Nothing reads deliveries by status
    # alone: counts and the ledger read every row anyway.
    """
    DROP INDEX deliveries_status;
    ALTER TABLE deliveries SET (fillfactor = 70)
    """,
)

#: The step after which the contacts' existing addresses are copied into contact_emails.
EMAILS_STEP = 2

#: Planning or importing this many contacts at once refreshes the planner's
#: statistics of the tables they changed.
ANALYZE_AFTER = 5_000

#: The advisory lock held while the schema is migrated ("cadence" in ASCII).
MIGRATION_LOCK = 0x63616465_6E6365

#: cadence's own URL parameter; every other one goes to libpq as written.
SCHEMA_PARAMETER = "schema"

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SECRET_PARAMETERS = frozenset(
    {"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"}
)

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


_IN_LIST = re.compile(r"\b(NOT\s+)?IN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def as_arrays(sql: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``sql`` with each ``IN (?, ?, ...)`` list made one array parameter (``= ANY(?)``).

    Returns the new text and, for each list, the index of its first
    parameter and how many it had. A query whose text grows with its
    parameters is parsed again by psycopg for every call and planned again
    by the server; one array keeps the text short and the same, so both are
    done once. ``NOT IN`` becomes ``<> ALL``, which reads NULLs alike.
    """
    lists: list[tuple[int, int]] = []
    out: list[str] = []
    seen, at = 0, 0
    for found in _IN_LIST.finditer(sql):
        if _in_quotes(sql, found.start()):
            continue
        before = sql[at : found.start()]
        seen += _marks_in(before)
        count = found.group(0).count("?")
        lists.append((seen, count))
        seen += count
        out += [before, "<> ALL(?)" if found.group(1) else "= ANY(?)"]
        at = found.end()
    out.append(sql[at:])
    return "".join(out), tuple(lists)


def _in_quotes(sql: str, end: int) -> bool:
    quote: str | None = None
    for char in sql[:end]:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
    return quote is not None


def _marks_in(text: str) -> int:
    """How many ``?`` placeholders ``text`` holds, those in quotes left out."""
    count, quote = 0, None
    for char in text:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "?":
            count += 1
    return count


_PREFIX = re.compile(r"(postgresql|postgres|postgresql\+psycopg)://", re.IGNORECASE)
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PORT = re.compile(r"[0-9]{1,5}")
_ENCODE_ADVICE = (
    "percent-encode @ : / ? # % in a user name or password (%40 %3A %2F %3F %23 %25), "
    "or keep the password out of the URL (PGPASSWORD, ~/.pgpass)"
)


@attrs.frozen
class ParsedUrl:
    """What a PostgreSQL store URL says: libpq's parameters, cadence's schema, a safe form.

    ``shown`` is the URL with every secret replaced by ``***``: the only form
    of the URL that messages, logs and reprs ever carry. ``secrets`` are the
    secret values, kept to scrub them from any text a server sends back.
    """

    params: dict[str, str]
    schema: str | None
    shown: str
    secrets: tuple[str, ...]


def _decode(text: str) -> str:
    """``text`` percent-decoded as libpq does (``+`` stays ``+``); ConfigError if it cannot be.

    The message never quotes ``text``: it may be part of a password.
    """
    if _ESCAPE.search(text):
        raise ConfigError(
            f"bad PostgreSQL URL: a '%' that does not start a %XX escape; {_ENCODE_ADVICE}"
        )
    try:
        decoded = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise ConfigError("bad PostgreSQL URL: a %XX escape that is not UTF-8") from None
    if "\x00" in decoded:
        raise ConfigError("bad PostgreSQL URL: it holds %00, which libpq cannot take")
    return decoded


def _hosts(hostspec: str) -> tuple[list[str], list[str]]:
    """The hosts and ports of ``host1:port1,host2:port2``; ``[...]`` holds an IPv6 address."""
    hosts: list[str] = []
    ports: list[str] = []
    for entry in hostspec.split(","):
        if entry.startswith("["):
            close = entry.find("]")
            if close < 0:
                raise ConfigError("bad PostgreSQL URL: an IPv6 address whose '[' is not closed")
            host, rest = entry[1:close], entry[close + 1 :]
            if rest and not rest.startswith(":"):
                raise ConfigError("bad PostgreSQL URL: text after an IPv6 address's ']'")
            port = rest[1:]
        else:
            host, _, port = entry.partition(":")
        # Never quoted: when a URL lacks its '@', a password would stand here.
        if port and not (_PORT.fullmatch(port) and 0 < int(port) < 65536):
            raise ConfigError(
                f"bad PostgreSQL URL: a port must be a number from 1 to 65535; {_ENCODE_ADVICE}"
            )
        hosts.append(_decode(host))
        ports.append(port)
    return hosts, ports


def parse_url(url: str) -> ParsedUrl:
    """Read a PostgreSQL store URL strictly, so that no part of a password can leak.

    A password may hold any character, percent-encoded where the URL syntax
    needs it. A URL that could be read in two ways (an unencoded ``/``, ``?``
    or ``#`` in a password, an ``@`` after the host) is refused rather than
    guessed at, since a wrong guess would show a piece of the password as a
    host, a port or a parameter. No error quotes what could be a secret.
    """
    found = _PREFIX.match(url)
    if found is None:
        scheme = url.partition(":")[0] if ":" in url else ""
        raise ConfigError(f"not a PostgreSQL URL (postgresql://...): scheme {scheme[:20]!r}")
    rest = url[found.end() :]
    if "#" in rest:
        raise ConfigError(f"bad PostgreSQL URL: it holds a '#'; {_ENCODE_ADVICE}")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, remainder = rest[:cut], rest[cut:]
    if "@" in remainder:
        raise ConfigError(f"bad PostgreSQL URL: an '@' after the host; {_ENCODE_ADVICE}")
    params: dict[str, str] = {}
    secrets: list[str] = []
    shown = f"{found.group(1).lower()}://"
    if "@" in authority:
        userinfo, hostspec = authority.rsplit("@", 1)
        user, colon, password = userinfo.partition(":")
        if user:
            params["user"] = _decode(user)
            shown += quote(params["user"], safe="")
        if colon:
            params["password"] = _decode(password)
            secrets += [password, params["password"]]
            shown += ":***"
        shown += "@"
    else:
        hostspec = authority
    if hostspec:
        hosts, ports = _hosts(hostspec)
        if any(hosts):
            params["host"] = ",".join(hosts)
        if any(ports):
            params["port"] = ",".join(ports)
        shown += hostspec
    path, _, query = remainder.partition("?")
    if path.strip("/"):
        params["dbname"] = _decode(path[1:])
    shown += quote(path, safe="/%")
    schema = None
    given: list[tuple[str, str]] = []
    for item in query.split("&") if query else ():
        name, equals, value = item.partition("=")
        if not equals:
            raise ConfigError(f"bad PostgreSQL URL: a parameter without '='; {_ENCODE_ADVICE}")
        given.append((_decode(name), _decode(value)))
    holds_secret = bool(secrets) or any(name in _SECRET_PARAMETERS for name, _ in given)
    shown_query = []
    for name, value in given:
        if name == SCHEMA_PARAMETER:
            schema = value
        elif name == "ssl" and value == "true":  # as libpq reads URLs: JDBC's spelling
            params["sslmode"] = "require"
        elif name not in _libpq_keywords():
            # A name beside a secret might be a piece of it: named only when none is there.
            which = "" if holds_secret else f" {name[:40]!r}"
            raise ConfigError(f"bad PostgreSQL URL: unknown parameter{which}")
        else:
            params[name] = value
        if name in _SECRET_PARAMETERS:
            secrets.append(value)
            value = "***"
        shown_query.append(f"{quote(name, safe='')}={quote(value, safe=':/,-*')}")
    if shown_query:
        shown += "?" + "&".join(shown_query)
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise ConfigError(
            f"the schema must be a plain lower-case name (letters, digits, _), not {schema!r}"
        )
    return ParsedUrl(params, schema, shown, tuple(s for s in secrets if s))


@functools.cache
def _libpq_keywords() -> frozenset[str]:
    """The connection parameters this libpq knows."""
    try:
        from psycopg import pq

        return frozenset(option.keyword.decode() for option in pq.Conninfo.get_defaults())
    except ImportError:  # without psycopg nothing connects; the store says how to install it
        return frozenset({"host", "port", "user", "password", "dbname", "sslmode"})


def _redacted(url: str) -> str:
    """``url`` with every secret replaced by ``***``, for messages and reprs.

    A URL that cannot be read shows as its scheme alone.
    """
    try:
        return parse_url(url).shown
    except ConfigError:
        found = _PREFIX.match(url)
        return f"{found.group(1).lower() if found else 'postgresql'}://***"


def _scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` without any of ``secrets``: a last guard on what servers and libpq say."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:  # shorter ones would blot out ordinary words
            text = text.replace(secret, "***")
    return text


def split_url(url: str) -> tuple[str, str | None]:
    """The libpq URL and the schema that a store URL names (None: the server's search_path).

    ``postgres://`` and ``postgresql+psycopg://`` are read as ``postgresql://``;
    the ``schema`` parameter is cadence's own and is taken out. The URL is
    written anew from what :func:`parse_url` read, encoded as libpq expects.
    """
    parsed = parse_url(url)
    params = dict(parsed.params)
    netloc = ""
    if "user" in params or "password" in params:
        netloc = quote(params.pop("user", ""), safe="")
        if "password" in params:
            netloc += ":" + quote(params.pop("password"), safe="")
        netloc += "@"
    hosts = params.pop("host", "").split(",")
    ports = params.pop("port", "").split(",")
    if len(ports) < len(hosts):
        ports += [""] * (len(hosts) - len(ports))
    netloc += ",".join(
        (f"[{h}]" if ":" in h else quote(h, safe="")) + (f":{p}" if p else "")
        for h, p in zip(hosts, ports, strict=False)
    )
    path = "/" + quote(params.pop("dbname"), safe="") if "dbname" in params else ""
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    return f"postgresql://{netloc}{path}{'?' + query if query else ''}", parsed.schema


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
            sql, lists = as_arrays(sql)
            if lists:
                given, params = list(params), []
                at = 0
                for first, count in lists:
                    params += [*given[at:first], given[first : first + count]]
                    at = first + count
                params += given[at:]
            self._cursor.execute(translate(sql), params)
        return self

    def fetchmany(self, size: int = 0, /) -> list[Any]:
        return self._cursor.fetchmany(size)

    def stream(self, sql: str, params: Sequence[Any] = (), /) -> Iterator[Any]:
        """The rows of a query without ``?`` lists, one at a time as the server sends them."""
        return self._cursor.stream(translate(sql), params)

    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> _Cursor:
        rows = list(params)
        if rows:
            self._cursor.executemany(translate(sql), rows)
        return self

    def copy_rows(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Send ``rows`` with ``COPY ... FROM STDIN``: the cheapest way in for many rows."""
        with self._cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

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
    waits for one. Without ``create``, a database or schema that holds no
    cadence store is refused instead of given one.
    """

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 4,
        timeout: float = 30.0,
        create: bool = True,
    ) -> None:
        psycopg = _psycopg()
        from psycopg.conninfo import make_conninfo
        from psycopg_pool import ConnectionPool

        # libpq is handed parameters, never the URL: it would quote pieces of
        # a malformed URL, a password's among them, in its messages.
        parsed = parse_url(url)
        self.url = parsed.shown
        self.schema = parsed.schema
        self._secrets = parsed.secrets
        params: dict[str, Any] = dict(parsed.params)
        if self.schema is not None:
            # Unqualified names resolve to the chosen schema, and only there.
            options = str(params.get("options") or "")
            params["options"] = f"{options} -c search_path={self.schema}".strip()
        params.setdefault("connect_timeout", 10)
        params.setdefault("application_name", "cadence")
        try:
            self._conninfo = make_conninfo("", **params)
        except psycopg.Error as error:
            message = _scrub(_message(error), self._secrets)
            raise ConfigError(f"bad PostgreSQL URL {self.url}: {message}") from None
        self._local = threading.local()
        with self._errors():
            with psycopg.connect(self._conninfo, autocommit=True) as conn:
                self._migrate(conn, create=create)
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

    def _migrate(self, conn: psycopg.Connection[Any], *, create: bool = True) -> None:
        """Bring the schema up to date, one process at a time.

        Without ``create``, a database (or schema) that holds no cadence store
        is refused rather than given one.
        """
        from psycopg import sql

        current = conn.execute("SELECT to_regclass('cadence_migrations') IS NOT NULL").fetchone()
        if not create and not (current is not None and current[0]):
            raise CadenceError(f"no cadence store in {self.url}")
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
                if step == EMAILS_STEP:
                    found = conn.execute(
                        "SELECT id, email FROM contacts WHERE email IS NOT NULL"
                    ).fetchall()
                    emails, rows = legacy_emails(found)
                    with conn.cursor() as cur:
                        cur.executemany("UPDATE contacts SET emails = %s WHERE id = %s", emails)
                        cur.executemany(
                            "INSERT INTO contact_emails "
                            "(contact_id, position, address, address_key) "
                            "VALUES (%s, %s, %s, %s)",
                            rows,
                        )
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
        from psycopg import errors
        from psycopg_pool import PoolTimeout

        try:
            yield
        except (errors.LockNotAvailable, errors.TransactionRollback, PoolTimeout) as error:
            # A lock or serialization timeout, a deadlock, or no free connection:
            # the transaction was rolled back whole, so running it again is safe.
            raise StoreBusy(
                f"the store {self.url} is busy: {_message(error)}; nothing was changed, try again"
            ) from None
        except psycopg.OperationalError as error:
            message = _scrub(_message(error), self._secrets)
            raise CadenceError(f"the store {self.url}: {message}") from None
        except psycopg.DataError as error:
            message = _scrub(_message(error), self._secrets)
            raise CadenceError(f"PostgreSQL refused a value: {message}") from None

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

    def _after_replan(self, planned: int) -> None:
        if planned >= ANALYZE_AFTER:
            # Re-planning rewrites a row of each table per contact: vacuum too,
            # or the indexes keep pointing at the old rows until autovacuum.
            self._analyze("plan_state", "next_due", vacuum=True)

    def _after_import(self, written: int) -> None:
        if written >= ANALYZE_AFTER:
            self._analyze(
                "contacts", "contact_tags", "contact_emails", "contact_links", "occasions"
            )

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

        Unknown deliveries are added already claimed, in key order, so two
        dispatchers adding the same ones wait for each other briefly and never
        deadlock, and a fresh ledger costs one statement. Then one statement
        locks the free rows among the others with SKIP LOCKED and stamps the
        claim, which expires ``ttl`` seconds later by the server's clock.
        """
        pairs = sorted(set(wanted))
        if not pairs:
            return []
        keys = [key for key, _ in pairs]
        routes = [route for _, route in pairs]
        contacts = [titles.get(key, (None, None))[0] for key in keys]
        names = [titles.get(key, (None, None))[1] for key in keys]
        cur.execute(
            "INSERT INTO deliveries (key, route, status, attempts, claimed_by, claimed_until, "
            "contact_id, title, updated) "
            f"SELECT k, r, 'pending', 0, ?, {_SERVER_CLOCK} + ?, c, t, ? "
            "FROM unnest(?::text[], ?::text[], ?::text[], ?::text[]) AS w (k, r, c, t) "
            "ON CONFLICT (key, route) DO NOTHING RETURNING key, route",
            (worker, ttl, now.isoformat(), keys, routes, contacts, names),
        )
        found: dict[tuple[str, str], int] = dict.fromkeys(map(tuple, cur.fetchall()), 0)
        known = [pair for pair in pairs if pair not in found]
        if known:
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
                (
                    [key for key, _ in known],
                    [route for _, route in known],
                    now.timestamp(),
                    worker,
                    ttl,
                ),
            )
            found.update(((key, route), int(attempts)) for key, route, attempts in cur.fetchall())
        # In the order asked, as the shared claim returns them.
        return [
            Claim(key, route, found.pop((key, route)))
            for key, route in wanted
            if (key, route) in found
        ]

    def _write_plans(
        self, cur: Cursor, rows: Sequence[tuple[Any, ...]], states: Sequence[tuple[Any, ...]]
    ) -> None:
        """Write a chunk's plans with a COPY and one statement of arrays, not a statement a row."""
        if rows:
            cast(_Cursor, cur).copy_rows(
                "COPY next_due (key, contact_id, due_ts, due, data) FROM STDIN", rows
            )
        if states:
            columns = [list(column) for column in zip(*states, strict=True)]
            cur.execute(
                "UPDATE plan_state SET stable_until = s.st, covers_until = s.co, "
                "planned_at = s.at FROM unnest(?::double precision[], ?::double precision[], "
                "?::double precision[], ?::text[]) AS s (st, co, at, id) "
                "WHERE plan_state.contact_id = s.id",
                columns,
            )

    @contextmanager
    def _recording(self) -> Iterator[Cursor]:
        """A cursor outside any transaction: ``_record`` writes one statement, atomic by itself.

        A batch's outcomes then cost one round trip and one commit, not three
        round trips (BEGIN, the update, COMMIT). Inside an outer transaction
        of this thread the statement joins it.
        """
        with self._errors(), self._connection() as (conn, nested):
            if nested:
                with conn.transaction(), conn.cursor() as cur:
                    yield _Cursor(cur)
                return
            with conn.cursor() as cur:
                yield _Cursor(cur)

    def _record(self, cur: Cursor, rows: Sequence[tuple[Any, ...]]) -> None:
        """Write outcome rows with one statement: a batch costs one round trip, not one per row."""
        columns = list(zip(*rows, strict=True))
        cur.execute(
            "UPDATE deliveries SET status = o.s, attempts = o.a, last_error = o.e, "
            "next_attempt_ts = o.nts, next_attempt = o.n, updated = o.u, claimed_by = NULL, "
            "claimed_until = NULL "
            "FROM unnest(?::text[], ?::text[], ?::text[], ?::integer[], ?::text[], "
            "?::double precision[], ?::text[], ?::text[]) AS o (k, r, s, a, e, nts, n, u) "
            "WHERE deliveries.key = o.k AND deliveries.route = o.r "
            "AND deliveries.status != 'sent'",
            [list(column) for column in columns],
        )
