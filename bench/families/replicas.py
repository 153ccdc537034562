"""Issue 8: ``CreatePort`` on one machine (SQLite) beside etcd with one and two
``netc serve`` replicas, and how long a failure keeps projects from being served.

The family starts its own deployments, all at once and all on loopback, and stops
them afterwards (it needs neither ``--nb`` nor the generated world):

- ``SQLite, 1 replica``: a sandbox (NB + SB + northd) and one ``netc serve`` on a
  SQLite store;
- ``etcd, 1 replica`` and ``etcd, 2 replicas``: each its own sandbox, its own
  3-member etcd cluster (:class:`netc.devtools.etcd.EtcdCluster`) and one or two
  ``netc serve`` on it.

Load: N client threads (N = 16, 64), each with its own ``NetworkClient`` (its own
HTTP/2 connection, as in the ``service`` family, whose load loop is reused) and its
**own project**, so that requests are never batched together and every one is a
store transaction and an OVN transaction of its own; with two replicas client i
talks to replica i mod 2, as a gRPC load balancer would spread them. Every round
runs every (N, deployment) point, the order of the deployments rotating each round
so that all see the same machine load; samples of all rounds are pooled for p50 and
p99, ports/s is the median of the rounds.

Failures (on the 2-replica etcd deployment, ``FAILOVER_TRIALS`` trials each):

- replica death: 8 client threads, each with its own project, send CreatePort to
  their own replica first and, on UNAVAILABLE, at once to the other (what a client
  behind a load balancer does); the replica that runs the reconciler is SIGKILLed.
  The figure is the time from the kill until every project of the dead replica has
  had a CreatePort, sent after the kill, answered (the slowest thread's); beside it,
  the time until the survivor reports itself the reconciler's leader (the lease's
  TTL). The killed replica is restarted between trials.
- etcd leader death: the same load on both replicas; the etcd member that is the
  leader is SIGKILLed; the figure is the time from the kill until every thread has
  had a CreatePort sent after the kill answered. The member is restarted and the
  cluster awaited between trials.

Figures are never estimated: without OVN's or etcd's binaries they are reported as
not measured.
"""

from __future__ import annotations

import itertools
import shutil
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from bench.families.service import p50, percentile, run_load, service_clients
from bench.figures import Context, Figure, pending

FAMILY = "replicas"
CONCURRENCY = (16, 64)
REQUESTS_PER_RUN = 256
P99_GOAL_MS = 50.0
FAILOVER_GOAL_S = 5.0
FAILOVER_TRIALS = 3
FAILOVER_THREADS = 8
RECONCILE_SECONDS = 86400.0
"""Beyond the run: only the reconciler's start-up pass runs (its election still does)."""
ORG = "bench"
SQLITE, ETCD1, ETCD2 = "SQLite, 1 replica", "etcd, 1 replica", "etcd, 2 replicas"
DEPLOYMENTS = (SQLITE, ETCD1, ETCD2)
BINARIES = ("ovsdb-server", "ovsdb-tool", "ovn-northd", "ovn-nbctl", "etcd")


@dataclass
class Deployment:
    label: str
    sandbox: object
    replicas: list
    etcd: object | None = None
    projects: dict[int, str] = field(default_factory=dict)
    """Client index -> its project (made once, reused by every run)."""
    counter: itertools.count = field(default_factory=itertools.count)

    def project(self, admin, index: int) -> str:
        if index not in self.projects:
            name = f"c{index}"
            admin.create_vpc(org_id=ORG, project_id=name, name=name)
            self.projects[index] = name
        return self.projects[index]


@contextmanager
def deployed(directory: Path, label: str) -> Iterator[Deployment]:
    from netc.devtools.etcd import EtcdCluster
    from netc.devtools.sandbox import Sandbox
    from netc.devtools.service import ServiceProcess

    with ExitStack() as stack:
        sandbox = Sandbox(directory / "sandbox").start()
        stack.callback(sandbox.stop)
        etcd, storage = None, {}
        if label != SQLITE:
            etcd = EtcdCluster(directory / "etcd", members=3).start()
            stack.callback(etcd.stop)
            storage = {"backend": "etcd", "etcd_endpoint": etcd.endpoint}
        replicas = []
        for n in range(1, (2 if label == ETCD2 else 1) + 1):
            replica = ServiceProcess(directory / f"replica{n}", sandbox.nb_remote,
                                     name=f"replica{n}", storage=dict(storage),
                                     reconcile_interval=RECONCILE_SECONDS).start()
            stack.callback(replica.stop)
            replicas.append(replica)
        yield Deployment(label, sandbox, replicas, etcd)


# -- throughput and latency -------------------------------------------------------------


@dataclass
class Point:
    latencies: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)


def run_point(deployment: Deployment, clients: list, admin, n: int) -> tuple[list[float], float]:
    """REQUESTS_PER_RUN CreatePorts from the first ``n`` clients, each in its own project."""
    projects = [deployment.project(admin, i) for i in range(n)]
    chosen = clients[:n]
    index_of = {id(client): i for i, client in enumerate(chosen)}

    def call(client, _: int) -> None:
        i = index_of[id(client)]
        client.create_port(org_id=ORG, project_id=projects[i], vm_id=f"vm-{next(deployment.counter)}")
    return run_load(chosen, call, REQUESTS_PER_RUN)


def throughput(deployments: dict[str, Deployment], repeat: int) -> dict[tuple[str, int], Point]:
    points = {(label, n): Point() for label in DEPLOYMENTS for n in CONCURRENCY}
    clients, admins = {}, {}
    try:
        for label, deployment in deployments.items():
            addresses = [r.address for r in deployment.replicas]
            clients[label] = [service_clients(addresses[i % len(addresses)], 1)[0]
                              for i in range(max(CONCURRENCY))]
            admins[label] = service_clients(addresses[0], 1)[0]
            run_point(deployment, clients[label], admins[label], min(CONCURRENCY))  # warm-up
        for round_ in range(repeat):
            for n in CONCURRENCY:
                order = DEPLOYMENTS[round_ % 3:] + DEPLOYMENTS[:round_ % 3]
                for label in order:
                    latencies, wall = run_point(deployments[label], clients[label],
                                                admins[label], n)
                    points[label, n].latencies.extend(latencies)
                    points[label, n].rates.append(REQUESTS_PER_RUN / wall)
    finally:
        for client in [c for group in clients.values() for c in group] + list(admins.values()):
            client.close()
    return points


def throughput_figures(points: dict[tuple[str, int], Point]) -> list[Figure]:
    figures = []
    for n in CONCURRENCY:
        base = points[SQLITE, n]
        for label in (ETCD1, ETCD2):
            point = points[label, n]
            p99 = percentile(point.latencies, 99)
            p99_note = ""
            if n == 16:
                p99_note = (f"goal p99 < {P99_GOAL_MS:g} ms: "
                            f"{'meets' if p99 < P99_GOAL_MS else 'MISSES'}; ")
            figures += [
                Figure(FAMILY, f"CreatePort p50, {n} clients, {label}", "ms",
                       round(p50(point.latencies), 2), SQLITE, round(p50(base.latencies), 2),
                       None, {"netc": point.latencies, "reference": base.latencies},
                       note=f"{len(point.latencies)} requests; each client its own project"),
                Figure(FAMILY, f"CreatePort p99, {n} clients, {label}", "ms", round(p99, 2),
                       SQLITE, round(percentile(base.latencies, 99), 2), None,
                       note=f"{p99_note}max {1000 * max(point.latencies):.0f} ms "
                            f"(SQLite {1000 * max(base.latencies):.0f} ms)")]
        one, two = points[ETCD1, n], points[ETCD2, n]
        more = statistics.median(two.rates) > statistics.median(one.rates)
        figures += [
            Figure(FAMILY, f"CreatePort ports/s, {n} clients, {ETCD1}", "ports/s",
                   round(statistics.median(one.rates)), SQLITE,
                   round(statistics.median(points[SQLITE, n].rates)), None,
                   {"netc": one.rates, "reference": points[SQLITE, n].rates},
                   note="higher is better; median of the rounds"),
            Figure(FAMILY, f"CreatePort ports/s, {n} clients, {ETCD2}", "ports/s",
                   round(statistics.median(two.rates)), ETCD1,
                   round(statistics.median(one.rates)), None,
                   {"netc": two.rates, "reference": one.rates},
                   note=f"higher is better; goal: more than 1 replica, different projects: "
                        f"{'meets' if more else 'MISSES'}")]
    return figures


# -- failures ---------------------------------------------------------------------------


class FailoverLoad:
    """Threads each with its own project, sending CreatePort to their replica first and
    at once to the next on UNAVAILABLE; every answered call recorded as (thread, sent,
    answered)."""

    def __init__(self, deployment: Deployment, admin, threads: int) -> None:
        self.deployment = deployment
        self.projects = [deployment.project(admin, 1000 + i) for i in range(threads)]
        self.answered: list[tuple[int, float, float]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.failures: list[BaseException] = []
        self.threads = [threading.Thread(target=self._work, args=(i,), daemon=True)
                        for i in range(threads)]

    def _work(self, i: int) -> None:
        from netc.client import NetworkClient, NetworkError
        replicas = self.deployment.replicas
        clients = [NetworkClient.connect(r.address, timeout=60) for r in replicas]
        try:
            while not self.stop.is_set():
                sent = time.monotonic()
                for attempt in itertools.count():
                    client = clients[(i + attempt) % len(clients)]
                    try:
                        client.create_port(org_id=ORG, project_id=self.projects[i],
                                           vm_id=f"vm-{next(self.deployment.counter)}")
                        break
                    except NetworkError as error:
                        if error.status.name != "UNAVAILABLE" or self.stop.is_set():
                            if not self.stop.is_set():
                                self.failures.append(error)
                            return
                        if attempt % len(clients) == len(clients) - 1:
                            time.sleep(0.01)  # every replica refused: do not spin
                with self.lock:
                    self.answered.append((i, sent, time.monotonic()))
        finally:
            for client in clients:
                client.close()

    def __enter__(self) -> "FailoverLoad":
        for thread in self.threads:
            thread.start()
        time.sleep(1.0)  # steady state before the fault
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def served_again(self, killed_at: float, threads: set[int], timeout: float = 60.0) -> float:
        """Seconds from ``killed_at`` until each of ``threads`` had a call sent after it
        answered (the slowest thread's)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.failures:
                raise RuntimeError(f"a call failed: {self.failures[0]}")
            with self.lock:
                first = {}
                for i, sent, answered in self.answered:
                    if sent >= killed_at and i in threads:
                        first[i] = min(first.get(i, answered), answered)
            if set(first) == threads:
                return max(first.values()) - killed_at
            time.sleep(0.01)
        raise RuntimeError(f"projects not served again within {timeout:g}s")


def replica_death(deployment: Deployment, admin) -> tuple[list[float], list[float]]:
    from netc.devtools.sandbox import poll_until
    served, takeover = [], []
    for _ in range(FAILOVER_TRIALS):
        leader = poll_until(lambda: _leaders(deployment) or None, 30, "a reconciler leader")[0]
        survivor = next(r for r in deployment.replicas if r is not leader)
        index = deployment.replicas.index(leader)
        with FailoverLoad(deployment, admin, FAILOVER_THREADS) as load:
            killed_at = time.monotonic()
            leader.kill()
            poll_until(lambda: _leaders(deployment) == [survivor], 30, "the takeover")
            takeover.append(time.monotonic() - killed_at)
            mine = {i for i in range(FAILOVER_THREADS) if i % len(deployment.replicas) == index}
            served.append(load.served_again(killed_at, mine))
        leader.start()
    return served, takeover


def etcd_leader_death(deployment: Deployment, admin) -> list[float]:
    served = []
    for _ in range(FAILOVER_TRIALS):
        member = deployment.etcd.wait_for_leader()
        with FailoverLoad(deployment, admin, FAILOVER_THREADS) as load:
            killed_at = time.monotonic()
            deployment.etcd.kill_member(member)
            served.append(load.served_again(killed_at, set(range(FAILOVER_THREADS))))
        deployment.etcd.start_member(member)
        deployment.etcd.wait_ready()
    return served


def _leaders(deployment: Deployment) -> list:
    from bench.families.service import scrape
    found = []
    for replica in deployment.replicas:
        if replica.process is None or replica.process.poll() is not None:
            continue
        try:
            if scrape(replica.http).get(("overlay_network_reconciler_leader", ())) == 1.0:
                found.append(replica)
        except OSError:
            continue
    return found


def failover_figures(deployment: Deployment) -> list[Figure]:
    admin = service_clients(deployment.replicas[0].address, 1)[0]
    try:
        served, takeover = replica_death(deployment, admin)
        etcd_served = etcd_leader_death(deployment, admin)
    finally:
        admin.close()

    def verdict(samples: list[float]) -> str:
        worst = max(samples)
        return (f"goal < {FAILOVER_GOAL_S:g} s: {'meets' if worst < FAILOVER_GOAL_S else 'MISSES'}"
                f" (worst of {len(samples)}: {worst:.3f} s)")
    return [
        Figure(FAMILY, "replica death to its projects served again", "s",
               round(statistics.median(served), 3), "-", None, None, {"netc": served},
               note=f"{verdict(served)}; clients retry on the other replica at once"),
        Figure(FAMILY, "replica death to the reconciler taken over", "s",
               round(statistics.median(takeover), 3), "-", None, None, {"netc": takeover},
               note="the election lease's TTL (3 s) plus one campaign (1 s)"),
        Figure(FAMILY, "etcd leader death to projects served again", "s",
               round(statistics.median(etcd_served), 3), "-", None, None,
               {"netc": etcd_served}, note=verdict(etcd_served)),
    ]


# -- the family -------------------------------------------------------------------------


def _names() -> list[tuple[str, str, str]]:
    names = []
    for n in CONCURRENCY:
        for label in (ETCD1, ETCD2):
            names += [(f"CreatePort p50, {n} clients, {label}", "ms", SQLITE),
                      (f"CreatePort p99, {n} clients, {label}", "ms", SQLITE)]
        names += [(f"CreatePort ports/s, {n} clients, {ETCD1}", "ports/s", SQLITE),
                  (f"CreatePort ports/s, {n} clients, {ETCD2}", "ports/s", ETCD1)]
    names += [("replica death to its projects served again", "s", "-"),
              ("replica death to the reconciler taken over", "s", "-"),
              ("etcd leader death to projects served again", "s", "-")]
    return names


def measure(context: Context) -> list[Figure]:
    missing = [binary for binary in BINARIES if shutil.which(binary) is None]
    if missing:
        why = f"needs {', '.join(missing)} to start the deployments"
        return [pending(FAMILY, name, unit, reference, None, why)
                for name, unit, reference in _names()]
    with tempfile.TemporaryDirectory(prefix="netc-bench-replicas-") as scratch, \
            ExitStack() as stack:
        deployments = {label: stack.enter_context(deployed(Path(scratch) / f"d{i}", label))
                       for i, label in enumerate(DEPLOYMENTS)}
        figures = throughput_figures(throughput(deployments, context.repeat))
        figures += failover_figures(deployments[ETCD2])
    if [figure.name for figure in figures] != [name for name, *_ in _names()]:
        raise AssertionError("the replicas figures are not the ones _names() lists")
    return figures
