"""The smallest change to the intent that would let a denied connection through.

``netc explain`` names it for a denied connection, as AWS's Reachability Analyzer
names the component that blocks a path. A connection needs three things (contract
2.1, 2.2): mutual peering when the projects differ, an egress rule of one of the
source's groups, and an ingress rule of one of the destination's groups. For each
missing one, one change:

- peering: the project(s) that must list the other in ``peerings``;
- a rule: among the source's groups (the destination's, for ingress), either *add the
  port* to an existing rule whose protocol and remote already fit, or *add a rule*
  ``{protocol, ports: [N], to/from: sg:GROUP}`` naming one of the other port's
  groups. Of all candidates the one that opens the least is chosen: the traffic to
  the fewest port pairs (members of the group that gets the rule times the ports its
  remote covers), ties going to the existing rule, then to group order.

Every change is one edit of one file, at a location :class:`Fix` points to. Applying
all of them makes the connection pass (tested). :func:`external_fixes` does the same
for a connection from or to an external host (a DNAT, SNAT or a rule for its /32).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from netc.ir.model import Port, Rule
from netc.ir.world import World
from netc.reach.reference import Reference, describe_rule
from netc.reach.traffic import PORTED, Traffic


@dataclass(frozen=True)
class Fix:
    kind: str
    """``peering``, ``add-port`` or ``add-rule``; toward an external host also
    ``add-dnat`` and ``add-snat``."""
    message: str
    project: str
    group: str | None = None
    direction: str | None = None
    index: int | None = None
    """Of the rule to widen, among its group's rules of that direction."""
    rule: dict | None = None
    """The rule to add, as YAML would hold it."""
    nat: dict | None = None
    """The NAT entry to add (``{"snat": {...}}`` or ``{"dnat": {...}}``), as YAML would
    hold it."""
    location: str | None = None
    opens: int = 0
    """Port pairs the change opens this traffic to (on its side)."""

    def to_json(self) -> dict:
        return {name: value for name, value in (
            ("kind", self.kind), ("message", self.message), ("project", self.project),
            ("group", self.group), ("direction", self.direction), ("index", self.index),
            ("rule", self.rule), ("nat", self.nat), ("location", self.location),
            ("opens", self.opens))
            if value is not None}

    def __str__(self) -> str:
        return f"{self.message} ({self.location})" if self.location else self.message


def smallest_fixes(world: World, reference: Reference, src_key: str, dst_key: str,
                   traffic: Traffic) -> list[Fix]:
    """What to change so that ``src`` may open ``traffic`` to ``dst``; [] if it may."""
    src, dst = reference.port(src_key), reference.port(dst_key)
    fixes: list[Fix] = []
    if src.project != dst.project and not world.mutually_peered(src.project, dst.project):
        for this, other in ((src.project, dst.project), (dst.project, src.project)):
            project = world.projects[this]
            if other not in project.peers:
                fixes.append(Fix("peering", f"add {other} to the peerings of {this}", this,
                                 location=str(project.loc("peerings"))))
    if not reference._matching(src, "egress", dst, traffic):
        fixes.append(_rule_fix(world, reference, src, "egress", dst, traffic))
    if not reference._matching(dst, "ingress", src, traffic):
        fixes.append(_rule_fix(world, reference, dst, "ingress", src, traffic))
    return fixes


def _members(world: World, group: str) -> int:
    return len(world.members(group))


def _covered(world: World, reference: Reference, rule: Rule) -> int:
    """How many ports of the world the rule's remote holds."""
    remote = rule.remote
    if remote.group is not None:
        return _members(world, remote.group)
    return sum(1 for port in world.ports()
               if remote.cidr.prefixlen == 0 or _ip_in(reference, port, remote.cidr))


def _ip_in(reference: Reference, port: Port, cidr) -> bool:
    address = port.ip or reference.addresses.get(port.key)
    return address is not None and address in cidr


def _rule_fix(world: World, reference: Reference, port: Port, direction: str, other: Port,
              traffic: Traffic) -> Fix:
    candidates: list[tuple[int, int, int, Fix]] = []
    field = "to" if direction == "egress" else "from"
    for order, group_key in enumerate(port.groups):
        for rule in world.effective_rules(group_key):
            if rule.direction != direction or rule.remote is None or \
                    traffic.protocol not in PORTED or rule.protocol != traffic.protocol or \
                    not rule.ports or not reference._covers(
                        Rule(rule.doc, rule.path, rule.group, direction, rule.protocol,
                             None, rule.remote), other, traffic):
                continue
            owner = world.group(rule.group)
            index = [r for r in owner.rules if r.direction == direction].index(rule)
            opens = _members(world, group_key) * _covered(world, reference, rule)
            message = (f"add port {traffic.port} to {direction} rule {index} of {rule.group} "
                       f"({describe_rule(rule)})")
            candidates.append((opens, 0, order, Fix(
                "add-port", message, owner.project, rule.group, direction, index,
                location=str(rule.loc()), opens=opens)))
    for order, group_key in enumerate(port.groups):
        group = world.group(group_key)
        for remote_key in sorted(other.groups, key=lambda g: (_members(world, g), g)):
            remote = remote_key if remote_key.rpartition("/")[0] != port.project \
                else remote_key.rpartition("/")[2]
            rule = {"protocol": "all" if traffic.protocol not in (*PORTED, "icmp")
                    else traffic.protocol}
            if traffic.port is not None:
                rule["ports"] = [traffic.port]
            rule[field] = f"sg:{remote}"
            opens = _members(world, group_key) * _members(world, remote_key)
            note = (" (declare it: it is implicit, with ingress all from sg:default and "
                    "egress all to 0.0.0.0/0, which the declaration must keep)"
                    if group.implicit else "")
            written = ", ".join(f"{k}: {v}" for k, v in rule.items())
            message = f"add to group {group_key}{note}: {direction} {{{written}}}"
            candidates.append((opens, 1, order, Fix(
                "add-rule", message, group.project, group_key, direction, rule=rule,
                location=str(group.loc()), opens=opens)))
            break  # the other port's smallest group is the narrowest remote
    candidates.sort(key=lambda c: c[:3])
    return candidates[0][3]


def external_fixes(world: World, reference: Reference, port_key: str, host: IPv4Address,
                   inbound: bool, traffic: Traffic) -> list[Fix]:
    """What to change so that the external ``host`` may open ``traffic`` to the port
    (``inbound``) or the port to the host; [] if it may (contract 2.8).

    Inbound needs a DNAT of the port's project toward it that carries the traffic and
    an ingress rule covering the host; outbound an egress rule covering the host and
    the project's SNAT (or the port's floating IP). A rule: the ``/32`` of the host,
    in the port's group with the fewest members. NAT: on an external address the
    project already uses for SNAT or port forwarding, else on the first free one of
    the external network."""
    port = reference.port(port_key)
    project = world.projects[port.project]
    address = reference.ip(port)
    direction = "ingress" if inbound else "egress"
    fixes: list[Fix] = []
    verdict = (reference.decide_inbound(host, port_key, traffic) if inbound
               else reference.decide_outbound(port_key, host, traffic))
    kinds = {reason.kind for reason in verdict.reasons}
    if inbound and "no-dnat" in kinds:
        fixes.append(_nat_fix(world, project, address, traffic, inbound=True))
    if f"no-{direction}" in kinds:
        group = min(port.groups, key=lambda g: (_members(world, g), port.groups.index(g)))
        rule = {"protocol": "all" if traffic.protocol not in (*PORTED, "icmp")
                else traffic.protocol}
        if traffic.port is not None:
            rule["ports"] = [traffic.port]
        rule["from" if inbound else "to"] = f"{host}/32"
        owner = world.group(group)
        note = (" (declare it: it is implicit, with ingress all from sg:default and egress "
                "all to 0.0.0.0/0, which the declaration must keep)" if owner.implicit else "")
        written = ", ".join(f"{k}: {v}" for k, v in rule.items())
        fixes.append(Fix("add-rule", f"add to group {group}{note}: {direction} {{{written}}}",
                         project.key, group, direction, rule=rule, location=str(owner.loc()),
                         opens=_members(world, group)))
    if not inbound and "no-nat" in kinds:
        fixes.append(_nat_fix(world, project, address, traffic, inbound=False))
    return fixes


def _nat_fix(world: World, project, address: IPv4Address, traffic: Traffic,
             inbound: bool) -> Fix:
    used = {e.external_ip for p in world.projects.values() for e in (*p.snat, *p.dnat)
            if e.external_ip is not None}
    shared = [e.external_ip for e in (*project.snat, *project.dnat)
              if e.external_ip is not None and not getattr(e, "one_to_one", False)]
    where = str(project.loc("nat") if project.snat or project.dnat else project.loc())
    if not inbound:
        entry = {"external_ip": str(shared[0]) if shared else _free_external(world, used)}
        kind = "snat"
    elif traffic.port is not None and shared:
        taken = {e.external_port for e in project.dnat
                 if e.external_ip == shared[0] and e.protocol == traffic.protocol}
        external_port = next(p for p in (traffic.port, *range(1024, 65536)) if p not in taken)
        entry = {"external_ip": str(shared[0]), "external_port": external_port,
                 "internal_ip": str(address), "internal_port": traffic.port,
                 "protocol": traffic.protocol}
        kind = "dnat"
    else:
        entry = {"external_ip": _free_external(world, used), "internal_ip": str(address)}
        kind = "dnat"
    written = ", ".join(f"{k}: {v}" for k, v in entry.items())
    return Fix(f"add-{kind}", f"add to the nat of {project.key}: {kind} {{{written}}}",
               project.key, nat={kind: entry}, location=where)


def _free_external(world: World, used: set[IPv4Address]) -> str:
    """The first address of the external network that no NAT uses and that is not
    its network, gateway or broadcast address."""
    external = world.settings.external
    if external is None:
        return "ADDRESS (add [external] to netc.toml first)"
    network = IPv4Network(external.cidr)
    reserved = {network.network_address, IPv4Address(external.gateway_ip),
                network.broadcast_address}
    free = next((a for a in network if a not in reserved and a not in used), None)
    return str(free) if free is not None else f"ADDRESS (every address of {network} is used)"
