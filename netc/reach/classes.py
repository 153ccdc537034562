"""The intent's reachability by equivalence classes of ports (contract section 2).

Two ports behave alike toward every other port when they sit in the same project and
subnet, are members of the same groups, and play the same role in every CIDR a rule
that can concern them names (their IP inside it or not). Membership of the groups
decides every ``sg:`` rule, the CIDR role every CIDR rule, the project the isolation
(2.1): so one :class:`PortClass` stands for all its ports, and the traffic a class
may open toward another is one exact :class:`~netc.reach.trafficset.TrafficSet`,
the intersection of what the source's egress rules and the destination's ingress
rules let through (2.2). Port space splits only where some rule's range starts or
ends (the atomic predicates), which the interval sets do by construction.

The CIDRs that matter to a port are those of the rules of its own project and of the
projects it peers with mutually: no other rule can ever meet it (2.1).

NAT (2.8, :mod:`netc.reach.nat`) adds the external network. A DNAT entry targets one
address, so its port is a class of its own (the *NAT role* of a port: the DNAT
entries toward it). External hosts fall into :class:`ExternalRegion` of each project:
the addresses outside every VPC that play the same role in every CIDR of the
project's rules, which is all its groups can tell of a host that is a member of
none. The traffic an external region may open to a class is, for each way in, what
the way delivers intersected with what the class's ingress rules let in from the
region; the traffic a class may open to a region is what its egress rules let
through toward it, when it has a way out.

This answers every question the pair-by-pair :class:`~netc.reach.reference.Reference`
answers, identically (the property test on random worlds holds them to it), in time
proportional to ports plus *class* pairs, not port pairs: the 10,000-port bench world
has some 800 classes and 5,000 class pairs where it has 100 million port pairs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Iterator, Mapping

from netc.ir.model import Port, Rule
from netc.ir.world import World
from netc.reach.nat import (WayIn, WayOut, external_pieces, network_interval, way_out,
                            ways_in)
from netc.reach.reference import MissingAddress, UnknownPort
from netc.reach.traffic import Traffic
from netc.reach.trafficset import TrafficSet


@dataclass(frozen=True, eq=False)
class PortClass:
    """Ports that every rule of the world treats alike."""

    id: str
    """``ORG/PROJECT/group+group@subnet`` (``#2``, ``#3`` when a CIDR splits it)."""
    project: str
    subnet: str
    """Subnet key."""
    groups: tuple[str, ...]
    """Group keys, sorted."""
    ports: tuple[str, ...]
    """Port keys, sorted."""
    roles: frozenset[int] | None
    """Indices (into :attr:`ClassModel.cidrs` of the project) of the CIDRs holding the
    ports' IP; None when the ports have no address yet."""

    @property
    def label(self) -> str:
        """The id without the project: ``web+ops@front``."""
        return self.id[len(self.project) + 1:]

    def __repr__(self) -> str:
        return f"PortClass({self.id}, {len(self.ports)} port(s))"

    def to_json(self) -> dict:
        return {"id": self.id, "project": self.project, "subnet": self.subnet,
                "groups": list(self.groups), "ports": list(self.ports)}


@dataclass(frozen=True, eq=False)
class ExternalRegion:
    """External addresses that every rule of one project treats alike."""

    id: str
    """``external`` (outside every CIDR of the project's rules) or
    ``external:CIDR``, the smallest of those CIDRs that holds the region (a region is
    that CIDR less the smaller ones inside it and the VPCs)."""
    project: str
    sample: IPv4Address
    """Its lowest address: the host that stands for it."""
    roles: frozenset[int]
    """Indices (into :meth:`ClassModel.own_cidrs` of the project) of the CIDRs holding it."""

    def to_json(self) -> dict:
        return {"id": self.id, "project": self.project, "sample": str(self.sample)}


@dataclass(frozen=True)
class ExternalEdge:
    """Traffic between an external region and a class, by one NAT entry."""

    region: ExternalRegion
    cls: PortClass
    inbound: bool
    """From the region to the class (through a DNAT), else from the class to it."""
    traffic: TrafficSet
    nat: WayIn | WayOut


@dataclass(frozen=True)
class ClassPair:
    src: PortClass
    dst: PortClass
    traffic: TrafficSet


class ClassModel:
    """The classes of one world, and the traffic between any two of them.

    ``addresses`` gives the IP of ports the intent left without one (the compiler's
    allocation, :func:`netc.reach.northbound.port_addresses`); an address is only
    needed to place a port in the CIDRs of its project's rules.
    """

    def __init__(self, world: World, addresses: Mapping[str, IPv4Address] | None = None):
        self.world = world
        self.addresses = dict(addresses or {})
        self._rules: dict[str, tuple[Rule, ...]] = {}
        self.cidrs: dict[str, tuple[IPv4Network, ...]] = {}
        """Project key -> the CIDRs (other than 0.0.0.0/0) that may concern its ports."""
        self.peers: dict[str, tuple[str, ...]] = {}
        """Project key -> the projects it peers with mutually, sorted."""
        self._cidr_index: dict[str, dict[IPv4Network, int]] = {}
        self.classes: list[PortClass] = []
        self.class_of: dict[str, PortClass] = {}
        self._traffic: dict[tuple[int, str, int], TrafficSet] = {}
        self._by_remote: dict[tuple[str, str], tuple] = {}
        self._own: dict[str, tuple[IPv4Network, ...]] = {}
        self._regions: dict[str, list[ExternalRegion]] = {}
        self._ways_in: dict[int, list[WayIn]] = {}
        self._ways_out: dict[int, WayOut | None] = {}
        self._build()

    # -- building
    def rules(self, group_key: str) -> tuple[Rule, ...]:
        """The group's effective rules (includes expanded), with a resolved remote."""
        if group_key not in self._rules:
            self._rules[group_key] = tuple(r for r in self.world.effective_rules(group_key)
                                           if r.remote is not None)
        return self._rules[group_key]

    def _build(self) -> None:
        world = self.world
        own: dict[str, set[IPv4Network]] = {}
        for project in world.projects.values():
            found = own.setdefault(project.key, set())
            for group in project.groups.values():
                for rule in group.rules:
                    if rule.remote is not None and rule.remote.cidr is not None \
                            and rule.remote.cidr.prefixlen:
                        found.add(rule.remote.cidr)
        for key, project in world.projects.items():
            self.peers[key] = tuple(sorted(p for p in project.peers
                                           if world.mutually_peered(key, p)))
            relevant = set(own[key]).union(*(own[p] for p in self.peers[key]))
            self.cidrs[key] = tuple(sorted(relevant, key=_network_order))
            self._own[key] = tuple(sorted(own[key], key=_network_order))
            self._cidr_index[key] = {cidr: i for i, cidr in enumerate(self.cidrs[key])}
        members: dict[tuple, list[Port]] = defaultdict(list)
        for port in world.ports():
            members[(port.project, port.subnet, tuple(sorted(port.groups)),
                     self._roles(port), self._nat_role(port))].append(port)
        named: dict[str, int] = defaultdict(int)
        for (project, subnet, groups, roles, _), ports in sorted(
                members.items(), key=lambda item: min(p.key for p in item[1])):
            base = f"{project}/{'+'.join(g.rpartition('/')[2] for g in groups)}" \
                   f"@{subnet.rpartition('/')[2]}"
            named[base] += 1
            label = base if named[base] == 1 else f"{base}#{named[base]}"
            cls = PortClass(label, project, subnet, groups,
                            tuple(sorted(p.key for p in ports)), roles)
            self.classes.append(cls)
            for port in ports:
                self.class_of[port.key] = cls
        self.classes.sort(key=lambda c: c.id)
        self._index = {id(c): i for i, c in enumerate(self.classes)}

    def _roles(self, port: Port) -> frozenset[int] | None:
        cidrs = self.cidrs[port.project]
        address = port.ip or self.addresses.get(port.key)
        if address is None:
            return None
        return frozenset(i for i, cidr in enumerate(cidrs) if address in cidr)

    def _nat_role(self, port: Port) -> tuple[int, ...]:
        """Positions of the DNAT entries toward the port: each targets one address."""
        address = port.ip or self.addresses.get(port.key)
        if address is None:
            return ()
        project = self.world.projects[port.project]
        return tuple(index for index, entry in enumerate(project.dnat)
                     if any(way.entry is entry
                            for way in ways_in(self.world, project, address)))

    # -- asking
    def of(self, port_key: str) -> PortClass:
        cls = self.class_of.get(port_key)
        if cls is None:
            raise UnknownPort(f"no port {port_key!r} (expected ORG/PROJECT/PORT)")
        return cls

    def peered(self, a: str, b: str) -> bool:
        return a == b or b in self.peers.get(a, ())

    def traffic(self, src: PortClass, dst: PortClass) -> TrafficSet:
        """Everything a new connection from a port of ``src`` to one of ``dst`` may be."""
        if not self.peered(src.project, dst.project):
            return TrafficSet.nothing()
        egress = self._side(src, "egress", dst)
        if not egress:
            return egress
        return egress & self._side(dst, "ingress", src)

    def _side(self, port: PortClass, direction: str, other: PortClass) -> TrafficSet:
        total = TrafficSet.nothing()
        for group in port.groups:
            key = (self._index[id(other)], group, direction == "egress")
            found = self._traffic.get(key)
            if found is None:
                found = self._toward(group, direction, other)
                self._traffic[key] = found
            total = total | found
            if total.full:
                break
        return total

    def _toward(self, group: str, direction: str, other: PortClass) -> TrafficSet:
        """What the group's rules of one direction let through toward ``other``."""
        anywhere, by_group, by_cidr = self._compiled(group, direction)
        found = anywhere
        for remote in other.groups:
            if remote in by_group:
                found = found | by_group[remote]
        if by_cidr:
            if other.roles is None:
                raise MissingAddress(f"ports of class {other.id} have no IP: give the "
                                     "compiler's allocation")
            index = self._cidr_index[other.project]
            for cidr, traffic in by_cidr:
                position = index.get(cidr)  # None: a CIDR of a project that cannot reach it
                if position is not None and position in other.roles:
                    found = found | traffic
        return found

    def _compiled(self, group: str, direction: str):
        """The group's rules of one direction by remote: (any address, {group: traffic},
        [(cidr, traffic)])."""
        key = (group, direction)
        if key not in self._by_remote:
            anywhere = TrafficSet.nothing()
            by_group: dict[str, TrafficSet] = {}
            by_cidr: dict[IPv4Network, TrafficSet] = {}
            for rule in self.rules(group):
                if rule.direction != direction:
                    continue
                traffic = TrafficSet.of_rule(rule.protocol, rule.ports)
                remote = rule.remote
                if remote.group is not None:
                    by_group[remote.group] = by_group.get(remote.group,
                                                          TrafficSet.nothing()) | traffic
                elif remote.cidr.prefixlen == 0:
                    anywhere = anywhere | traffic
                else:
                    by_cidr[remote.cidr] = by_cidr.get(remote.cidr,
                                                       TrafficSet.nothing()) | traffic
            self._by_remote[key] = (anywhere, by_group, sorted(
                by_cidr.items(), key=lambda item: (int(item[0].network_address),
                                                   item[0].prefixlen)))
        return self._by_remote[key]

    def covers(self, rule: Rule, other: PortClass) -> bool:
        """Does the rule's remote hold the ports of ``other``?"""
        remote = rule.remote
        if remote.group is not None:
            return remote.group in other.groups
        if remote.cidr.prefixlen == 0:
            return True
        if other.roles is None:
            raise MissingAddress(f"ports of class {other.id} have no IP: give the "
                                 "compiler's allocation")
        index = self._cidr_index[other.project].get(remote.cidr)
        return index is not None and index in other.roles  # None: a CIDR of a project
        # that can never reach this one

    def traffic_if_peered(self, src: PortClass, dst: PortClass) -> TrafficSet:
        """What the groups alone would let through (2.2), were the projects peered."""
        egress = self._side(src, "egress", dst)
        return egress & self._side(dst, "ingress", src) if egress else egress

    def allows(self, src_key: str, dst_key: str, traffic: Traffic) -> bool:
        return traffic in self.traffic(self.of(src_key), self.of(dst_key))

    # -- the external network
    def own_cidrs(self, project: str) -> tuple[IPv4Network, ...]:
        """The CIDRs (other than 0.0.0.0/0) of the project's own rules: all that its
        groups can tell of an external host."""
        return self._own[project]

    def regions(self, project: str) -> list[ExternalRegion]:
        """The external regions of a project, by id."""
        if project not in self._regions:
            cidrs = self._own[project]
            seen: dict[frozenset[int], IPv4Address] = {}
            for low, _ in external_pieces(self.world, map(network_interval, cidrs)):
                address = IPv4Address(low)
                seen.setdefault(frozenset(i for i, cidr in enumerate(cidrs)
                                          if address in cidr), address)
            self._regions[project] = sorted(
                (self._region(project, roles, sample) for roles, sample in seen.items()),
                key=lambda region: region.id)
        return self._regions[project]

    def region_of(self, project: str, address: IPv4Address) -> ExternalRegion:
        """The region of the project holding the external ``address``."""
        cidrs = self._own[project]
        roles = frozenset(i for i, cidr in enumerate(cidrs) if address in cidr)
        return next(r for r in self.regions(project) if r.roles == roles)

    def _region(self, project: str, roles: frozenset[int],
                sample: IPv4Address) -> ExternalRegion:
        cidrs = self._own[project]
        smallest = max((cidrs[i] for i in roles), key=lambda n: n.prefixlen, default=None)
        label = "external" if smallest is None else f"external:{smallest}"
        return ExternalRegion(label, project, sample, roles)

    def ways_in(self, cls: PortClass) -> list[WayIn]:
        """The DNAT entries toward the class's port (a DNAT target is a class alone)."""
        if id(cls) not in self._ways_in:
            address = self._address(cls)
            project = self.world.projects[cls.project]
            self._ways_in[id(cls)] = [] if address is None else \
                ways_in(self.world, project, address)
        return self._ways_in[id(cls)]

    def way_out(self, cls: PortClass) -> WayOut | None:
        """Where the class's connections to the external network leave from, if anywhere."""
        if id(cls) not in self._ways_out:
            address = self._address(cls)
            project = self.world.projects[cls.project]
            self._ways_out[id(cls)] = None if address is None else \
                way_out(self.world, project, address)
        return self._ways_out[id(cls)]

    def _address(self, cls: PortClass) -> IPv4Address | None:
        port = self.world.projects[cls.project].ports[cls.ports[0].rpartition("/")[2]]
        return port.ip or self.addresses.get(port.key)

    def inbound(self, region: ExternalRegion, cls: PortClass) -> list[tuple[WayIn, TrafficSet]]:
        """For each way into the class, what a host of the region may open through it."""
        ways = self.ways_in(cls)
        if not ways:
            return []
        ingress = self._host_side(cls, "ingress", region)
        return [(way, way.traffic & ingress) for way in ways]

    def outbound(self, cls: PortClass, region: ExternalRegion) -> tuple[WayOut | None, TrafficSet]:
        """The way out of the class and what it may open toward a host of the region."""
        out = self.way_out(cls)
        if out is None:
            return None, TrafficSet.nothing()
        return out, self._host_side(cls, "egress", region)

    def _host_side(self, cls: PortClass, direction: str, region: ExternalRegion) -> TrafficSet:
        """What the class's rules of one direction let through toward the region: its
        CIDR rules only, as an external host is a member of no group."""
        index = {cidr: i for i, cidr in enumerate(self._own[region.project])}
        total = TrafficSet.nothing()
        for group in cls.groups:
            anywhere, _, by_cidr = self._compiled(group, direction)
            total = total | anywhere
            for cidr, traffic in by_cidr:
                if index.get(cidr) in region.roles:
                    total = total | traffic
        return total

    def external_edges(self) -> list[ExternalEdge]:
        """Every region-class pair of a project with NAT that some traffic passes,
        one edge per NAT entry: inbound edges first, by class, then outbound."""
        found: list[ExternalEdge] = []
        for cls in self.classes:
            if not self.ways_in(cls) and self.way_out(cls) is None:
                continue
            for region in self.regions(cls.project):
                for way, traffic in self.inbound(region, cls):
                    if traffic:
                        found.append(ExternalEdge(region, cls, True, traffic, way))
                out, traffic = self.outbound(cls, region)
                if traffic:
                    found.append(ExternalEdge(region, cls, False, traffic, out))
        found.sort(key=lambda e: (not e.inbound, e.cls.project, e.cls.id, e.region.id))
        return found

    # -- the matrix
    def candidates(self, src: PortClass) -> Iterator[PortClass]:
        """Classes ``src`` may reach at all: its project's and its mutual peers'."""
        for project in (src.project, *self.peers[src.project]):
            yield from self._by_project().get(project, ())

    def _by_project(self) -> dict[str, list[PortClass]]:
        if not hasattr(self, "_project_classes"):
            grouped: dict[str, list[PortClass]] = defaultdict(list)
            for cls in self.classes:
                grouped[cls.project].append(cls)
            self._project_classes = dict(grouped)
        return self._project_classes

    def pairs(self) -> Iterator[ClassPair]:
        """Every class pair that holds a pair of distinct ports and may talk (same
        project or mutually peered), with its traffic (possibly nothing)."""
        for src in self.classes:
            for dst in self.candidates(src):
                if src is dst and len(src.ports) < 2:
                    continue
                yield ClassPair(src, dst, self.traffic(src, dst))

    def matrix(self) -> list[ClassPair]:
        """The class pairs with some traffic allowed, by project pair then class."""
        found = [pair for pair in self.pairs() if pair.traffic]
        found.sort(key=lambda p: (p.src.project, p.dst.project, p.src.id, p.dst.id))
        return found


@dataclass
class ProjectEdge:
    """What any port of one project may open toward any port of another."""

    src: str
    dst: str
    traffic: TrafficSet
    pairs: list[ClassPair] = field(default_factory=list)


def _network_order(network: IPv4Network) -> tuple[int, int]:
    return int(network.network_address), network.prefixlen


def by_project(matrix: list[ClassPair]) -> list[ProjectEdge]:
    edges: dict[tuple[str, str], ProjectEdge] = {}
    for pair in matrix:
        key = (pair.src.project, pair.dst.project)
        edge = edges.get(key)
        if edge is None:
            edge = edges[key] = ProjectEdge(*key, TrafficSet.nothing())
        edge.traffic = edge.traffic | pair.traffic
        edge.pairs.append(pair)
    return [edges[key] for key in sorted(edges)]
