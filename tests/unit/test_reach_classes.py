"""Classes against the pair-by-pair oracles, on random worlds: every question agrees.

- The intent's class model (:mod:`netc.reach.classes`) against the reference
  evaluator of contract section 2, on every ordered pair of ports and every probe.
- The rows' class model (:mod:`netc.reach.rowmodel`, cells of :mod:`netc.reach.verify`)
  against the concrete evaluator of emitted rows (:func:`netc.reach.acl_eval.deliver`):
  whatever pair of ports is asked, the cell pair's representative answers the same,
  for the compiled rows alone and with *foreign* rows added (port groups, ACLs of
  every priority and action, literal port names, addresses, protocol numbers, ACLs on
  a switch), which is what ``verify --nb`` relies on when it traces one pair per
  class pair.
- ``check_rows`` (offline ``netc verify``) reports a mismatch for a port pair and
  traffic exactly when the pair-by-pair matrix disagrees there.
"""

from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netc.compiler.lower import compile_world
from netc.compiler.rows import Ref, Row, RowSet
from netc.diagnostics import Diagnostics
from netc.frontend import check_documents
from netc.intent.source import Document, PositionTable
from netc.intent.yaml_loader import load_yaml
from netc.ir.world import World
from netc.reach.acl_eval import deliver
from netc.reach.classes import ClassModel
from netc.reach.matrix import Matrix, probes
from netc.reach.northbound import Northbound, lsp_ips, port_addresses
from netc.reach.reference import Reference
from netc.reach.rowmodel import RowModel
from netc.reach.traffic import Traffic
from netc.reach.trafficset import TrafficSet, refine
from netc.reach.verify import check_rows, make_cells, representatives
from tests.strategies import WORLD_SETTINGS, worlds

COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])


def world_of(projects) -> World:
    documents = [Document(p, PositionTable(f"{p.org}.{p.project}.yaml", {})) for p in projects]
    diagnostics = Diagnostics()
    result = check_documents(documents, WORLD_SETTINGS, diagnostics)
    assert result.ok, [d.render() for d in diagnostics]
    return result.world


def port_pairs(world: World) -> list[tuple[str, str]]:
    keys = sorted(port.key for port in world.ports())
    return [(a, b) for a in keys for b in keys if a != b]


# -- the intent ------------------------------------------------------------------

@settings(max_examples=40, **COMMON)
@given(worlds())
def test_intent_classes_answer_as_the_reference(projects):
    world = world_of(projects)
    rows = compile_world(world).rows
    addresses = port_addresses(rows)
    model, reference = ClassModel(world, addresses), Reference(world, addresses)
    kinds = probes(world) + [Traffic("132"), Traffic("tcp", 1), Traffic("udp", 65535)]
    for src, dst in port_pairs(world):
        allowed = model.traffic(model.of(src), model.of(dst))
        for traffic in kinds:
            expected = reference.decide(src, dst, traffic).allow
            assert (traffic in allowed) == expected, f"{src} -> {dst} {traffic}"


def test_classes_group_ports_by_project_subnet_groups_and_cidr_role():
    world = load_world("""
org: acme
project: web
vpc: {cidr: 10.1.0.0/16}
subnets: [{name: a, cidr: 10.1.1.0/24}, {name: b, cidr: 10.1.2.0/24}]
security_groups:
  - name: web
    ingress: [{protocol: tcp, ports: [80], from: 10.1.1.0/25}]
ports:
  - {name: w1, subnet: a, ip: 10.1.1.10, security_groups: [web]}
  - {name: w2, subnet: a, ip: 10.1.1.11, security_groups: [web]}
  - {name: w3, subnet: a, ip: 10.1.1.200, security_groups: [web]}
  - {name: w4, subnet: b, ip: 10.1.2.10, security_groups: [web]}
  - {name: d1, subnet: a, ip: 10.1.1.12}
""")
    model = ClassModel(world, port_addresses(compile_world(world).rows))
    members = sorted(cls.ports for cls in model.classes)
    assert members == [("acme/web/d1",), ("acme/web/w1", "acme/web/w2"), ("acme/web/w3",),
                       ("acme/web/w4",)]
    assert model.of("acme/web/w1").id == "acme/web/web@a"
    assert model.of("acme/web/w3").id == "acme/web/web@a#2"
    # w1 admits tcp/80 from the lower half of subnet a only
    assert str(model.traffic(model.of("acme/web/d1"), model.of("acme/web/w1"))) == "tcp/80"


def load_world(text: str) -> World:
    diagnostics = Diagnostics()
    documents = load_yaml(text, "intent.yaml", diagnostics)
    result = check_documents(documents, WORLD_SETTINGS, diagnostics)
    assert result.ok, [d.render() for d in diagnostics]
    return result.world


# -- traffic sets ------------------------------------------------------------------

intervals = st.lists(st.tuples(st.integers(1, 65535), st.integers(0, 200)).map(
    lambda t: (t[0], min(65535, t[0] + t[1]))), max_size=3)
traffic_sets = st.builds(
    lambda tcp, udp, icmp, other: TrafficSet.of_ports("tcp", tuple(tcp))
    | TrafficSet.of_ports("udp", tuple(udp)) | (TrafficSet.of_rule("icmp", None) if icmp
                                               else TrafficSet.nothing())
    | TrafficSet.of_protocols(tuple(other)),
    intervals, intervals, st.booleans(),
    st.lists(st.tuples(st.integers(0, 255), st.integers(0, 20)).map(
        lambda t: (t[0], min(255, t[0] + t[1]))), max_size=2))
questions = st.one_of(st.builds(Traffic, st.sampled_from(["tcp", "udp"]),
                                st.integers(1, 65535)),
                      st.just(Traffic("icmp")),
                      st.integers(0, 255).filter(lambda n: n not in (1, 6, 17)).map(
                          lambda n: Traffic(str(n))))


@settings(max_examples=300, deadline=None)
@given(traffic_sets, traffic_sets, questions)
def test_traffic_set_algebra(a, b, question):
    assert (question in (a | b)) == (question in a or question in b)
    assert (question in (a & b)) == (question in a and question in b)
    assert (question in (a - b)) == (question in a and question not in b)
    assert (question in ~a) == (question not in a)
    pieces = refine([a, b])
    holding = [p for p in pieces if question in p]
    assert len(holding) == 1  # the pieces partition all traffic
    for piece in pieces:
        assert not (piece & a) or (piece - a) == TrafficSet.nothing()


def test_traffic_set_labels():
    web = TrafficSet.of_rule("tcp", [(80, 80), (8000, 8080)]) | TrafficSet.of_rule("udp", [(53, 53)])
    assert web.labels() == ["tcp/80", "tcp/8000-8080", "udp/53"]
    assert (web | TrafficSet.of_rule("icmp", None)).labels()[-1] == "icmp"
    assert TrafficSet.everything().labels() == ["ip"]
    assert TrafficSet.of_rule("tcp", None).labels() == ["tcp"]
    assert str(TrafficSet.nothing()) == "nothing"


# -- the rows, with foreign rows ------------------------------------------------------

PRIORITIES = (900, 1500, 2000, 32000)
ACTIONS = ("allow", "allow-related", "drop", "reject")


@st.composite
def foreign_rows(draw, rows: RowSet) -> tuple[RowSet, list[Traffic]]:
    """``rows`` plus a foreign port group with ACLs and a switch ACL; the traffic their
    constants single out."""
    copied = RowSet()
    for row in rows:
        copied.add(Row(row.table, row.key, {k: (list(v) if isinstance(v, list) else
                                                dict(v) if isinstance(v, dict) else v)
                                            for k, v in row.columns.items()}))
    lsps = sorted(key for key in copied.tables.get("Logical_Switch_Port", {})
                  if key.startswith("port:"))
    switches = sorted(copied.tables.get("Logical_Switch", {}))
    if not lsps:
        return copied, []
    names = {key: copied.get("Logical_Switch_Port", key).columns["name"] for key in lsps}
    ips = {key: str(lsp_ips(copied.get("Logical_Switch_Port", key))[0]) for key in lsps}
    members = draw(st.lists(st.sampled_from(lsps), unique=True, min_size=1))
    traffic: list[Traffic] = []
    acls = []
    # distinct priorities: matching ACLs of one priority that disagree are an error
    # (OVN's choice between them is undefined), for both evaluators
    priorities = draw(st.lists(st.sampled_from(PRIORITIES), min_size=1, max_size=3,
                               unique=True))
    for index, priority in enumerate(priorities):
        direction = draw(st.sampled_from(["from-lport", "to-lport"]))
        field = "inport" if direction == "from-lport" else "outport"
        scope = draw(st.sampled_from(["group", "literal"]))
        terms = [f"{field} == @foreign_pg" if scope == "group"
                 else f'{field} == "{names[draw(st.sampled_from(lsps))]}"', "ip4"]
        kind = draw(st.sampled_from(["tcp", "udp-range", "icmp", "proto", "address", "net"]))
        port = draw(st.integers(1, 65535))
        if kind == "tcp":
            terms += ["tcp", f"tcp.dst == {port}"]
            traffic += [Traffic("tcp", p) for p in (port - 1, port, port + 1) if 0 < p < 65536]
        elif kind == "udp-range":
            high = min(65535, port + draw(st.integers(0, 100)))
            terms += ["udp", f"{port} <= udp.dst <= {high}"]
            traffic += [Traffic("udp", p) for p in (port - 1, port, high, high + 1)
                        if 0 < p < 65536]
        elif kind == "icmp":
            terms.append("icmp4")
        elif kind == "proto":
            terms.append("ip.proto == 47")
            traffic.append(Traffic("47"))
        elif kind == "address":
            side = "ip4.src" if direction == "to-lport" else "ip4.dst"
            terms.append(f"{side} == {ips[draw(st.sampled_from(lsps))]}/32")
        else:
            side = draw(st.sampled_from(["ip4.src", "ip4.dst"]))
            terms.append(f"{side} == 10.0.0.0/9")
        key = f"foreign:acl:{index}"
        copied.add(Row("ACL", key, {"direction": direction,
                                    "priority": priority,
                                    "action": draw(st.sampled_from(ACTIONS)),
                                    "match": " && ".join(terms)}))
        acls.append(Ref(key))
    copied.add(Row("Port_Group", "foreign:pg", {"name": "foreign_pg", "ports": [
        Ref(k) for k in members], "acls": acls}))
    if switches and draw(st.booleans()):
        switch = copied.get("Logical_Switch", draw(st.sampled_from(switches)))
        port = draw(st.integers(1, 65535))
        copied.add(Row("ACL", "foreign:switch-acl", {
            "direction": draw(st.sampled_from(["from-lport", "to-lport"])),
            "priority": 2500, "action": draw(st.sampled_from(ACTIONS)),
            "match": f"ip4 && udp && udp.dst == {port}"}))
        switch.columns["acls"] = [*switch.columns.get("acls", []), Ref("foreign:switch-acl")]
        traffic.append(Traffic("udp", port))
    return copied, traffic


@st.composite
def rows_scenarios(draw, foreign: bool):
    world = world_of(draw(worlds()))
    rows = compile_world(world).rows
    extra: list[Traffic] = []
    if foreign:
        rows, extra = draw(foreign_rows(rows))
    return world, rows, extra


def assert_cells_answer_for_every_pair(world: World, rows: RowSet, extra: list[Traffic]):
    nb = Northbound(rows)
    model = ClassModel(world, port_addresses(rows))
    rowmodel = RowModel(nb)
    lsp_of = {key: nb.by_port_key[key] for key in model.class_of}
    cells = make_cells(model, rowmodel, lsp_of)
    cell_of = {key: cell for cell in cells for key in cell.ports}
    kinds = sorted(set(probes(world) + extra), key=str)
    for src, dst in port_pairs(world):
        a, b = cell_of[src], cell_of[dst]
        i, j = representatives(a, b)
        verdict = rowmodel.deliver(a.lsps[i], b.lsps[j])
        own = rowmodel.deliver(nb.by_port_key[src], nb.by_port_key[dst])
        for traffic in kinds:
            delivery = deliver(nb, src, dst, traffic)
            where = f"{src} -> {dst} {traffic} (cells {a} -> {b})"
            assert (traffic in own.forward) == delivery.allow, where
            assert (traffic in own.reply) == (delivery.allow and delivery.reply), where
            assert (traffic in verdict.forward) == delivery.allow, where
            assert (traffic in verdict.reply) == (delivery.allow and delivery.reply), where


@settings(max_examples=25, **COMMON)
@given(rows_scenarios(foreign=False))
def test_row_cells_answer_as_the_row_evaluator(scenario):
    assert_cells_answer_for_every_pair(*scenario)


@settings(max_examples=40, **COMMON)
@given(rows_scenarios(foreign=True))
def test_row_cells_answer_as_the_row_evaluator_with_foreign_rows(scenario):
    assert_cells_answer_for_every_pair(*scenario)


@settings(max_examples=25, **COMMON)
@given(rows_scenarios(foreign=True))
def test_check_rows_finds_exactly_the_pairwise_disagreements(scenario):
    world, rows, extra = scenario
    nb = Northbound(rows)
    model = ClassModel(world, port_addresses(rows))
    check = check_rows(model, nb)
    cell_of = {key: cell for cell in check.cells for key in cell.ports}
    matrix = Matrix(world, rows)
    kinds = sorted(set(probes(world) + extra), key=str)
    for src, dst in port_pairs(world):
        flagged = TrafficSet.nothing()
        for mismatch in check.mismatches:
            if mismatch.src is cell_of[src] and mismatch.dst is cell_of[dst]:
                flagged = flagged | mismatch.traffic
        for traffic in kinds:
            answer = matrix.answer(matrix_question(src, dst, traffic))
            assert (traffic in flagged) == (not answer.agree), answer.explain()


def matrix_question(src, dst, traffic):
    from netc.reach.matrix import Question
    return Question(src, dst, traffic)


def test_compiled_policies_have_no_mismatch():
    from netc.config import load_settings
    from netc.frontend import check_paths
    from tests.conftest import REPO

    diagnostics = Diagnostics()
    settings_ = load_settings(str(REPO / "netc.toml"), diagnostics)
    result = check_paths([str(REPO / "policies")], settings_, diagnostics)
    rows = compile_world(result.world).rows
    check = check_rows(ClassModel(result.world, port_addresses(rows)), Northbound(rows))
    assert check.pairs > len(check.cells) and not check.mismatches
    assert check.external_questions > 0 and not check.external  # NAT too (contract 2.8)


@pytest.mark.parametrize("address", ["10.1.0.10", "10.1.0.11"])
def test_a_foreign_acl_naming_one_address_splits_its_class(address):
    world = load_world("""
org: acme
project: web
vpc: {cidr: 10.1.0.0/16}
ports:
  - {name: a, ip: 10.1.0.10}
  - {name: b, ip: 10.1.0.11}
  - {name: c, ip: 10.1.0.12}
""")
    rows = compile_world(world).rows
    model = ClassModel(world, port_addresses(rows))
    assert len(model.classes) == 1
    rows.add(Row("ACL", "foreign:acl", {"direction": "to-lport", "priority": 2000,
                                        "action": "drop",
                                        "match": f"ip4.dst == {address} && tcp.dst == 22"}))
    switch = next(iter(rows.tables["Logical_Switch"].values()))
    switch.columns["acls"] = [Ref("foreign:acl")]
    check = check_rows(model, Northbound(rows))
    assert len(check.cells) == 2
    port = {"10.1.0.10": "acme/web/a", "10.1.0.11": "acme/web/b"}[address]
    assert {(m.dst.ports, str(m.traffic), m.intent, m.rows) for m in check.mismatches} == {
        ((port,), "tcp/22", True, False)}
