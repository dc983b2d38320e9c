"""Benchmark: the smtp adapter's one session per run against a new connection per message.

Sends per-reminder messages to a local aiosmtpd server (in its own process, on
127.0.0.1, counting what it accepts) two ways:

- the adapter: every message of the run through one SMTP session;
- a naive loop: a new ``smtplib.SMTP`` connection (EHLO, STARTTLS when the
  security asks for it, one message, QUIT) for each message.

Both send the same bytes, built beforehand by the adapter, so "sending"
compares the sessions alone; the server offers PIPELINING on one port and not
on the other, and the adapter is timed against both. "End to end" adds
building the messages (``deliver()`` against building plus the naive loop),
which costs the same on both sides. The contenders take turns, round after
round, so that all meet the same load on a busy machine; the figures are
medians over rounds, the ratios medians of each round's ratio. Plain SMTP and
STARTTLS (with a self-signed certificate made for the run) are both measured.

    python bench/smtp.py            # 1,000 messages, 5 rounds
    python bench/smtp.py --quick    # 1,000 messages, 3 rounds

``--locale`` (default ``es``) also times building messages in that language.

Targets: building a message under 0.5 ms (in English and in the locale),
and end to end at least 3x the naive loop in plain SMTP and 5x with
STARTTLS; exits non-zero on a miss.
"""

from __future__ import annotations

import argparse
import ipaddress
import multiprocessing
import smtplib
import socket
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cadence import Contact, Every, Reminder, Roster, Rule, plan
from cadence.adapters.smtp import Outgoing, SmtpAdapter, parse_settings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


# -- the server, in its own process so that it never waits for the client's GIL ----


class Counter:
    """An SMTP handler that accepts every message and counts it in shared memory.

    With ``pipelining`` it offers PIPELINING (RFC 2920), as Postfix, Exim and
    the big mail providers do; aiosmtpd handles pipelined commands but does
    not offer them by itself.
    """

    def __init__(self, count: Synchronized[int], pipelining: bool) -> None:
        self.count = count
        self.pipelining = pipelining

    async def handle_EHLO(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def _serve(
    ports: tuple[int, int], cert: str, key: str, count: Synchronized[int], ready: Event, stop: Event
) -> None:
    """Serve without PIPELINING on the first port and with it on the second, until ``stop``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controllers = [
        Controller(
            Counter(count, pipelining),
            hostname="127.0.0.1",
            port=port,
            server_hostname="bench",
            tls_context=context,
        )
        for port, pipelining in zip(ports, (False, True), strict=True)
    ]
    for controller in controllers:
        controller.start()
    ready.set()
    stop.wait()
    for controller in controllers:
        controller.stop()


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cadence bench")])
    start = datetime.now(UTC) - timedelta(days=1)
    identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(identifier, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert, private = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, private


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the two ways of sending ----------------------------------------------------------


def _reminders(n: int) -> tuple[Reminder, ...]:
    contacts = [
        Contact(f"c{i}", f"Contact {i}", channel="email", since=date(2026, 11, 1)) for i in range(n)
    ]
    reminders = plan(Roster(contacts, [Rule(Every(weeks=2))]), now=NOW, horizon=timedelta(0)).due
    assert len(reminders) == n
    return reminders


def _naive(adapter: SmtpAdapter, outgoing: Sequence[Outgoing]) -> None:
    s = adapter.settings
    context = ssl.create_default_context(cafile=s.ca_file) if s.security == "starttls" else None
    local = socket.getfqdn()
    for item in outgoing:
        with smtplib.SMTP(s.host, s.port, local_hostname=local, timeout=30) as smtp:
            if context is not None:
                smtp.starttls(context=context)
            smtp.sendmail(s.sender, list(s.recipients), item.data)


def _session(adapter: SmtpAdapter, outgoing: Sequence[Outgoing]) -> None:
    if adapter.send(outgoing):
        raise SystemExit("the adapter reported failures")


def _deliver(adapter: SmtpAdapter, reminders: Sequence[Reminder]) -> None:
    if adapter.deliver(reminders) is not None:
        raise SystemExit("the adapter reported failures")


def _rounds(
    contenders: dict[str, Callable[[], None]],
    count: Synchronized[int],
    expected: int,
    repeats: int,
) -> dict[str, list[float]]:
    """Time each contender once per round, in turn, so that all meet the same machine load.

    The order turns each round, so no contender always goes first.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_number in range(repeats):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            before = count.value
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
            if count.value - before != expected:
                raise SystemExit(f"the server got {count.value - before} messages, not {expected}")
    return times


def _ratio(times: dict[str, list[float]], slow: str, fast: str) -> float:
    """The median, over rounds, of the slow contender's time over the fast one's."""
    return statistics.median(a / b for a, b in zip(times[slow], times[fast], strict=True))


def _line(label: str, seconds: float, n: int) -> str:
    return f"    {label:<44}{seconds:8.3f} s  {n / seconds:8.0f} messages/s"


def _report(title: str, times: dict[str, list[float]], n: int) -> None:
    print(title)
    for name, found in times.items():
        print(_line(name, statistics.median(found), n))


def _adapter(security: str, port: int, cert: Path, locale: str | None = None) -> SmtpAdapter:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "from": "Cadence <cadence@example.org>",
        "to": ["me@example.org"],
        "digest": False,
    }
    if security == "starttls":
        settings["ca_file"] = str(cert)
    if locale is not None:
        settings["locale"] = locale
    return SmtpAdapter(parse_settings(settings), clock=lambda: NOW)


#: How many times faster than the naive loop the adapter should be, end to end.
TARGETS = {"none": 3.0, "starttls": 5.0}
#: The most building one per-reminder message may cost, in milliseconds.
BUILD_TARGET = 0.5

NAIVE = "naive, a connection per message"
PIPELINED = "smtp adapter, one session, PIPELINING"
ONE_BY_ONE = "smtp adapter, one session, no PIPELINING"
DELIVER = "smtp adapter, deliver(), PIPELINING"


def _compare(
    security: str,
    ports: tuple[int, int],
    cert: Path,
    reminders: Sequence[Reminder],
    count: Synchronized[int],
    *,
    repeats: int,
) -> float:
    """Print the medians for one kind of security; return naive / adapter end to end."""
    plain, pipelined = (_adapter(security, port, cert) for port in ports)
    outgoing = plain.outgoing(reminders, NOW)
    n = len(outgoing)
    # One untimed round each, so that first-use costs do not count.
    for adapter in (plain, pipelined):
        _session(adapter, outgoing[:10])
    _naive(plain, outgoing[:10])
    sending = {
        PIPELINED: lambda: _session(pipelined, outgoing),
        ONE_BY_ONE: lambda: _session(plain, outgoing),
        NAIVE: lambda: _naive(plain, outgoing),
    }
    times = _rounds(sending, count, n, repeats)
    _report(f"  security = {security!r}, sending {n} built messages:", times, n)
    ratio = _ratio(times, NAIVE, PIPELINED)
    print(f"    ratio naive / adapter: {ratio:.1f}x with PIPELINING, ", end="")
    print(f"{_ratio(times, NAIVE, ONE_BY_ONE):.1f}x without")
    whole = {
        DELIVER: lambda: _deliver(pipelined, reminders),
        NAIVE: lambda: _naive(plain, plain.outgoing(reminders, NOW)),
    }
    times = _rounds(whole, count, n, repeats)
    title = f"  security = {security!r}, end to end (building the messages included):"
    _report(title, times, n)
    ratio = _ratio(times, NAIVE, DELIVER)
    print(f"    ratio naive / adapter: {ratio:.1f}x")
    return ratio


def _building(
    reminders: Sequence[Reminder], cert: Path, repeats: int, locale: str | None = None
) -> float:
    """Median milliseconds to build one per-reminder message, as deliver() builds them."""
    adapter = _adapter("none", 25, cert, locale)
    adapter.outgoing(reminders[:10], NOW)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        adapter.outgoing(reminders, NOW)
        times.append((time.perf_counter() - start) / len(reminders) * 1000)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the medians and ratios, and whether each meets 5x."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 5")
    parser.add_argument("--messages", type=int, default=1000, help="messages per run")
    parser.add_argument(
        "--locale",
        default="es",
        help="also time building messages worded in this locale (default es; '' for none)",
    )
    options = parser.parse_args(argv)
    repeats = 3 if options.quick else 5
    reminders = _reminders(options.messages)
    spawn = multiprocessing.get_context("spawn")
    count: Synchronized[int] = spawn.Value("i", 0)
    ready, stop = spawn.Event(), spawn.Event()
    ports = (_free_port(), _free_port())
    with tempfile.TemporaryDirectory() as directory:
        cert, key = _certificate(Path(directory))
        server = spawn.Process(
            target=_serve, args=(ports, str(cert), str(key), count, ready, stop), daemon=True
        )
        server.start()
        try:
            if not ready.wait(30):
                raise SystemExit("the SMTP server did not start")
            print(f"python {' '.join(sys.argv)}")
            print(f"per-reminder messages to aiosmtpd on 127.0.0.1, median of {repeats} rounds")
            ratios = {
                security: _compare(
                    security,
                    ports,
                    cert,
                    reminders,
                    count,
                    repeats=repeats,
                )
                for security in ("none", "starttls")
            }
        finally:
            stop.set()
            server.join(30)
            if server.is_alive():
                server.terminate()
    # A route without a locale (the core's English where the environment names
    # none, as with LANG=C) and one with a locale, worded from the catalogs and
    # CLDR: both within the target.
    locales = [None, options.locale] if options.locale else [None]
    missed = False
    for locale in locales:
        building = _building(reminders, cert, repeats, locale)
        missed |= building > BUILD_TARGET
        label = "" if locale is None else f" in {locale!r}"
        print(
            f"  building one message{label}: {building:.3f} ms, "
            f"{building / BUILD_TARGET:.2f} of the {BUILD_TARGET:g} ms target"
        )
    for security, ratio in ratios.items():
        target = TARGETS[security]
        verdict = "meets" if ratio >= target else "misses"
        missed |= ratio < target
        print(
            f"  security = {security!r}: {ratio:.1f}x end to end {verdict} the {target:g}x target"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
