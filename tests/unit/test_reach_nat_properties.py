"""NAT on random worlds (SNAT, port forwarding and 1:1 DNAT).

On :func:`tests.strategies.nat_worlds` (DNAT targets in a group with CIDR rules toward
external hosts), with hosts next to the edges of every CIDR:

- the intent's class model answers every external question (from an external host to
  a port, from a port to one) exactly as the pair-by-pair reference does, and every
  address of an external region answers as the region's sample does;
- the compiled rows (NAT rows, load balancers, routes, ACLs, by :mod:`netc.reach.rownat`
  and :meth:`RowModel.deliver_inbound`/``deliver_outbound``) carry exactly what the
  intent means, port by port and host by host, save one thing OVN does on its own: an
  ICMP echo to a router's own address is answered by the router (a project whose NAT
  is only floating IPs gives the first one to its gateway port);
- offline ``verify`` (:func:`netc.reach.verify.check_external`) reports no mismatch
  on the compiled rows but that one;
- ``explain``'s fixes for a denied external question, applied to the intent as a
  person would, keep the world clean and let the connection through.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from hypothesis import given, settings
from hypothesis import strategies as st

from netc.compiler.lower import compile_world
from netc.intent.model import Dnat, Snat
from netc.reach.fixes import external_fixes
from netc.reach.classes import ClassModel
from netc.reach.matrix import probes
from netc.reach.nat import not_external
from netc.reach.northbound import Northbound, port_addresses
from netc.reach.reference import Reference
from netc.reach.rowmodel import RowModel
from netc.reach.traffic import Traffic
from netc.reach.verify import check_rows
from tests.strategies import external_hosts, nat_worlds
from tests.unit.test_reach_classes import COMMON, world_of
from tests.unit.test_reach_fixes import apply_fix


@st.composite
def nat_scenarios(draw):
    projects = draw(nat_worlds())
    hosts = draw(st.lists(external_hosts(projects), min_size=3, max_size=6, unique=True))
    return projects, hosts


def setup(projects, hosts):
    world = world_of(projects)
    rows = compile_world(world).rows
    addresses = port_addresses(rows)
    external = [IPv4Address(h) for h in hosts if not_external(world, IPv4Address(h)) is None]
    kinds = probes(world) + [Traffic("132"), Traffic("tcp", 1), Traffic("udp", 65535)]
    kinds += [Traffic(d.protocol, port) for p in world.projects.values() for d in p.dnat
              if d.forwards_port for port in (d.internal_port, d.external_port)]
    return world, rows, addresses, external, sorted(set(kinds), key=str)


def router_answers_itself(world, port_key: str, traffic: Traffic) -> bool:
    """The one documented difference: icmp to the 1:1 address that the gateway port
    holds, in a project with neither SNAT nor port forwarding."""
    project = world.projects[port_key.rpartition("/")[0]]
    return traffic.protocol == "icmp" and not project.snat and not any(
        d.forwards_port for d in project.dnat)


@settings(max_examples=40, **COMMON)
@given(nat_scenarios())
def test_intent_classes_answer_external_questions_as_the_reference(scenario):
    world, _, addresses, hosts, kinds = setup(*scenario)
    model, reference = ClassModel(world, addresses), Reference(world, addresses)
    for port in sorted(p.key for p in world.ports()):
        cls = model.of(port)
        for host in hosts:
            region = model.region_of(cls.project, host)
            inbound = [passed for _, passed in model.inbound(region, cls)]
            _, outbound = model.outbound(cls, region)
            for traffic in kinds:
                into = reference.decide_inbound(host, port, traffic).allow
                out = reference.decide_outbound(port, host, traffic).allow
                assert any(traffic in t for t in inbound) == into, f"{host} -> {port} {traffic}"
                assert (traffic in outbound) == out, f"{port} -> {host} {traffic}"
                # the region's sample stands for every host of it
                assert reference.decide_inbound(region.sample, port, traffic).allow == into
                assert reference.decide_outbound(port, region.sample, traffic).allow == out


@settings(max_examples=40, **COMMON)
@given(nat_scenarios())
def test_compiled_nat_rows_carry_what_the_intent_means(scenario):
    world, rows, addresses, hosts, kinds = setup(*scenario)
    reference, nb = Reference(world, addresses), Northbound(rows)
    model = RowModel(nb)
    for port in sorted(p.key for p in world.ports()):
        lsp = nb.by_port_key[port]
        for host in hosts:
            inbound = [verdict for _, verdict in model.deliver_inbound(host, lsp)]
            _, outbound = model.deliver_outbound(lsp, host)
            for traffic in kinds:
                meant = reference.decide_inbound(host, port, traffic).allow
                carried = any(traffic in v.allowed for v in inbound)
                if meant != carried:
                    assert meant and router_answers_itself(world, port, traffic), \
                        f"{host} -> {port} {traffic}: intent {meant}, rows {carried}"
                assert (traffic in outbound.allowed) == reference.decide_outbound(
                    port, host, traffic).allow, f"{port} -> {host} {traffic}"
                # no new connection passes without its replies
                assert all(traffic in v.reply or traffic not in v.forward for v in inbound)


@settings(max_examples=30, **COMMON)
@given(nat_worlds())
def test_verify_finds_no_external_mismatch_on_compiled_rows(projects):
    world = world_of(projects)
    rows = compile_world(world).rows
    check = check_rows(ClassModel(world, port_addresses(rows)), Northbound(rows))
    for mismatch in check.external:
        assert mismatch.inbound and mismatch.intent and not mismatch.rows, mismatch
        assert str(mismatch.traffic) == "icmp" and router_answers_itself(
            world, mismatch.cell.representative, Traffic("icmp")), mismatch


def apply_nat_fixes(projects, fixes):
    """Every fix applied to the intent as a person would edit it: rules by
    :func:`tests.unit.test_reach_fixes.apply_fix`, NAT entries appended."""
    for fix in fixes:
        if fix.nat is None:
            projects = apply_fix(projects, fix)
            continue
        (kind, entry), = fix.nat.items()
        project = next(p for p in projects if p.key == fix.project)
        nat = project.nat.model_copy(update={kind: [*getattr(project.nat, kind), (
            Snat if kind == "snat" else Dnat).model_validate(entry)]})
        projects = [p.model_copy(update={"nat": nat}) if p is project else p
                    for p in projects]
    return projects


@settings(max_examples=30, **COMMON)
@given(nat_scenarios(), st.data())
def test_external_fixes_applied_let_the_connection_through(scenario, data):
    projects, _ = scenario
    world, _, addresses, hosts, kinds = setup(*scenario)
    reference = Reference(world, addresses)
    questions = [(port.key, host, traffic, inbound) for port in world.ports()
                 for host in hosts for traffic in kinds for inbound in (True, False)]
    denied = [q for q in questions if not (
        reference.decide_inbound(q[1], q[0], q[2]) if q[3]
        else reference.decide_outbound(q[0], q[1], q[2])).allow]
    if not denied:
        return
    port, host, traffic, inbound = data.draw(st.sampled_from(denied))
    fixes = external_fixes(world, reference, port, host, inbound, traffic)
    assert fixes
    fixed = world_of(apply_nat_fixes(projects, fixes))  # checks clean, or fails here
    after = Reference(fixed, port_addresses(compile_world(fixed).rows))
    verdict = (after.decide_inbound(host, port, traffic) if inbound
               else after.decide_outbound(port, host, traffic))
    assert verdict.allow, (fixes, verdict)
