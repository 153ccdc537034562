"""The checks one at a time: each code comes from its own check, at the offending value.

The golden cases (test_checks_golden.py) show whole outputs; these tests pin down
which check owns which code, that checks stay quiet on what they do not own, the
overlap sweep against brute force, and that every random valid world checks clean.
"""

from __future__ import annotations

import inspect
import re
from ipaddress import IPv4Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netc.config import ExternalSettings, NetworkSettings, Settings
from netc.diagnostics import LINTS, Code, Diagnostics, Severity
from netc.intent.yaml_loader import load_yaml
from netc.ir import checks
from netc.ir.checks import CHECKS, run_checks
from netc.ir.world import build_world
from tests.strategies import WORLD_SETTINGS, worlds

NAT_SETTINGS = Settings(external=ExternalSettings(cidr="203.0.113.0/24", gateway_ip="203.0.113.1"))


def world_of(text: str, config: Settings = NAT_SETTINGS):
    out = Diagnostics()
    documents = load_yaml(text, "t.yaml", out)
    assert len(out) == 0, [d.render() for d in out]
    return build_world(documents, config)


def found(check, text: str, config: Settings = NAT_SETTINGS) -> list[tuple]:
    out = Diagnostics()
    check(world_of(text, config), out)
    return [(d.code, d.line, d.column) for d in out]


HEAD = "org: acme\nproject: web\nvpc: {cidr: 10.1.0.0/16}\n"
"""Lines 1-3 of every case below."""

CASES = [
    # (check, text after HEAD, expected (code, line, column))
    (checks.check_cidrs, "subnets:\n- {name: a, cidr: 10.1.0.0/31}\n",
     [(Code.INVALID_CIDR, 5, 19)]),
    (checks.check_cidrs, "security_groups:\n- name: g\n  egress: [{to: 10.0.0.0/33}]\n",
     [(Code.INVALID_CIDR, 6, 17)]),
    (checks.check_addresses, "ports:\n- {name: p, ip: 10.1.0.256}\n",
     [(Code.INVALID_IP, 5, 17)]),
    (checks.check_addresses, "nat:\n  snat: [{external_ip: x}]\n", [(Code.INVALID_IP, 5, 24)]),
    (checks.check_macs, "ports:\n- {name: p, mac: '0a:58'}\n", [(Code.INVALID_MAC, 5, 18)]),
    (checks.check_port_ranges,
     "security_groups:\n- name: g\n  ingress: [{protocol: udp, ports: [53, '9-1']}]\n",
     [(Code.INVALID_PORT_RANGE, 6, 41)]),
    (checks.check_port_ranges,
     "nat:\n  dnat: [{external_ip: 203.0.113.2, external_port: 70000, internal_ip: 10.1.0.9,"
     " internal_port: 80}]\n", [(Code.INVALID_PORT_RANGE, 5, 52)]),
    (checks.check_duplicate_names, "ports:\n- {name: p}\n- {name: p}\n",
     [(Code.DUPLICATE_NAME, 6, 10)]),
    (checks.check_duplicate_names, "---\norg: acme\nproject: web\n",
     [(Code.DUPLICATE_NAME, 6, 10)]),
    (checks.check_subnets_exist, "ports:\n- {name: p, subnet: nope}\n",
     [(Code.SUBNET_NOT_FOUND, 5, 21)]),
    (checks.check_groups_exist, "ports:\n- {name: p, security_groups: [default, nope]}\n",
     [(Code.SECURITY_GROUP_NOT_FOUND, 5, 40)]),
    (checks.check_groups_exist, "security_groups:\n- {name: g, include: [h]}\n",
     [(Code.SECURITY_GROUP_NOT_FOUND, 5, 23)]),
    (checks.check_include_cycles,
     "security_groups:\n- {name: a, include: [b]}\n- {name: b, include: [a]}\n",
     [(Code.SG_REFERENCE_CYCLE, 5, 23)]),
    (checks.check_cross_tenant_references,
     "security_groups:\n- name: g\n  ingress: [{from: 'sg:acme/db/default'}]\n---\n"
     "org: acme\nproject: db\nvpc: {cidr: 10.2.0.0/16}\n", [(Code.CROSS_TENANT_REFERENCE, 6, 20)]),
    (checks.check_peerings, "peerings: [acme/db]\n", [(Code.PEERING_NOT_MUTUAL, 4, 12)]),
    (checks.check_peerings, "peerings: [acme/web]\n", [(Code.SCHEMA_ERROR, 4, 12)]),
    (checks.check_vpc_overlaps, "---\norg: acme\nproject: db\nvpc: {cidr: 10.1.2.0/24}\n",
     [(Code.CIDR_OVERLAP, 7, 13)]),
    (checks.check_subnets_in_vpc, "subnets:\n- {name: a, cidr: 10.2.0.0/24}\n",
     [(Code.SUBNET_OUTSIDE_VPC, 5, 19)]),
    (checks.check_subnet_overlaps,
     "subnets:\n- {name: a, cidr: 10.1.0.0/23}\n- {name: b, cidr: 10.1.1.0/24}\n",
     [(Code.SUBNET_OVERLAP, 6, 19)]),
    (checks.check_port_ips, "ports:\n- {name: p, ip: 10.1.1.5}\n",
     [(Code.IP_OUTSIDE_SUBNET, 5, 17)]),
    (checks.check_port_ips, "ports:\n- {name: p, ip: 10.1.0.255}\n",
     [(Code.RESERVED_IP, 5, 17)]),
    (checks.check_port_ips, "ports:\n- {name: p, ip: 10.1.0.9}\n- {name: q, ip: 10.1.0.9}\n",
     [(Code.IP_ALREADY_ALLOCATED, 6, 17)]),
    (checks.check_mac_conflicts,
     "ports:\n- {name: p, mac: '0a:00:00:00:00:01'}\n- {name: q, mac: '0A-00-00-00-00-01'}\n",
     [(Code.MAC_CONFLICT, 6, 18)]),
    (checks.check_pool, "subnets:\n- {name: a, cidr: 10.1.0.0/30}\nports:\n- {name: p, subnet: a}\n"
     "- {name: q, subnet: a}\n", [(Code.POOL_EXHAUSTED, 8, 3)]),
    (checks.check_nat, "nat:\n  snat: [{external_ip: 198.51.100.1}]\n",
     [(Code.IP_OUTSIDE_SUBNET, 5, 24)]),
    (checks.check_external_addresses, "nat:\n  snat: [{external_ip: 203.0.113.1}]\n",
     [(Code.RESERVED_IP, 5, 24)]),
    (checks.check_external_addresses, "nat:\n  snat: [{external_ip: 203.0.113.7}]\n---\n"
     "org: acme\nproject: db\nvpc: {cidr: 10.2.0.0/16}\nnat:\n  snat: [{external_ip: 203.0.113.7}]\n",
     [(Code.IP_ALREADY_ALLOCATED, 11, 24)]),
    (checks.check_dnat_targets,
     "nat:\n  dnat: [{external_ip: 203.0.113.2, external_port: 80, internal_ip: 10.1.0.9,"
     " internal_port: 80}]\n", [(Code.DNAT_TARGET_UNKNOWN, 5, 69)]),
    (checks.check_dnat_targets,
     "nat:\n  dnat: [{external_ip: 203.0.113.2, internal_ip: 10.1.0.9}]\n",
     [(Code.DNAT_TARGET_UNKNOWN, 5, 50)]),
    (checks.check_dnat_forms,
     "ports:\n- {name: p, ip: 10.1.0.9}\nnat:\n  dnat: [{external_ip: 203.0.113.2, "
     "external_port: 80, internal_ip: 10.1.0.9}]\n", [(Code.SCHEMA_ERROR, 7, 52)]),
    (checks.check_dnat_forms,
     "ports:\n- {name: p, ip: 10.1.0.9}\nnat:\n  dnat: [{external_ip: 203.0.113.2, "
     "internal_ip: 10.1.0.9, protocol: udp}]\n", [(Code.SCHEMA_ERROR, 7, 70)]),
    (checks.check_external_addresses,
     "ports:\n- {name: p, ip: 10.1.0.9}\nnat:\n  dnat:\n  - {external_ip: 203.0.113.2, "
     "internal_ip: 10.1.0.9}\n  - {external_ip: 203.0.113.2, external_port: 22, "
     "internal_ip: 10.1.0.9, internal_port: 22}\n", [(Code.IP_ALREADY_ALLOCATED, 9, 19)]),
]


@pytest.mark.parametrize("check, text, expected", CASES,
                         ids=[f"{c.__name__}-{e[0][0]}" for c, _, e in CASES])
def test_each_check_owns_its_code(check, text, expected):
    assert found(check, HEAD + text) == expected
    # and no other check says anything about the same input
    others = [(d.code, d.line, d.column) for other in CHECKS if other is not check
              for d in _run(other, HEAD + text)]
    assert not set(expected) & set(others)


def _run(check, text):
    out = Diagnostics()
    check(world_of(text), out)
    return out


def test_every_check_is_listed_and_documented():
    defined = {f for name, f in inspect.getmembers(checks, inspect.isfunction)
               if name.startswith("check_") and f.__module__ == checks.__name__}
    assert defined == set(CHECKS)
    assert all(inspect.getdoc(check) for check in CHECKS)


def test_nat_without_external_network():
    text = HEAD + "nat:\n  snat: [{external_ip: 203.0.113.5}]\n"
    assert found(checks.check_nat, text, Settings()) == [(Code.NO_EXTERNAL_NETWORK, 5, 10)]


def test_vpc_pool_exhausted():
    tight = Settings(network=NetworkSettings(cidr_pool="10.0.0.0/16", vpc_prefix=16))
    text = "org: acme\nproject: a\n---\norg: acme\nproject: b\n"
    assert found(checks.check_pool, text, tight) == [(Code.POOL_EXHAUSTED, 5, 10)]


def test_peering_warnings_are_warnings():
    out = Diagnostics()
    run_checks(world_of(HEAD + "peerings: [acme/db]\n"), out)
    assert [(d.code, d.severity) for d in out] == [(Code.PEERING_NOT_MUTUAL, Severity.WARNING)]
    assert not out.has_errors


def test_mutual_group_references_are_not_cycles():
    text = HEAD + ("security_groups:\n- name: a\n  ingress: [{from: 'sg:b'}]\n"
                   "- name: b\n  ingress: [{from: 'sg:a'}]\n")
    out = Diagnostics()
    run_checks(world_of(text), out)
    assert len(out) == 0


def test_cycle_is_spelled_from_its_first_group():
    text = HEAD + ("security_groups:\n- {name: web, include: [base]}\n"
                   "- {name: base, include: [web]}\n- {name: leaf, include: [web]}\n")
    out = Diagnostics()
    checks.check_include_cycles(world_of(text), out)
    [diagnostic] = out
    assert "base -> web -> base" in diagnostic.message
    assert (diagnostic.line, diagnostic.column) == (6, 26)


def test_unpeered_reference_does_not_reveal_the_other_tenants_groups():
    text = HEAD + ("security_groups:\n- name: g\n  ingress: [{from: 'sg:acme/db/secret'}]\n---\n"
                   "org: acme\nproject: db\nvpc: {cidr: 10.2.0.0/16}\n")
    out = Diagnostics()
    run_checks(world_of(text), out)
    assert [d.code for d in out if d.code not in LINTS] == [Code.CROSS_TENANT_REFERENCE]


def test_an_invalid_value_is_reported_once():
    text = HEAD + ("subnets:\n- {name: a, cidr: 10.1.0.0/99}\nports:\n- {name: p, subnet: a, "
                   "ip: 10.1.0.999, mac: nope}\nnat:\n  dnat: [{external_ip: 203.0.113.2, "
                   "external_port: 80, internal_ip: 10.1.0.999, internal_port: 80}]\n")
    out = Diagnostics()
    run_checks(world_of(text), out)
    assert sorted(d.code for d in out) == sorted(
        [Code.INVALID_CIDR, Code.INVALID_IP, Code.INVALID_IP, Code.INVALID_MAC])


blocks = st.lists(st.builds(lambda n, length: IPv4Network((n, length), strict=False),
                            st.integers(0, 2**12 - 1), st.integers(20, 32)), max_size=12)


@given(blocks)
def test_sweep_finds_exactly_the_blocks_that_overlap_an_earlier_one(networks):
    class Owner:
        def __init__(self, index):
            self.key = f"{index:03d}"
    owned = [(network, Owner(i)) for i, network in enumerate(networks)]
    reported = dict(checks._sweep_overlaps(owned))
    order = sorted(owned, key=lambda b: (int(b[0].network_address), b[0].prefixlen, b[1].key))
    cidr_of = {id(owner): network for network, owner in owned}
    for position, (network, owner) in enumerate(order):
        overlaps_earlier = any(network.overlaps(earlier) for earlier, _ in order[:position])
        assert (owner in reported) == overlaps_earlier
        if owner in reported:
            assert network.overlaps(cidr_of[id(reported[owner])])


@settings(max_examples=40, deadline=None)
@given(worlds())
def test_random_valid_worlds_check_clean(projects):
    from netc.intent.source import Document, PositionTable
    documents = [Document(p, PositionTable(f"{p.key}.yaml", {})) for p in projects]
    out = Diagnostics()
    run_checks(build_world(documents, WORLD_SETTINGS), out)
    assert [d.render() for d in out if d.code not in LINTS] == []  # lints: test_lints.py


def _scale_world_text(projects: int, ports: int, clash_every: int = 0) -> str:
    """``projects`` tenants of ``ports`` ports each, peered in pairs; with ``clash_every``,
    every that-many-th port reuses the IP and MAC of the port before it."""
    parts = []
    for p in range(projects):
        peer = p + 1 if p % 2 == 0 else p - 1
        lines = [f"org: org{p // 20}", f"project: p{p}", f"vpc: {{cidr: 10.{p}.0.0/16}}",
                 "subnets:", f"- {{name: s, cidr: 10.{p}.0.0/24}}", "security_groups:",
                 "- {name: base, ingress: [{protocol: tcp, ports: [22], from: 'sg:web'}]}",
                 "- {name: web, include: [base], ingress: "
                 f"[{{protocol: tcp, ports: [443], from: 'sg:org{peer // 20}/p{peer}/web'}}]}}",
                 "ports:"]
        for i in range(ports):
            host = i - 1 if clash_every and i % clash_every == clash_every - 1 else i
            lines.append(f"- {{name: port-{i}, subnet: s, ip: 10.{p}.0.{host + 10}, "
                         f"mac: '0a:58:0a:{p:02x}:00:{host + 10:02x}', security_groups: [web]}}")
        lines.append(f"peerings: [org{peer // 20}/p{peer}]")
        parts.append("\n".join(lines))
    return "\n---\n".join(parts) + "\n"


@pytest.mark.slow
def test_a_world_of_ten_thousand_ports():
    out = Diagnostics()
    run_checks(world_of(_scale_world_text(200, 50)), out)
    errors = [d for d in out if d.is_error]  # its groups admit and send nothing: lints warn
    assert errors == []
    out = Diagnostics()
    run_checks(world_of(_scale_world_text(200, 50, clash_every=10)), out)
    counts = {code: sum(d.code is code for d in out if d.is_error)
              for code in {d.code for d in out if d.is_error}}
    assert counts == {Code.IP_ALREADY_ALLOCATED: 1000, Code.MAC_CONFLICT: 1000}


def test_every_code_is_documented():
    from tests.conftest import REPO
    text = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### ([A-Z_]+)$", text, re.MULTILINE))
    assert headings == {str(code) for code in Code}


def test_documented_examples_are_what_netc_prints():
    """Example diagnostics in docs/diagnostics.md quoted from a golden case match it."""
    from tests.conftest import GOLDEN, REPO
    text = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    quoted = re.findall(r"^    (([\w/.-]+?)\.(?:yaml|netc):\d+:\d+: .*)$", text, re.MULTILINE)
    assert quoted
    for line, file in quoted:
        case = file.split("/")[0]
        expected = (GOLDEN / "check" / f"{case}.expected").read_text(encoding="utf-8")
        assert line in expected.splitlines(), line


ALLOCATED = HEAD + ("ports:\n- {name: a, ip: 10.1.0.10}\n- {name: b}\n- {name: c}\n"
                    "nat:\n  dnat:\n  - {external_ip: 203.0.113.2, internal_ip: 10.1.0.3}\n"
                    "  - {external_ip: 203.0.113.3, external_port: 80, internal_ip: 10.1.0.2, "
                    "internal_port: 80}\n")
"""DNATs to the addresses IPAM gives ports b and c (10.1.0.2 and 10.1.0.3)."""


def test_dnat_targets_may_be_allocated_addresses():
    out = Diagnostics()
    run_checks(world_of(ALLOCATED), out)
    assert list(out) == []
    gone = ALLOCATED.replace("- {name: c}\n", "")
    assert found(checks.check_dnat_targets, gone) == [(Code.DNAT_TARGET_UNKNOWN, 9, 45)]


def test_dnat_targets_need_ipam_once_for_check_and_compile(monkeypatch):
    from netc.compiler import ipam
    from netc.compiler.lower import compile_world
    runs = []
    real = ipam._allocate
    monkeypatch.setattr(ipam, "_allocate", lambda *args: runs.append(1) or real(*args))
    world = world_of(ALLOCATED)
    out = Diagnostics()
    run_checks(world, out)
    first = compile_world(world, diagnostics=out)
    second = compile_world(world, diagnostics=out)
    assert len(runs) == 1 and list(out) == []
    assert first.rows.dumps() == second.rows.dumps() == compile_world(
        world_of(ALLOCATED)).rows.dumps()


def test_a_compile_keeping_addresses_judges_dnat_targets_by_them():
    """Port c kept 10.1.0.9 from an earlier compile, so 10.1.0.3 is nobody's there."""
    from netc.compiler.lower import compile_world
    out = Diagnostics()
    existing = {"acme/web/c": ("0a:00:00:00:00:0c", "10.1.0.9")}
    compile_world(world_of(ALLOCATED), existing=existing, diagnostics=out)
    assert [(d.code, d.line, d.column) for d in out] == [(Code.DNAT_TARGET_UNKNOWN, 10, 45)]
