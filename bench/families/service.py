"""Issue 7: the NetworkService's ``CreatePort`` on a real ``netc serve`` and a real OVN.

The family starts its own sandbox (NB + SB + northd, :class:`netc.devtools.sandbox.
Sandbox`) and its own ``netc serve`` on it with a SQLite store
(:class:`netc.devtools.service.ServiceProcess`, the reconciler's period set beyond
the run so that its batches do not land in the metrics), and stops both afterwards.
It needs neither ``--nb`` nor the generated world.

Load: N client threads (N = 1, 16, 64), each with its **own** ``NetworkClient`` on its
own gRPC channel (a local subchannel pool, so its own HTTP/2 connection), released
together by a barrier; they share a counter of requests and each sends the next
until the point's requests are done. Latency is each call's wall time in the
client; ports/s is requests over the wall time from the barrier to the last answer.

Reference: the same threads, each with its own connected
:class:`~netc.backends.ovn_nb.ovsdb.OvsdbClient` on the same Northbound socket, send
ONE raw ``transact`` per call: insert a Logical_Switch_Port with ``addresses`` and
``port_security`` (MAC and IP chosen by the client: the reference allocates
nothing) and mutate its switch's ``ports``, reply awaited. Nothing else.

Side by side: every point of every round runs the reference and netc back to back
(the order flips each round), each into a fresh project (netc) or a fresh switch
(reference), deleted after the run (not measured), so every run of either side meets
the same, empty world; ``context.repeat`` rounds, the samples of all rounds pooled for
p50 and p99.

Where the time goes: the server's Prometheus histograms (``/metrics``) are read
before and after every netc run. Per request: the mean server time of a
CreatePort (``overlay_network_request_duration_seconds{method="CreatePort"}``); in
it, the mean per batch of compile, store and OVN time (a request waits for its whole
batch); the rest is waiting for the batch ahead of it, the mutation itself, the
handler and gRPC.

Project size: 1,000 ports are created through the API first (16 clients, so
batched), then one client alternates blocks of requests between that project and
an empty project of the same service (same world), and the same for the raw
transact into a switch with 1,000 ports and an empty switch.

World size: an empty project of that service (whose world now holds the big
project) beside an empty project of a second sandbox and service that hold nothing
else, alternating blocks again (both northds paused, see below).

Diagnostic rows, "gRPC no-op": at 16 clients a third side in every round, the same
clients calling the same server's ``grpc.health.v1.Health/Check``, which does no
work: what the transport alone costs (gRPC in Python on both ends, on the two cores
the whole bench shares). No goal.

Diagnostic rows, "northd paused": the same measurements with ovn-northd stopped
(SIGSTOP) for their duration. northd writes ``up`` back into every new
Logical_Switch_Port and router port a moment after netc commits it; that bumps the
``_version`` of rows whose versions guard netc's next transaction on the project.
With northd paused nobody else writes, which separates the service's own cost from
what those write-backs cost it. These rows have no goal.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import signal
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from bench.cpu_use import CpuUse
from bench.figures import Context, Figure, pending

FAMILY = "service"
CONCURRENCY = (1, 16, 64)
REQUESTS_PER_RUN = 128
"""CreatePorts per side, point and round: a few hundred per point over the rounds."""
BIG_PROJECT = 1000
BUILD_CLIENTS = 16
BLOCK = 8
"""Requests in one project before the single client turns to the other."""
BLOCKS_PER_ROUND = 8
"""Blocks per project and round (so 64 requests per project and round)."""
P99_GOAL_MS, P99_BAR_MS = 20.0, 50.0
SIZE_GOAL = 1.5
ORG = "bench"
SUBNET_PREFIX = 21
"""2,046 addresses: the 1,000-port project plus what its figure adds."""
RAW_NETWORK = ipaddress.IPv4Network("172.16.0.0/12")
CLIENT_TIMEOUT = 600.0
"""Deadline of every call: a late answer is a sample, not a failure of the bench (the
leader of a project's batches answers only when that project's queue runs empty)."""
RECONCILE_SECONDS = 86400.0
"""The reconciler's period: beyond the run, so that only its start-up pass runs."""
DAEMON_NAMES = {"nb": "NB ovsdb-server", "sb": "SB ovsdb-server", "northd": "ovn-northd"}
CPUS = os.cpu_count() or 1


# -- the service and its metrics ------------------------------------------------------


def scrape(http: str) -> dict[tuple[str, tuple], float]:
    """Every sample of ``/metrics``: (name, sorted labels) -> value."""
    from prometheus_client.parser import text_string_to_metric_families
    with urllib.request.urlopen(f"{http}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


@dataclass
class Breakdown:
    """Deltas of the server's histograms over some runs."""

    requests: float = 0.0
    request_seconds: float = 0.0
    batches: float = 0.0
    batched_requests: float = 0.0
    compile: float = 0.0
    store: float = 0.0
    ovn: float = 0.0

    def add(self, before: dict, after: dict) -> None:
        def delta(name: str, labels: tuple = ()) -> float:
            return after.get((name, labels), 0.0) - before.get((name, labels), 0.0)
        method = (("method", "CreatePort"),)
        self.requests += delta("overlay_network_request_duration_seconds_count", method)
        self.request_seconds += delta("overlay_network_request_duration_seconds_sum", method)
        self.batches += delta("overlay_network_batch_requests_count")
        self.batched_requests += delta("overlay_network_batch_requests_sum")
        self.compile += delta("overlay_network_compile_duration_seconds_sum")
        self.store += delta("overlay_network_store_duration_seconds_sum")
        self.ovn += delta("overlay_network_ovn_operations_duration_seconds_sum")

    @property
    def server_ms(self) -> float:
        return 1000 * self.request_seconds / self.requests if self.requests else 0.0

    def per_batch_ms(self) -> dict[str, float]:
        batches = self.batches or 1
        return {"compile": 1000 * self.compile / batches, "store": 1000 * self.store / batches,
                "OVN": 1000 * self.ovn / batches}

    def describe(self) -> str:
        if not self.requests:
            return "no CreatePort in the metrics"
        parts = self.per_batch_ms()
        total = self.server_ms
        shares = ", ".join(f"{name} {100 * ms / total:.0f}%" for name, ms in parts.items())
        rest = 100 * (total - sum(parts.values())) / total
        per_batch = ", ".join(f"{name} {ms:.1f}" for name, ms in parts.items())
        size = self.batched_requests / self.batches if self.batches else 0
        return (f"of the server's {total:.1f} ms: {shares}, rest {rest:.0f}% "
                f"(per batch ms: {per_batch}; {size:.1f} requests/batch)")

    def as_dict(self) -> dict:
        return {"requests": self.requests, "server_ms": self.server_ms,
                "batches": self.batches, "batched_requests": self.batched_requests,
                "per_batch_ms": self.per_batch_ms()}


# -- load -----------------------------------------------------------------------------


def run_load(clients: list, call: Callable[[object, int], object], count: int
             ) -> tuple[list[float], float]:
    """``count`` calls spread over one thread per client, released together; the
    latency of each call and the wall time of all (seconds)."""
    counter = itertools.count()
    claim = threading.Lock()
    latencies: list[float] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(clients) + 1)

    def work(client) -> None:
        mine = []
        barrier.wait()
        while True:
            with claim:
                index = next(counter)
            if index >= count or failures:
                break
            started = time.perf_counter()
            try:
                call(client, index)
            except BaseException as error:  # reported after the join
                failures.append(error)
                break
            mine.append(time.perf_counter() - started)
        with claim:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(client,), daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"a request of the load failed: {failures[0]!r}") from failures[0]
    return latencies, wall


def percentile(samples: list[float], q: int) -> float:
    """The ``q``-th percentile (inclusive method), in milliseconds."""
    if len(samples) == 1:
        return 1000 * samples[0]
    return 1000 * statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def p50(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


# -- the bench ------------------------------------------------------------------------


@dataclass
class Bench:
    service: object
    sandbox: object
    admin: object
    nb: object
    projects: itertools.count = field(default_factory=lambda: itertools.count(1))
    raw_ports: itertools.count = field(default_factory=itertools.count)
    switches: itertools.count = field(default_factory=lambda: itertools.count(1))
    raw_pool: list = field(default_factory=list)
    """The reference's OVSDB connections, made before any load and reused."""

    def raw_clients(self, count: int) -> list:
        if len(self.raw_pool) < count:
            self.raw_pool += ovsdb_clients(self.sandbox.nb_remote, count - len(self.raw_pool))
        return self.raw_pool[:count]

    def close(self) -> None:
        for client in self.raw_pool:
            client.close()
        self.raw_pool.clear()

    def new_project(self, label: str) -> tuple[str, str]:
        """A VPC (from the pool) with a /21 subnet beside the default /24 the VPC comes
        with: (project id, subnet id)."""
        project = f"{label}-{next(self.projects)}"
        vpc = self.admin.create_vpc(org_id=ORG, project_id=project, name=project)
        blocks = ipaddress.IPv4Network(vpc.cidr).subnets(new_prefix=SUBNET_PREFIX)
        next(blocks)  # the default subnet's
        cidr = next(blocks)
        subnet = self.admin.create_subnet(org_id=ORG, project_id=project, vpc_id=vpc.id,
                                          name="vms", cidr=str(cidr), dhcp_enabled=True)
        return project, subnet.id

    def new_switch(self) -> str:
        """A Logical_Switch of no owner for the reference: its UUID."""
        result = self.nb.transact([{"op": "insert", "table": "Logical_Switch",
                                    "row": {"name": f"bench-raw-{next(self.switches)}"}}])
        return result[0]["uuid"][1]

    def raw_port_operations(self, switch: str) -> list[dict]:
        index = next(self.raw_ports)
        ip = RAW_NETWORK.network_address + 2 + index
        mac = "0e:" + ":".join(f"{b:02x}" for b in index.to_bytes(5, "big"))
        address = f"{mac} {ip}"
        return [{"op": "insert", "table": "Logical_Switch_Port", "uuid-name": "port",
                 "row": {"name": f"bench-raw-port-{index}", "addresses": address,
                         "port_security": address}},
                {"op": "mutate", "table": "Logical_Switch",
                 "where": [["_uuid", "==", ["uuid", switch]]],
                 "mutations": [["ports", "insert", ["set", [["named-uuid", "port"]]]]]}]

    # one side of one point

    def netc_run(self, clients: list, project: str, subnet: str, count: int,
                 breakdown: Breakdown, ports: list | None = None) -> tuple[list[float], float]:
        """``count`` CreatePorts; the ids made are appended to ``ports``."""
        made = [] if ports is None else ports

        def call(client, index: int) -> None:
            made.append(client.create_port(org_id=ORG, project_id=project, subnet_id=subnet,
                                           vm_id=f"vm-{index}").id)
        before = scrape(self.service.http)
        result = run_load(clients, call, count)
        breakdown.add(before, scrape(self.service.http))
        return result

    def drop_project(self, clients: list, project: str, ports: list[str]) -> None:
        """Delete the project's ports (batched, by ``clients``) and its VPC: the world
        goes back to what it was before :meth:`new_project`. Not measured."""
        run_load(clients, lambda client, index: client.delete_port(
            org_id=ORG, project_id=project, id=ports[index]), len(ports))
        self.admin.delete_vpc(org_id=ORG, project_id=project, id=f"{ORG}/{project}")

    def drop_switch(self, switch: str) -> None:
        """Delete a reference switch (its ports go with it: they are its children)."""
        self.nb.transact([{"op": "delete", "table": "Logical_Switch",
                           "where": [["_uuid", "==", ["uuid", switch]]]}])

    def processes(self) -> dict[str, int]:
        """The processes a CreatePort (and the reference's transact) goes through, by
        name: the server, the sandbox's daemons, and this one (the clients)."""
        named = {"netc serve": self.service.process.pid, "clients": os.getpid()}
        for daemon in self.sandbox.daemons():
            pid = daemon.pid()
            if pid is not None:
                named[DAEMON_NAMES.get(daemon.name, daemon.name)] = pid
        return named

    def world_ports(self) -> int:
        """Logical_Switch_Ports the service owns in the Northbound (router ports too)."""
        from netc.backends.ovn_nb.state import owner_condition
        return len(self.nb.select("Logical_Switch_Port", [owner_condition(self.service.owner)],
                                  columns=["_uuid"]))

    def raw_run(self, clients: list, switch: str, count: int) -> tuple[list[float], float]:
        lock = threading.Lock()

        def call(client, index: int) -> None:
            with lock:
                operations = self.raw_port_operations(switch)
            client.transact(operations)
        return run_load(clients, call, count)


def service_clients(address: str, count: int) -> list:
    import grpc

    from netc.client import NetworkClient
    clients = []
    for _ in range(count):
        channel = grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
        grpc.channel_ready_future(channel).result(timeout=30)
        clients.append(NetworkClient(channel, timeout=CLIENT_TIMEOUT))
    return clients


def ovsdb_clients(remote: str, count: int) -> list:
    from netc.backends.ovn_nb.ovsdb import OvsdbClient
    clients = []
    for _ in range(count):
        client = OvsdbClient(remote)
        client.connect()
        clients.append(client)
    return clients


# -- the figures ----------------------------------------------------------------------


PAUSED = (1, 16)
"""Concurrencies measured again with northd paused (see :func:`northd_paused`)."""
PAUSED_LABEL = "northd paused"
NOOP = (16,)
"""Concurrencies (of ``CONCURRENCY``) whose rounds also time a call that does no work
(see the module docstring)."""


def _clients(n: int) -> str:
    return f"{n} client{'s' if n > 1 else ''}"


def _names() -> list[tuple[str, str, str, float | None]]:
    """(name, unit, reference, goal) of every figure, in report order."""
    raw, empty = "raw OVSDB transact", "same world, empty project"
    alone = "empty project, empty world"
    big = f"project with {BIG_PROJECT:,} ports"
    names = []
    for n in CONCURRENCY:
        names += [(f"CreatePort p50, {_clients(n)}", "ms", raw, None),
                  (f"CreatePort p99, {_clients(n)}", "ms", raw, None),
                  (f"CreatePort ports/s, {_clients(n)}", "ports/s", raw, None),
                  (f"CreatePort server time, {_clients(n)}", "ms", raw, None)]
    names += [(f"CPU per CreatePort, {_clients(n)}", "ms", raw, None) for n in CONCURRENCY]
    for n in NOOP:
        names += [(f"gRPC no-op p50, {_clients(n)}", "ms", raw, None),
                  (f"gRPC no-op p99, {_clients(n)}", "ms", raw, None)]
    for n in PAUSED:
        names += [(f"CreatePort p50, {_clients(n)}, {PAUSED_LABEL}", "ms", raw, None),
                  (f"CreatePort p99, {_clients(n)}, {PAUSED_LABEL}", "ms", raw, None),
                  (f"CreatePort server time, {_clients(n)}, {PAUSED_LABEL}", "ms", raw, None)]
    names += [(f"CPU per CreatePort, {_clients(n)}, {PAUSED_LABEL}", "ms", raw, None)
              for n in PAUSED]
    names += [(f"CreatePort p50, {big}", "ms", empty, SIZE_GOAL),
              (f"CreatePort p99, {big}", "ms", empty, None),
              (f"CreatePort server time, {big}", "ms", empty, None),
              (f"raw transact p50, switch with {BIG_PROJECT:,} ports", "ms", "empty switch", None),
              (f"CreatePort p50, {big}, {PAUSED_LABEL}", "ms", empty, None),
              (f"CreatePort server time, {big}, {PAUSED_LABEL}", "ms", empty, None),
              (f"CreatePort p50, empty project, world with the {big}, {PAUSED_LABEL}", "ms",
               alone, None),
              (f"CreatePort server time, empty project, world with the {big}, {PAUSED_LABEL}",
               "ms", alone, None)]
    return names


def measure(context: Context) -> list[Figure]:
    if not all(shutil.which(b) for b in ("ovsdb-server", "ovsdb-tool", "ovn-northd",
                                         "ovn-nbctl")):
        why = ("needs OVN's binaries (ovsdb-server, ovsdb-tool, ovn-northd, ovn-nbctl) to "
               "start a sandbox for netc serve")
        return [pending(FAMILY, name, unit, reference, goal, why)
                for name, unit, reference, goal in _names()]
    with tempfile.TemporaryDirectory(prefix="netc-bench-service-") as scratch:
        with running(Path(scratch) / "a") as bench:
            figures = concurrency_figures(bench, context.repeat)
            figures += size_figures(bench, context.repeat)
            with running(Path(scratch) / "b") as other:
                figures += world_figures(bench, other, context.repeat)
    expected = [name for name, *_ in _names()]
    if [figure.name for figure in figures] != expected:
        raise AssertionError("the service figures are not the ones _names() lists")
    return figures


@contextmanager
def running(directory: Path) -> Iterator[Bench]:
    """A sandbox and a ``netc serve`` on it (SQLite in ``directory``), stopped after."""
    from netc.client import NetworkClient
    from netc.devtools.sandbox import Sandbox
    from netc.devtools.service import ServiceProcess

    sandbox = Sandbox(directory / "sandbox").start()
    service = None
    try:
        service = ServiceProcess(directory / "serve", sandbox.nb_remote,
                                 reconcile_interval=RECONCILE_SECONDS).start()
        admin = NetworkClient.connect(service.address)
        nb = ovsdb_clients(sandbox.nb_remote, 1)[0]
        bench = Bench(service, sandbox, admin, nb)
        try:
            yield bench
        finally:
            bench.close()
            admin.close()
            nb.close()
    finally:
        if service is not None:
            service.stop()
        sandbox.stop()


@contextmanager
def northd_paused(sandbox) -> Iterator[None]:
    """ovn-northd stopped (SIGSTOP), so that nothing but the writer under test writes
    to the Northbound: northd writes ``up`` back into every new Logical_Switch_Port
    (and router port) a moment after it appears. Resumed (SIGCONT) afterwards, and
    given time to catch up before anything else is measured."""
    pid = next(d for d in sandbox.daemons() if d.name == "northd").pid()
    if pid is None:
        raise RuntimeError("the sandbox's ovn-northd is not running")
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
        sandbox.nbctl("--wait=sb", "sync")


def _warm_up(bench: Bench, clients: list) -> None:
    """First requests of a fresh server pay for imports and caches: not measured."""
    project, subnet = bench.new_project("warm")
    ports: list[str] = []
    bench.netc_run(clients[:4], project, subnet, 16, Breakdown(), ports)
    bench.drop_project(clients[:BUILD_CLIENTS], project, ports)
    switch = bench.new_switch()
    bench.raw_run(bench.raw_clients(4), switch, 16)
    bench.drop_switch(switch)


@dataclass
class Point:
    """Both sides of one concurrency, pooled over the rounds."""

    netc: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    netc_rate: list[float] = field(default_factory=list)
    raw_rate: list[float] = field(default_factory=list)
    breakdown: Breakdown = field(default_factory=Breakdown)
    world: set[int] = field(default_factory=set)
    """Ports the service owned elsewhere when a run began (the same each time)."""
    noop: list[float] = field(default_factory=list)
    """Health checks of the same clients, for the concurrencies in ``NOOP``."""
    netc_cpu: CpuUse = field(default_factory=CpuUse)
    raw_cpu: CpuUse = field(default_factory=CpuUse)


def run_points(bench: Bench, clients: list, concurrency: tuple[int, ...], repeat: int,
               label: str, noop: tuple[int, ...] = ()) -> dict[int, Point]:
    """Every point, ``repeat`` rounds; each run in a fresh project (switch) that is
    deleted after it, so that every run meets the same world; the points in ``noop``
    time health checks too."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    checks = {id(client): health_pb2_grpc.HealthStub(client.channel) for client in clients}
    points = {n: Point() for n in concurrency}
    for round_ in range(repeat):
        for n, point in points.items():
            def netc_side() -> None:
                point.world.add(bench.world_ports())
                project, subnet = bench.new_project(f"{label}{n}")
                ports: list[str] = []
                with point.netc_cpu.measuring(bench.processes(), REQUESTS_PER_RUN):
                    latencies, wall = bench.netc_run(clients[:n], project, subnet,
                                                     REQUESTS_PER_RUN, point.breakdown, ports)
                point.netc.extend(latencies)
                point.netc_rate.append(REQUESTS_PER_RUN / wall)
                bench.drop_project(clients[:BUILD_CLIENTS], project, ports)

            def raw_side() -> None:
                switch = bench.new_switch()
                with point.raw_cpu.measuring(bench.processes(), REQUESTS_PER_RUN):
                    latencies, wall = bench.raw_run(bench.raw_clients(n), switch,
                                                    REQUESTS_PER_RUN)
                point.raw.extend(latencies)
                point.raw_rate.append(REQUESTS_PER_RUN / wall)
                bench.drop_switch(switch)

            def noop_side() -> None:
                point.noop.extend(run_load(clients[:n], lambda client, index: checks[id(
                    client)].Check(health_pb2.HealthCheckRequest()), REQUESTS_PER_RUN)[0])

            sides = [raw_side, netc_side] + ([noop_side] if n in noop else [])
            for side in sides if round_ % 2 == 0 else sides[::-1]:
                side()
    return points


def concurrency_figures(bench: Bench, repeat: int) -> list[Figure]:
    clients = service_clients(bench.service.address, max(CONCURRENCY))
    try:
        bench.raw_clients(max(CONCURRENCY))
        _warm_up(bench, clients)
        points = run_points(bench, clients, CONCURRENCY, repeat, "c", NOOP)
        with northd_paused(bench.sandbox):
            paused = run_points(bench, clients, PAUSED, repeat, "paused")
    finally:
        for client in clients:
            client.close()

    reference = "raw OVSDB transact"
    figures = []
    for n, point in points.items():
        p99_note = ""
        if n == 16:
            value = percentile(point.netc, 99)
            p99_note = (f"goal p99 < {P99_GOAL_MS:g} ms: "
                        f"{'meets' if value < P99_GOAL_MS else 'MISSES'}; issue bar "
                        f"< {P99_BAR_MS:g} ms: {'meets' if value < P99_BAR_MS else 'MISSES'}")
        figures += _latency_rows(point, _clients(n), reference,
                                 f"{len(point.netc)} requests per side; "
                                 f"{_world(point.world)}", p99_note)
        figures.insert(len(figures) - 1, Figure(
            FAMILY, f"CreatePort ports/s, {_clients(n)}", "ports/s",
            round(statistics.median(point.netc_rate)), reference,
            round(statistics.median(point.raw_rate)), None,
            {"netc": point.netc_rate, "reference": point.raw_rate},
            note="higher is better; median of the rounds"))
    figures += [_cpu_row(point, _clients(n), reference) for n, point in points.items()]
    for n in NOOP:
        point = points[n]
        for q in (50, 99):
            noop = percentile(point.noop, q)
            figures.append(Figure(
                FAMILY, f"gRPC no-op p{q}, {_clients(n)}", "ms", round(noop, 2), reference,
                round(percentile(point.raw, q), 2), None, {"netc": point.noop},
                note=f"diagnostic: Health/Check of the same server, clients and rounds; "
                     f"CreatePort's p{q} is {percentile(point.netc, q) / noop:.1f}x it"))
    for n, point in paused.items():
        figures += _latency_rows(point, f"{_clients(n)}, {PAUSED_LABEL}", reference,
                                 "diagnostic: no write-back of Logical_Switch_Port.up", "")
    figures += [_cpu_row(point, f"{_clients(n)}, {PAUSED_LABEL}", reference)
                for n, point in paused.items()]
    return figures


def _cpu_row(point: Point, label: str, reference: str) -> Figure:
    return Figure(
        FAMILY, f"CPU per CreatePort, {label}", "ms", round(point.netc_cpu.total_ms(), 2),
        reference, round(point.raw_cpu.total_ms(), 2), None,
        {"netc": point.netc_cpu.as_dict(), "reference": point.raw_cpu.as_dict()},
        note=f"diagnostic: every process a request goes through, the same runs; netc "
             f"{point.netc_cpu.describe(CPUS)}; reference {point.raw_cpu.describe(CPUS)}")


def _max(netc: list[float], raw: list[float]) -> str:
    return f"max {1000 * max(netc):.0f} ms (reference {1000 * max(raw):.1f} ms)"


def _world(counts: set[int]) -> str:
    shown = "/".join(str(c) for c in sorted(counts))
    return f"the service's other ports at each run: {shown}"


def _latency_rows(point: Point, label: str, reference: str, p50_note: str,
                  p99_note: str) -> list[Figure]:
    return [
        Figure(FAMILY, f"CreatePort p50, {label}", "ms", round(p50(point.netc), 2), reference,
               round(p50(point.raw), 2), None, {"netc": point.netc, "reference": point.raw},
               note=p50_note),
        Figure(FAMILY, f"CreatePort p99, {label}", "ms", round(percentile(point.netc, 99), 2),
               reference, round(percentile(point.raw, 99), 2), None,
               note="; ".join(x for x in (p99_note, _max(point.netc, point.raw)) if x)),
        Figure(FAMILY, f"CreatePort server time, {label}", "ms",
               round(point.breakdown.server_ms, 2), reference,
               round(1000 * statistics.fmean(point.raw), 2), None,
               {"breakdown": [point.breakdown.as_dict()]},
               note=f"reference: its mean in the client; {point.breakdown.describe()}"),
    ]


@dataclass
class Sizes:
    """Single-client samples in the big and the empty project (and switch)."""

    netc: dict[str, list[float]] = field(default_factory=lambda: {"big": [], "empty": []})
    raw: dict[str, list[float]] = field(default_factory=lambda: {"big": [], "empty": []})
    breakdowns: dict[str, Breakdown] = field(
        default_factory=lambda: {"big": Breakdown(), "empty": Breakdown()})
    ports: dict[str, list[str]] = field(default_factory=lambda: {"big": [], "empty": []})


def alternate(bench: Bench, client: list, raw_client: list | None, where: dict,
              repeat: int) -> Sizes:
    """Blocks of requests, alternating between the projects (and the switches);
    ``where``: "big" and "empty" -> (bench, project, subnet, switch or None)."""
    sizes = Sizes()
    for round_ in range(repeat):
        for block in range(BLOCKS_PER_ROUND):
            order = ("big", "empty") if (round_ + block) % 2 == 0 else ("empty", "big")
            for which in order:
                side, project, subnet, switch = where[which]
                latencies, _ = side.netc_run(client[which], project, subnet, BLOCK,
                                             sizes.breakdowns[which], sizes.ports[which])
                sizes.netc[which].extend(latencies)
                if switch is not None:
                    latencies, _ = side.raw_run(raw_client, switch, BLOCK)
                    sizes.raw[which].extend(latencies)
    return sizes


def size_figures(bench: Bench, repeat: int) -> list[Figure]:
    big, big_subnet = bench.new_project("big")
    empty, empty_subnet = bench.new_project("empty")
    builders = service_clients(bench.service.address, BUILD_CLIENTS)
    try:
        build = Breakdown()
        build_latencies, build_seconds = bench.netc_run(builders, big, big_subnet, BIG_PROJECT,
                                                        build)
        big_switch = bench.new_switch()
        # the reference's big switch in one transaction: its build is not the point
        operations = []
        for index in range(BIG_PROJECT):
            step = bench.raw_port_operations(big_switch)
            step[0]["uuid-name"] = f"port{index}"
            step[1]["mutations"][0][2] = ["set", [["named-uuid", f"port{index}"]]]
            operations += step
        bench.nb.transact(operations)
        single = {"big": builders[:1], "empty": builders[:1]}
        where = {"big": (bench, big, big_subnet, big_switch),
                 "empty": (bench, empty, empty_subnet, bench.new_switch())}
        sizes = alternate(bench, single, bench.raw_clients(1), where, repeat)
        bench.drop_project(builders, empty, sizes.ports["empty"])
        empty2, empty2_subnet = bench.new_project("empty")
        where["empty"] = (bench, empty2, empty2_subnet, bench.new_switch())
        with northd_paused(bench.sandbox):
            paused = alternate(bench, single, bench.raw_clients(1), where, repeat)
            bench.drop_project(builders, empty2, paused.ports["empty"])
    finally:
        for client in builders:
            client.close()

    build_note = (f"the {BIG_PROJECT:,} ports built through the API at {BUILD_CLIENTS} "
                  f"clients in {build_seconds:.1f} s ({BIG_PROJECT / build_seconds:.0f} ports/s, "
                  f"{build.batched_requests / (build.batches or 1):.1f} requests/batch, "
                  f"slowest call {1000 * max(build_latencies):.0f} ms)")
    reference = "same world, empty project"
    label = f"project with {BIG_PROJECT:,} ports"
    return [
        Figure(FAMILY, f"CreatePort p50, {label}", "ms", round(p50(sizes.netc["big"]), 2),
               reference, round(p50(sizes.netc["empty"]), 2), SIZE_GOAL,
               {"netc": sizes.netc["big"], "reference": sizes.netc["empty"]},
               note=f"{len(sizes.netc['big'])} requests each, 1 client, alternating blocks of "
                    f"{BLOCK}; {build_note}"),
        Figure(FAMILY, f"CreatePort p99, {label}", "ms",
               round(percentile(sizes.netc["big"], 99), 2), reference,
               round(percentile(sizes.netc["empty"], 99), 2), None,
               note=_max(sizes.netc["big"], sizes.netc["empty"])),
        _server_row(sizes, f"CreatePort server time, {label}", reference),
        Figure(FAMILY, f"raw transact p50, switch with {BIG_PROJECT:,} ports", "ms",
               round(p50(sizes.raw["big"]), 2), "empty switch", round(p50(sizes.raw["empty"]), 2),
               None, {"netc": sizes.raw["big"], "reference": sizes.raw["empty"]},
               note="what OVSDB itself does with the size: the raw transact of the reference"),
        Figure(FAMILY, f"CreatePort p50, {label}, {PAUSED_LABEL}", "ms",
               round(p50(paused.netc["big"]), 2), reference,
               round(p50(paused.netc["empty"]), 2), None,
               {"netc": paused.netc["big"], "reference": paused.netc["empty"]},
               note="diagnostic: no write-back of Logical_Switch_Port.up; a fresh empty "
                    "project"),
        _server_row(paused, f"CreatePort server time, {label}, {PAUSED_LABEL}", reference),
    ]


def _server_row(sizes: Sizes, name: str, reference: str) -> Figure:
    big, empty = sizes.breakdowns["big"], sizes.breakdowns["empty"]
    return Figure(FAMILY, name, "ms", round(big.server_ms, 2), reference,
                  round(empty.server_ms, 2), None,
                  {"breakdown": [big.as_dict(), empty.as_dict()]},
                  note=f"{BIG_PROJECT:,} ports: {big.describe()}; empty: {empty.describe()}")


def world_figures(bench: Bench, other: Bench, repeat: int) -> list[Figure]:
    """An empty project in ``bench`` (its world holds the big project) beside an empty
    project in ``other``, a second sandbox and service holding nothing else; both
    northds paused, so that what differs is the world alone."""
    world = bench.world_ports()
    here, here_subnet = bench.new_project("alone")
    there, there_subnet = other.new_project("alone")
    clients = {"big": service_clients(bench.service.address, 1),
               "empty": service_clients(other.service.address, 1)}
    try:
        where = {"big": (bench, here, here_subnet, None),
                 "empty": (other, there, there_subnet, None)}
        with northd_paused(bench.sandbox), northd_paused(other.sandbox):
            sizes = alternate(bench, clients, None, where, repeat)
    finally:
        for pair in clients.values():
            pair[0].close()
    reference = "empty project, empty world"
    label = f"empty project, world with the project with {BIG_PROJECT:,} ports, {PAUSED_LABEL}"
    here_, there_ = sizes.breakdowns["big"], sizes.breakdowns["empty"]
    return [
        Figure(FAMILY, f"CreatePort p50, {label}", "ms", round(p50(sizes.netc["big"]), 2),
               reference, round(p50(sizes.netc["empty"]), 2), None,
               {"netc": sizes.netc["big"], "reference": sizes.netc["empty"]},
               note=f"the world: {world} other ports in the service; the reference: a second "
                    f"sandbox and netc serve holding nothing else; 1 client, alternating "
                    f"blocks of {BLOCK}"),
        Figure(FAMILY, f"CreatePort server time, {label}", "ms", round(here_.server_ms, 2),
               reference, round(there_.server_ms, 2), None,
               {"breakdown": [here_.as_dict(), there_.as_dict()]},
               note=f"beside {world} ports: {here_.describe()}; alone: {there_.describe()}"),
    ]
