"""The intent's NAT as reachability (contract 2.8): the ways in from the external
network, the way out to it, and which addresses are external at all.

A DNAT entry is a *way in*: an external host that opens a connection to its external
address reaches the internal IP. Port forwarding carries only its protocol and
``external_port``, which arrives as ``internal_port``; a 1:1 DNAT (a floating IP)
carries every protocol and port unchanged. OVN translates the destination on the
router (``lr_in_dnat``, before the packet enters the port's switch), so the port's
ACLs see the internal address and port with the source still the external host's:
the port's ingress rules decide, and only their CIDR rules can cover an external
host, which is a member of no group.

SNAT and a floating IP are the *way out*: a new connection from a port to an
external host leaves from the floating IP of the port when it has one (its /32 is a
longer prefix than the VPC's SNAT, and ``lr_out_snat`` ranks by prefix length), else
from the project's SNAT address. The port's egress rules decide whether it may be
sent. Without either it would leave with its private address, which the external
network does not route back: no way out.

External addresses are those of no VPC, no range a VPC may not use
(:data:`netc.ir.model.RESERVED_NETWORKS`) and no NAT entry: anything else is a port's
address, a router's, or nobody's.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from netc.ir.model import RESERVED_NETWORKS, Dnat, Project, Snat
from netc.ir.world import World
from netc.reach.trafficset import TrafficSet, contains, normalize

EXTERNAL_PREFIX = "external:"
"""How a question names an external host: ``external:198.51.100.7``."""


@dataclass(frozen=True, eq=False)
class WayIn:
    """A DNAT entry toward one port, and the traffic it delivers there."""

    project: str
    entry: Dnat
    traffic: TrafficSet
    """As the port sees it: ``protocol/internal_port`` for port forwarding, all for 1:1."""

    @property
    def kind(self) -> str:
        return "floating-ip" if self.entry.one_to_one else "port-forwarding"

    @property
    def location(self) -> str:
        return str(self.entry.loc())

    def __str__(self) -> str:
        d = self.entry
        if d.one_to_one:
            return f"floating IP {d.external_ip} -> {d.internal_ip} (1:1 DNAT)"
        return (f"port forwarding {d.external_ip}:{d.external_port}/{d.protocol} -> "
                f"{d.internal_ip}:{d.internal_port}")

    def to_json(self) -> dict:
        d = self.entry
        found = {"kind": self.kind, "project": self.project,
                 "external_ip": str(d.external_ip), "internal_ip": str(d.internal_ip)}
        if not d.one_to_one:
            found.update(protocol=d.protocol, external_port=d.external_port,
                         internal_port=d.internal_port)
        return {**found, "location": self.location}


@dataclass(frozen=True, eq=False)
class WayOut:
    """The NAT entry a port's new connections to the external network leave by."""

    project: str
    entry: Snat | Dnat
    """The project's SNAT, or the port's 1:1 DNAT (its floating IP)."""

    @property
    def kind(self) -> str:
        return "floating-ip" if isinstance(self.entry, Dnat) else "snat"

    @property
    def external_ip(self) -> IPv4Address:
        return self.entry.external_ip

    @property
    def location(self) -> str:
        return str(self.entry.loc())

    def __str__(self) -> str:
        if isinstance(self.entry, Dnat):
            return f"floating IP {self.external_ip} of {self.entry.internal_ip}"
        return f"SNAT {self.external_ip} of {self.project}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "project": self.project,
                "external_ip": str(self.external_ip), "location": self.location}


def ways_in(world: World, project: Project, address: IPv4Address) -> list[WayIn]:
    """Every DNAT entry of ``project`` whose internal IP is ``address``, in order."""
    if world.settings.external is None:
        return []
    found = []
    for entry in project.dnat:
        if entry.external_ip is None or entry.internal_ip != address:
            continue
        if entry.one_to_one:
            found.append(WayIn(project.key, entry, TrafficSet.everything()))
        elif entry.forwards_port:
            port = entry.internal_port
            found.append(WayIn(project.key, entry,
                               TrafficSet.of_rule(entry.protocol, ((port, port),))))
    return found


def way_out(world: World, project: Project, address: IPv4Address) -> WayOut | None:
    """The floating IP of ``address`` if it has one, else the project's first SNAT."""
    if world.settings.external is None:
        return None
    for entry in project.dnat:
        if entry.one_to_one and entry.external_ip is not None and entry.internal_ip == address:
            return WayOut(project.key, entry)
    for entry in project.snat:
        if entry.external_ip is not None:
            return WayOut(project.key, entry)
    return None


def internal_networks(world: World) -> list[IPv4Network]:
    """Every VPC of the world, every range a VPC may not use, and every NAT address
    (a router holds it, not a host): not external."""
    return [*(p.vpc_cidr for p in world.projects.values() if p.vpc_cidr is not None),
            *RESERVED_NETWORKS,
            *(IPv4Network(address) for address, _ in _nat_addresses(world))]


def _nat_addresses(world: World):
    """(external IP, (project, entry)) of every NAT entry of the world."""
    for project in world.projects.values():
        for entry in (*project.snat, *project.dnat):
            if entry.external_ip is not None:
                yield entry.external_ip, (project, entry)


def not_external(world: World, address: IPv4Address) -> str | None:
    """Why ``address`` cannot stand for an external host, or None when it can."""
    for project in world.projects.values():
        if project.vpc_cidr is not None and address in project.vpc_cidr:
            return (f"{address} is inside the VPC {project.vpc_cidr} of {project.key}: "
                    "name a port (ORG/PROJECT/PORT) instead")
    for nat_address, (project, entry) in _nat_addresses(world):
        if nat_address == address:
            return (f"{address} is a NAT address of {project.key} ({entry.loc()}), held by "
                    "its router: ask about the port behind it")
    for network, what in RESERVED_NETWORKS.items():
        if address in network:
            return f"{address} is in the {what} {network}, not an external host's address"
    return None


def parse_external(text: str) -> IPv4Address | None:
    """The address of ``external:IP``; None when ``text`` names no external host.
    Raises ValueError for ``external:`` followed by something other than an IPv4 address."""
    if not text.startswith(EXTERNAL_PREFIX):
        return None
    try:
        return IPv4Address(text[len(EXTERNAL_PREFIX):])
    except ValueError:
        raise ValueError(f"{text!r}: expected external:IP with an IPv4 address, "
                         "e.g. external:198.51.100.7") from None


def external_pieces(world: World, intervals) -> list[tuple[int, int]]:
    """External address intervals that each of ``intervals`` (``(low, high)`` address
    ranges as integers, e.g. the CIDRs of rules) holds whole or not at all, low to
    high, covering every external address."""
    return pieces_outside([network_interval(n) for n in internal_networks(world)], intervals)


def distinct_pieces(pieces, intervals) -> list[tuple[int, int]]:
    """The first of ``pieces`` for each set of ``intervals`` holding a piece: pieces
    that the same intervals hold (only an internal range or a NAT address cut them
    apart) are treated alike by everything that compares with those intervals."""
    found: dict[frozenset, tuple[int, int]] = {}
    for low, high in pieces:
        holders = frozenset(i for i, (a, b) in enumerate(intervals) if a <= low and high <= b)
        found.setdefault(holders, (low, high))
    return list(found.values())


def pieces_outside(internal, intervals) -> list[tuple[int, int]]:
    """Address intervals outside every ``internal`` one that each of ``intervals``
    holds whole or not at all, low to high (all of them ``(low, high)`` integers)."""
    cuts = {0, 1 << 32}
    for low, high in (*intervals, *internal):
        cuts.update((low, high + 1))
    blocked = normalize(internal, 0, (1 << 32) - 1)
    points = sorted(cuts)
    return [(low, following - 1) for low, following in zip(points, points[1:])
            if not contains(blocked, low)]


def network_interval(network: IPv4Network) -> tuple[int, int]:
    return int(network.network_address), int(network.broadcast_address)
