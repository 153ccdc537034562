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
from netc.reach.traffic import Traffic


class UnknownPort(LookupError):
    """A port key (ORG/PROJECT/PORT) that is not in the world."""


class MissingAddress(LookupError):
    """A port without an IP, needed to decide a CIDR rule, and none was allocated."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One fact a verdict rests on: a deciding rule, or why none decides."""

    kind: str
    """``isolated``, ``peered``, ``egress``, ``ingress``, ``no-egress`` or ``no-ingress``."""
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

    def _matching(self, port: Port, direction: str, other: Port,
                  traffic: Traffic) -> list[Reason]:
        """A reason for each rule of ``port``'s groups letting the traffic through."""
        found = []
        for group_key in port.groups:
            for rule in self.world.effective_rules(group_key):
                if rule.direction == direction and self._covers(rule, other, traffic):
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

    def _nothing(self, port: Port, direction: str, other: Port, traffic: Traffic) -> Reason:
        groups = ", ".join(port.groups)
        toward = "to" if direction == "egress" else "from"
        return Reason(f"no-{direction}",
                      f"no {direction} rule of {port.key}'s groups ({groups}) allows "
                      f"{traffic} {toward} {other.key}")

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
