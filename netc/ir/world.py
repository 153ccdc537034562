"""Build the IR of a whole world of projects: defaults filled, values parsed, indexed.

Checks and the compiler ask the :class:`World` rather than walking raw documents: its
projects hold their subnets, groups (with their rules) and ports by name, and
:meth:`World.members` answers a group's member ports from an index built once.

:attr:`World.graph` is the same world as a graph (networkx), built on first use only:
one node per project, VPC, subnet, port, security group and rule, keyed
``"KIND:KEY"`` with the element in the ``element`` attribute, and edges whose ``kind``
is ``contains`` (project > vpc > subnet > port, project > group > rule), ``member``
(port > group), ``include`` (group > included group), ``refers`` (rule > remote group)
and ``peers`` (project > listed peer). Building it for every check cost a third of
the IR's time and a good part of the front end's memory on the 200 x 50 bench world,
and importing networkx about 0.1 s of every start (docs/bench.md), so no command
needs it to run.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Iterable, Iterator, Mapping

from netc.config import Settings
from netc.intent import model as intent
from netc.intent.source import Document
from netc.ir import parse
from netc.ir.model import (DEFAULT_GROUP, DEFAULT_SUBNET, Dnat, Group, OutsideProject, Port,
                           Project, Remote, Rule, Snat, Subnet)

ANY = IPv4Network("0.0.0.0/0")


@dataclass
class World:
    settings: Settings
    projects: dict[str, Project] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    """Every document, duplicates of a project key included (for DUPLICATE_NAME)."""
    outside: dict[str, OutsideProject] = field(default_factory=dict)
    """Projects of the database that are not in the intent (a plan or apply of part of
    what netc owns): a peering with one of them is the one the database has. Empty
    offline, where a peer not in the intent is simply not in view."""
    peer_links: dict[tuple[str, str], IPv4Network] = field(default_factory=dict)
    """(A, B), A < B -> the /30 the database's link between their routers is on: a
    peering keeps its link across plans of any scope. Empty offline."""
    _members: dict[str, list[Port]] | None = field(default=None, repr=False, compare=False)
    _graph: object | None = field(default=None, repr=False, compare=False)
    fresh_allocation: object | None = field(default=None, repr=False)
    """IPAM's allocation of this world without existing addresses, and its diagnostics,
    once something asked for it: it depends on the world alone, so the DNAT check and
    the compile share it (:func:`netc.compiler.ipam.allocate`). A world is not changed
    after :func:`build_world`."""

    def group(self, key: str) -> Group | None:
        project, _, name = key.rpartition("/")
        owner = self.projects.get(project)
        return owner.groups.get(name) if owner else None

    def subnet(self, key: str) -> Subnet | None:
        project, _, name = key.rpartition("/")
        owner = self.projects.get(project)
        return owner.subnets.get(name) if owner else None

    def mutually_peered(self, a: str, b: str) -> bool:
        """Both list each other; for a project outside the intent, its rows in the
        database hold the link (a one-sided scope keeps the peering the database has)."""
        first, second = self.projects.get(a), self.projects.get(b)
        if first is not None and second is None and b in self.outside:
            return b in first.peers and a in self.outside[b].peers
        if second is not None and first is None and a in self.outside:
            return a in second.peers and b in self.outside[a].peers
        return bool(first and second and b in first.peers and a in second.peers)

    def in_view(self, project: str) -> bool:
        """In the intent, or (planning against a database) among its projects."""
        return project in self.projects or project in self.outside

    def ports(self) -> Iterator[Port]:
        for project in self.projects.values():
            yield from project.ports.values()

    def groups(self) -> Iterator[Group]:
        for project in self.projects.values():
            yield from project.groups.values()

    def members(self, group_key: str) -> list[Port]:
        """Ports whose security groups include ``group_key``, in key order."""
        if self._members is None:
            index: dict[str, list[Port]] = {}
            for port in sorted(self.ports(), key=lambda p: p.key):
                for group in port.groups:
                    index.setdefault(group, []).append(port)
            self._members = index
        return list(self._members.get(group_key, ()))

    @property
    def graph(self):
        """The world as a networkx ``DiGraph`` (see the module's docstring), built on
        first use; nothing in the checks or the compiler needs it."""
        if self._graph is None:
            self._graph = _build_graph(self)
        return self._graph

    def effective_rules(self, group_key: str) -> list[Rule]:
        """The group's own rules, then those of its includes (transitively, once each).

        Include cycles are reported by the checks; here a cycle simply stops.
        """
        rules: list[Rule] = []
        seen: set[str] = set()
        pending = [group_key]
        while pending:
            key = pending.pop(0)
            group = self.group(key)
            if key in seen or group is None:
                continue
            seen.add(key)
            rules.extend(group.rules)
            pending.extend(group.includes)
        return rules


def build_world(documents: list[Document], settings: Settings,
                existing_vpcs: Mapping[str, IPv4Network] | None = None,
                outside: Mapping[str, OutsideProject] | None = None,
                peer_links: Mapping[tuple[str, str], IPv4Network] | None = None) -> World:
    """The IR of ``documents``. Never fails: problems are left for the checks.

    ``existing_vpcs`` maps project keys to the VPC CIDRs they already hold (read back
    from the Northbound DB or a snapshot, for every project netc owns there, not only
    those of this intent): a project keeps its block, and no other project is given it.
    ``outside``: the database's projects that are not in ``documents`` (see
    :attr:`World.outside`); keys of ``documents`` are ignored there. ``peer_links``: the
    database's peering links (:attr:`World.peer_links`).
    """
    world = World(settings=settings, documents=list(documents))
    for doc in documents:
        key = doc.project.key
        if key not in world.projects:
            world.projects[key] = _project(doc)
    world.outside = {key: project for key, project in (outside or {}).items()
                     if key not in world.projects}
    world.peer_links = dict(peer_links or {})
    _allocate_vpc_cidrs(world, existing_vpcs or {})
    for project in world.projects.values():
        _fill_project(project, settings)
    return world


def _project(doc: Document) -> Project:
    written = doc.project
    declared = parse.cidr(written.vpc.cidr) if written.vpc.cidr is not None else None
    # a VPC whose cidr had a schema error is not the pool's to give (netc.intent.salvage)
    unknown = doc.withheld is not None and doc.withheld.vpc_cidr
    return Project(doc=doc, path=("project",), key=written.key, org=written.org,
                   name=written.project, vpc_name=written.vpc.name or written.project,
                   vpc_cidr=declared, vpc_cidr_from_pool=written.vpc.cidr is None and not unknown,
                   peers=tuple(dict.fromkeys(written.peerings)))


def _allocate_vpc_cidrs(world: World, existing: Mapping[str, IPv4Network]) -> None:
    """Give each project without a declared VPC CIDR a block of the pool.

    A project keeps the block it already holds in ``existing`` when no declared CIDR
    has since claimed it. The others get the lowest block that is neither declared
    anywhere in the world nor held by any project in ``existing``; they are served in
    key order, so the result does not depend on file order. A project left with
    ``vpc_cidr`` None here is reported as POOL_EXHAUSTED.
    """
    network = world.settings.network
    taken = AddressRanges(p.vpc_cidr for p in world.projects.values() if p.vpc_cidr is not None)
    wanting = sorted((p for p in world.projects.values() if p.vpc_cidr_from_pool),
                     key=lambda p: p.key)
    if not wanting:
        return
    waiting = []
    for project in wanting:
        held = existing.get(project.key)
        if held is not None and not taken.overlaps(held):
            project.vpc_cidr = held
            taken.add(held)
        else:
            waiting.append(project)
    for key, cidr in existing.items():
        if key not in world.projects:
            taken.add(cidr)
    prefix = max(network.vpc_prefix, network.pool.prefixlen)
    candidates = network.pool.subnets(new_prefix=prefix)
    for project in waiting:
        for block in candidates:
            if not taken.overlaps(block):
                project.vpc_cidr = block
                taken.add(block)
                break


class AddressRanges:
    """Disjoint address ranges kept sorted, so an overlap test is one bisection."""

    def __init__(self, networks: Iterable[IPv4Network] = ()) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for network in networks:
            self.add(network)

    def overlaps(self, network: IPv4Network) -> bool:
        start, end = int(network.network_address), int(network.broadcast_address)
        index = bisect_right(self.starts, end) - 1
        return index >= 0 and self.ends[index] >= start

    def add(self, network: IPv4Network) -> None:
        start, end = int(network.network_address), int(network.broadcast_address)
        low = bisect_left(self.ends, start)          # first range that may touch it
        high = bisect_right(self.starts, end)        # ranges [low, high) overlap it
        if low < high:
            start, end = min(start, self.starts[low]), max(end, self.ends[high - 1])
        self.starts[low:high] = [start]
        self.ends[low:high] = [end]


def _fill_project(project: Project, settings) -> None:
    written = project.doc.project
    key = project.key
    if written.subnets or (project.doc.withheld and project.doc.withheld.subnets):
        for index, sub in enumerate(written.subnets):
            if sub.name not in project.subnets:
                project.subnets[sub.name] = Subnet(
                    doc=project.doc, path=("subnets", index), key=f"{key}/{sub.name}",
                    project=key, name=sub.name, cidr=parse.cidr(sub.cidr), dhcp=sub.dhcp,
                    dns_servers=tuple(a for a in map(parse.ipv4, sub.dns_servers) if a))
    else:
        project.subnets[DEFAULT_SUBNET] = Subnet(
            doc=project.doc, path=("project",), key=f"{key}/{DEFAULT_SUBNET}", project=key,
            name=DEFAULT_SUBNET, cidr=_default_subnet_cidr(project.vpc_cidr, settings),
            dhcp=True, dns_servers=(), implicit=True)

    for index, sg in enumerate(written.security_groups):
        if sg.name not in project.groups:
            project.groups[sg.name] = _group(project, sg, index)
    if DEFAULT_GROUP not in project.groups:
        project.groups[DEFAULT_GROUP] = _default_group(project)

    for index, port in enumerate(written.ports):
        if port.name not in project.ports:
            names = port.security_groups or [DEFAULT_GROUP]
            project.ports[port.name] = Port(
                doc=project.doc, path=("ports", index), key=f"{key}/{port.name}", project=key,
                name=port.name, subnet=f"{key}/{port.subnet}", vm=port.vm,
                mac=parse.mac(port.mac) if port.mac is not None else None,
                ip=parse.ipv4(port.ip) if port.ip is not None else None,
                groups=tuple(f"{key}/{n}" for n in dict.fromkeys(names)))

    for index, snat in enumerate(written.nat.snat):
        project.snat.append(Snat(doc=project.doc, path=("nat", "snat", index),
                                 external_ip=parse.ipv4(snat.external_ip)))
    for index, dnat in enumerate(written.nat.dnat):
        project.dnat.append(Dnat(
            doc=project.doc, path=("nat", "dnat", index),
            external_ip=parse.ipv4(dnat.external_ip), external_port=dnat.external_port,
            internal_ip=parse.ipv4(dnat.internal_ip), internal_port=dnat.internal_port,
            protocol=dnat.protocol))


def _default_subnet_cidr(vpc: IPv4Network | None, settings) -> IPv4Network | None:
    """The first block of ``default_subnet_size`` in the VPC (the VPC itself if smaller)."""
    if vpc is None:
        return None
    size = settings.network.default_subnet_size
    if vpc.prefixlen >= size:
        return vpc
    return next(vpc.subnets(new_prefix=size))


def _group(project: Project, sg: intent.SecurityGroup, index: int) -> Group:
    key = f"{project.key}/{sg.name}"
    group = Group(doc=project.doc, path=("security_groups", index), key=key, project=project.key,
                  name=sg.name, description=sg.description,
                  includes=tuple(f"{project.key}/{n}" for n in dict.fromkeys(sg.include)))
    for direction, written_rules in (("ingress", sg.ingress), ("egress", sg.egress)):
        for position, rule in enumerate(written_rules):
            group.rules.append(_rule(project, group, direction, position, rule))
    return group


def _rule(project: Project, group: Group, direction: str, position: int,
          rule: intent.Rule) -> Rule:
    ports = None
    if rule.protocol in ("tcp", "udp") and rule.ports:
        ranges = [r for r in map(parse.port_range, rule.ports) if r]
        ports = parse.merge_ranges(ranges) if ranges else None
    return Rule(doc=project.doc, path=group.path + (direction, position), group=group.key,
                direction=direction, protocol=rule.protocol, ports=ports,
                remote=resolve_remote(rule.remote, project.key))


def resolve_remote(text: str, project_key: str) -> Remote | None:
    """``sg:NAME`` and ``sg:ORG/PROJECT/NAME`` to a group key, a CIDR to a network."""
    if text.startswith(parse.SG_PREFIX):
        owner, name = parse.split_group_ref(text)
        if not name or "/" in name:
            return None
        return Remote(group=f"{owner or project_key}/{name}")
    network = parse.cidr(text)
    return Remote(cidr=network) if network is not None else None


def _default_group(project: Project) -> Group:
    """Contract 2.4: ingress all from the group itself, egress all anywhere."""
    key = f"{project.key}/{DEFAULT_GROUP}"
    group = Group(doc=project.doc, path=("project",), key=key, project=project.key,
                  name=DEFAULT_GROUP, description="default security group", includes=(),
                  implicit=True)
    group.rules = [
        Rule(doc=project.doc, path=("project",), group=key, direction="ingress",
             protocol="all", ports=None, remote=Remote(group=key)),
        Rule(doc=project.doc, path=("project",), group=key, direction="egress",
             protocol="all", ports=None, remote=Remote(cidr=ANY)),
    ]
    return group


def _build_graph(world: World):
    import networkx as nx  # only for whoever asks for World.graph

    graph = nx.DiGraph()
    for project in world.projects.values():
        pnode, vnode = f"project:{project.key}", f"vpc:{project.key}"
        graph.add_node(pnode, element=project)
        graph.add_node(vnode, element=project)
        graph.add_edge(pnode, vnode, kind="contains")
        for subnet in project.subnets.values():
            graph.add_node(f"subnet:{subnet.key}", element=subnet)
            graph.add_edge(vnode, f"subnet:{subnet.key}", kind="contains")
        for group in project.groups.values():
            gnode = f"group:{group.key}"
            graph.add_node(gnode, element=group)
            graph.add_edge(pnode, gnode, kind="contains")
            for included in group.includes:
                graph.add_edge(gnode, f"group:{included}", kind="include")
            for index, rule in enumerate(group.rules):
                rnode = f"rule:{group.key}/{rule.direction}/{index}"
                graph.add_node(rnode, element=rule)
                graph.add_edge(gnode, rnode, kind="contains")
                if rule.remote is not None and rule.remote.group:
                    graph.add_edge(rnode, f"group:{rule.remote.group}", kind="refers")
        for port in project.ports.values():
            node = f"port:{port.key}"
            graph.add_node(node, element=port)
            graph.add_edge(f"subnet:{port.subnet}", node, kind="contains")
            for group_key in port.groups:
                graph.add_edge(node, f"group:{group_key}", kind="member")
        for peer in project.peers:
            graph.add_edge(pnode, f"project:{peer}", kind="peers")
    return graph
