"""A replicated deployment for the tests of issue 8, all real processes on loopback:
a 3-member etcd cluster, OVN with a 3-member RAFT Northbound, and several ``netc
serve`` replicas sharing them (short reconcile interval, so "after one reconciler
period" is seconds).

What the fault tests check after every fault is here too (:func:`check_consistent`):
no address handed out twice, every acknowledged port in the store and in OVN as it
was returned, store and OVN in agreement once the reconciler has run, the RAFT
cluster's databases consistent.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from netc.backends.ovn_nb.ovsdb import OvsdbClient
from netc.client import NetworkClient, NetworkError
from netc.devtools.etcd import EtcdCluster
from netc.devtools.sandbox import Sandbox, poll_until
from netc.devtools.service import ServiceProcess
from netc.service import records
from netc.service.store import open_store
from tests.ovn.conftest import start_sandbox

OWNER = "netc-service"
RECONCILE_INTERVAL = 1.0
SETTLE_TIMEOUT = 60.0
"""Seconds to wait for the reconciler to bring OVN in line after a fault (it needs one
interval; the margin is for a loaded CI machine, and is never a timing assertion)."""
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.CANCELLED}


@dataclass
class Deployment:
    directory: Path
    sandbox: Sandbox
    etcd: EtcdCluster
    replicas: list[ServiceProcess] = field(default_factory=list)

    @property
    def store_url(self) -> str:
        return f"etcd:{self.etcd.endpoint}"

    def add_replica(self, name: str) -> ServiceProcess:
        replica = ServiceProcess(self.directory / name, self.sandbox.nb_remote, name=name,
                                 storage={"backend": "etcd", "etcd_endpoint": self.etcd.endpoint},
                                 reconcile_interval=RECONCILE_INTERVAL)
        replica.sandbox = self.sandbox
        self.replicas.append(replica)
        return replica.start()

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self.etcd.stop()
        self.sandbox.stop()

    # -- what the store and OVN hold -------------------------------------------------

    def stored(self, prefix: str = records.ROOT + "/") -> dict[str, object]:
        store = open_store(self.store_url)
        try:
            return {key: json.loads(entry.value) for key, entry in store.range([prefix]).items()}
        finally:
            store.close()

    def stored_ports(self, org: str, project: str) -> dict[str, dict]:
        return {value["id"]: value for value in
                self.stored(f"{records.ROOT}/ports/{org}/{project}/").values()}

    def ovn_ports(self, org: str, project: str) -> dict[str, dict]:
        """The service's Logical_Switch_Ports of the project's VMs: name -> row (the
        switches' router ports left out)."""
        with OvsdbClient(self.sandbox.nb_remote) as nb:
            rows = nb.select("Logical_Switch_Port", [
                ["external_ids", "includes",
                 ["map", [["netc:owner", OWNER], ["netc:org", org], ["netc:project", project]]]]])
        return {row["name"]: row for row in rows if row["type"] != "router"}

    # -- metrics ---------------------------------------------------------------------

    def metric(self, replica: ServiceProcess, name: str, **labels: str) -> float | None:
        """The value of metric ``name`` (with those labels) on ``replica``'s /metrics."""
        status, text = replica.get("/metrics")
        if status != 200:
            return None
        for line in text.splitlines():
            match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
            if match and match.group(1) == name and \
                    dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")) == labels:
                return float(match.group(3))
        return None

    def leaders(self) -> list[ServiceProcess]:
        """The live replicas whose gauge says they run the reconciler."""
        return [r for r in self.replicas if r.process and r.process.poll() is None
                and self.metric(r, "overlay_network_reconciler_leader") == 1.0]


def start_deployment(directory: Path, replicas: int = 2) -> Deployment:
    sandbox = start_sandbox(Sandbox(directory / "ovn", cluster=3))
    etcd = None
    try:
        etcd = EtcdCluster(directory / "etcd", members=3).start()
        deployment = Deployment(directory, sandbox, etcd)
        for n in range(1, replicas + 1):
            deployment.add_replica(f"replica{n}")
    except BaseException:
        if etcd is not None:
            etcd.stop()
        sandbox.stop()
        raise
    return deployment


# -- load ------------------------------------------------------------------------------


@dataclass
class Load:
    """CreatePort calls from threads, each sent to a replica and retried on the next
    when the answer is UNAVAILABLE (the replica died, the store or OVN failed over):
    what a VM manager behind a load balancer does."""

    deployment: Deployment
    org: str
    project: str
    acknowledged: list = field(default_factory=list)
    """Every port the service returned."""
    ambiguous: int = 0
    """Calls that failed after they may have reached a replica: each may have made a
    port that no one was told of (a retry then makes another)."""
    refused: list = field(default_factory=list)
    retries: Counter = field(default_factory=Counter)
    """Calls answered UNAVAILABLE (and so sent again), by error code."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, acknowledged: int, timeout: float = 120.0) -> None:
        """Until this many ports were acknowledged in all (the load goes on meanwhile)."""
        poll_until(lambda: len(self.acknowledged) >= acknowledged, timeout,
                   f"{acknowledged} acknowledged ports")

    def create_ports(self, count: int, threads: int, subnet: str = "default",
                     during: Callable[[], None] | None = None, attempts: int = 12) -> None:
        """``count`` CreatePort calls over ``threads`` threads; ``during`` runs in the
        calling thread once a quarter of them are answered (the fault)."""
        started = threading.Event()
        remaining = iter(range(count))
        take = threading.Lock()

        def worker(n: int) -> None:
            clients = [NetworkClient.connect(r.address, timeout=30) for r in self.deployment.replicas]
            try:
                while True:
                    with take:
                        index = next(remaining, None)
                    if index is None:
                        return
                    self._one(clients, n + index, subnet, attempts)
                    if len(self.acknowledged) >= count // 4:
                        started.set()
            finally:
                for client in clients:
                    client.close()

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for thread in workers:
            thread.start()
        if during is not None:
            started.wait(timeout=300)
            during()
        for thread in workers:
            thread.join()

    def _one(self, clients: list[NetworkClient], start: int, subnet: str, attempts: int) -> None:
        for attempt in range(attempts):
            client = clients[(start + attempt) % len(clients)]
            try:
                port = client.create_port(org_id=self.org, project_id=self.project,
                                          subnet_id=subnet, vm_id=f"vm-{start}")
            except NetworkError as error:
                if error.status not in RETRYABLE:
                    with self.lock:
                        self.refused.append(error)
                    return
                # CONFLICT and a refused connection wrote nothing; anything else may have
                with self.lock:
                    self.retries[error.code] += 1
                    if error.code != "CONFLICT" and \
                            "failed to connect" not in error.details.lower():
                        self.ambiguous += 1
                threading.Event().wait(0.2 * (attempt + 1))
                continue
            with self.lock:
                self.acknowledged.append(port)
            return
        with self.lock:
            self.refused.append(f"port {start}: no replica answered in {attempts} attempts")


# -- the checks after a fault ----------------------------------------------------------


def duplicates(values: Iterable) -> list:
    return [value for value, n in Counter(values).items() if n > 1]


def check_no_duplicate_allocation(deployment: Deployment) -> None:
    stored = deployment.stored()
    ports = [v for k, v in stored.items() if k.startswith(f"{records.ROOT}/ports/")]
    assert duplicates(p["mac_address"] for p in ports) == []
    assert duplicates((p["subnet_id"], p["ip_address"]) for p in ports) == []
    macs = {k.rpartition("/")[2]: v for k, v in stored.items()
            if k.startswith(f"{records.ROOT}/macs/")}
    assert macs == {p["mac_address"]: p["id"] for p in ports}  # the MAC index is exact
    for key, allocated in stored.items():
        if key.startswith(f"{records.ROOT}/ipam/"):
            org, project, subnet = key[len(f"{records.ROOT}/ipam/"):].split("/")[:3]
            assert duplicates(allocated) == []
            held = sorted((p["ip_address"] for p in ports
                           if p["subnet_id"] == f"{org}/{project}/{subnet}"),
                          key=ipaddress.IPv4Address)
            assert allocated == held, f"{key}: the allocation list is not the ports' IPs"
    used = stored.get(records.POOL_USED_KEY, [])
    networks = [ipaddress.IPv4Network(block) for block in used]
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1:])


def check_consistent(deployment: Deployment, load: Load) -> None:
    """After a fault: nothing allocated twice, every acknowledged port in the store and
    in OVN as returned, and, after the reconciler has run, OVN exactly the store."""
    org, project = load.org, load.project
    assert load.refused == []
    check_no_duplicate_allocation(deployment)
    stored = deployment.stored_ports(org, project)
    for port in load.acknowledged:
        assert port.id in stored, f"acknowledged port {port.id} is not in the store"
        record = stored[port.id]
        assert (record["ip_address"], record["mac_address"]) == (port.ip_address, port.mac_address)
    # unacknowledged ports only from calls whose answer was lost
    assert len(stored) - len(load.acknowledged) <= load.ambiguous

    def in_line() -> bool:
        return set(deployment.ovn_ports(org, project)) == set(stored)
    poll_until(in_line, SETTLE_TIMEOUT, "the reconciler to bring OVN in line with the store")
    ovn = deployment.ovn_ports(org, project)
    for port_id, record in stored.items():
        assert ovn[port_id]["addresses"] == f"{record['mac_address']} {record['ip_address']}"
    for port in load.acknowledged:
        assert ovn[port.id]["addresses"] == f"{port.mac_address} {port.ip_address}"
    check_export_plans_no_changes(deployment)
    deployment.sandbox.check_cluster()


def check_export_plans_no_changes(deployment: Deployment) -> None:
    """The whole store, exported as intent, plans "No changes." against the Northbound:
    no project is half-made in OVN, once the reconciler has had its period."""
    out = deployment.directory / f"exported-{time.monotonic_ns()}"
    netc = [sys.executable, "-m", "netc"]
    done = subprocess.run([*netc, "export", "--store", deployment.store_url, "-o", str(out),
                           "--service-config", str(deployment.replicas[0].config_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    def no_changes() -> bool:
        plan = subprocess.run([*netc, "plan", ".", "--nb", deployment.sandbox.nb_remote,
                               "--detailed-exitcode"], cwd=out, capture_output=True, text=True,
                              timeout=120)
        assert plan.returncode in (0, 2), plan.stdout + plan.stderr
        return plan.returncode == 0
    poll_until(no_changes, SETTLE_TIMEOUT, "the exported store to plan no changes")
