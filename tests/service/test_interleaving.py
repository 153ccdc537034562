"""Two replicas' writes to OVN for one project never interleave wrongly.

Two engines (what two ``netc serve`` replicas run) share one store and one
Northbound. Replica A commits a port to the store and is held just before its OVN
transaction; meanwhile replica B commits a second port (its read includes A's) and
applies the project's rows. When A goes on, the rows it compiled are older than what
B applied: written as they are, they would destroy B's port in OVN although the
store holds it and B's caller was told it exists. The Northbound carries the store
revision of the rows it holds, guarded by the transaction's ``wait``, so A's stale
rows are not written and both ports stay, with the UUIDs their callers got.
"""

from __future__ import annotations

import threading

import pytest

from netc.app.northbound import open_northbound
from netc.devtools.etcd import EtcdCluster
from netc.devtools.sandbox import Sandbox
from netc.diagnostics import Diagnostics
from netc.service import operations as ops
from netc.service.config import ServiceSettings
from netc.service.engine import Engine
from netc.service.northbound import ServiceNorthbound
from netc.service.store import open_store
from tests.service.conftest import SERVICE
from tests.ovn.conftest import start_sandbox
from tests.service.deployment import OWNER

pytestmark = SERVICE


def engine_on(store, remote: str) -> Engine:
    settings = ServiceSettings().compiler_settings()
    client = open_northbound(remote, settings, Diagnostics(), connect=False)
    return Engine(store, ServiceNorthbound(client, OWNER), settings)


def lsps(nb_remote: str, org: str) -> dict[str, dict]:
    from netc.backends.ovn_nb.ovsdb import OvsdbClient
    with OvsdbClient(nb_remote) as nb:
        rows = nb.select("Logical_Switch_Port", [
            ["external_ids", "includes", ["map", [["netc:owner", OWNER], ["netc:org", org]]]]])
    return {row["name"]: row for row in rows if row["type"] != "router"}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("etcd", marks=pytest.mark.etcd)])
def test_a_stale_apply_of_one_replica_does_not_undo_another(tmp_path, backend, request):
    sandbox = start_sandbox(Sandbox(tmp_path / "ovn"))
    request.addfinalizer(sandbox.stop)
    if backend == "sqlite":
        url = f"sqlite:{tmp_path / 'state.db'}"
    else:
        cluster = EtcdCluster(tmp_path / "etcd").start()
        request.addfinalizer(cluster.stop)
        url = f"etcd:{cluster.endpoint}"
    store_a, store_b = open_store(url), open_store(url)
    a, b = engine_on(store_a, sandbox.nb_remote), engine_on(store_b, sandbox.nb_remote)
    org, project = "race", "web"

    def create_port(engine: Engine, vm: str):
        request = engine.submit(org, project, lambda cs, ctx: ops.create_port(
            cs, ctx, "default", vm, "", "", []))
        assert request.error is None, request.error
        return request.result

    vpc = a.submit(org, project, lambda cs, ctx: ops.create_vpc(cs, ctx, "main", "10.5.0.0/16"))
    assert vpc.error is None

    held, release = threading.Event(), threading.Event()
    real_apply = a.northbound.apply

    def held_apply(*args, **kwargs):
        held.set()
        assert release.wait(30)
        return real_apply(*args, **kwargs)

    a.northbound.apply = held_apply
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault("a", create_port(a, "vm-a")))
    thread.start()
    assert held.wait(30)                # A has committed, its OVN write is pending
    port_b = create_port(b, "vm-b")     # B commits after A and applies first
    uuid_b = b.northbound.port_uuid(f"{org}/{project}/{port_b['name']}")
    release.set()
    thread.join(30)
    port_a = result["a"]
    a.northbound.apply = real_apply

    in_ovn = lsps(sandbox.nb_remote, org)
    assert set(in_ovn) == {port_a["id"], port_b["id"]}
    assert in_ovn[port_b["id"]]["_uuid"][1] == uuid_b  # never destroyed and re-made
    for port in (port_a, port_b):
        assert in_ovn[port["id"]]["addresses"] == f"{port['mac_address']} {port['ip_address']}"
    # the reconciler of either replica finds nothing to repair
    for engine in (a, b):
        request = engine.submit(org, project, lambda cs, ctx: None, reconcile=True)
        assert request.error is None and request.changes == 0
    for engine in (a, b):
        engine.northbound.close()
    store_a.close()
    store_b.close()


def test_rows_are_written_when_ovn_holds_a_revision_of_another_store(tmp_path, request):
    """The store was replaced (restored from a backup, a new file): OVN's recorded
    revision is of the old store's history, higher than anything the new one has, and
    must not keep the new store's rows out."""
    sandbox = start_sandbox(Sandbox(tmp_path / "ovn"))
    request.addfinalizer(sandbox.stop)
    org, project = "moved", "web"
    old_store = open_store(f"sqlite:{tmp_path / 'old.db'}")
    old = engine_on(old_store, sandbox.nb_remote)
    assert old.submit(org, project, lambda cs, ctx: ops.create_vpc(
        cs, ctx, "main", "10.6.0.0/16")).error is None
    for n in range(5):
        assert old.submit(org, project, lambda cs, ctx: ops.create_port(
            cs, ctx, "default", f"vm-{n}", "", "", [])).error is None
    assert len(lsps(sandbox.nb_remote, org)) == 5
    recorded = old.northbound.view.applied_revision(f"{org}/{project}")
    old.northbound.close()

    new_store = open_store(f"sqlite:{tmp_path / 'new.db'}")
    new = engine_on(new_store, sandbox.nb_remote)
    vpc = new.submit(org, project, lambda cs, ctx: ops.create_vpc(cs, ctx, "main", "10.6.0.0/16"))
    assert vpc.error is None
    revision = new_store.get([f"/networks/vpcs/{org}/{project}"])[
        f"/networks/vpcs/{org}/{project}"].mod_revision
    assert revision < recorded
    assert lsps(sandbox.nb_remote, org) == {}  # the new store's project has no ports
    new.northbound.sync()
    assert new.northbound.view.applied_revision(f"{org}/{project}") == revision
    new.northbound.close()
    old_store.close()
    new_store.close()


@pytest.mark.parametrize("ports_before", [0, 20])  # 20: the groups' sets written as deltas
def test_replicas_writing_different_projects_do_not_fail_each_others_guards(tmp_path, request,
                                                                          ports_before):
    """Every project's ports are in the global port groups (default drop, open egress).
    Replica A's transaction for one project is built, then replica B adds a port to
    another project, changing those groups; A's transaction must still go through
    at its first attempt: the projects add and remove their own references there
    (commuting mutations), they do not rewrite the groups under a version guard."""
    sandbox = start_sandbox(Sandbox(tmp_path / "ovn"))
    request.addfinalizer(sandbox.stop)
    url = f"sqlite:{tmp_path / 'state.db'}"
    a, b = engine_on(open_store(url), sandbox.nb_remote), engine_on(open_store(url),
                                                                    sandbox.nb_remote)
    for engine, project, cidr in ((a, "one", "10.7.0.0/16"), (b, "two", "10.8.0.0/16")):
        assert engine.submit("split", project, lambda cs, ctx, cidr=cidr: ops.create_vpc(
            cs, ctx, "main", cidr)).error is None
    for n in range(ports_before):
        assert b.submit("split", "two", lambda cs, ctx: ops.create_port(
            cs, ctx, "default", f"vm-{n}", "", "", [])).error is None

    held, release = threading.Event(), threading.Event()
    real_transact = a.northbound.client.transact
    applied = []

    def held_transact(operations, *args, **kwargs):
        if not held.is_set():
            held.set()
            assert release.wait(30)
        return real_transact(operations, *args, **kwargs)

    real_apply = a.northbound.apply

    def recorded_apply(*args, **kwargs):
        applied.append(real_apply(*args, **kwargs))
        return applied[-1]

    a.northbound.client.transact = held_transact
    a.northbound.apply = recorded_apply
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault("a", a.submit(
        "split", "one", lambda cs, ctx: ops.create_port(cs, ctx, "default", "vm-a", "", "", []))))
    thread.start()
    assert held.wait(30)
    port_b = b.submit("split", "two", lambda cs, ctx: ops.create_port(
        cs, ctx, "default", "vm-b", "", "", []))
    assert port_b.error is None
    release.set()
    thread.join(30)
    assert result["a"].error is None
    assert [x.attempts for x in applied] == [1]  # no guard failed on the global rows

    from netc.backends.ovn_nb.ovsdb import OvsdbClient
    with OvsdbClient(sandbox.nb_remote) as nb:
        groups = {dict(row["external_ids"][1])["netc:key"]: row for row in nb.select(
            "Port_Group", [["external_ids", "includes", ["map", [["netc:owner", OWNER]]]]])}
        uuids = {row["name"]: row["_uuid"][1] for row in nb.select("Logical_Switch_Port", [])}
    for port in (result["a"].result, port_b.result):
        members = groups["pg:drop"]["ports"]
        members = [m[1] for m in members[1]] if members[0] == "set" else [members[1]]
        assert uuids[port["id"]] in members
    for engine in (a, b):  # and the reconciler of either finds nothing to repair
        for project in ("one", "two"):
            again = engine.submit("split", project, lambda cs, ctx: None, reconcile=True)
            assert again.error is None and again.changes == 0
        engine.northbound.close()
