"""The service engine without OVN (a stand-in Northbound that records what it is asked
to apply, or fails): requests of one project are batched into one compile and one
apply, and the callers of a batch calling again share the next one; a refused request
leaves nothing behind even inside a batch; when the OVN half fails, the store is put
back exactly as it was before the next batch reads it. Real OVN: tests/service/."""

from __future__ import annotations

import threading
import time

import pytest

from netc.compiler.rows import RowSet
from netc.service import engine as engine_module
from netc.service import operations as ops
from netc.service import records
from netc.service.config import ServiceSettings
from netc.service.changeset import ChangeSet
from netc.service.engine import Engine
from netc.service.errors import ServiceError
from netc.service.northbound import Applied
from netc.service.store import open_store


class StandInNorthbound:
    """Records each apply; fails those begun while ``failing`` is set; can hold applies
    until told."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, RowSet]] = []
        self.touched: list = []
        """Per apply, the rows said to differ from the last (None: all compared)."""
        self.deltas: list = []
        """Per apply, how those rows' sets changed from the last (None: not known)."""
        self.failing = False
        self.gate = threading.Event()
        self.gate.set()
        self.applying = threading.Event()
        """Set when an apply begins (failing or not as ``failing`` was then)."""

    def apply(self, project: str, rows: RowSet, revision=None, current=None,
              touched=None, deltas=None, deltas_of=None) -> Applied:
        failing = self.failing
        self.applying.set()
        self.gate.wait(10)
        if failing:
            raise ServiceError("OVN_CONNECTION_FAILED", "the Northbound is down")
        self.applied.append((project, rows))
        self.touched.append(touched)
        self.deltas.append(deltas)
        return Applied(len(rows), 1, 0.0)


@pytest.fixture
def engine(tmp_path):
    store = open_store(f"sqlite:{tmp_path / 'state.db'}")
    northbound = StandInNorthbound()
    engine = Engine(store, northbound, ServiceSettings().compiler_settings())
    request = engine.submit("acme", "web", lambda cs, ctx: ops.create_vpc(cs, ctx, "", ""))
    assert request.error is None
    return engine


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def everything(store) -> dict:
    return {key: entry.value for key, entry in store.range([records.ROOT + "/"]).items()}


def create_port(ip: str = ""):
    return lambda cs, ctx: ops.create_port(cs, ctx, "default", "", "", ip, [])


def test_a_failed_ovn_apply_puts_the_store_back(engine):
    before = everything(engine.store)
    engine.northbound.failing = True
    request = engine.submit("acme", "web", create_port())
    assert request.error is not None and request.error.code == "OVN_CONNECTION_FAILED"
    assert everything(engine.store) == before
    engine.northbound.failing = False
    assert engine.submit("acme", "web", create_port()).error is None
    assert everything(engine.store) != before


def held(mutation, release: threading.Event, entered: threading.Event):
    """``mutation``, once ``release`` is set (``entered`` says it has begun)."""
    def run(cs, ctx):
        entered.set()
        assert release.wait(10)
        return mutation(cs, ctx)
    return run


def holding(engine) -> tuple[threading.Thread, threading.Event]:
    """A CreatePort whose batch holds the project, in its mutation, until the event
    returned is set: requests submitted meanwhile queue behind it."""
    release, entered = threading.Event(), threading.Event()
    thread = threading.Thread(target=engine.submit,
                              args=("acme", "web", held(create_port(), release, entered)))
    thread.start()
    assert entered.wait(10)
    return thread, release


def test_queued_requests_share_one_batch(engine):
    applied = len(engine.northbound.applied)
    first, release = holding(engine)  # the first batch is in its mutation: the others queue
    others = [threading.Thread(target=engine.submit, args=("acme", "web", create_port()))
              for _ in range(5)]
    for thread in others:
        thread.start()
    wait_until(lambda: len(engine._queues[("acme", "web")].pending) == 5)
    release.set()
    for thread in [first, *others]:
        thread.join()
    assert len(engine.northbound.applied) - applied == 2  # the first, then the five together
    ports = [k for k in everything(engine.store) if k.startswith(records.ROOT + "/ports/")]
    assert len(ports) == 6


def test_the_callers_of_a_batch_calling_again_share_the_next_one(engine, monkeypatch):
    """They come back one by one (50 ms apart here); the first back waits for the
    others, up to GATHER_SECONDS after the answer (2 s here), instead of leading
    alone. (The blocker, which does not call again, holds them for that long.)"""
    monkeypatch.setattr(engine_module, "GATHER_SECONDS", 2.0)
    blocker, release = holding(engine)

    def caller(index: int) -> None:
        assert engine.submit("acme", "web", create_port()).error is None
        time.sleep(0.05 * index)
        assert engine.submit("acme", "web", create_port()).error is None
    callers = [threading.Thread(target=caller, args=(i,)) for i in range(3)]
    for thread in callers:
        thread.start()
    wait_until(lambda: len(engine._queues[("acme", "web")].pending) == 3)
    applied = len(engine.northbound.applied)
    release.set()
    for thread in [blocker, *callers]:
        thread.join(20)
        assert not thread.is_alive()
    # the blocker's batch, the three callers', then the three again together
    assert len(engine.northbound.applied) - applied == 3


def test_a_lone_caller_never_waits_to_gather(engine, monkeypatch):
    """Its own next request is the one the leader gathers for: with a window far
    longer than the test, ten calls in a row still finish."""
    monkeypatch.setattr(engine_module, "GATHER_SECONDS", 600.0)
    done = []
    caller = threading.Thread(target=lambda: done.extend(
        engine.submit("acme", "web", create_port()) for _ in range(10)))
    caller.start()
    caller.join(20)
    assert not caller.is_alive() and all(r.error is None for r in done)


def test_a_caller_that_does_not_come_back_holds_the_next_batch_no_longer_than_the_window(
        engine, monkeypatch):
    monkeypatch.setattr(engine_module, "GATHER_SECONDS", 0.3)
    blocker, release = holding(engine)
    answered = []
    pair = [threading.Thread(target=lambda: answered.append(
        engine.submit("acme", "web", create_port()))) for _ in range(2)]
    for thread in pair:
        thread.start()
    wait_until(lambda: len(engine._queues[("acme", "web")].pending) == 2)
    release.set()
    for thread in [blocker, *pair]:
        thread.join(10)
    again = threading.Thread(target=lambda: answered.append(  # one of the two calls again
        engine.submit("acme", "web", create_port())))
    again.start()
    again.join(10)
    assert not again.is_alive() and len(answered) == 3
    assert all(r.error is None for r in answered)


def test_a_request_queued_behind_a_failing_apply_reads_what_the_failure_left(engine):
    release, entered = threading.Event(), threading.Event()
    before = everything(engine.store)
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", engine.submit(
        "acme", "web", held(create_port("10.1.0.10"), release, entered))))
    first.start()
    assert entered.wait(10)
    second = threading.Thread(target=lambda: results.setdefault("second", engine.submit(
        "acme", "web", create_port("10.1.0.10"))))  # the first's IP
    second.start()
    wait_until(lambda: len(engine._queues[("acme", "web")].pending) == 1)
    engine.northbound.gate.clear()
    engine.northbound.failing = True
    engine.northbound.applying.clear()
    release.set()
    assert engine.northbound.applying.wait(10)  # the first is in OVN, bound to fail
    engine.northbound.failing = False
    engine.northbound.gate.set()
    first.join()
    second.join()
    assert results["first"].error.code == "OVN_CONNECTION_FAILED"
    assert results["second"].error is None  # the first's store commit was undone first
    assert results["second"].result["ip_address"] == "10.1.0.10"
    after = everything(engine.store)
    assert [k for k in after if k not in before and "/ports/" in k] == \
        [records.port_key("acme", "web", results["second"].result["id"])]


def test_a_refused_request_in_a_batch_leaves_nothing_and_the_others_land(engine):
    engine.submit("acme", "web", create_port("10.1.0.10"))
    blocker, release = holding(engine)
    results = {}

    def submit(name, mutation):
        results[name] = engine.submit("acme", "web", mutation)

    threads = [threading.Thread(target=submit, args=("taken", create_port("10.1.0.10"))),
               threading.Thread(target=submit, args=("fresh", create_port("10.1.0.20")))]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(engine._queues[("acme", "web")].pending) == 2)
    release.set()
    for thread in [blocker, *threads]:
        thread.join()
    assert results["taken"].error.code == "IP_ALREADY_ALLOCATED"
    assert results["fresh"].error is None
    allocated = records.decode(engine.store.get([records.ipam_key("acme", "web", "default")])
                               [records.ipam_key("acme", "web", "default")])
    assert "10.1.0.20" in allocated and allocated.count("10.1.0.10") == 1


def test_a_check_error_is_answered_to_its_own_request_only(engine):
    bad = lambda cs, ctx: ops.create_subnet(cs, ctx, "", "x", "10.99.0.0/24", True, [])  # noqa: E731
    request = engine.submit("acme", "web", bad)
    assert request.error.code == "SUBNET_OUTSIDE_VPC"
    assert engine.submit("acme", "web", create_port()).error is None


def racing_the_pool(engine, times: int) -> list[int]:
    """Make another writer rewrite the organisation's pool key between each of the next
    ``times`` reads and commits (what concurrent VPC creates in other projects do);
    the commits' indices that lost, as a list that grows."""
    lost = []
    commit = engine.store.commit

    def racing(compares, puts, deletes):
        if records.POOL_USED_KEY in puts and len(lost) < times:
            current = engine.store.get([records.POOL_USED_KEY])[records.POOL_USED_KEY]
            commit([], {records.POOL_USED_KEY: current.value}, [])
            lost.append(len(lost))
        return commit(compares, puts, deletes)

    engine.store.commit = racing
    return lost


def test_a_batch_outlasts_more_store_conflicts_than_a_fixed_count_allowed(engine):
    lost = racing_the_pool(engine, 12)  # the 8 attempts this replaced gave up at 8
    request = engine.submit("acme", "db", lambda cs, ctx: ops.create_vpc(cs, ctx, "", ""))
    assert request.error is None and len(lost) == 12
    assert request.result["cidr"] == "10.2.0.0/16"


def test_a_batch_that_keeps_losing_the_store_gives_up_and_writes_nothing(engine, monkeypatch):
    monkeypatch.setattr(engine_module, "STORE_RETRY_SECONDS", 0.3)
    before = everything(engine.store)
    lost = racing_the_pool(engine, 10**6)
    started = time.monotonic()
    request = engine.submit("acme", "db", lambda cs, ctx: ops.create_vpc(cs, ctx, "", ""))
    assert request.error is not None and request.error.code == "CONFLICT"
    assert time.monotonic() - started < 2 and 3 < len(lost) < 60  # pauses, not a busy loop
    assert everything(engine.store) == before  # the racing writer rewrote what it read


def test_a_shared_key_is_read_once_per_batch_and_guarded_as_read(engine):
    """An absent shared key (a MAC's index entry) read, read again and written costs one
    store read, and the commit still fails when another writer created it since."""
    reads = []
    get = engine.store.get
    engine.store.get = lambda keys: (reads.append(list(keys)), get(keys))[1]
    changeset = ChangeSet.load(engine.store, "acme", "web")
    key = records.mac_key("0a:58:00:00:00:01")
    reads.clear()
    assert changeset.get(key) is None and changeset.get(key) is None
    changeset.put(key, "port-1")
    assert reads == [[key]]
    engine.store.commit([], {key: records.encode("someone-else")}, [])
    assert changeset.commit() is None


def test_a_read_is_the_engines_last_commit_until_another_writer_changes_the_project(engine):
    """A read RPC's view of the project: the engine's last commit while the project's
    VPC record keeps that revision (one key read), the store's records as soon as
    another process changed it."""
    port = engine.submit("acme", "web", create_port()).result
    reads = []
    get, scan = engine.store.get, engine.store.range
    engine.store.get = lambda keys: (reads.append("get"), get(keys))[1]
    engine.store.range = lambda prefixes: (reads.append("range"), scan(prefixes))[1]
    assert ops.get_port(engine.read("acme", "web"), port["id"]) == port
    assert reads == ["get"]
    vpc = records.vpc_key("acme", "web")
    renamed = dict(port, vm_id="moved-by-another-replica")
    engine.store.commit([], {records.port_key("acme", "web", port["id"]): records.encode(renamed),
                             vpc: get([vpc])[vpc].value}, [])
    reads.clear()
    assert ops.get_port(engine.read("acme", "web"), port["id"]) == renamed
    assert "range" in reads
