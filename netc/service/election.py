"""Which replica runs the reconciler: one at a time, chosen by an etcd lease.

Every ``netc serve`` on one etcd campaigns for the key :data:`ELECTION_KEY`: it grants
itself a lease of :data:`LEASE_TTL` seconds and creates the key, attached to that
lease, in a Txn that succeeds only while the key is absent. The replica that created
it is the leader and runs the reconciler; it renews the lease every third of its TTL.
When it dies (or loses etcd for longer than the TTL) the lease expires, etcd deletes
the key, and the next campaign of another replica, at most a third of the TTL later,
takes it. A replica stopped cleanly revokes its lease, so the key is free at once.

A leader counts itself the leader only until its last renewal's TTL runs out, minus
a margin, measured from when that renewal was sent: a leader cut off from etcd steps
down before etcd can give the key to another, so two reconcilers never run at once
even then. (A pass already under way finishes its current project; its writes are
guarded by the store's revisions and the Northbound's ``wait`` operations, like any
request's.)

Observable as the gauge ``overlay_network_reconciler_leader`` (1 on the leader, 0
elsewhere) and in the log. On SQLite (one machine) the single replica is always the
leader.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from prometheus_client import CollectorRegistry, Gauge

from netc.service.store import Store, StoreUnavailable
from netc.service.store.etcd import EtcdStore, _b64, _text

log = logging.getLogger("netc.service.election")

ELECTION_KEY = "/networks/leader/reconciler"
LEASE_TTL = 3
"""Seconds (etcd leases are whole seconds): how long the reconciler may stay without a
leader after its replica dies."""
MARGIN = 0.5
"""Seconds before its lease's end at which a leader that could not renew steps down."""


def leader_gauge(registry: CollectorRegistry) -> Gauge:
    return Gauge("overlay_network_reconciler_leader",
                 "1 while this replica runs the reconciler (holds the etcd election key; "
                 "always 1 on SQLite), else 0", registry=registry)


class SoleLeader:
    """One machine, one replica: it always runs the reconciler."""

    key = None

    def __init__(self, registry: CollectorRegistry, identity: str) -> None:
        self.identity = identity
        leader_gauge(registry).set(1)

    def start(self) -> None:
        pass

    def is_leader(self) -> bool:
        return True

    def stop(self) -> None:
        pass


class EtcdElection:
    def __init__(self, store: EtcdStore, registry: CollectorRegistry, identity: str, *,
                 key: str = ELECTION_KEY, ttl: int = LEASE_TTL) -> None:
        self.store = store
        self.identity = identity
        self.key = key
        self.ttl = ttl
        self.lease = 0
        self._renewed = (0.0, 0)
        """(when the last grant or renewal was sent, the TTL etcd answered)."""
        self._valid_until = 0.0
        self._leader = False
        self._holder: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="election", daemon=True)
        leader_gauge(registry).set_function(lambda: 1 if self.is_leader() else 0)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop campaigning; a leader revokes its lease, so another takes over at once."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._valid_until = 0.0
        if self.lease:
            try:
                self.store.request("kv/lease/revoke", {"ID": self.lease}, deadline=1.0)
            except StoreUnavailable:
                pass
        self._set_leader(False, "stopped")

    def is_leader(self) -> bool:
        return self._leader and time.monotonic() < self._valid_until - MARGIN

    # -- the campaign ------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except StoreUnavailable as error:
                if self._leader and not self.is_leader():
                    self._set_leader(False, f"cannot renew its lease: {error}")
                elif not self._leader:
                    log.warning("election: cannot campaign for %s: %s", self.key, error)
            self._stop.wait(self.ttl / 3)

    def _step(self) -> None:
        patience = self.ttl / 3
        if self.lease:
            sent = time.monotonic()
            answer = self.store.request("lease/keepalive", {"ID": self.lease}, deadline=patience)
            ttl = int(answer.get("result", {}).get("TTL", 0))
            if ttl > 0:
                self._renewed = (sent, ttl)
            else:
                self.lease = 0
                self._set_leader(False, "its lease expired")
        if not self.lease:
            sent = time.monotonic()
            answer = self.store.request("lease/grant", {"TTL": self.ttl, "ID": 0},
                                        deadline=patience)
            self.lease = int(answer["ID"])
            self._renewed = (sent, int(answer.get("TTL", self.ttl)))
        value = json.dumps({"replica": self.identity, "lease": f"{self.lease:x}"})
        answer = self.store.request("kv/txn", {
            "compare": [{"key": _b64(self.key), "result": "EQUAL", "target": "VERSION",
                         "version": 0}],
            "success": [{"request_put": {"key": _b64(self.key), "value": _b64(value),
                                         "lease": self.lease}}],
            "failure": [{"request_range": {"key": _b64(self.key)}}]}, deadline=patience)
        if answer.get("succeeded"):
            holder, mine = self.identity, True
        else:
            holder, lease = _holder(answer)
            mine = lease == self.lease
        if mine:
            sent, ttl = self._renewed
            self._valid_until = sent + ttl
            if not self._leader:
                self._set_leader(True, f"it holds {self.key} (lease {self.lease:x}, "
                                       f"TTL {self.ttl}s)")
        elif self._leader:
            self._valid_until = 0.0
            self._set_leader(False, f"{self.key} is held by {holder}")
        elif holder != self._holder:
            log.info("election: %s runs the reconciler; this replica (%s) stands by",
                     holder, self.identity)
        self._holder = holder

    def _set_leader(self, leader: bool, why: str) -> None:
        changed = leader != self._leader
        self._leader = leader
        if changed:
            log.info("election: this replica (%s) %s the reconciler: %s", self.identity,
                     "now runs" if leader else "no longer runs", why)


def _holder(answer: dict) -> tuple[str | None, int]:
    """The replica holding the key and its lease, from a failed campaign's read."""
    for response in answer.get("responses", []):
        for kv in response.get("response_range", {}).get("kvs", []):
            text = _text(kv.get("value", ""))
            try:
                replica = json.loads(text)["replica"]
            except (ValueError, KeyError, TypeError):
                replica = text
            return replica, int(kv.get("lease", 0))
    return None, 0  # deleted between the compare and the read: campaign again


def leadership(store: Store, registry: CollectorRegistry, identity: str):
    """The reconciler's election for ``store``: etcd's lease, or the sole replica of SQLite."""
    if isinstance(store, EtcdStore):
        return EtcdElection(store, registry, identity)
    return SoleLeader(registry, identity)
