"""The checks of contract section 3: one function per check, all run, all reported.

Each check takes the :class:`~netc.ir.world.World` and a
:class:`~netc.diagnostics.Diagnostics` and appends what it finds. Checks never raise
and never stop the others; a value that failed to parse is reported once, by the
check for its kind, and skipped by every other check.

Checks of a value's *form* (INVALID_CIDR, INVALID_IP, INVALID_MAC, INVALID_PORT_RANGE,
DUPLICATE_NAME) read the documents as written, duplicates included, because the IR
keeps only the first of two elements with one name. Checks of *meaning* read the IR.
Every check is linear (or n log n) in the size of the world: a world of 10,000 ports
is checked in a fraction of a second, so no check may loop over pairs of ports.
"""

from __future__ import annotations

import difflib
import re
from functools import partial
from collections import defaultdict
from ipaddress import IPv4Address, IPv4Network
from typing import Iterable, Iterator, TypeVar

from netc.compiler.ipam import Allocation, allocate
from netc.diagnostics import Code, Diagnostics, Location
from netc.intent import model as intent
from netc.intent.model import NAME_PATTERN
from netc.ir import parse
from netc.ir.lints import run_lints
from netc.ir.model import (RESERVED_NETWORKS, Dnat, Element, Group, Port, Project, Rule, Snat,
                           Subnet)
from netc.ir.world import World

MIN_SUBNET_ADDRESSES = 4
"""Network, gateway, broadcast and one port: a /30 is the smallest useful subnet."""
_PROJECT_KEY = re.compile(NAME_PATTERN.strip("^$") + "/" + NAME_PATTERN.strip("^$"))


# --- helpers ---------------------------------------------------------------------------------

def _unresolved(world: World, kind: str) -> Iterator[tuple[Element, str]]:
    """(referring element, missing key) for every reference of ``kind`` to a name nobody
    declared: ``contains`` (a port's subnet), ``member`` (a port's groups), ``include``
    (a group's includes) or ``refers`` (a rule's ``sg:`` remote)."""
    if kind in ("contains", "member"):
        for port in world.ports():
            if kind == "contains":
                if world.subnet(port.subnet) is None:
                    yield port, port.subnet
                continue
            for group in port.groups:
                if world.group(group) is None:
                    yield port, group
        return
    for group in world.groups():
        if kind == "include":
            for included in group.includes:
                if world.group(included) is None:
                    yield group, included
            continue
        for rule in group.rules:
            if rule.remote is not None and rule.remote.group \
                    and world.group(rule.remote.group) is None:
                yield rule, rule.remote.group


def _suggest(name: str, known: Iterable[str]) -> str:
    """"; did you mean 'x'?" when a known name is close, else the names that exist."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    if names:
        return f"; declared: {', '.join(names[:8])}" + (", ..." if len(names) > 8 else "")
    return ""


Owner = TypeVar("Owner", Project, Subnet)


def _sweep_overlaps(blocks: list[tuple[IPv4Network, Owner]]) -> Iterator[tuple[Owner, Owner]]:
    """(later, earlier) for each block that overlaps one seen before it, in address order.

    Sort-and-sweep: after sorting by start address (then size, then key, so that file
    order never matters), a block overlaps an earlier one exactly when it starts at or
    before the furthest end seen so far, and the block that reached furthest is the one
    to name. n log n, whatever the number of blocks.
    """
    ordered = sorted(blocks, key=lambda b: (int(b[0].network_address), b[0].prefixlen, b[1].key))
    furthest: tuple[int, Owner] | None = None
    for network, owner in ordered:
        start, end = int(network.network_address), int(network.broadcast_address)
        if furthest is not None and start <= furthest[0]:
            yield owner, furthest[1]
        if furthest is None or end > furthest[0]:
            furthest = (end, owner)


def _written_port(port: Port) -> intent.Port:
    """The port as written, for what the IR does not keep (the written ip, group order)."""
    return port.doc.project.ports[port.path[1]]


def _written_group(group: Group) -> intent.SecurityGroup:
    """A declared group as written (implicit groups have no written form)."""
    return group.doc.project.security_groups[group.path[1]]


# --- form of values --------------------------------------------------------------------------

def check_cidrs(world: World, out: Diagnostics) -> None:
    """INVALID_CIDR for every VPC, subnet and rule remote that is not an IPv4 CIDR.

    Also for VPCs and subnets smaller than a /30: a subnet needs room for its network,
    gateway and broadcast addresses and at least one port.
    """
    for doc in world.documents:
        written = doc.project
        if written.vpc.cidr is not None:
            vpc = parse.cidr(written.vpc.cidr)
            if vpc is None:
                out.error(Code.INVALID_CIDR, f"VPC CIDR {parse.cidr_problem(written.vpc.cidr)}",
                          doc.locate("vpc", "cidr"))
            elif vpc.num_addresses < MIN_SUBNET_ADDRESSES:
                out.error(Code.INVALID_CIDR,
                          f"VPC {vpc} is too small: a VPC needs at least a /30; "
                          "use a shorter prefix", doc.locate("vpc", "cidr"))
        for index, subnet in enumerate(written.subnets):
            network = parse.cidr(subnet.cidr)
            if network is None:
                out.error(Code.INVALID_CIDR,
                          f"subnet {subnet.name}: {parse.cidr_problem(subnet.cidr)}",
                          doc.locate("subnets", index, "cidr"))
            elif network.num_addresses < MIN_SUBNET_ADDRESSES:
                out.error(Code.INVALID_CIDR,
                          f"subnet {subnet.name} {network} is too small: a subnet needs at "
                          "least a /30 (network, gateway, broadcast and one port)",
                          doc.locate("subnets", index, "cidr"))
        group_names = {group.name for group in written.security_groups}
        for g, group in enumerate(written.security_groups):
            for direction, rules in (("ingress", group.ingress), ("egress", group.egress)):
                field = "from" if direction == "ingress" else "to"
                for r, rule in enumerate(rules):
                    remote = rule.remote
                    if remote.startswith(parse.SG_PREFIX) or parse.cidr(remote) is not None:
                        continue
                    problem = (f"{remote!r} is not a CIDR; did you mean sg:{remote}?"
                               if remote in group_names else parse.cidr_problem(remote))
                    out.error(Code.INVALID_CIDR,
                              f"group {group.name} {direction} rule: {field} {problem}",
                              doc.locate("security_groups", g, direction, r, field))


def check_addresses(world: World, out: Diagnostics) -> None:
    """INVALID_IP for port IPs, DNS servers and the SNAT/DNAT addresses that do not parse."""
    for doc in world.documents:
        written = doc.project

        def report(text: str | None, what: str, *path: str | int) -> None:
            if text is not None and parse.ipv4(text) is None:
                out.error(Code.INVALID_IP, f"{what}: {parse.ipv4_problem(text)}",
                          doc.locate(*path))

        for index, port in enumerate(written.ports):
            report(port.ip, f"port {port.name} ip", "ports", index, "ip")
        for index, subnet in enumerate(written.subnets):
            for d, server in enumerate(subnet.dns_servers):
                report(server, f"subnet {subnet.name} DNS server",
                       "subnets", index, "dns_servers", d)
        for index, snat in enumerate(written.nat.snat):
            report(snat.external_ip, "SNAT external_ip", "nat", "snat", index, "external_ip")
        for index, dnat in enumerate(written.nat.dnat):
            report(dnat.external_ip, "DNAT external_ip", "nat", "dnat", index, "external_ip")
            report(dnat.internal_ip, "DNAT internal_ip", "nat", "dnat", index, "internal_ip")


def check_macs(world: World, out: Diagnostics) -> None:
    """INVALID_MAC for explicit port MACs that are not unicast ``xx:xx:xx:xx:xx:xx``."""
    for doc in world.documents:
        for index, port in enumerate(doc.project.ports):
            if port.mac is not None and parse.mac(port.mac) is None:
                out.error(Code.INVALID_MAC, f"port {port.name}: {parse.mac_problem(port.mac)}",
                          doc.locate("ports", index, "mac"))


def check_port_ranges(world: World, out: Diagnostics) -> None:
    """INVALID_PORT_RANGE: bad or reversed ranges, ports outside 1..65535, ports on icmp/all.

    Also DNAT external and internal ports outside 1..65535 (when written: a 1:1 DNAT
    has none).
    """
    for doc in world.documents:
        written = doc.project
        for g, group in enumerate(written.security_groups):
            for direction, rules in (("ingress", group.ingress), ("egress", group.egress)):
                for r, rule in enumerate(rules):
                    where = ("security_groups", g, direction, r, "ports")
                    if not rule.ports:
                        continue
                    if rule.protocol not in ("tcp", "udp"):
                        out.error(Code.INVALID_PORT_RANGE,
                                  f"group {group.name} {direction} rule: ports apply only to "
                                  f"tcp and udp, not {rule.protocol}; remove 'ports' or set "
                                  "protocol to tcp or udp", doc.locate(*where))
                        continue
                    for p, spec in enumerate(rule.ports):
                        if parse.port_range(spec) is None:
                            out.error(Code.INVALID_PORT_RANGE,
                                      f"group {group.name} {direction} rule: "
                                      f"{parse.port_range_problem(spec)}",
                                      doc.locate(*where, p))
        for index, dnat in enumerate(written.nat.dnat):
            for field in ("external_port", "internal_port"):
                value = getattr(dnat, field)
                if value is not None and not 1 <= value <= 65535:
                    out.error(Code.INVALID_PORT_RANGE,
                              f"DNAT {field} {value} is outside 1-65535",
                              doc.locate("nat", "dnat", index, field))


def check_dnat_forms(world: World, out: Diagnostics) -> None:
    """SCHEMA_ERROR: a DNAT entry that is neither port forwarding (both ports) nor 1:1
    (no ports): one port without the other; or a protocol on a 1:1 entry, which
    forwards every protocol. At the written value, which says what was meant."""
    for doc in world.documents:
        for index, dnat in enumerate(doc.project.nat.dnat):
            where = ("nat", "dnat", index)
            entry = f"DNAT {dnat.external_ip} -> {dnat.internal_ip}"
            if (dnat.external_port is None) != (dnat.internal_port is None):
                written, missing = (("external_port", "internal_port")
                                    if dnat.internal_port is None
                                    else ("internal_port", "external_port"))
                out.error(Code.SCHEMA_ERROR,
                          f"{entry} has {written} {getattr(dnat, written)} but no {missing}; "
                          f"write both to forward one port, or neither for a 1:1 DNAT "
                          "(a floating IP: every port)", doc.locate(*where, written))
            elif dnat.one_to_one and dnat.protocol_written:
                out.error(Code.SCHEMA_ERROR,
                          f"{entry} has no ports, so it is 1:1 and forwards every protocol, "
                          f"not only {dnat.protocol}; remove protocol, or add external_port "
                          "and internal_port to forward one port", doc.locate(*where, "protocol"))


# --- names -----------------------------------------------------------------------------------

def check_duplicate_names(world: World, out: Diagnostics) -> None:
    """DUPLICATE_NAME: a project declared twice in the world, or two subnets, security
    groups or ports of one project with the same name. Each repeat names the first."""
    for doc in world.documents:
        first = world.projects[doc.project.key]
        if first.doc is not doc:
            out.error(Code.DUPLICATE_NAME,
                      f"project {doc.project.key} is declared twice (first at {first.loc()}); "
                      "merge the two declarations or rename one",
                      doc.locate("project"))
    for project in world.projects.values():
        doc, written = project.doc, project.doc.project
        for kind, field, items in (("subnet", "subnets", written.subnets),
                                   ("security group", "security_groups",
                                    written.security_groups),
                                   ("port", "ports", written.ports)):
            seen: dict[str, int] = {}
            for index, item in enumerate(items):
                if item.name in seen:
                    out.error(Code.DUPLICATE_NAME,
                              f"{kind} {item.name} is declared twice in {project.key} "
                              f"(first at {doc.locate(field, seen[item.name], 'name')}); "
                              "rename one", doc.locate(field, index, "name"))
                else:
                    seen[item.name] = index


def check_subnets_exist(world: World, out: Diagnostics) -> None:
    """SUBNET_NOT_FOUND: a port names a subnet its project does not declare."""
    for port, key in _unresolved(world, "contains"):
        project = world.projects[port.project]
        name = key.rpartition("/")[2]
        out.error(Code.SUBNET_NOT_FOUND,
                  f"port {port.name}: subnet {name!r} does not exist in {project.key}"
                  f"{_suggest(name, project.subnets)}", port.loc("subnet"))


def check_groups_exist(world: World, out: Diagnostics) -> None:
    """SECURITY_GROUP_NOT_FOUND: a port's group, an include, or an ``sg:`` remote of this
    project or of a mutually peered one names a group that is not declared.

    Unpeered projects are left to CROSS_TENANT_REFERENCE, which does not reveal whether
    the other tenant has such a group.
    """
    for port, key in _unresolved(world, "member"):
        project = world.projects[port.project]
        name = key.rpartition("/")[2]
        index = _written_port(port).security_groups.index(name)
        out.error(Code.SECURITY_GROUP_NOT_FOUND,
                  f"port {port.name}: security group {name!r} does not exist in {project.key}"
                  f"{_suggest(name, project.groups)}", port.loc("security_groups", index))
    for group, key in _unresolved(world, "include"):
        project = world.projects[group.project]
        name = key.rpartition("/")[2]
        index = _written_group(group).include.index(name)
        out.error(Code.SECURITY_GROUP_NOT_FOUND,
                  f"group {group.name} includes {name!r}, which does not exist in "
                  f"{project.key}{_suggest(name, project.groups)}", group.loc("include", index))
    for rule, key in _unresolved(world, "refers"):
        owner_key, _, name = key.rpartition("/")
        project_key = rule.group.rpartition("/")[0]
        if owner_key == project_key:
            known = world.projects[project_key].groups
            out.error(Code.SECURITY_GROUP_NOT_FOUND,
                      f"rule of group {rule.group.rpartition('/')[2]}: security group "
                      f"{name!r} does not exist in {project_key}{_suggest(name, known)}",
                      rule.loc(rule.remote_field))
        elif world.mutually_peered(project_key, owner_key):
            outside = world.outside.get(owner_key)  # a peer of the database, not the intent
            if outside is not None and name in outside.port_groups:
                continue
            known = outside.port_groups if outside is not None else \
                world.projects[owner_key].groups
            out.error(Code.SECURITY_GROUP_NOT_FOUND,
                      f"rule of group {rule.group.rpartition('/')[2]}: security group "
                      f"{name!r} does not exist in peered project {owner_key}"
                      f"{' (in the database)' if outside is not None else ''}"
                      f"{_suggest(name, known)}", rule.loc(rule.remote_field))
    _check_malformed_group_references(world, out)


def _check_malformed_group_references(world: World, out: Diagnostics) -> None:
    """``sg:`` remotes that name no group at all (``sg:``, ``sg:a/b``): nothing resolves."""
    for group in world.groups():
        for rule in group.rules:
            if rule.remote is not None:
                continue
            text = _written_remote(rule)
            if text.startswith(parse.SG_PREFIX):
                out.error(Code.SECURITY_GROUP_NOT_FOUND,
                          f"rule of group {group.name}: {text!r} names no security group; "
                          "write sg:NAME for a group of this project or sg:ORG/PROJECT/NAME "
                          "for one of a peered project", rule.loc(rule.remote_field))


def _written_remote(rule: Rule) -> str:
    written_group = rule.doc.project.security_groups[rule.path[1]]
    rules = written_group.ingress if rule.direction == "ingress" else written_group.egress
    return rules[rule.path[3]].remote


def check_include_cycles(world: World, out: Diagnostics) -> None:
    """SG_REFERENCE_CYCLE: groups that include each other, with the cycle spelled out.

    Only ``include`` edges count: mutual ``sg:`` references between groups are fine
    (contract 2.3). One diagnostic per cycle family (strongly connected component),
    at the include that starts the cycle from its alphabetically first group.
    """
    edges = {group.key: [key for key in group.includes if world.group(key) is not None]
             for group in world.groups() if group.includes}
    if not _has_cycle(edges):
        return
    import networkx as nx  # only to spell out a cycle: clean worlds never load it

    includes = nx.DiGraph()
    for key, included in edges.items():
        includes.add_edges_from((key, target) for target in included)
    for component in nx.strongly_connected_components(includes):
        start = min(component)
        if len(component) == 1 and not includes.has_edge(start, start):
            continue
        cycle = _cycle_through(includes.subgraph(component), start)
        names = [key.rpartition("/")[2] for key in cycle]
        group = world.group(start)
        index = _written_group(group).include.index(names[1])
        out.error(Code.SG_REFERENCE_CYCLE,
                  f"security groups include each other in a cycle: {' -> '.join(names)}; "
                  "remove one of these includes (use sg: references for mutual access)",
                  group.loc("include", index))


def _has_cycle(edges: dict[str, list[str]]) -> bool:
    """Whether the include graph ``edges`` has a cycle (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in edges:
        if root in state:
            continue
        stack = [(root, iter(edges.get(root, ())))]
        state[root] = 1
        while stack:
            node, successors = stack[-1]
            for successor in successors:
                seen = state.get(successor)
                if seen == 1:
                    return True
                if seen is None:
                    state[successor] = 1
                    stack.append((successor, iter(edges.get(successor, ()))))
                    break
            else:
                state[node] = 2
                stack.pop()
    return False


def _cycle_through(component, start: str) -> list[str]:
    """The shortest cycle from ``start`` back to itself, as a closed list of keys."""
    import networkx as nx

    best: list[str] | None = None
    for successor in sorted(component.successors(start)):
        path = nx.shortest_path(component, successor, start)
        if best is None or len(path) < len(best):
            best = path
    return [start] + (best or [start])


def check_cross_tenant_references(world: World, out: Diagnostics) -> None:
    """CROSS_TENANT_REFERENCE: ``sg:ORG/PROJECT/NAME`` of a project not mutually peered.

    A listed peer that is not in view (neither in the intent nor, for a plan, in the
    database) is not an error here: check_peerings warns of it once (contract 4, Scope).
    """
    for group in world.groups():
        project = world.projects[group.project]
        for rule in group.rules:
            if rule.remote is None or rule.remote.group is None:
                continue
            owner = rule.remote.group.rpartition("/")[0]
            if owner == group.project or world.mutually_peered(group.project, owner):
                continue
            if owner in project.peers and not world.in_view(owner):
                continue
            if owner in world.outside and owner in project.peers:
                out.error(Code.CROSS_TENANT_REFERENCE,
                          f"rule of group {group.name} refers to sg:{rule.remote.group}, but "
                          f"the database holds no peering of {owner} with {group.project} "
                          f"(no link in {owner}'s rows); apply the two projects together to "
                          "peer them, or refer to a CIDR", rule.loc(rule.remote_field))
            else:
                out.error(Code.CROSS_TENANT_REFERENCE,
                          f"rule of group {group.name} refers to sg:{rule.remote.group}, but "
                          f"{group.project} and {owner} do not peer each other; list each in "
                          "the other's peerings, or refer to a CIDR",
                          rule.loc(rule.remote_field))


def check_peerings(world: World, out: Diagnostics) -> None:
    """PEERING_NOT_MUTUAL (warning): a listed peer is absent or does not list back.

    A project that lists itself, or a peer that is not ``ORG/PROJECT``, is a
    SCHEMA_ERROR: no peering can come of it.
    """
    for project in world.projects.values():
        written = project.doc.project.peerings
        for peer in project.peers:
            where = partial(project.doc.locate, "peerings", written.index(peer))  # lazy: rare
            if not _PROJECT_KEY.fullmatch(peer):
                out.error(Code.SCHEMA_ERROR,
                          f"peering {peer!r} is not ORG/PROJECT (lowercase names, e.g. acme/db)",
                          where())
            elif peer == project.key:
                out.error(Code.SCHEMA_ERROR,
                          f"{project.key} lists itself in peerings; remove it "
                          "(a project always reaches its own ports)", where())
            elif peer in world.outside:  # planning part of what the database holds
                if not world.mutually_peered(project.key, peer):
                    out.warning(Code.PEERING_NOT_MUTUAL,
                                f"{peer} is not in the intent and its rows in the database "
                                f"hold no peering with {project.key}, so the peering has no "
                                "effect; apply the two projects together to peer them",
                                where())
            elif peer not in world.projects:
                out.warning(Code.PEERING_NOT_MUTUAL,
                            f"peer {peer} is not in the checked intent: a compile leaves "
                            "out the peering and the rules naming its groups, a plan or apply "
                            f"keeps the peering the database has; check it together with "
                            f"{peer}'s file, which must list {project.key}", where())
            elif project.key not in world.projects[peer].peers:
                out.warning(Code.PEERING_NOT_MUTUAL,
                            f"{peer} does not list {project.key} in its peerings (declared "
                            f"at {world.projects[peer].loc()}), so the peering has no effect; "
                            f"add {project.key} there or remove it here", where())


# --- address plan ----------------------------------------------------------------------------

def check_vpc_overlaps(world: World, out: Diagnostics) -> None:
    """CIDR_OVERLAP: two VPCs of the world share addresses (sort-and-sweep, n log n)."""
    blocks = [(p.vpc_cidr, p) for p in world.projects.values() if p.vpc_cidr is not None]
    for later, earlier in _sweep_overlaps(blocks):
        out.error(Code.CIDR_OVERLAP,
                  f"VPC {later.vpc_cidr} of {later.key} overlaps VPC {earlier.vpc_cidr} of "
                  f"{earlier.key} (declared at {_vpc_loc(earlier)}); give each VPC its own "
                  "block, or leave cidr out to take a free one from the pool",
                  _vpc_loc(later))


def check_reserved_ranges(world: World, out: Diagnostics) -> None:
    """INVALID_CIDR: a declared VPC reaches into loopback, multicast, class E, 0/8, or
    the link-local range the compiler takes peering links from (a VPC there would
    shadow the routes between peered routers)."""
    for project in world.projects.values():
        if project.vpc_cidr is None or project.vpc_cidr_from_pool:
            continue
        for reserved, what in RESERVED_NETWORKS.items():
            if project.vpc_cidr.overlaps(reserved):
                out.error(Code.INVALID_CIDR,
                          f"VPC {project.vpc_cidr} of {project.key} overlaps {reserved}, the "
                          f"{what}; choose a private block such as 10.0.0.0/8",
                          _vpc_loc(project))


def _vpc_loc(project: Project) -> Location:
    return project.loc() if project.vpc_cidr_from_pool else project.doc.locate("vpc", "cidr")


def check_pool(world: World, out: Diagnostics) -> None:
    """POOL_EXHAUSTED: a VPC that wanted a block of the pool got none, or a subnet has
    fewer free addresses than it has ports without a static IP."""
    network = world.settings.network
    for project in world.projects.values():
        if project.vpc_cidr_from_pool and project.vpc_cidr is None:
            out.error(Code.POOL_EXHAUSTED,
                      f"no free /{max(network.vpc_prefix, network.pool.prefixlen)} is left in "
                      f"the pool {network.cidr_pool} for the VPC of {project.key}; declare "
                      "vpc.cidr, or enlarge network.cidr_pool in netc.toml", project.loc())
    static: dict[str, set[IPv4Address]] = defaultdict(set)
    dynamic: dict[str, list[Port]] = defaultdict(list)
    for port in world.ports():
        if _written_port(port).ip is None:
            dynamic[port.subnet].append(port)
        elif port.ip is not None:
            static[port.subnet].add(port.ip)
    for subnet_key, waiting in dynamic.items():
        subnet = world.subnet(subnet_key)
        if subnet is None or subnet.cidr is None or subnet.cidr.num_addresses < MIN_SUBNET_ADDRESSES:
            continue
        reserved = set(subnet.reserved())
        used = sum(1 for ip in static[subnet_key] if ip in subnet.cidr and ip not in reserved)
        free = subnet.cidr.num_addresses - len(reserved) - used
        if len(waiting) > free:
            port = waiting[free]
            out.error(Code.POOL_EXHAUSTED,
                      f"subnet {subnet.name} {subnet.cidr} has {free} free address(es) for "
                      f"{len(waiting)} ports without a static IP, so {len(waiting) - free} "
                      f"get none, from port {port.name} on; enlarge the subnet or move ports "
                      "to another", port.loc())


def check_subnets_in_vpc(world: World, out: Diagnostics) -> None:
    """SUBNET_OUTSIDE_VPC: a declared subnet's CIDR is not inside its VPC's CIDR."""
    for project in world.projects.values():
        if project.vpc_cidr is None:
            continue
        for subnet in project.subnets.values():
            if subnet.cidr is not None and not subnet.implicit \
                    and not subnet.cidr.subnet_of(project.vpc_cidr):
                fix = ("declare vpc.cidr around the subnets (this VPC was taken from the pool)"
                       if project.vpc_cidr_from_pool else "pick a block of the VPC, or widen it")
                out.error(Code.SUBNET_OUTSIDE_VPC,
                          f"subnet {subnet.name} {subnet.cidr} is not inside VPC "
                          f"{project.vpc_cidr}; {fix}", subnet.loc("cidr"))


def check_subnet_overlaps(world: World, out: Diagnostics) -> None:
    """SUBNET_OVERLAP: two subnets of one VPC share addresses (sort-and-sweep)."""
    for project in world.projects.values():
        blocks = [(s.cidr, s) for s in project.subnets.values() if s.cidr is not None]
        for later, earlier in _sweep_overlaps(blocks):
            out.error(Code.SUBNET_OVERLAP,
                      f"subnet {later.name} {later.cidr} overlaps subnet {earlier.name} "
                      f"{earlier.cidr} (declared at {earlier.loc('cidr')}); subnets of a VPC "
                      "must not share addresses", later.loc("cidr"))


def check_port_ips(world: World, out: Diagnostics) -> None:
    """IP_OUTSIDE_SUBNET, RESERVED_IP and IP_ALREADY_ALLOCATED for static port IPs.

    One dictionary keyed by (subnet, address) finds the taken ones: linear in the ports.
    """
    taken: dict[tuple[str, IPv4Address], Port] = {}
    roles: dict[str, dict[IPv4Address, str]] = {}  # subnet key -> reserved address -> its use
    for port in world.ports():
        subnet = world.subnet(port.subnet)
        if port.ip is None or subnet is None or subnet.cidr is None:
            continue
        if port.ip not in subnet.cidr:
            out.error(Code.IP_OUTSIDE_SUBNET,
                      f"port {port.name} ip {port.ip} is not inside subnet {subnet.name} "
                      f"{subnet.cidr}; pick an address of the subnet, or leave ip out",
                      port.loc("ip"))
            continue
        if subnet.key not in roles:
            roles[subnet.key] = dict(zip(subnet.reserved(), ("network", "gateway", "broadcast")))
        reserved = roles[subnet.key].get(port.ip)
        if reserved:
            out.error(Code.RESERVED_IP,
                      f"port {port.name} ip {port.ip} is the {reserved} address of subnet "
                      f"{subnet.name} {subnet.cidr}; pick another, or leave ip out",
                      port.loc("ip"))
            continue
        other = taken.setdefault((subnet.key, port.ip), port)
        if other is not port:
            out.error(Code.IP_ALREADY_ALLOCATED,
                      f"port {port.name} ip {port.ip} is already the address of port "
                      f"{other.name} (at {other.loc('ip')}); pick another, or leave ip out",
                      port.loc("ip"))


def check_mac_conflicts(world: World, out: Diagnostics) -> None:
    """MAC_CONFLICT: two ports anywhere in the world with the same explicit MAC."""
    owners: dict[str, Port] = {}
    for port in world.ports():
        if port.mac is None:
            continue
        other = owners.setdefault(port.mac, port)
        if other is not port:
            out.error(Code.MAC_CONFLICT,
                      f"port {port.name} MAC {port.mac} is also the MAC of port {other.key} "
                      f"(at {other.loc('mac')}); give each port its own MAC, or leave mac out",
                      port.loc("mac"))


# --- NAT -------------------------------------------------------------------------------------

def check_nat(world: World, out: Diagnostics) -> None:
    """NO_EXTERNAL_NETWORK when NAT is used without ``[external]`` in netc.toml;
    IP_OUTSIDE_SUBNET when a NAT external_ip is outside the external network."""
    external = world.settings.external
    network = IPv4Network(external.cidr) if external is not None else None
    for project in world.projects.values():
        entries = [*project.snat, *project.dnat]
        if not entries:
            continue
        if network is None:
            out.error(Code.NO_EXTERNAL_NETWORK,
                      f"{project.key} uses NAT but netc.toml has no [external] network; add "
                      "[external] with cidr and gateway_ip", entries[0].loc())
            continue
        for entry in entries:
            if entry.external_ip is not None and entry.external_ip not in network:
                kind = "SNAT" if entry.path[1] == "snat" else "DNAT"
                out.error(Code.IP_OUTSIDE_SUBNET,
                          f"{kind} external_ip {entry.external_ip} is not inside the external "
                          f"network {network}; pick an address of [external] cidr",
                          entry.loc("external_ip"))


def check_external_addresses(world: World, out: Diagnostics) -> None:
    """The external side of NAT, shared by every project on the external network.

    RESERVED_IP when a NAT external_ip is the external network's network, gateway or
    broadcast address; IP_ALREADY_ALLOCATED when two projects use one external_ip (two
    routers would answer ARP for it) or one project forwards the same external
    address, port and protocol twice.

    A 1:1 external IP belongs to its one internal address, as a Neutron floating IP
    does: IP_ALREADY_ALLOCATED when the project also uses it for SNAT, port forwarding
    or another 1:1 entry (OVN would send the replies of those to the 1:1 target), and
    when one internal IP has two 1:1 external IPs (its outbound traffic can leave from
    only one).
    """
    external = world.settings.external
    if external is None:
        return
    network = IPv4Network(external.cidr)
    reserved = {network.network_address: "network", IPv4Address(external.gateway_ip): "gateway",
                network.broadcast_address: "broadcast"}
    owners: dict[IPv4Address, Project] = {}
    for project in world.projects.values():
        forwards: dict[tuple, Dnat] = {}
        uses: dict[IPv4Address, Snat | Dnat] = {}      # first SNAT or port forward of an IP
        floating: dict[IPv4Address, Dnat] = {}         # first 1:1 entry of an IP
        floated: dict[IPv4Address, Dnat] = {}          # ... and of an internal IP
        for entry in [*project.snat, *project.dnat]:
            ip = entry.external_ip
            if ip is None or ip not in network:
                continue
            if ip in reserved:
                out.error(Code.RESERVED_IP,
                          f"external_ip {ip} is the {reserved[ip]} address of the external "
                          f"network {network}; pick another address of [external] cidr",
                          entry.loc("external_ip"))
                continue
            owner = owners.setdefault(ip, project)
            if owner is not project:
                out.error(Code.IP_ALREADY_ALLOCATED,
                          f"external_ip {ip} is already used for NAT by {owner.key} (at "
                          f"{_first_nat_use(owner, ip).loc('external_ip')}); give each project "
                          "its own external addresses", entry.loc("external_ip"))
            elif isinstance(entry, Dnat) and entry.one_to_one:
                _check_floating_ip(entry, uses, floating, floated, out)
            elif ip in floating:
                out.error(Code.IP_ALREADY_ALLOCATED,
                          f"external_ip {ip} is the floating IP of {floating[ip].internal_ip} "
                          f"(1:1 DNAT at {floating[ip].loc('external_ip')}), which receives "
                          "all of its traffic; use another external address here",
                          entry.loc("external_ip"))
            else:
                uses.setdefault(ip, entry)
                if isinstance(entry, Dnat) and entry.forwards_port:
                    other = forwards.setdefault((ip, entry.external_port, entry.protocol), entry)
                    if other is not entry:
                        out.error(Code.IP_ALREADY_ALLOCATED,
                                  f"{ip}:{entry.external_port}/{entry.protocol} is already "
                                  f"forwarded (at {other.loc('external_port')}); use another "
                                  "external_port", entry.loc("external_port"))


def _check_floating_ip(entry: Dnat, uses: dict, floating: dict, floated: dict,
                       out: Diagnostics) -> None:
    """A 1:1 entry against the project's earlier NAT entries (check_external_addresses)."""
    ip = entry.external_ip
    if ip in floating:
        out.error(Code.IP_ALREADY_ALLOCATED,
                  f"external_ip {ip} is already the floating IP of "
                  f"{floating[ip].internal_ip} (1:1 DNAT at {floating[ip].loc('external_ip')}); "
                  "a floating IP stands for one internal address: use another",
                  entry.loc("external_ip"))
        return
    if ip in uses:
        other = uses[ip]
        what = "the SNAT address" if isinstance(other, Snat) else "forwarded port by port"
        out.error(Code.IP_ALREADY_ALLOCATED,
                  f"external_ip {ip} is already {what} (at {other.loc('external_ip')}); a "
                  "1:1 DNAT (floating IP) receives all traffic to its external IP, so give "
                  "it an address of its own", entry.loc("external_ip"))
        return
    floating[ip] = entry
    if entry.internal_ip is None:
        return
    first = floated.setdefault(entry.internal_ip, entry)
    if first is not entry:
        out.error(Code.IP_ALREADY_ALLOCATED,
                  f"internal_ip {entry.internal_ip} already has the 1:1 external IP "
                  f"{first.external_ip} (at {first.loc('external_ip')}); a port's outbound "
                  "traffic leaves from one address: keep one 1:1 DNAT per internal IP",
                  entry.loc("internal_ip"))


def _first_nat_use(project: Project, ip: IPv4Address) -> Snat | Dnat:
    return next(e for e in [*project.snat, *project.dnat] if e.external_ip == ip)


def check_dnat_targets(world: World, out: Diagnostics,
                       allocation: Allocation | None = None) -> None:
    """DNAT_TARGET_UNKNOWN: a DNAT internal_ip (port forwarding or 1:1) that is not the
    address of a port of its project, static or allocated.

    Allocated addresses are IPAM's. Without ``allocation``, they are those of a compile
    without existing addresses (what ``netc check`` and an offline compile see), and
    IPAM is asked only when some target is not a static address; its result is kept
    for the compile. A compile that keeps existing addresses judges again by its own
    allocation (netc.compiler.lower).
    """
    pending: list[tuple[Project, Dnat]] = []
    for project in world.projects.values():
        if not project.dnat:
            continue
        addresses = {port.ip for port in project.ports.values() if port.ip is not None}
        pending += [(project, d) for d in project.dnat
                    if d.internal_ip is not None and d.internal_ip not in addresses]
    if not pending:
        return
    if allocation is None:
        allocation = allocate(world, diagnostics=Diagnostics())  # check_pool reports exhaustion
    allocated: dict[str, set[IPv4Address]] = {}
    for project, dnat in pending:
        if project.key not in allocated:
            allocated[project.key] = {allocation.addresses[port.key].ip
                                      for port in project.ports.values()
                                      if port.key in allocation.addresses}
        if dnat.internal_ip not in allocated[project.key]:
            out.error(Code.DNAT_TARGET_UNKNOWN,
                      f"DNAT internal_ip {dnat.internal_ip} is not the IP of a port of "
                      f"{project.key}, static or allocated; give the target port this "
                      "static ip, or forward to an existing port's ip",
                      dnat.loc("internal_ip"))


CHECKS = (
    check_duplicate_names,
    check_cidrs,
    check_addresses,
    check_macs,
    check_port_ranges,
    check_dnat_forms,
    check_pool,
    check_vpc_overlaps,
    check_reserved_ranges,
    check_subnets_in_vpc,
    check_subnet_overlaps,
    check_subnets_exist,
    check_port_ips,
    check_mac_conflicts,
    check_groups_exist,
    check_include_cycles,
    check_cross_tenant_references,
    check_peerings,
    check_nat,
    check_external_addresses,
    check_dnat_targets,
)
"""Every check, in the order their diagnostics are most useful to read."""

DATABASE_CHECKS = (check_groups_exist, check_cross_tenant_references, check_peerings)
"""The checks whose verdict depends on the database's projects outside the intent
(``World.outside``): run again when a plan sees them (netc.frontend)."""


def run_checks(world: World, out: Diagnostics) -> None:
    salvaged = any(doc.withheld is not None for doc in world.documents)
    found = Diagnostics() if salvaged else out
    for check in CHECKS:
        check(world, found)
    run_lints(world, found)  # warnings of contract section 9 (netc.ir.lints)
    if salvaged:
        hidden = _consequences_of_cuts(world)
        out.extend(d for d in found if (d.code, d.file, d.line, d.column) not in hidden)


def _consequences_of_cuts(world: World) -> set[tuple]:
    """(code, file, line, column) of what the checks would say only because a document
    with schema errors had parts cut (netc.intent.salvage): a reference to a subnet,
    group or peering that was cut is not missing, and a DNAT's target may be a port
    that was cut. The schema errors already stand for these."""
    hidden: set[tuple] = set()

    def hide(code: Code, where: Location) -> None:
        hidden.add((code, where.file, where.line, where.column))

    def withheld(project_key: str, kind: str, name: str) -> bool:
        project = world.projects.get(project_key)
        cut = project.doc.withheld if project is not None else None
        return cut is not None and cut.has(kind, name)

    def peerings_cut(project_key: str) -> bool:
        project = world.projects.get(project_key)
        return project is not None and project.doc.withheld is not None \
            and project.doc.withheld.peerings

    for project in world.projects.values():
        cut = project.doc.withheld
        if cut is not None:
            for port in project.ports.values():
                if cut.has("subnets", port.subnet.rpartition("/")[2]):
                    hide(Code.SUBNET_NOT_FOUND, port.loc("subnet"))
                for index, name in enumerate(_written_port(port).security_groups):
                    if cut.has("groups", name):
                        hide(Code.SECURITY_GROUP_NOT_FOUND, port.loc("security_groups", index))
            if cut.ports:
                for dnat in project.dnat:
                    hide(Code.DNAT_TARGET_UNKNOWN, dnat.loc("internal_ip"))
        for group in project.groups.values():
            if cut is not None and not group.implicit:
                for index, name in enumerate(_written_group(group).include):
                    if cut.has("groups", name):
                        hide(Code.SECURITY_GROUP_NOT_FOUND, group.loc("include", index))
            for rule in group.rules:
                if rule.remote is None or rule.remote.group is None:
                    continue
                owner, _, name = rule.remote.group.rpartition("/")
                if withheld(owner, "groups", name):
                    hide(Code.SECURITY_GROUP_NOT_FOUND, rule.loc(rule.remote_field))
                if owner != project.key and (peerings_cut(owner) or peerings_cut(project.key)):
                    hide(Code.CROSS_TENANT_REFERENCE, rule.loc(rule.remote_field))
    return hidden
