"""Several ``netc serve`` replicas on one etcd (a real 3-member cluster) and one OVN
(a 3-member RAFT Northbound), all real processes: allocation stays unique across
replicas, every port returned is in OVN as returned, and exactly one replica runs
the reconciler, another taking over when it dies."""

from __future__ import annotations

import ipaddress
import threading

import pytest

from netc.client import NetworkClient
from netc.devtools.sandbox import poll_until
from tests.service.conftest import SERVICE
from tests.service.deployment import (Load, check_consistent, check_no_duplicate_allocation,
                                      start_deployment)

pytestmark = [*SERVICE, pytest.mark.etcd]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory):
    started = start_deployment(tmp_path_factory.mktemp("replicas"), replicas=2)
    try:
        yield started
    finally:
        started.stop()


def test_200_concurrent_create_ports_across_2_replicas(deployment):
    org, project = "conc", "ports"
    with NetworkClient.connect(deployment.replicas[0].address) as client:
        client.create_vpc(org_id=org, project_id=project, name="main", cidr="10.77.0.0/16")
    load = Load(deployment, org, project)
    load.create_ports(200, threads=16)

    assert load.refused == [] and load.ambiguous == 0
    ports = load.acknowledged
    assert len(ports) == 200
    assert len({p.ip_address for p in ports}) == 200
    assert len({p.mac_address for p in ports}) == 200
    assert len({p.id for p in ports}) == 200
    subnet = ipaddress.IPv4Network("10.77.0.0/24")
    assert all(ipaddress.IPv4Address(p.ip_address) in subnet for p in ports)
    # both replicas served some of them
    served = [deployment.metric(r, "overlay_network_requests_total", method="CreatePort",
                                code="OK") or 0 for r in deployment.replicas]
    assert all(count > 0 for count in served)

    ovn = deployment.ovn_ports(org, project)
    assert set(ovn) == {p.id for p in ports}  # 200 LSPs, nothing orphaned
    for port in ports:
        row = ovn[port.id]
        assert row["_uuid"][1] == port.ovn_port_uuid
        assert row["addresses"] == f"{port.mac_address} {port.ip_address}"
    assert set(deployment.stored_ports(org, project)) == {p.id for p in ports}
    check_consistent(deployment, load)


def test_20_create_vpcs_without_cidr_across_2_replicas(deployment):
    results, errors = [], []
    lock = threading.Lock()

    def create(n: int) -> None:
        replica = deployment.replicas[n % 2]
        with NetworkClient.connect(replica.address) as client:
            try:
                vpc = client.create_vpc(org_id="pool", project_id=f"p{n}", name="main")
            except Exception as error:  # noqa: BLE001 (reported below)
                with lock:
                    errors.append(error)
                return
        with lock:
            results.append(vpc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    blocks = [ipaddress.IPv4Network(v.cidr) for v in results]
    assert len(blocks) == 20 and len(set(blocks)) == 20
    assert all(block.prefixlen == 16 for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])
    stored = deployment.stored()
    assert {str(b) for b in blocks} <= set(stored["/networks/cidr/pool/used"])
    for vpc in results:
        assert stored[f"/networks/cidr/allocations/pool/{vpc.project_id}"] == vpc.cidr
    check_no_duplicate_allocation(deployment)


def _reconcile_runs(deployment, replica) -> float:
    return deployment.metric(replica, "overlay_network_reconcile_runs_total") or 0.0


def test_one_replica_runs_the_reconciler_and_another_takes_over(deployment):
    leaders = poll_until(lambda: deployment.leaders() or None, 30, "a reconciler leader")
    assert len(leaders) == 1
    leader = leaders[0]
    follower = next(r for r in deployment.replicas if r is not leader)
    # the follower never runs a pass while the leader does
    follower_runs = _reconcile_runs(deployment, follower)
    leader_runs = _reconcile_runs(deployment, leader)
    poll_until(lambda: _reconcile_runs(deployment, leader) >= leader_runs + 3, 30,
               "three reconciler passes on the leader")
    assert _reconcile_runs(deployment, follower) == follower_runs
    assert deployment.metric(follower, "overlay_network_reconciler_leader") == 0.0

    leader.kill()
    poll_until(lambda: deployment.leaders() == [follower], 30,
               "the other replica to take the reconciler over")
    runs = _reconcile_runs(deployment, follower)
    poll_until(lambda: _reconcile_runs(deployment, follower) > runs, 30,
               "a reconciler pass on the new leader")
    assert "now runs the reconciler" in follower.log()

    leader.start()  # back, it stands by: the lease is the other's
    poll_until(lambda: deployment.metric(leader, "overlay_network_reconciler_leader") == 0.0,
               30, "the restarted replica to report itself a follower")
    assert deployment.leaders() == [follower]
    assert "stands by" in leader.log()
