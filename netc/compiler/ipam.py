"""Deterministic IP and MAC allocation for ports that do not state them.

The rules, so that an address never moves without a reason:

1. Addresses written in the intent are used as written (the checks reject bad ones).
2. A port that had an address before (``existing``: port key -> (mac, ip), e.g. read
   back from the Northbound DB or a snapshot) keeps it while it is still valid: inside
   its subnet, not reserved, not claimed by a written address.
3. Every other port gets the lowest free address of its subnet, ports served in key
   order; the network, gateway and broadcast addresses are never handed out. A full
   subnet is a POOL_EXHAUSTED diagnostic on the port.

MACs are locally administered unicast (first octet ``0a``) and derived from the
row's key by hashing, so they do not depend on what else is in the world; on the
rare collision the next hash of the same key is tried, so they stay unique in it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Mapping

from netc.diagnostics import Code, Diagnostics
from netc.ir import parse
from netc.ir.model import Port, Subnet
from netc.ir.world import World

Existing = Mapping[str, tuple[str, str]]
"""Port key -> (MAC, IP) as strings: allocations made by an earlier compile."""

MAC_PREFIX = "0a"


@dataclass(frozen=True, slots=True)
class Address:
    mac: str
    ip: IPv4Address

    def __str__(self) -> str:
        return f"{self.mac} {self.ip}"


@dataclass
class MacPool:
    """Every MAC in use in a world; hands out derived MACs that collide with none."""

    used: set[str] = field(default_factory=set)

    def claim(self, mac: str) -> bool:
        if mac in self.used:
            return False
        self.used.add(mac)
        return True

    def derive(self, key: str) -> str:
        attempt = 0
        while True:
            mac = derived_mac(key, attempt)
            if self.claim(mac):
                return mac
            attempt += 1


def derived_mac(key: str, attempt: int = 0) -> str:
    """``0a:xx:xx:xx:xx:xx`` from a hash of ``key`` (and the attempt on collision)."""
    digest = hashlib.sha256(f"{key}#{attempt}".encode()).digest()
    return ":".join([MAC_PREFIX] + [f"{b:02x}" for b in digest[:5]])


@dataclass
class Allocation:
    addresses: dict[str, Address]
    """Port key -> its address, for every port whose subnet could hold it."""
    macs: MacPool
    """Every MAC handed out so far; lowering derives router-port MACs from it."""

    def copy(self) -> Allocation:
        return Allocation(dict(self.addresses), MacPool(set(self.macs.used)))


def allocate(world: World, existing: Existing | None = None,
             diagnostics: Diagnostics | None = None) -> Allocation:
    """The address of every port, by the rules above; problems go to ``diagnostics``.

    Without ``existing`` the result depends on the world alone, so it is computed once
    per world and kept in ``world.fresh_allocation``: the front end's DNAT check (which
    needs the allocated addresses) and the compile that follows it share one run. Each
    caller gets its own copy, since lowering derives more MACs from it.
    """
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    if existing:
        return _allocate(world, existing, diagnostics)
    if world.fresh_allocation is None:
        found = Diagnostics()
        world.fresh_allocation = (_allocate(world, {}, found), list(found))
    allocation, problems = world.fresh_allocation
    diagnostics.extend(problems)
    return allocation.copy()


def _allocate(world: World, existing: Existing, diagnostics: Diagnostics) -> Allocation:
    ports = sorted(world.ports(), key=lambda p: p.key)
    macs = _allocate_macs(ports, existing)
    ips = _allocate_ips(world, ports, existing, diagnostics)
    addresses = {key: Address(macs[key], ip) for key, ip in ips.items()}
    return Allocation(addresses, MacPool(set(macs.values())))


def _allocate_macs(ports: list[Port], existing: Existing) -> dict[str, str]:
    pool = MacPool()
    macs: dict[str, str] = {}
    for port in ports:
        if port.mac is not None:
            pool.used.add(port.mac)
            macs[port.key] = port.mac
    for port in ports:
        before = existing.get(port.key)
        mac = parse.mac(before[0]) if before else None
        if port.key not in macs and mac is not None and pool.claim(mac):
            macs[port.key] = mac
    for port in ports:
        if port.key not in macs:
            macs[port.key] = pool.derive(port.key)
    return macs


def _allocate_ips(world: World, ports: list[Port], existing: Existing,
                  diagnostics: Diagnostics) -> dict[str, IPv4Address]:
    by_subnet: dict[str, list[Port]] = {}
    for port in ports:
        by_subnet.setdefault(port.subnet, []).append(port)
    ips: dict[str, IPv4Address] = {}
    for subnet_key in sorted(by_subnet):
        subnet = world.subnet(subnet_key)
        if subnet is None or subnet.cidr is None or subnet.gateway is None:
            continue
        ips.update(_allocate_subnet(subnet, by_subnet[subnet_key], existing, diagnostics))
    return ips


def _allocate_subnet(subnet: Subnet, ports: list[Port], existing: Existing,
                     diagnostics: Diagnostics) -> dict[str, IPv4Address]:
    taken = set(subnet.reserved())
    ips: dict[str, IPv4Address] = {}
    for port in ports:
        if port.ip is not None:
            taken.add(port.ip)
            ips[port.key] = port.ip
    wanting = [p for p in ports if p.ip is None]
    for port in wanting:
        before = existing.get(port.key)
        ip = parse.ipv4(before[1]) if before else None
        if ip is not None and ip in subnet.cidr and ip not in taken:
            taken.add(ip)
            ips[port.key] = ip
    # Integers, not IPv4Address arithmetic: a /16 subnet means tens of thousands of
    # candidates, and each IPv4Address costs a constructor call.
    taken_ints = {int(ip) for ip in taken}
    base = int(subnet.cidr.network_address)
    candidates = (base + offset for offset in range(2, subnet.cidr.num_addresses - 1))
    for port in wanting:
        if port.key in ips:
            continue
        free = next((c for c in candidates if c not in taken_ints), None)
        ip = IPv4Address(free) if free is not None else None
        if ip is None:
            diagnostics.error(Code.POOL_EXHAUSTED,
                              f"subnet {subnet.name} {subnet.cidr} has no free address "
                              f"for port {port.name}", port.loc())
            continue
        ips[port.key] = ip
    return ips
