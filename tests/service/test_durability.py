"""Allocation under concurrency, crashes and restarts: what the VM manager was told
exists, exists (in the store and in OVN); nothing half-made stays; no address twice;
the store exported as intent plans "No changes." against the Northbound."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from netc.backends.ovn_nb.ovsdb import OvsdbClient
from netc.client import NetworkClient, NetworkError
from netc.service.store import open_store
from tests.service.conftest import SERVICE

pytestmark = SERVICE


def service_ports(nb_remote: str, owner: str = "netc-service") -> dict[str, dict]:
    """Logical_Switch_Port name -> row, for the VM ports the service owns."""
    with OvsdbClient(nb_remote) as nb:
        rows = nb.select("Logical_Switch_Port", [
            ["external_ids", "includes", ["map", [["netc:owner", owner]]]]])
    return {row["name"]: row for row in rows
            if dict(row["external_ids"][1]).get("netc:key", "").startswith("port:")}


def stored_ports(server) -> dict[str, dict]:
    from netc.service import records
    store = open_store(server.store_url)
    try:
        return {key.rpartition("/")[2]: records.decode(entry) for key, entry in
                store.range([f"{records.ROOT}/ports/"]).items()}
    finally:
        store.close()


def assert_store_and_ovn_agree(server, *, orgs: set[str] | None = None) -> dict[str, dict]:
    """Every stored port is an LSP with its MAC and IP, and every LSP a stored port; no
    IP or MAC is held twice in a subnet; each subnet's allocation list is its ports'."""
    from netc.service import records
    stored = {pid: p for pid, p in stored_ports(server).items()
              if orgs is None or p["org_id"] in orgs}
    in_ovn = {name: row for name, row in service_ports(server.sandbox.nb_remote).items()
              if orgs is None or dict(row["external_ids"][1])["netc:org"] in orgs}
    assert set(stored) == set(in_ovn)
    for pid, port in stored.items():
        assert in_ovn[pid]["addresses"] == f"{port['mac_address']} {port['ip_address']}"
    by_subnet: dict[str, list[dict]] = {}
    for port in stored.values():
        by_subnet.setdefault(port["subnet_id"], []).append(port)
    store = open_store(server.store_url)
    try:
        for subnet, ports in by_subnet.items():
            ips = [p["ip_address"] for p in ports]
            assert len(set(ips)) == len(ips), f"an IP handed out twice in {subnet}"
            org, project, name = subnet.split("/")
            allocated = records.decode(store.get([records.ipam_key(org, project, name)])
                                       .get(records.ipam_key(org, project, name)))
            assert sorted(allocated) == sorted(ips)
    finally:
        store.close()
    macs = [p["mac_address"] for p in stored.values()]
    assert len(set(macs)) == len(macs)
    return stored


def test_200_concurrent_creates_from_16_threads_into_one_subnet(service, client):
    client.create_vpc(org_id="load", project_id="one", cidr="10.60.0.0/16")
    client.create_subnet(org_id="load", project_id="one", name="big", cidr="10.60.4.0/22",
                         dhcp_enabled=True)

    def create(index: int):
        return client.create_port(org_id="load", project_id="one", subnet_id="big",
                                  vm_id=f"vm-{index}")

    with ThreadPoolExecutor(16) as pool:
        ports = list(pool.map(create, range(200)))
    assert len({p.ip_address for p in ports}) == 200
    assert len({p.mac_address for p in ports}) == 200
    assert len({p.id for p in ports}) == 200
    in_ovn = service_ports(service.sandbox.nb_remote)
    for port in ports:
        assert in_ovn[port.id]["addresses"] == f"{port.mac_address} {port.ip_address}"
        assert in_ovn[port.id]["_uuid"][1] == port.ovn_port_uuid
    stored = assert_store_and_ovn_agree(service, orgs={"load"})
    assert set(stored) == {p.id for p in ports}


def test_sigkill_during_a_load_loses_no_acknowledged_port(service_factory):
    server = service_factory(reconcile_interval=1.0)
    projects = [("crash", "a"), ("crash", "b")]
    with NetworkClient.connect(server.address) as setup:
        for index, (org, project) in enumerate(projects):
            setup.create_vpc(org_id=org, project_id=project, cidr=f"10.{70 + index}.0.0/16")
    acknowledged: dict[str, tuple[str, str]] = {}
    lock = threading.Lock()
    rng = random.Random(7)

    def load(stop: threading.Event, seed: int) -> None:
        own = random.Random(seed)
        while not stop.is_set():
            try:
                with NetworkClient.connect(server.address, timeout=5) as client:
                    while not stop.is_set():
                        org, project = own.choice(projects)
                        port = client.create_port(org_id=org, project_id=project)
                        with lock:
                            acknowledged[port.id] = (port.mac_address, port.ip_address)
            except NetworkError:
                time.sleep(0.05)  # the server is down: try again once it is back

    for round_ in range(3):
        stop = threading.Event()
        threads = [threading.Thread(target=load, args=(stop, round_ * 10 + i)) for i in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.5, 1.5))
        server.kill()
        stop.set()
        for thread in threads:
            thread.join()
        server.start()
    assert len(acknowledged) > 20
    time.sleep(2.5)  # one reconciler period (1 s) and its run
    stored = assert_store_and_ovn_agree(server)
    for port_id, (mac, ip) in acknowledged.items():
        assert (stored[port_id]["mac_address"], stored[port_id]["ip_address"]) == (mac, ip)


def test_restart_keeps_the_state_and_the_export_plans_no_changes(service_factory, tmp_path,
                                                                fingerprint):
    server = service_factory()
    with NetworkClient.connect(server.address) as client:
        client.create_vpc(org_id="keep", project_id="web", cidr="10.80.0.0/16")
        client.create_subnet(org_id="keep", project_id="web", name="app",
                             cidr="10.80.1.0/24", dhcp_enabled=True, dns_servers=["1.1.1.1"])
        client.create_security_group(org_id="keep", project_id="web", name="app")
        client.create_port(org_id="keep", project_id="web", subnet_id="app",
                           security_group_ids=["app"], vm_id="vm-1")
        client.create_vpc(org_id="keep", project_id="db")
        client.create_port(org_id="keep", project_id="db")
        client.create_snat(org_id="keep", project_id="web", external_ip="203.0.113.80")
    before = fingerprint(server)
    assert server.stop() == 0
    server.start()
    with NetworkClient.connect(server.address) as client:
        assert sorted(v.id for v in client.list_vpcs(org_id="keep").vpcs) == ["keep/db", "keep/web"]
    time.sleep(0.5)
    assert fingerprint(server) == before

    out = tmp_path / "exported"
    config = server.config_path
    netc = [sys.executable, "-m", "netc"]
    done = subprocess.run([*netc, "export", "--store", server.store_url, "-o", str(out),
                           "--service-config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "keep").iterdir()) == ["db.yaml", "web.yaml"]
    check = subprocess.run([*netc, "check", "."], cwd=out, capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stderr
    plan = subprocess.run([*netc, "plan", ".", "--nb", server.sandbox.nb_remote,
                           "--detailed-exitcode"], cwd=out, capture_output=True, text=True,
                          timeout=60)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes." in plan.stdout


def test_the_reconciler_repairs_drift(service_factory):
    server = service_factory(reconcile_interval=0.5)
    with NetworkClient.connect(server.address) as client:
        client.create_vpc(org_id="drift", project_id="web")
        port = client.create_port(org_id="drift", project_id="web")
    server.sandbox.nbctl("lsp-del", port.id)

    def repaired():
        ports = service_ports(server.sandbox.nb_remote)
        return port.id in ports
    deadline = time.monotonic() + 10
    while not repaired():
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.2)
    _, metrics = server.get("/metrics")
    repairs = next(line for line in metrics.splitlines()
                   if line.startswith("overlay_network_reconcile_repairs_total "))
    assert float(repairs.split()[1]) >= 1
