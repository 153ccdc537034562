"""The service engine without OVN (a stand-in Northbound that records what it is asked
to apply, or fails): requests of one project are batched into one compile and one
apply, the next batch running while the one ahead is in OVN; a refused request leaves
nothing behind even inside a batch; when the OVN half fails, the store is put back
exactly as it was, and a batch that read it meanwhile reads again. Real OVN:
tests/service/."""

from __future__ import annotations

import threading
import time

import pytest

from netc.compiler.rows import RowSet
from netc.service import operations as ops
from netc.service import records
from netc.service.config import ServiceSettings
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


def counted(mutation, runs: list):
    def run(cs, ctx):
        runs.append(1)
        return mutation(cs, ctx)
    return run


def test_queued_requests_share_one_batch_which_runs_while_the_one_ahead_is_in_ovn(engine):
    release, entered, runs = threading.Event(), threading.Event(), []
    applied = len(engine.northbound.applied)
    first = threading.Thread(target=engine.submit,
                             args=("acme", "web", held(create_port(), release, entered)))
    first.start()
    assert entered.wait(10)  # the first batch is in its mutation: the others queue
    others = [threading.Thread(target=engine.submit,
                               args=("acme", "web", counted(create_port(), runs)))
              for _ in range(5)]
    for thread in others:
        thread.start()
    wait_until(lambda: len(engine._queues[("acme", "web")].pending) == 5)
    engine.northbound.gate.clear()  # hold the first batch in its apply
    release.set()
    wait_until(lambda: len(runs) == 5)  # the next batch ran its mutations meanwhile
    assert len(engine.northbound.applied) == applied
    engine.northbound.gate.set()
    for thread in [first, *others]:
        thread.join()
    assert len(engine.northbound.applied) - applied == 2  # the first, then the five together
    ports = [k for k in everything(engine.store) if k.startswith(records.ROOT + "/ports/")]
    assert len(ports) == 6


def test_a_request_arriving_while_the_next_batch_is_in_ovn_is_led(engine):
    """The leader of a batch that handed the project on before its apply must leave
    the project's state to the new leader: a request arriving while that one is in
    OVN (with nobody queued to hand to) leads the batch after it."""
    release, entered, in_second = threading.Event(), threading.Event(), threading.Event()
    northbound = engine.northbound

    def observe(timings, size):  # the first batch's thread, after its apply
        if not in_second.is_set():
            northbound.gate.clear()
            northbound.applying.clear()
            in_second.set()
            assert northbound.applying.wait(10)  # the second batch is in OVN, held

    engine.observe = observe
    first = threading.Thread(target=engine.submit,
                             args=("acme", "web", held(create_port(), release, entered)))
    first.start()
    assert entered.wait(10)
    second = threading.Thread(target=engine.submit, args=("acme", "web", create_port()))
    second.start()
    wait_until(lambda: len(engine._queues[("acme", "web")].pending) == 1)
    release.set()
    first.join(10)  # its leader answered while the second batch is still in OVN
    assert not first.is_alive()
    answered = []
    third = threading.Thread(target=lambda: answered.append(
        engine.submit("acme", "web", create_port())))
    third.start()
    northbound.gate.set()
    for thread in (second, third):
        thread.join(10)
    assert answered and answered[0].error is None


def test_a_batch_read_during_a_failing_apply_is_read_again(engine):
    release, entered = threading.Event(), threading.Event()
    before = everything(engine.store)
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", engine.submit(
        "acme", "web", held(create_port("10.1.0.10"), release, entered))))
    first.start()
    assert entered.wait(10)
    runs = []
    second = threading.Thread(target=lambda: results.setdefault("second", engine.submit(
        "acme", "web", counted(create_port("10.1.0.10"), runs))))  # the first's IP
    second.start()
    wait_until(lambda: len(engine._queues[("acme", "web")].pending) == 1)
    engine.northbound.gate.clear()
    engine.northbound.failing = True
    engine.northbound.applying.clear()
    release.set()
    assert engine.northbound.applying.wait(10)  # the first is in OVN, bound to fail
    engine.northbound.failing = False
    wait_until(lambda: runs)  # the second batch ran on what the first committed
    engine.northbound.gate.set()
    first.join()
    second.join()
    assert len(runs) == 2  # and again once the first was undone
    assert results["first"].error.code == "OVN_CONNECTION_FAILED"
    assert results["second"].error is None  # read again after the first was undone
    assert results["second"].result["ip_address"] == "10.1.0.10"
    after = everything(engine.store)
    assert [k for k in after if k not in before and "/ports/" in k] == \
        [records.port_key("acme", "web", results["second"].result["id"])]


def test_a_refused_request_in_a_batch_leaves_nothing_and_the_others_land(engine):
    engine.submit("acme", "web", create_port("10.1.0.10"))
    release, entered = threading.Event(), threading.Event()
    blocker = threading.Thread(target=engine.submit,
                               args=("acme", "web", held(create_port(), release, entered)))
    blocker.start()
    assert entered.wait(10)
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
