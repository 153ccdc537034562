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
4. wait until the batch ahead (if still in OVN, see below) is done; if its store
   commit was undone, back to 1; answer the refused requests;
5. commit the records in one store transaction guarded by the revisions read (on
   conflict with another process: back to 1, a bounded number of times);
6. hand the project to the first request queued meanwhile: its thread leads the
   next batch, whose steps 1-3 run while this batch is in OVN (a pipeline of two);
7. apply the compiled rows to the Northbound in one transaction; if that fails the
   store commit is undone, so a failed request changes nothing anywhere.

Only then are the requests answered: an RPC returns after the Northbound commit.
A process that dies between 5 and 7 leaves records that OVN does not have yet; the
reconciler (same path, with no mutation) makes OVN catch up on its next run.
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

STORE_ATTEMPTS = 8
"""Batches recomputed after a store conflict before the requests get UNAVAILABLE."""

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
class _Flight:
    """A batch's Northbound transaction, which the project's next batch (already
    reading and compiling) waits for before it commits."""

    done: threading.Event = field(default_factory=threading.Event)
    failed: bool = False
    """Its store commit was undone: what the next batch read is gone."""

    def land(self, failed: bool = False) -> None:
        self.failed = failed
        self.done.set()


@dataclass
class _Queue:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[Request] = field(default_factory=list)
    busy: bool = False
    flight: _Flight | None = None
    """The transaction of the project's last batch that got that far."""
    open: object | None = None
    """Set (to its leader's token) while the leader is in OVN having found nobody to
    hand the project to: the next request to arrive leads the next batch at once."""


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

    def submit(self, org: str, project: str, mutation: Mutation, *,
               reconcile: bool = False) -> Request:
        """Run ``mutation`` on the project (batched with others queued for it) and
        return the finished request: ``result`` or ``error``."""
        request = Request(mutation, reconcile)
        queue = self._queue(org, project)
        with queue.lock:
            queue.pending.append(request)
            lead = not queue.busy or queue.open is not None
            queue.busy, queue.open = True, None
        if lead:
            request.lead.set()
        while True:
            request.lead.wait()
            if request.done.is_set():
                return request
            self._lead(org, project, queue)

    def _lead(self, org: str, project: str, queue: _Queue) -> None:
        """Run one batch: every request queued for the project now. Once its store
        commit is made, hand the project to the first request queued meanwhile (its
        thread leads the next batch, which reads, runs and compiles while this one's
        Northbound transaction is under way, and waits for it before committing),
        and return when this batch is answered."""
        with queue.lock:
            batch, queue.pending = queue.pending, []
        handed = opened = False
        token = object()

        def hand_off() -> None:
            nonlocal handed, opened
            with queue.lock:
                if queue.pending:
                    queue.pending[0].lead.set()
                    handed = True
                else:  # the next request to arrive leads at once
                    queue.open, opened = token, True
        try:
            self._run(org, project, batch, queue, hand_off)
        except ServiceError as error:
            _fail(batch, error)
        except StoreUnavailable as error:
            _fail(batch, ServiceError("STORE_UNAVAILABLE", str(error)))
        except Exception as error:  # a bug: answer every waiter, keep serving
            log.exception("batch of %s/%s failed", org, project)
            _fail(batch, ServiceError("INTERNAL", f"{type(error).__name__}: {error}"))
        with queue.lock:
            if handed:
                return
            if opened:
                if queue.open is not token:
                    return  # a request that arrived took the lead
                queue.open = None
            if queue.pending:
                queue.pending[0].lead.set()
            else:
                queue.busy = False

    def _queue(self, org: str, project: str) -> _Queue:
        with self._queues_lock:
            return self._queues.setdefault((org, project), _Queue())

    def _run(self, org: str, project: str, batch: list[Request], queue: _Queue | None = None,
             hand_off: Callable[[], None] = lambda: None) -> None:
        queue = queue or self._queue(org, project)
        timings = Timings()
        for _ in range(STORE_ATTEMPTS):
            ahead = queue.flight  # the batch before this one, maybe still in OVN
            if ahead is not None and ahead.done.is_set():
                ahead = None  # landed: what is read now is what it left
            started = time.monotonic()
            changeset = ChangeSet.load(self.store, org, project, self._read.get((org, project)))
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
            if ahead is not None:
                ahead.done.wait()
                if ahead.failed:
                    continue  # what this batch read was undone: read again
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
                if revision is None:
                    continue  # another process changed the project: read again
                self._read[(org, project)] = changeset.committed(revision)
            read = changeset.entries.get(vpc_key)
            of = revision if revision is not None else read.mod_revision if read else None
            if compiled.next is not None and of is not None:  # for the next batch, which
                self._compiled[(org, project)] = replace(compiled.next, revision=of)
            else:                                            # compiles during this apply
                self._compiled.pop((org, project), None)
            flight = queue.flight = _Flight()
            hand_off()
            try:  # the revision the rows are of: OVN never takes older rows than it holds
                applied = self.northbound.apply(
                    f"{org}/{project}", rows, of,
                    current=lambda: self._project_revision(vpc_key), touched=compiled.touched,
                    deltas=compiled.deltas, deltas_of=compiled.deltas_of)
            except BaseException as error:
                try:
                    self._compiled.pop((org, project), None)
                    if revision is not None:
                        self._read.pop((org, project), None)
                        changeset.revert(revision)
                finally:
                    flight.land(failed=True)
                if not isinstance(error, ServiceError):
                    raise
                for request, _ in accepted:
                    request.finish(error=error)
                return
            if applied.superseded_by is not None:
                self._compiled.pop((org, project), None)
            flight.land()
            timings.ovn += applied.seconds
            self.observe(timings, len(accepted))
            for request, result in accepted:
                request.changes = applied.changes
                request.timings = timings
                request.finish(result)
            return
        _fail(batch, ServiceError("CONFLICT", f"project {org}/{project} kept changing in the "
                                              f"store during {STORE_ATTEMPTS} attempts"))

    def _project_revision(self, vpc_key: str) -> int | None:
        """The project's revision in the store now (its VPC key's; None: deleted)."""
        entry = self.store.get([vpc_key]).get(vpc_key)
        return entry.mod_revision if entry is not None else None


def _fail(batch: list[Request], error: ServiceError) -> None:
    for request in batch:
        if not request.done.is_set():
            request.finish(error=error)
