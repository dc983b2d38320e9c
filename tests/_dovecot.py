"""A real Dovecot IMAP server on 127.0.0.1, and what a mail client would do to it.

``dovecot`` (module-scoped) starts Debian's Dovecot (``dovecot-imapd``) in
the foreground with a configuration of its own in a temporary folder: IMAP
only, on a free port of 127.0.0.1, one user ``ana@example.org`` with a
password, her mail in a Maildir, and a ``Sent`` folder flagged ``\\Sent``
(RFC 6154). With ``tls`` it speaks implicit TLS on a second port and
STARTTLS on the first, with a certificate a test authority signed.

A test puts messages in with ``append`` (IMAP APPEND as ana, with a given
arrival time and flags) or ``write_maildir`` (files written straight into
the Maildir, for many messages at once), and reads a message's flags with
``flags``. A test that cannot start Dovecot calls ``missing`` (skipped
locally, failed in CI).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import attrs
import pytest
from imapclient import IMAPClient

from _servers import free_port, missing, stop

__all__ = ["USER", "Dovecot", "dovecot", "start_dovecot"]

USER = "ana@example.org"
PASSWORD = "ana-imap-secret-7Qx"

_DOVECOT = "/usr/sbin/dovecot"
_STARTUP_SECONDS = 30.0

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_login_user = {login_user}
default_internal_user = {internal_user}
{tls}
auth_mechanisms = plain login
# A refused login answers at once rather than after Dovecot's usual pause.
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""


@attrs.frozen
class Dovecot:
    """A running Dovecot: where it listens, ana's login, and a client's view of her mail."""

    port: int
    root: Path
    process: subprocess.Popen[bytes] = attrs.field(repr=False)
    uid: int
    gid: int
    tls_port: int | None = None
    ca_file: str | None = None
    host: str = "127.0.0.1"
    user: str = USER
    password: str = PASSWORD

    @property
    def log(self) -> Path:
        """Dovecot's log file."""
        return self.root / "dovecot.log"

    def client(self) -> IMAPClient:
        """A client logged in as ana over the plain port, as another mail program would be."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        client.login(self.user, self.password)
        return client

    def append(
        self,
        folder: str,
        message: str | bytes,
        *,
        arrived: datetime | None = None,
        flags: Iterable[str] = (),
    ) -> int:
        """APPEND ``message`` to ``folder`` and return its UID (UIDPLUS)."""
        data = message.encode() if isinstance(message, str) else message
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        with self.client() as client:
            answer = client.append(folder, data, flags=tuple(flags), msg_time=arrived)
        # "[APPENDUID <uidvalidity> <uid>] Append completed."
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        return int(text.split("]")[0].split()[-1])

    def flags(self, folder: str, uid: int) -> tuple[bytes, ...]:
        """The flags of message ``uid`` of ``folder``, read without changing them."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            found = client.get_flags([uid])
        return tuple(found[uid])

    def uids(self, folder: str) -> list[int]:
        """Every UID of ``folder``."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))

    def uidvalidity(self, folder: str) -> int:
        """The UIDVALIDITY of ``folder``."""
        with self.client() as client:
            value: int = client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"]
        return value

    def empty(self, *folders: str) -> None:
        """Delete every message of each of ``folders``."""
        with self.client() as client:
            for folder in folders:
                client.select_folder(folder)
                found = client.search("ALL")
                if found:
                    client.delete_messages(found)
                    client.expunge()
                client.close_folder()

    def create_folder(self, folder: str) -> None:
        """Create ``folder``."""
        with self.client() as client:
            client.create_folder(folder)

    def delete_folder(self, folder: str) -> None:
        """Delete ``folder`` and every message in it."""
        with self.client() as client:
            client.delete_folder(folder)

    def maildir(self, folder: str) -> Path:
        """The Maildir folder of ana's ``folder`` (INBOX is the Maildir's root)."""
        base = self.root / "mail" / self.user
        return base if folder.upper() == "INBOX" else base / f".{folder.replace('/', '.')}"

    def write_maildir(self, folder: str, messages: Iterable[tuple[bytes, float]]) -> int:
        """Write (message, arrival as a POSIX time) into ``folder``'s Maildir; return how many.

        Dovecot gives them UIDs when a client next opens the folder. The
        files' modification time is the arrival time (Dovecot's INTERNALDATE
        for Maildir).
        """
        base = self.maildir(folder)
        for part in ("cur", "new", "tmp"):
            (base / part).mkdir(parents=True, exist_ok=True)
        count = 0
        for count, (data, arrived) in enumerate(messages, 1):
            name = f"{int(arrived)}.M{count}P{os.getpid()}.cadence-test,S={len(data)}:2,"
            path = base / "cur" / name
            path.write_bytes(data)
            os.utime(path, (arrived, arrived))
        self.give_to_mail_user(self.root / "mail")
        return count

    def give_to_mail_user(self, folder: Path) -> None:
        """Make everything under ``folder`` the mail user's, as Dovecot would have written it."""
        if os.geteuid() != 0:
            return
        for top, dirs, files in os.walk(folder):
            os.chown(top, self.uid, self.gid)
            for name in (*dirs, *files):
                os.chown(os.path.join(top, name), self.uid, self.gid)

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        stop(self.process)


def _wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path) -> str | None:
    """None once the server greets on ``port``, else why it never did."""
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = [log, log.with_name("dovecot.out")]
            text = "".join(p.read_text(errors="replace") for p in said if p.exists())
            tail = text.strip().splitlines()[-3:]
            return f"Dovecot exited with {process.returncode}: {' | '.join(tail)}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
                if connection.recv(100).startswith(b"* OK"):
                    return None
        except OSError:
            pass
        time.sleep(0.1)
    return f"Dovecot did not answer within {_STARTUP_SECONDS:.0f} seconds"


def _accounts() -> tuple[str, str, int, int]:
    """(login user, internal user, mail uid, mail gid) for this process's privileges."""
    if os.geteuid() == 0:
        # Dovecot refuses to keep mail as root: nobody:nogroup owns it.
        mail = pwd.getpwnam("nobody")
        try:
            group = grp.getgrnam("nogroup").gr_gid
        except KeyError:
            group = mail.pw_gid
        login = "dovenull" if _has_user("dovenull") else "nobody"
        internal = "dovecot" if _has_user("dovecot") else "nobody"
        return login, internal, mail.pw_uid, group
    # Unprivileged, Dovecot runs every process as this user.
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _start(config: Path, output: Path) -> subprocess.Popen[bytes]:
    with output.open("wb") as written:
        return subprocess.Popen(
            [_DOVECOT, "-F", "-c", str(config)],
            stdout=written,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def start_dovecot(tls: tuple[Path, Path] | None = None, ca_file: Path | None = None) -> Dovecot:
    """Start Dovecot with its configuration, mail and log in a new folder; ``missing`` if it can't.

    The folder is under the system's temporary folder rather than pytest's,
    whose folders only their owner may enter, and the mail user must. ``tls``
    is (certificate chain, key) as PEM files: the server then also speaks
    implicit TLS on ``tls_port`` and offers STARTTLS, and clients trust
    ``ca_file``.
    """
    if not Path(_DOVECOT).exists():
        missing("Dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="cadence-dovecot-"))
    root.chmod(0o755)
    login_user, internal_user, uid, gid = _accounts()
    for part in ("run", "state", "mail"):
        (root / part).mkdir()
    (root / "users").write_text(f"{USER}:{PASSWORD}\n")
    port, tls_port = free_port(), free_port()
    if tls is not None:
        secure = f"ssl = yes\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}"
    else:
        secure = "ssl = no\ndisable_plaintext_auth = no"
    config = root / "dovecot.conf"
    config.write_text(
        _CONFIG.format(
            root=root,
            port=port,
            tls_port=tls_port if tls is not None else 0,
            tls=secure,
            login_user=login_user,
            internal_user=internal_user,
            uid=uid,
            gid=gid,
        )
    )
    server = Dovecot(
        port,
        root,
        _start(config, root / "dovecot.out"),
        uid,
        gid,
        tls_port if tls is not None else None,
        str(ca_file) if ca_file is not None else None,
    )
    server.give_to_mail_user(root / "mail")
    problem = _wait_until_up(server.process, port, server.log)
    if problem is not None:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        missing(problem)
    return server


def stop_dovecot(server: Dovecot) -> None:
    """Stop ``server`` and remove its folder."""
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


def tls_context(server: Dovecot) -> ssl.SSLContext:
    """A client context that trusts the test authority of ``server``."""
    return ssl.create_default_context(cafile=server.ca_file)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot server on 127.0.0.1 for this module's tests, stopped after them."""
    server = start_dovecot()
    try:
        yield server
    finally:
        stop_dovecot(server)
