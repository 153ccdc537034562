"""IPAM: lowest free address, reserved skipped, earlier allocations kept, full pools
reported, MACs derived and unique."""

from __future__ import annotations

from ipaddress import IPv4Address

from netc.compiler.ipam import MacPool, allocate, derived_mac
from netc.config import Settings
from netc.diagnostics import Code, Diagnostics
from netc.intent.yaml_loader import load_yaml
from netc.ir.world import build_world


def world_of(text: str):
    diagnostics = Diagnostics()
    documents = load_yaml(text, "t.yaml", diagnostics)
    assert not diagnostics.has_errors
    return build_world(documents, Settings())


def project(ports: str, cidr: str = "10.9.0.0/29") -> str:
    return f"org: o\nproject: p\nvpc: {{cidr: 10.9.0.0/16}}\nsubnets: [{{name: s, cidr: {cidr}}}]\n" \
           f"ports:\n{ports}"


def ips(allocation) -> dict[str, str]:
    return {k.rpartition("/")[2]: str(a.ip) for k, a in allocation.addresses.items()}


def test_lowest_free_skips_reserved_and_written():
    world = world_of(project("  - {name: a, subnet: s}\n  - {name: b, subnet: s, ip: 10.9.0.3}\n"
                             "  - {name: c, subnet: s}\n"))
    assert ips(allocate(world)) == {"a": "10.9.0.2", "b": "10.9.0.3", "c": "10.9.0.4"}


def test_existing_allocation_is_kept_when_others_go():
    world = world_of(project("  - {name: b, subnet: s}\n  - {name: c, subnet: s}\n"))
    existing = {"o/p/b": ("0a:00:00:00:00:0b", "10.9.0.3")}
    allocation = allocate(world, existing)
    assert ips(allocation) == {"b": "10.9.0.3", "c": "10.9.0.2"}
    assert allocation.addresses["o/p/b"].mac == "0a:00:00:00:00:0b"


def test_existing_allocation_outside_subnet_is_replaced():
    world = world_of(project("  - {name: b, subnet: s}\n"))
    assert ips(allocate(world, {"o/p/b": ("0a:00:00:00:00:0b", "10.99.0.3")})) == {
        "b": "10.9.0.2"}


def test_full_subnet_is_pool_exhausted():
    # a /29 has 8 addresses: network, gateway, broadcast reserved, 5 for ports
    ports = "".join(f"  - {{name: p{i}, subnet: s}}\n" for i in range(6))
    diagnostics = Diagnostics()
    allocation = allocate(world_of(project(ports)), diagnostics=diagnostics)
    assert len(allocation.addresses) == 5
    assert [d.code for d in diagnostics] == [Code.POOL_EXHAUSTED]
    assert IPv4Address("10.9.0.7") not in {a.ip for a in allocation.addresses.values()}


def test_macs_are_locally_administered_unicast_and_unique():
    ports = "".join(f"  - {{name: p{i}, subnet: s}}\n" for i in range(5))
    allocation = allocate(world_of(project(ports, "10.9.0.0/24")))
    macs = [a.mac for a in allocation.addresses.values()]
    assert len(set(macs)) == len(macs)
    for mac in macs:
        first = int(mac[:2], 16)
        assert first & 0x02 and not first & 0x01


def test_mac_pool_probes_past_a_collision():
    pool = MacPool({derived_mac("k")})
    assert pool.derive("k") == derived_mac("k", 1)
