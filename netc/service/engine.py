"""Where a mutation becomes stored intent and OVN rows: per project, in batches.

Requests for one project are serialised: the first to arrive while nobody works on
the project leads, takes every request queued for it meanwhile, and runs them as one
batch (group commit); the others wait for their answer. A batch is

1. read the project's records (one store read; one key when this engine made the
   project's last change: ChangeSet.load);
2. run each request's mutation in its own child change set; a refused request
   leaves nothing behind;
3. turn the records into the intent model the files use, check it with the checks
   ``netc check`` runs and compile it with the compiler ``netc compile`` runs (one
   project: what a request touches; when only ports changed, only the changed ports,
   from the project's last compile: netc.service.recompile); if the checks find
   errors in a batch of several, each request is run alone to find whose they are;
4. commit the records in one store transaction guarded by the revisions read (on
   conflict with another process: back to 1 after a random pause, for at most
   ``STORE_RETRY_SECONDS``);
5. apply the compiled rows to the Northbound in one transaction; if that fails the
   store commit is undone, so a failed request changes nothing anywhere.

Only then are the requests answered: an RPC returns after the Northbound commit.
The project then goes to the first request queued meanwhile, whose thread leads the
next batch. A process that dies between 4 and 5 leaves records that OVN does not
have yet; the reconciler (same path, with no mutation) makes OVN catch up on its next
run.

**Gathering.** The clients a batch answers mostly call again at once (a VM manager
creating a fleet's NICs), a few milliseconds later (gRPC's round trip): by then the
next batch would have started without them and they would wait for it, so under load
a project's callers settle into two or more groups that take turns, each paying a
batch's fixed cost (the compile's setup, a store commit, a Northbound transaction
and northd's two full recomputes of it). The leader that follows an answered batch
therefore waits, at most ``GATHER_SECONDS`` after that answer, until as many
requests have arrived since as the batch answered. A lone caller never waits (its
own next request is the one awaited), nor does one arriving after the window.
Measured in docs/bench.md: at 16 clients this made batches of 13 instead of 5 and
40% more ports per second than overlapping each batch's read and compile with the
Northbound transaction of the one ahead (the pipeline this replaced), on a machine
whose two cores the compile, the Northbound and northd share.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from netc.config import Settings
from netc.service import records
from netc.service.changeset import ChangeSet
from netc.service.errors import ServiceError
from netc.service.northbound import ServiceNorthbound
from netc.service.operations import Context
from netc.service.recompile import CompiledProject, compile_project
from netc.service.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

STORE_RETRY_SECONDS = 5.0
"""How long a batch is recomputed after store conflicts before its requests get
UNAVAILABLE. A time and not a count: VPCs created at once in different projects of
an organisation all write its pool's key, so n of them need up to n attempts (a
count of 8 failed one of 20 concurrent creates on CI)."""

CONFLICT_PAUSE = (0.002, 0.100)
"""First and largest bound (seconds) of the random pause after a store conflict; the
bound doubles per conflict (full jitter), so writers racing for one key spread out
instead of colliding again at once."""

GATHER_SECONDS = 0.010
"""How long after a batch's answer the next leader waits for its callers to call
again (see the module docstring)."""

Mutation = Callable[[ChangeSet, Context], Any]


@dataclass
class Timings:
    """Where a batch's time went, for the metrics and the benchmark."""

    compile: float = 0.0
    store: float = 0.0
    ovn: float = 0.0


@dataclass(eq=False)
class Request:
    mutation: Mutation
    reconcile: bool = False
    """Apply the project's rows even if no record changes (the reconciler)."""
    done: threading.Event = field(default_factory=threading.Event)
    lead: threading.Event = field(default_factory=threading.Event)
    """Set when this request's thread is to lead the project's next batch, or is done."""
    result: Any = None
    error: ServiceError | None = None
    changes: int = 0
    timings: Timings | None = None

    def finish(self, result: Any = None, error: ServiceError | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()
        self.lead.set()


@dataclass
class _Queue:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[Request] = field(default_factory=list)
    busy: bool = False
    arrivals: int = 0
    """Requests submitted for the project so far."""
    answered: int = 0
    """Requests the project's last batch answered, ..."""
    arrivals_then: int = 0
    """... ``arrivals`` when it did, ..."""
    answered_at: float = 0.0
    """... and when (``time.monotonic``): what the next leader gathers for."""
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def gather(self) -> None:
        """Wait (lock held) until as many requests arrived since the last answer as it
        answered, or ``GATHER_SECONDS`` after it."""
        deadline = self.answered_at + GATHER_SECONDS
        while self.arrivals - self.arrivals_then < self.answered:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.arrived.wait(left)

    def answering(self, count: int) -> None:
        """Note a batch's answer to ``count`` requests, just before it is given."""
        with self.lock:
            self.answered, self.arrivals_then = count, self.arrivals
            self.answered_at = time.monotonic()


class Engine:
    def __init__(self, store: Store, northbound: ServiceNorthbound, settings: Settings,
                 observe: Callable[[Timings, int], None] = lambda timings, size: None) -> None:
        self.store = store
        self.northbound = northbound
        self.settings = settings
        self.observe = observe
        """Called once per batch with its timings and its number of requests."""
        self._queues: dict[tuple[str, str], _Queue] = {}
        self._queues_lock = threading.Lock()
        self._compiled: dict[tuple[str, str], CompiledProject] = {}
        """Per project, the last compile whose rows OVN took (netc.service.recompile)."""
        self._read: dict[tuple[str, str], tuple[int, dict]] = {}
        """Per project, its records as this engine last committed them (ChangeSet.load)."""
        self._rng = random.SystemRandom()

    def read(self, org: str, project: str) -> ChangeSet:
        """The project as the store holds it now, for a batch and the read RPCs: from
        this engine's last commit of it when the store says nothing changed since (one
        key read, not the project's every record: a GetPort in a 1,000-port project
        0.02 ms instead of 1.9, measured in docs/bench.md)."""
        return ChangeSet.load(self.store, org, project, self._read.get((org, project)))

    def submit(self, org: str, project: str, mutation: Mutation, *,
               reconcile: bool = False) -> Request:
        """Run ``mutation`` on the project (batched with others queued for it) and
        return the finished request: ``result`` or ``error``."""
        request = Request(mutation, reconcile)
        queue = self._queue(org, project)
        with queue.lock:
            queue.pending.append(request)
            queue.arrivals += 1
            queue.arrived.notify()
            lead = not queue.busy
            queue.busy = True
        if lead:
            request.lead.set()
        while True:
            request.lead.wait()
            if request.done.is_set():
                return request
            self._lead(org, project, queue)

    def _lead(self, org: str, project: str, queue: _Queue) -> None:
        """Run one batch: every request queued for the project once the callers of
        the last batch are back (:meth:`_Queue.gather`); then hand the project to the
        first request queued meanwhile."""
        with queue.lock:
            queue.gather()
            batch, queue.pending = queue.pending, []
        try:
            self._run(org, project, batch, queue)
        except ServiceError as error:
            _fail(batch, error)
        except StoreUnavailable as error:
            _fail(batch, ServiceError("STORE_UNAVAILABLE", str(error)))
        except Exception as error:  # a bug: answer every waiter, keep serving
            log.exception("batch of %s/%s failed", org, project)
            _fail(batch, ServiceError("INTERNAL", f"{type(error).__name__}: {error}"))
        with queue.lock:
            if queue.pending:
                queue.pending[0].lead.set()
            else:
                queue.busy = False

    def _queue(self, org: str, project: str) -> _Queue:
        with self._queues_lock:
            return self._queues.setdefault((org, project), _Queue())

    def _run(self, org: str, project: str, batch: list[Request], queue: _Queue) -> None:
        timings = Timings()
        give_up = time.monotonic() + STORE_RETRY_SECONDS
        conflicts = 0
        while True:
            started = time.monotonic()
            changeset = self.read(org, project)
            timings.store += time.monotonic() - started
            now = int(time.time())
            context = Context(self.settings, now, self._rng)
            accepted, refused = [], []
            for request in batch:
                if request.done.is_set():
                    continue
                child = changeset.child()
                try:
                    result = request.mutation(child, context)
                except ServiceError as error:
                    refused.append((request, error))
                    continue
                child.merge_into_parent()
                accepted.append((request, result))
            vpc_key = records.vpc_key(org, project)
            compiled = None
            if changeset.changed or any(r.reconcile for r, _ in accepted):
                if changeset.changed and changeset.get(vpc_key) is not None:
                    changeset.put(vpc_key, dict(changeset.get(vpc_key), updated_at=now))
                started = time.monotonic()
                previous = None if any(r.reconcile for r, _ in accepted) \
                    else self._compiled.get((org, project))
                compiled = compile_project(org, project, changeset, self.settings, previous)
                timings.compile += time.monotonic() - started
            for request, error in refused:
                request.finish(error=error)
            if compiled is None:
                for request, result in accepted:
                    request.finish(result)
                return
            rows, diagnostics = compiled.rows, compiled.diagnostics
            if diagnostics.has_errors:
                if len(accepted) > 1:
                    for request, _ in accepted:  # find whose errors they are
                        self._run(org, project, [request], queue)
                    return
                error = next(d for d in diagnostics if d.is_error)
                accepted[0][0].finish(error=ServiceError.from_diagnostic(error))
                return
            revision = None
            if changeset.changed:
                started = time.monotonic()
                revision = changeset.commit()
                timings.store += time.monotonic() - started
                if revision is None:  # another process changed the project: read again
                    conflicts += 1
                    bound = min(CONFLICT_PAUSE[0] * 2 ** conflicts, CONFLICT_PAUSE[1])
                    pause = self._rng.uniform(0, bound)
                    if time.monotonic() + pause > give_up:
                        break
                    time.sleep(pause)
                    continue
                self._read[(org, project)] = changeset.committed(revision)
            read = changeset.entries.get(vpc_key)
            of = revision if revision is not None else read.mod_revision if read else None
            if compiled.next is not None and of is not None:  # for the next batch
                self._compiled[(org, project)] = replace(compiled.next, revision=of)
            else:
                self._compiled.pop((org, project), None)
            try:  # the revision the rows are of: OVN never takes older rows than it holds
                applied = self.northbound.apply(
                    f"{org}/{project}", rows, of,
                    current=lambda: self._project_revision(vpc_key), touched=compiled.touched,
                    deltas=compiled.deltas, deltas_of=compiled.deltas_of)
            except BaseException as error:
                self._compiled.pop((org, project), None)
                if revision is not None:
                    self._read.pop((org, project), None)
                    changeset.revert(revision)
                if not isinstance(error, ServiceError):
                    raise
                for request, _ in accepted:
                    request.finish(error=error)
                return
            if applied.superseded_by is not None:
                self._compiled.pop((org, project), None)
            timings.ovn += applied.seconds
            self.observe(timings, len(accepted))
            queue.answering(len(accepted))
            for request, result in accepted:
                request.changes = applied.changes
                request.timings = timings
                request.finish(result)
            return
        _fail(batch, ServiceError("CONFLICT", f"project {org}/{project} kept changing in the "
                                              f"store during {conflicts} attempts "
                                              f"({STORE_RETRY_SECONDS:g} s)"))

    def _project_revision(self, vpc_key: str) -> int | None:
        """The project's revision in the store now (its VPC key's; None: deleted)."""
        entry = self.store.get([vpc_key]).get(vpc_key)
        return entry.mod_revision if entry is not None else None


def _fail(batch: list[Request], error: ServiceError) -> None:
    for request in batch:
        if not request.done.is_set():
            request.finish(error=error)
