"""The reconciler's election on a real etcd (marked ``etcd``): one leader among the
campaigners, the gauge saying which, a takeover when the leader stops or crashes,
and a leader cut off from etcd stepping down before its lease can pass to another."""

from __future__ import annotations

import shutil
import time

import pytest
from prometheus_client import CollectorRegistry

from netc.devtools.sandbox import poll_until
from netc.service.election import ELECTION_KEY, EtcdElection, SoleLeader, leadership
from netc.service.store import StoreUnavailable, open_store
from netc.service.store.etcd import EtcdStore

pytestmark = pytest.mark.etcd


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("etcd") is None:
        pytest.skip("etcd is not installed here (apt-get install etcd-server)")
    from netc.devtools.etcd import EtcdCluster
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd"), members=3).start()
    try:
        yield cluster.endpoint
    finally:
        cluster.stop()


class Replica:
    def __init__(self, endpoint: str, name: str, key: str) -> None:
        self.store = EtcdStore(endpoint)
        self.registry = CollectorRegistry()
        self.election = EtcdElection(self.store, self.registry, name, key=key, ttl=2)

    def gauge(self) -> float:
        return self.registry.get_sample_value("overlay_network_reconciler_leader")


@pytest.fixture
def replicas(endpoint: str, request: pytest.FixtureRequest):
    key = f"{ELECTION_KEY}-{request.node.name}"
    made = [Replica(endpoint, f"replica-{n}", key) for n in range(3)]
    for replica in made:
        replica.election.start()
    yield made
    for replica in made:
        replica.election.stop()
        replica.store.close()


def leaders(replicas: list[Replica]) -> list[Replica]:
    return [r for r in replicas if r.election.is_leader()]


def test_exactly_one_leader_and_the_gauge_says_which(replicas):
    poll_until(lambda: len(leaders(replicas)) == 1, 10, "a leader")
    for _ in range(10):  # and it stays one, renewal after renewal
        chosen = leaders(replicas)
        assert len(chosen) == 1
        assert [r.gauge() for r in replicas] == [1.0 if r in chosen else 0.0 for r in replicas]
        time.sleep(0.2)


def test_a_stopped_leader_hands_over_at_once(replicas):
    leader = poll_until(lambda: leaders(replicas) or None, 10, "a leader")[0]
    leader.election.stop()  # revokes its lease
    others = [r for r in replicas if r is not leader]
    poll_until(lambda: len(leaders(others)) == 1, 3, "a new leader")
    assert leader.gauge() == 0.0


def test_a_crashed_leader_is_replaced_when_its_lease_expires(replicas):
    leader = poll_until(lambda: leaders(replicas) or None, 10, "a leader")[0]
    leader.election._stop.set()  # a crash: no more renewals, no revoke
    leader.election._thread.join()
    others = [r for r in replicas if r is not leader]
    new = poll_until(lambda: leaders(others) or None, 10, "the lease to expire")
    assert len(new) == 1
    # by then the crashed one no longer counts itself the leader either
    assert not leader.election.is_leader()
    leader.election.lease = 0  # nothing to revoke at teardown


def test_a_leader_cut_off_from_etcd_steps_down_before_its_lease_ends(replicas, monkeypatch):
    leader = poll_until(lambda: leaders(replicas) or None, 10, "a leader")[0]

    def unreachable(*args, **kwargs):
        raise StoreUnavailable("etcd: no member answered (cut off by the test)")

    monkeypatch.setattr(leader.store, "request", unreachable)
    others = [r for r in replicas if r is not leader]

    def another_leads() -> bool:
        new = leaders(others)
        assert not (new and leader.election.is_leader()), "two reconcilers at once"
        return bool(new)
    poll_until(another_leads, 10, "another leader")
    assert not leader.election.is_leader() and leader.gauge() == 0.0
    monkeypatch.undo()


def test_sqlite_has_one_replica_that_always_leads(tmp_path):
    store = open_store(f"sqlite:{tmp_path / 'state.db'}")
    registry = CollectorRegistry()
    sole = leadership(store, registry, "only")
    assert isinstance(sole, SoleLeader) and sole.is_leader()
    assert registry.get_sample_value("overlay_network_reconciler_leader") == 1.0
    store.close()
