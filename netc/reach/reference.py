"""The contract's meaning (section 2), evaluated directly on the IR: the reference.

This is the definition every compiled network is held to, written as plainly as the
contract states it, with no knowledge of OVN:

1. two projects are isolated unless each lists the other (2.1);
2. otherwise a new connection from port A to port B passes iff some egress rule of
   one of A's groups matches it (protocol, port, and ``to`` covers B's IP or B is a
   member of the named group) and some ingress rule of one of B's groups matches it
   (``from`` covers A's IP or A is a member) (2.2); a group's rules include those
   of the groups it includes, transitively (2.3, :meth:`World.effective_rules`); the
   implicit ``default`` group is already in the IR (2.4);
3. ``icmp`` is every ICMPv4 message, ``all`` every IPv4 packet (2.6).

A :class:`Verdict` names the rules that decide it, so ``netc explain`` can show a
person why, and points at them in the intent files.

An external host (contract 2.8) is asked about by its address: a connection from it
reaches a port through one of the project's DNAT entries and the port's ingress rules
whose CIDR covers the host; a connection to it leaves a port by the port's floating
IP or the project's SNAT if the port's egress rules allow it (:mod:`netc.reach.nat`).

Ports written without an IP get theirs from the compiler's IPAM; pass those as
``addresses`` (see :func:`netc.reach.northbound.port_addresses`). An address is only
looked up when a CIDR remote needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Mapping

from netc.ir.model import Port, Rule
from netc.ir.world import World
from netc.reach.nat import way_out, ways_in
from netc.reach.traffic import Traffic


class UnknownPort(LookupError):
    """A port key (ORG/PROJECT/PORT) that is not in the world."""


class MissingAddress(LookupError):
    """A port without an IP, needed to decide a CIDR rule, and none was allocated."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One fact a verdict rests on: a deciding rule, or why none decides."""

    kind: str
    """``isolated``, ``peered``, ``egress``, ``ingress``, ``no-egress`` or ``no-ingress``;
    for an external host also ``dnat``, ``no-dnat``, ``snat``, ``floating-ip``, ``no-nat``."""
    message: str
    group: str | None = None
    direction: str | None = None
    index: int | None = None
    """Position of the rule among its group's rules of that direction (0-based)."""
    location: str | None = None
    """``file:line:col`` of the rule in the intent."""

    def to_json(self) -> dict:
        return {name: value for name, value in (
            ("kind", self.kind), ("message", self.message), ("group", self.group),
            ("direction", self.direction), ("index", self.index),
            ("location", self.location)) if value is not None}

    def __str__(self) -> str:
        return f"{self.message} ({self.location})" if self.location else self.message


@dataclass(frozen=True, slots=True)
class Verdict:
    allow: bool
    reasons: list[Reason] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"verdict": "allow" if self.allow else "deny",
                "reasons": [r.to_json() for r in self.reasons]}


def decide(world: World, src_port_key: str, dst_port_key: str, protocol: str,
           dst_port: int | None = None,
           addresses: Mapping[str, IPv4Address] | None = None) -> Verdict:
    """Would a new ``protocol``/``dst_port`` connection from one port to the other pass?"""
    return Reference(world, addresses).decide(src_port_key, dst_port_key,
                                              Traffic(protocol, dst_port))


class Reference:
    """The reference evaluator of one world; reuse it to ask many questions."""

    def __init__(self, world: World, addresses: Mapping[str, IPv4Address] | None = None):
        self.world = world
        self.addresses = dict(addresses or {})
        self._members: dict[str, frozenset[str]] = {}

    def port(self, key: str) -> Port:
        project_key, _, name = key.rpartition("/")
        project = self.world.projects.get(project_key)
        port = project.ports.get(name) if project else None
        if port is None:
            raise UnknownPort(f"no port {key!r} (expected ORG/PROJECT/PORT)")
        return port

    def ip(self, port: Port) -> IPv4Address:
        address = port.ip or self.addresses.get(port.key)
        if address is None:
            raise MissingAddress(f"port {port.key} has no IP: give the compiler's allocation")
        return address

    def is_member(self, port: Port, group_key: str) -> bool:
        if group_key not in self._members:
            self._members[group_key] = frozenset(p.key for p in self.world.members(group_key))
        return port.key in self._members[group_key]

    def decide(self, src_key: str, dst_key: str, traffic: Traffic) -> Verdict:
        src, dst = self.port(src_key), self.port(dst_key)
        if src.project != dst.project:
            if not self.world.mutually_peered(src.project, dst.project):
                return Verdict(False, [self._isolation(src.project, dst.project)])
            peered = [Reason("peered", f"{src.project} and {dst.project} peer each other")]
        else:
            peered = []
        egress = self._matching(src, "egress", dst, traffic)
        ingress = self._matching(dst, "ingress", src, traffic)
        reasons = peered + (egress or [self._nothing(src, "egress", dst, traffic)]) \
            + (ingress or [self._nothing(dst, "ingress", src, traffic)])
        return Verdict(bool(egress and ingress), reasons)

    def decide_inbound(self, address: IPv4Address, dst_key: str, traffic: Traffic) -> Verdict:
        """A new connection from the external host at ``address`` to a port: through a
        DNAT entry delivering the traffic there, and an ingress rule covering the host."""
        dst = self.port(dst_key)
        project = self.world.projects[dst.project]
        ways = ways_in(self.world, project, self.ip(dst))
        passing = [way for way in ways if traffic in way.traffic]
        nat = [Reason("dnat", f"through {way} of {project.key}", location=way.location)
               for way in passing]
        if not nat:
            offered = "; ".join(str(way) for way in ways)
            nat = [Reason("no-dnat", f"no DNAT of {project.key} leads to {dst.key} "
                                     f"({self.ip(dst)}) with {traffic}"
                                     + (f" (it has: {offered})" if offered else ""))]
        ingress = self._matching_host(dst, "ingress", address, traffic)
        other = f"external {address}"
        return Verdict(bool(passing and ingress), nat + (
            ingress or [self._nothing(dst, "ingress", other, traffic)]))

    def decide_outbound(self, src_key: str, address: IPv4Address, traffic: Traffic) -> Verdict:
        """A new connection from a port to the external host at ``address``: an egress
        rule covering the host, and the port's floating IP or the project's SNAT."""
        src = self.port(src_key)
        project = self.world.projects[src.project]
        out = way_out(self.world, project, self.ip(src))
        if out is not None:
            nat = [Reason(out.kind, f"leaves from {out.external_ip}: {out}",
                          location=out.location)]
        else:
            nat = [Reason("no-nat", f"{project.key} has no SNAT and {src.key} no floating "
                                    "IP: nothing takes it to the external network")]
        egress = self._matching_host(src, "egress", address, traffic)
        other = f"external {address}"
        return Verdict(bool(out and egress), (
            egress or [self._nothing(src, "egress", other, traffic)]) + nat)

    def _matching(self, port: Port, direction: str, other: Port,
                  traffic: Traffic) -> list[Reason]:
        """A reason for each rule of ``port``'s groups letting the traffic through."""
        return self._rules_where(port, direction,
                                 lambda rule: self._covers(rule, other, traffic))

    def _matching_host(self, port: Port, direction: str, address: IPv4Address,
                       traffic: Traffic) -> list[Reason]:
        """The same toward an external host: only CIDR rules can cover it."""
        return self._rules_where(port, direction, lambda rule: (
            _protocol_matches(rule, traffic) and rule.remote is not None
            and rule.remote.cidr is not None and address in rule.remote.cidr))

    def _rules_where(self, port: Port, direction: str, covers) -> list[Reason]:
        found = []
        for group_key in port.groups:
            for rule in self.world.effective_rules(group_key):
                if rule.direction == direction and covers(rule):
                    found.append(self._rule_reason(rule, group_key))
        return found

    def _covers(self, rule: Rule, other: Port, traffic: Traffic) -> bool:
        if not _protocol_matches(rule, traffic) or rule.remote is None:
            return False
        if rule.remote.group is not None:
            return self.is_member(other, rule.remote.group)
        if rule.remote.cidr.prefixlen == 0:
            return True  # every address, allocated yet or not
        return self.ip(other) in rule.remote.cidr

    def _rule_reason(self, rule: Rule, via_group: str) -> Reason:
        owner = self.world.group(rule.group)
        index = [r for r in owner.rules if r.direction == rule.direction].index(rule)
        where = "implicit default group" if owner.implicit else None
        included = f", included by {via_group}" if rule.group != via_group else ""
        message = (f"{rule.direction} rule {index} of {rule.group}{included}: "
                   f"{describe_rule(rule)}" + (f" [{where}]" if where else ""))
        return Reason(rule.direction, message, group=rule.group, direction=rule.direction,
                      index=index, location=str(rule.loc()))

    def _nothing(self, port: Port, direction: str, other: Port | str,
                 traffic: Traffic) -> Reason:
        groups = ", ".join(port.groups)
        toward = "to" if direction == "egress" else "from"
        name = other if isinstance(other, str) else other.key
        return Reason(f"no-{direction}",
                      f"no {direction} rule of {port.key}'s groups ({groups}) allows "
                      f"{traffic} {toward} {name}")

    def _isolation(self, a: str, b: str) -> Reason:
        projects = self.world.projects
        listed = [f"{x} lists {y}" for x, y in ((a, b), (b, a)) if y in projects[x].peers]
        detail = f" (only {listed[0]})" if listed else ""
        return Reason("isolated", f"projects {a} and {b} are isolated: they do not peer "
                                  f"each other{detail}")


def _protocol_matches(rule: Rule, traffic: Traffic) -> bool:
    if rule.protocol == "all":
        return True
    if rule.protocol != traffic.protocol:
        return False
    return rule.ports is None or any(low <= traffic.port <= high for low, high in rule.ports)


def describe_rule(rule: Rule) -> str:
    """``tcp 22, 8000-8080 from sg:acme/web/admin`` (the rule as a person wrote it)."""
    text = rule.protocol
    if rule.ports:
        text += " " + ", ".join(str(low) if low == high else f"{low}-{high}"
                                for low, high in rule.ports)
    return f"{text} {rule.remote_field} {rule.remote}"
