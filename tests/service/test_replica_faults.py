"""Faults during load, each in its own test, on two ``netc serve`` replicas sharing a
3-member etcd and a 3-member RAFT Northbound (all real processes, SIGKILL as a crash):

- a replica dies; its callers retry on the other;
- an etcd member dies, then (once it is back) the etcd leader;
- the Northbound's RAFT leader dies.

After each: nothing allocated twice, every acknowledged port in the store and in OVN
as it was returned, store and OVN in agreement after the reconciler's period (the
exported store plans no changes), ``ovsdb-tool check-cluster`` passes, and the
killed process, restarted, is back in its cluster and serving.
"""

from __future__ import annotations

import re

import pytest

from netc.client import NetworkClient
from netc.devtools.sandbox import poll_until
from netc.service.store import Compare
from netc.service.store.etcd import EtcdStore
from tests.service.conftest import SERVICE
from tests.service.deployment import Load, check_consistent, start_deployment

pytestmark = [*SERVICE, pytest.mark.etcd]

PORTS = 120
THREADS = 8


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory):
    started = start_deployment(tmp_path_factory.mktemp("faults"), replicas=2)
    try:
        yield started
    finally:
        started.stop()


def project_with_vpc(deployment, org: str, cidr: str) -> Load:
    with NetworkClient.connect(deployment.replicas[0].address) as client:
        client.create_vpc(org_id=org, project_id="web", name="main", cidr=cidr)
    return Load(deployment, org, "web")


def serves(replica, load: Load) -> None:
    """``replica`` makes a port (then counted among the acknowledged) and reads it back."""
    with NetworkClient.connect(replica.address) as client:
        port = client.create_port(org_id=load.org, project_id=load.project, vm_id="after")
        assert client.get_port(org_id=load.org, project_id=load.project, id=port.id) == port
    load.acknowledged.append(port)


def test_sigkill_of_a_replica_during_load(deployment):
    load = project_with_vpc(deployment, "kill-replica", "10.81.0.0/16")
    leader = poll_until(lambda: deployment.leaders() or None, 30, "a reconciler leader")[0]
    # the replica killed is the reconciler's: the other must also take that over
    load.create_ports(PORTS, THREADS, during=leader.kill)
    assert len(load.acknowledged) == PORTS
    assert load.retries["UNAVAILABLE"] > 0  # calls met the dead replica, and were retried
    survivor = next(r for r in deployment.replicas if r is not leader)
    poll_until(lambda: deployment.leaders() == [survivor], 30, "the survivor to reconcile")
    check_consistent(deployment, load)

    leader.start()
    serves(leader, load)
    check_consistent(deployment, load)


def test_sigkill_of_an_etcd_member_then_of_the_etcd_leader_during_load(deployment):
    etcd = deployment.etcd
    load = project_with_vpc(deployment, "kill-etcd", "10.82.0.0/16")
    killed = []

    def faults() -> None:
        leader = etcd.wait_for_leader()
        follower = next(m for m in (1, 2, 3) if m != leader)
        etcd.kill_member(follower)
        killed.append(follower)
        load.wait_for(len(load.acknowledged) + PORTS // 4)  # served on two of three
        etcd.start_member(follower)
        etcd.wait_ready()
        leader = etcd.wait_for_leader()
        etcd.kill_member(leader)
        killed.append(leader)
        load.wait_for(len(load.acknowledged) + PORTS // 8)  # a new leader elected
        etcd.start_member(leader)

    load.create_ports(PORTS, THREADS, during=faults)
    assert len(load.acknowledged) == PORTS and len(killed) == 2, (load.refused, load.retries)
    etcd.wait_ready()
    check_consistent(deployment, load)
    # each restarted member is a member again, and holds what the others hold
    key = "/networks/vpcs/kill-etcd/web"
    expected = EtcdStore(etcd.endpoint).get([key])[key]
    for member in killed:
        alone = EtcdStore(etcd.member_url(member))
        assert alone.get([key])[key] == expected
        alone.close()
    revision = EtcdStore(etcd.endpoint).commit([Compare(key, expected.mod_revision)],
                                               {key: expected.value})
    assert revision is not None
    for replica in deployment.replicas:
        serves(replica, load)
    check_consistent(deployment, load)


def test_sigkill_of_the_northbound_raft_leader_during_load(deployment):
    sandbox = deployment.sandbox
    load = project_with_vpc(deployment, "kill-nb", "10.83.0.0/16")
    killed = []

    def fault() -> None:
        leader = sandbox.wait_for_leader()
        sandbox.kill_member(leader)
        killed.append(leader)

    load.create_ports(PORTS, THREADS, during=fault)
    assert len(load.acknowledged) == PORTS and killed
    sandbox.wait_for_leader()
    check_consistent(deployment, load)

    sandbox.start_member(killed[0])

    def back() -> bool:
        status = sandbox.cluster_status(killed[0])
        return re.search(r"^Status: cluster member$", status, re.MULTILINE) is not None
    poll_until(back, 30, f"Northbound member {killed[0]} to rejoin")
    sandbox.check_cluster()
    for replica in deployment.replicas:
        serves(replica, load)
    check_consistent(deployment, load)
