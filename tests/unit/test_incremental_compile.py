"""The service's incremental compile (netc.service.recompile, netc.compiler.incremental)
gives the rows of the whole compile: random sequences of batches of requests
(ports created into either subnet and any groups, deleted, attached, detached;
groups' rules replaced, a subnet's DHCP switched, floating IPs to ports) through the
engine, whose every applied row set is held to a whole compile of the store after
it, and whose every answer to a twin engine's that always compiles whole."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netc.backends.diff import normalised
from netc.compiler.schema import TABLES
from netc.config import ExternalSettings
from netc.service import operations as ops
from netc.service import recompile
from netc.service.changeset import ChangeSet
from netc.service.config import ServiceSettings
from netc.service.engine import Engine, Request
from netc.service.errors import ServiceError
from netc.service.store import open_store
from tests.unit.test_service_engine import StandInNorthbound

ORG, PROJECT = "acme", "web"
SETTINGS = ServiceSettings(external=ExternalSettings(
    cidr="203.0.113.0/24", gateway_ip="203.0.113.1", gateway_chassis=["chassis-1"]))
RULES = {
    "self": [{"protocol": "tcp", "port_range": [80, 80], "source_type": "security_group",
              "source": f"{ORG}/{PROJECT}/web"}],
    "cidr": [{"protocol": "udp", "port_range": [53, 53], "source_type": "cidr",
              "source": "10.0.0.0/8"}],
    "none": [],
}


def _port(cs: ChangeSet, index: int) -> dict:
    ports = [p for _, p in cs.under(f"/networks/ports/{ORG}/{PROJECT}/")]
    if not ports:
        raise ServiceError("PORT_NOT_FOUND", "no port")
    return ports[index % len(ports)]


def _mutation(step: tuple):
    kind, *args = step
    if kind == "create":
        subnet, groups, ip = args
        return lambda cs, ctx: ops.create_port(cs, ctx, subnet, "", "", ip, list(groups))
    if kind == "delete":
        return lambda cs, ctx: ops.delete_port(cs, _port(cs, args[0])["id"])
    if kind == "attach":
        return lambda cs, ctx: ops.attach_port(cs, _port(cs, args[0])["id"], args[1])
    if kind == "detach":
        return lambda cs, ctx: ops.detach_port(cs, _port(cs, args[0])["id"])
    if kind == "rules":
        group, rules = args
        return lambda cs, ctx: ops.update_group(cs, group, "", RULES[rules], [])
    if kind == "dhcp":
        return lambda cs, ctx: ops.create_subnet(cs, ctx, "", "other", "10.1.1.0/24",
                                                 args[0], [])
    if kind == "floating":
        return lambda cs, ctx: ops.create_dnat(cs, ctx, "", f"203.0.113.{10 + args[0] % 50}",
                                               0, _port(cs, args[0])["ip_address"], 0, "")
    raise AssertionError(kind)


steps = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(["default", "other"]),
              st.lists(st.sampled_from(["default", "web", "db"]), max_size=2, unique=True),
              st.sampled_from(["", "", "", "10.1.0.7", "10.1.1.9"])),
    st.tuples(st.just("delete"), st.integers(0, 40)),
    st.tuples(st.just("attach"), st.integers(0, 40), st.sampled_from(["vm-1", "vm-2"])),
    st.tuples(st.just("detach"), st.integers(0, 40)),
    st.tuples(st.just("rules"), st.sampled_from(["web", "db"]), st.sampled_from(sorted(RULES))),
    st.tuples(st.just("dhcp"), st.booleans()),
    st.tuples(st.just("floating"), st.integers(0, 40)),
)


def _engine(directory: Path, name: str, seed: int) -> Engine:
    engine = Engine(open_store(f"sqlite:{directory / name}.db"), StandInNorthbound(),
                    SETTINGS.compiler_settings())
    engine._rng = random.Random(seed)
    setup = [lambda cs, ctx: ops.create_vpc(cs, ctx, "", "10.1.0.0/16"),
             lambda cs, ctx: ops.create_subnet(cs, ctx, "", "other", "10.1.1.0/24", True, []),
             lambda cs, ctx: ops.create_group(cs, ctx, "web", "", RULES["self"], []),
             lambda cs, ctx: ops.create_group(cs, ctx, "db", "", RULES["cidr"], [])]
    setup += [_mutation(("create", subnet, groups, "")) for subnet, groups in
              [("default", ["web"]), ("other", []), ("default", ["db", "default"])]]
    for mutation in setup:
        assert engine.submit(ORG, PROJECT, mutation).error is None
    return engine


def _run(engine: Engine, batch: list[tuple]) -> list[str | None]:
    """One batch of requests, as the engine runs requests queued together."""
    requests = [Request(_mutation(step)) for step in batch]
    engine._run(ORG, PROJECT, requests, engine._queue(ORG, PROJECT))
    return [r.error.code if r.error else None for r in requests]


def _as_ovsdb_holds(rows) -> dict:
    """Rows as OVSDB holds them: sets have no order."""
    return {(row.table, row.key): {name: normalised(row, name) for name in TABLES[row.table]}
            for row in rows}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(steps, min_size=1, max_size=3), min_size=1, max_size=10),
       seed=st.integers(0, 2**32))
def test_incremental_rows_are_the_whole_compiles_rows(batches, seed):
    with tempfile.TemporaryDirectory() as directory, \
            mock.patch.object(recompile, "INCREMENTAL_FROM", 0):
        fast = _engine(Path(directory), "fast", seed)
        whole = _engine(Path(directory), "whole", seed)
        for batch in batches:
            whole._compiled.clear()
            first = len(fast.northbound.applied)
            assert _run(fast, batch) == _run(whole, batch)
            applies = fast.northbound.applied
            for index in range(first, len(applies)):  # several when a check error split it
                _assert_deltas_exact(applies[index - 1][1], applies[index][1],
                                     fast.northbound.deltas[index])
            applied = applies[-1][1]
            full = recompile.compile_project(ORG, PROJECT, ChangeSet.load(fast.store, ORG, PROJECT),
                                             fast.settings, None)
            assert not full.diagnostics.has_errors
            assert _as_ovsdb_holds(applied) == _as_ovsdb_holds(full.rows)


def _assert_deltas_exact(before, after, deltas) -> None:
    """Each set delta the engine hands the Northbound takes the row it last applied to
    the row it applies now (a batch split by a check error applies once per request
    that passes: each delta is from the apply before it)."""
    for (table, key), columns in (deltas or {}).items():
        old, new = before.get(table, key), after.get(table, key)
        for column, (gone, came) in columns.items():
            held, wanted = set(old.columns.get(column) or ()), set(new.columns.get(column) or ())
            assert (sorted(held - wanted), sorted(wanted - held)) == (gone, came), (key, column)


def test_port_changes_of_a_large_project_are_compiled_from_the_last_compile(tmp_path):
    engine = _engine(tmp_path, "state", 7)
    for _ in range(recompile.INCREMENTAL_FROM):
        assert engine.submit(ORG, PROJECT, _mutation(("create", "default", [], ""))).error is None
    for step in [("create", "other", ["web"], ""), ("attach", 3, "vm-9"), ("delete", 5)]:
        assert _run(engine, [step]) == [None]
        touched = engine.northbound.touched[-1]
        assert touched is not None and len(touched) < 10, step  # the port and its sets
        assert engine.northbound.deltas[-1], step  # and how its sets changed
    assert _run(engine, [("rules", "db", "self")]) == [None]
    assert engine.northbound.touched[-1] is None  # a group changed: compiled whole
