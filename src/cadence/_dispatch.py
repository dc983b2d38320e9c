"""Dispatch: deliver what is due through each route, exactly once per route, and keep the ledger.

The shell around the pure core. It asks the store what is due, lets the
filter hooks drop what a route should not take now, claims each delivery in
the ledger before attempting it, and records every outcome. A failed delivery
is retried a few times within the run and then, with exponential backoff and
jitter, on later runs, until it is delivered or given up as dead.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from cadence._delivery import Delivery, DeliveryStatus, Failure, PublishLedger, Route
from cadence._plugins import Plugins, get_plugins
from cadence.core.errors import CadenceError, ConfigError, DeliveryError, EndpointGone
from cadence.core.reminders import Agenda, PlanningProblem, Reminder
from cadence.core.time import require_aware

__all__ = ["DispatchReport", "RetryPolicy", "dispatch"]


def _fraction(*parts: object) -> float:
    """A number in [0, 1) drawn from ``parts``: jitter that replays exactly."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@attrs.frozen
class RetryPolicy:
    """How failed deliveries are retried.

    Within a run, a failed delivery is tried up to ``attempts_per_run`` times,
    pausing ``pause`` seconds, doubled each time. Across runs the next attempt
    waits ``first_delay``, doubled after each failure up to ``max_delay``; each
    wait is scaled by a jitter between 0.5 and 1 derived from the reminder's
    key, so dispatchers spread out yet ``--now`` replays a run exactly. After
    ``max_attempts`` attempts in all, the delivery is dead.
    """

    attempts_per_run: int = 3
    max_attempts: int = 8
    pause: float = 0.5
    first_delay: timedelta = timedelta(minutes=5)
    max_delay: timedelta = timedelta(hours=12)
    #: The longest Retry-After honoured by waiting within the run.
    longest_wait: float = 5.0

    def next_attempt(self, key: str, route: str, attempts: int, now: datetime) -> datetime:
        """When the delivery that has failed ``attempts`` times may be tried again."""
        delay = min(self.first_delay * (1 << max(attempts - 1, 0)), self.max_delay)
        return now + delay * (0.5 + _fraction(key, route, attempts) / 2)

    def pause_before(self, key: str, route: str, attempt: int) -> float:
        """Seconds to wait within the run before try number ``attempt + 1``."""
        return (
            self.pause
            * (1 << max(attempt - 1, 0))
            * (0.5 + _fraction(key, route, "run", attempt) / 2)
        )


@attrs.frozen
class DispatchReport:
    """What a dispatch run did.

    ``deliveries`` holds the final outcome of each delivery attempted in this
    run; ``planned`` lists, in a dry run, the (route, reminder) pairs that
    would have been attempted; ``errors`` the problems that did not stop the
    run (a route that could not publish, a plugin that misbehaved);
    ``problems`` the contacts that could not be planned, whose reminders were
    therefore not delivered while everyone else's were; ``warnings`` what
    publishers asked to tell once (an event its calendar's owner changed).
    """

    deliveries: tuple[Delivery, ...] = ()
    planned: tuple[tuple[str, Reminder], ...] = ()
    published: tuple[str, ...] = ()
    filtered: int = 0
    gone_routes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    problems: tuple[PlanningProblem, ...] = ()
    warnings: tuple[str, ...] = ()

    def count(self, status: DeliveryStatus) -> int:
        """How many deliveries ended with ``status``."""
        return sum(1 for d in self.deliveries if d.status == status)


#: Keywords that ``deliver`` may name to be given more than the reminders.
#: Adapters written before one of them existed do not name it and are called as before.
OPTIONAL_KEYWORDS = frozenset({"now", "report"})


def _keywords(adapter: Any) -> frozenset[str]:
    """The optional keywords that ``adapter.deliver`` names (``now``, ``report``).

    Only a parameter of that name counts, not ``**kwargs``: a wrapper that
    passes its keywords on to an older adapter would break.
    """
    try:
        parameters = inspect.signature(adapter.deliver).parameters
    except (TypeError, ValueError):
        return frozenset()
    return frozenset(
        name
        for name in OPTIONAL_KEYWORDS
        if (found := parameters.get(name)) is not None
        and found.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Run:
    """One dispatch run's state: the store, plugins, clock and what happened."""

    def __init__(
        self,
        store: Any,
        plugins: Plugins,
        now: datetime,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        worker: str,
        claim_ttl: timedelta,
    ) -> None:
        self.store = store
        self.plugins = plugins
        self.now = now
        self.retry = retry
        self.sleep = sleep
        self.worker = worker
        self.claim_ttl = claim_ttl
        self.deliveries: list[Delivery] = []
        self.errors: list[str] = []
        self.started = time.monotonic()
        #: The optional keywords of each adapter's ``deliver``, by the adapter's id (they
        #: live as long as the run), looked up once rather than per batch.
        self.keywords: dict[int, frozenset[str]] = {}

    def outcome(
        self,
        reminder: Reminder,
        route: Route,
        status: DeliveryStatus,
        attempts: int,
        error: str | None = None,
        next_attempt: datetime | None = None,
        *,
        final: bool = True,
        held: list[Delivery] | None = None,
    ) -> None:
        """Note one outcome: recorded and told to the hooks now, or, given ``held``, kept there
        until ``settle`` records the whole batch in one transaction."""
        delivery = Delivery(
            key=reminder.key,
            route=route.name,
            status=status,
            attempts=attempts,
            at=self.now,
            error=error,
            next_attempt=next_attempt,
            reminder=reminder,
        )
        if held is not None:
            held.append(delivery)
            return
        if final and status != "gone":
            self.store.record(
                reminder.key,
                route.name,
                status=status,
                attempts=attempts,
                at=self.now,
                error=error,
                next_attempt=next_attempt,
            )
        if final:
            self.deliveries.append(delivery)
        self.plugins.delivered(delivery)

    def settle(self, held: list[Delivery], finals: set[int]) -> None:
        """Record the final outcomes of ``held`` in one transaction, then tell the hooks of all.

        ``finals`` holds the positions of the final outcomes; the others are
        failures to be tried again within the run, which only the hooks hear of.
        """
        recorded = [d for i, d in enumerate(held) if i in finals and d.status != "gone"]
        if recorded:
            record_many = getattr(self.store, "record_many", None)
            if callable(record_many):
                record_many(recorded)
            else:  # a store that records one outcome at a time
                for o in recorded:
                    self.store.record(
                        o.key,
                        o.route,
                        status=o.status,
                        attempts=o.attempts,
                        at=o.at,
                        error=o.error,
                        next_attempt=o.next_attempt,
                    )
        for i, delivery in enumerate(held):
            if i in finals:
                self.deliveries.append(delivery)
            self.plugins.delivered(delivery)

    def deliver(
        self, route: Route, adapter: Any, batch: Sequence[Reminder], attempts: dict[str, int]
    ) -> bool:
        """Deliver ``batch``, retrying within the run; False when the route's receiver is gone.

        An adapter that takes a ``report`` callable tells each reminder's
        outcome as soon as it knows it: a delivered reminder is recorded at
        once, so a dispatcher killed mid-batch repeats only what was in flight.
        Failures are settled when the call returns, as for any adapter.
        """
        pending = {r.key: r for r in batch}
        keywords = self.keywords.get(id(adapter))
        if keywords is None:
            keywords = self.keywords[id(adapter)] = _keywords(adapter)
        for attempt in range(1, self.retry.attempts_per_run + 1):
            reporter = _Reporter(self, route, pending, attempts)
            given: dict[str, Any] = {"now": self.now, "report": reporter}
            failed = self._attempt(
                route, adapter, list(pending.values()), {k: given[k] for k in keywords}
            )
            sent, noted = reporter.close()
            rest = {k: r for k, r in pending.items() if k not in sent}
            if failed is None:
                for key, reminder in rest.items():
                    self.outcome(reminder, route, "gone", attempts[key], "the receiver is gone")
                self.store.release([(key, route.name) for key in rest])
                return False
            later: dict[str, Reminder] = {}
            wait = 0.0
            # The outcomes known now are recorded together, as soon as all are known:
            # one transaction for the batch, and a killed dispatcher repeats no more
            # than the batch it was delivering.
            held: list[Delivery] = []
            finals: set[int] = set()
            for key, reminder in rest.items():
                attempts[key] += 1
                failure = failed.get(key) or noted.get(key)
                if failure is None:
                    finals.add(len(held))
                    self.outcome(reminder, route, "sent", attempts[key], held=held)
                    continue
                if failure.permanent or attempts[key] >= self.retry.max_attempts:
                    finals.add(len(held))
                    self.outcome(reminder, route, "dead", attempts[key], failure.error, held=held)
                    continue
                hold = self._hold(failure)
                if attempt < self.retry.attempts_per_run and hold <= self.retry.longest_wait:
                    self.outcome(reminder, route, "failed", attempts[key], failure.error, held=held)
                    later[key] = reminder
                    wait = max(wait, hold, self.retry.pause_before(key, route.name, attempt))
                    continue
                retry_at = self.retry.next_attempt(key, route.name, attempts[key], self.now)
                retry_at = max(retry_at, self.now + timedelta(seconds=hold))
                finals.add(len(held))
                self.outcome(
                    reminder, route, "failed", attempts[key], failure.error, retry_at, held=held
                )
            self.settle(held, finals)
            if not later:
                break
            self.sleep(wait)
            pending = later
        return True

    def _hold(self, failure: Failure) -> float:
        """Seconds a failure asks to wait before the next attempt (Retry-After)."""
        if failure.retry_after is None:
            return 0.0
        return max((failure.retry_after - datetime.now(UTC)).total_seconds(), 0.0)

    def _attempt(
        self,
        route: Route,
        adapter: Any,
        batch: list[Reminder],
        keywords: dict[str, Any],
    ) -> dict[str, Failure] | None:
        """One call of ``deliver``: the failures by key, or None when the receiver is gone."""
        try:
            # The run's moment goes to adapters that ask for it, so --now governs their
            # wording; a report callable lets them record each outcome as it is known.
            result = adapter.deliver(batch, **keywords)
            failures = list(result) if result is not None else []
        except EndpointGone as error:
            # Reported through gone_routes (and the ledger), not as an error of the run.
            self.store.mark_gone(route.name, route.fingerprint, at=self.now, error=str(error))
            return None
        except DeliveryError as error:
            return {
                r.key: Failure(
                    r.key, str(error), permanent=error.permanent, retry_after=error.retry_after
                )
                for r in batch
            }
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            self.errors.append(f"route {route.name!r}: adapter {route.adapter!r} raised {message}")
            return {r.key: Failure(r.key, message) for r in batch}
        keys = {r.key for r in batch}
        found: dict[str, Failure] = {}
        for failure in failures:
            if not isinstance(failure, Failure) or failure.key not in keys:
                self.errors.append(
                    f"route {route.name!r}: adapter {route.adapter!r} returned {failure!r}, "
                    "not a Failure for a reminder of the batch"
                )
                continue
            found[failure.key] = failure
        return found


def _publish(adapter: Any, agenda: Agenda, store: Any, route: Route) -> list[str]:
    """Call ``adapter.publish``; a ``ledger`` keyword is given the route's record of it.

    A publisher that keeps what it wrote where (a calendar on a server) names
    ``ledger``; it may return lines to tell the user once.
    """
    try:
        wants_ledger = "ledger" in inspect.signature(adapter.publish).parameters
    except (TypeError, ValueError):
        wants_ledger = False
    if not wants_ledger:
        adapter.publish(agenda)
        return []
    notes = adapter.publish(agenda, ledger=PublishLedger(store, route.name))
    return [str(note) for note in notes or ()]


class _Reporter:
    """The ``report`` callable handed to an adapter for one call of ``deliver``.

    Adapters may call it from several threads; calls after ``deliver`` has
    returned, twice for one reminder, or for a reminder not in the batch are
    ignored.
    """

    def __init__(
        self, run: _Run, route: Route, pending: dict[str, Reminder], attempts: dict[str, int]
    ) -> None:
        self._run = run
        self._route = route
        self._pending = pending
        self._attempts = attempts
        self._lock = threading.Lock()
        self._open = True
        self.sent: set[str] = set()
        self.noted: dict[str, Failure] = {}

    def __call__(self, key: str, failure: object = None) -> None:
        with self._lock:
            if not self._open or key not in self._pending:
                return
            if key in self.sent or key in self.noted:
                return
            if failure is None:
                # Recorded now: a dispatcher killed later in the batch will not send it again.
                self.sent.add(key)
                self._attempts[key] += 1
                self._run.outcome(self._pending[key], self._route, "sent", self._attempts[key])
            elif isinstance(failure, Failure) and failure.key == key:
                self.noted[key] = failure

    def close(self) -> tuple[set[str], dict[str, Failure]]:
        """Stop taking reports; the keys reported delivered and the failures reported."""
        with self._lock:
            self._open = False
            return self.sent, self.noted


#: Seconds of delivery work a claim is sized to cover, at the rate the run has seen.
CLAIM_SPAN = 0.5
#: The most batches one claim takes, however fast the route delivers.
CLAIM_BATCHES = 20


def _deliver_route(
    run: _Run,
    route: Route,
    adapter: Any,
    kept: list[Reminder],
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> bool:
    """Claim and deliver ``kept`` through ``route``; False when its receiver is gone.

    Claims are taken in bulk and delivered a batch at a time, each batch's
    outcomes recorded as soon as they are known, so a killed dispatcher sends
    again at most the batch it was delivering; the rest of what it claimed
    waits for the claims to expire. A claim starts at one batch and grows,
    doubling, to cover about ``CLAIM_SPAN`` seconds of delivery at the rate
    seen so far (at most ``CLAIM_BATCHES`` batches): a fast route costs a
    claim per many batches, while a slow one claims a batch at a time and
    leaves the rest to other dispatchers. Claims older than half their time
    to live are given back and taken again before the next batch, so a route
    that slows down never delivers on an expired claim.
    """
    ttl = run.claim_ttl.total_seconds()
    span = min(CLAIM_SPAN, ttl / 4)
    size = batch_size
    position = 0
    while position < len(kept):
        chunk = kept[position : position + size]
        position += len(chunk)
        began = time.monotonic()
        claims = run.store.claim(
            [(r.key, route.name) for r in chunk],
            now=run.now,
            worker=run.worker,
            ttl=run.claim_ttl,
            titles={r.key: (r.contact.id, r.title) for r in chunk},
        )
        if not claims:
            continue
        claimed = {c.key: c.attempts for c in claims}
        mine = [r for r in chunk if r.key in claimed]
        done = 0
        gone = False
        try:
            while done < len(mine) and not gone:
                if done and time.monotonic() - began > ttl / 2:
                    break
                batch = mine[done : done + batch_size]
                done += len(batch)
                gone = not run.deliver(route, adapter, batch, claimed)
                if progress is not None:
                    progress(len(batch))
        except BaseException:
            # Untried claims go back at once rather than wait for their expiry;
            # if that fails too, they expire as a killed dispatcher's would.
            with contextlib.suppress(Exception):
                run.store.release([(r.key, route.name) for r in mine[done:]])
            raise
        rest = mine[done:]
        if rest:
            run.store.release([(r.key, route.name) for r in rest])
        if gone:
            return False
        if rest:
            # Claimed long ago: claim them afresh before going on.
            kept = rest + kept[position:]
            position = 0
            continue
        took = max(time.monotonic() - began, 1e-6)
        size = min(2 * size, int(len(mine) / took * span), CLAIM_BATCHES * batch_size)
        size = max(size // batch_size * batch_size, batch_size)
    return True


def dispatch(
    store: Any,
    routes: Iterable[Route],
    *,
    now: datetime,
    plugins: Plugins | None = None,
    dry_run: bool = False,
    horizon: timedelta = timedelta(days=30),
    retry: RetryPolicy = RetryPolicy(),  # frozen, so one shared default is safe
    claim_ttl: timedelta = timedelta(minutes=10),
    batch_size: int = 50,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int], None] | None = None,
) -> DispatchReport:
    """Deliver every reminder due at ``now`` through each route that takes it, once.

    Every adapter is built before anything is sent, so a bad route stops the
    run with a ConfigError and nothing delivered. A route whose adapter
    publishes (a feed) gets the agenda up to ``horizon`` ahead. For the
    others, each due reminder that the route takes and the filter hooks let
    through is claimed in the ledger, delivered, and its outcome recorded;
    what the route has taken is never delivered to it again. ``dry_run``
    delivers nothing and records nothing. ``progress`` is told how many
    deliveries each batch settled.
    """
    now = require_aware(now, "now")
    plugins = plugins or get_plugins()
    routes = list(routes)
    names = [route.name for route in routes]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"two routes are called {duplicated[0]!r}; give them names")
    adapters = {route.name: plugins.build_adapter(route) for route in routes}
    run = _Run(store, plugins, now, retry, sleep, _worker_id(), claim_ttl)
    known_errors = len(plugins.errors)
    planned: list[tuple[str, Reminder]] = []
    published: list[str] = []
    warnings: list[str] = []
    filtered = 0
    gone_routes: list[str] = []
    gone = store.gone_routes()
    try:
        # Planned once per run, whatever the number of routes.
        due: tuple[Reminder, ...] | None = None
        ahead: Agenda | None = None
        problems: dict[str, PlanningProblem] = {}
        for route in routes:
            adapter = adapters[route.name]
            if route.name in gone:
                if gone[route.name][0] == route.fingerprint:
                    gone_routes.append(route.name)
                    continue
                if not dry_run:
                    store.clear_gone(route.name)
            if not callable(getattr(adapter, "deliver", None)):
                if ahead is None:
                    ahead = store.agenda(now=now, within=horizon)
                    problems.update((p.contact, p) for p in ahead.problems)
                taken = [r for r in ahead if route.takes(r) and plugins.keep(r, route, now=now)]
                if not dry_run:
                    try:
                        notes = _publish(
                            adapter, Agenda(taken, now=now, horizon=horizon), store, route
                        )
                        warnings.extend(f"route {route.name!r}: {note}" for note in notes)
                    except CadenceError as error:
                        run.errors.append(f"route {route.name!r}: {error}")
                        continue
                    except Exception as error:
                        run.errors.append(
                            f"route {route.name!r}: adapter {route.adapter!r} raised "
                            f"{type(error).__name__}: {error}"
                        )
                        continue
                published.append(route.name)
                continue
            if due is None:
                found = store.agenda(now=now)
                problems.update((p.contact, p) for p in found.problems)
                due = found.due
            wanted = [r for r in due if route.takes(r)]
            kept = [r for r in wanted if plugins.keep(r, route, now=now)]
            filtered += len(wanted) - len(kept)
            if dry_run:
                planned.extend((route.name, r) for r in kept)
                continue
            if not _deliver_route(run, route, adapter, kept, batch_size, progress):
                gone_routes.append(route.name)
    finally:
        for adapter in adapters.values():
            close = getattr(adapter, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as error:
                    run.errors.append(f"closing an adapter raised {type(error).__name__}: {error}")
    errors = [*run.errors, *(str(e) for e in plugins.errors[known_errors:])]
    return DispatchReport(
        deliveries=tuple(run.deliveries),
        planned=tuple(planned),
        published=tuple(published),
        filtered=filtered,
        gone_routes=tuple(gone_routes),
        errors=tuple(errors),
        problems=tuple(problems[c] for c in sorted(problems)),
        warnings=tuple(warnings),
    )
