"""The compiler's intermediate form of security-group rules, between IR and ACL rows.

An :class:`AclSpec` is one allow rule in the shape of one OVN ACL: it applies to the
members of ``groups`` (one port group, or the union of several), in one direction,
for one protocol and set of destination ports, towards one set of remotes. It
matches a packet when every part matches; the remote part matches when the remote
address is inside one of ``cidrs`` or belongs to a member of one of
``remote_groups``. Specs are allows: a packet passes a direction when any spec of
one of its port's groups matches (contract 2.2), which is why specs can be merged
and shared without changing meaning.

An :class:`AclProgram` is what passes transform: the specs plus the ``includes``
still to expand. :func:`initial_program` reads it off the IR, one spec per written
rule; :func:`neutron_acl_count` counts what Neutron's one-ACL-per-rule method would
write for the same world, for the bench harness.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network
from typing import Mapping

from netc.ir.model import Direction, PortRange, Rule
from netc.ir.world import World

ANY_CIDR = IPv4Network("0.0.0.0/0")
L4_PROTOCOLS = ("tcp", "udp")
Service = tuple[str, "tuple[PortRange, ...] | None"]
"""(protocol, destination port ranges or None) as in :class:`AclSpec`."""


@dataclass(frozen=True, slots=True)
class AclSpec:
    project: str
    groups: tuple[str, ...]
    """Sorted group keys whose members the ACL applies to (all of one project)."""
    direction: Direction
    protocol: str
    """tcp | udp | icmp | all."""
    ports: tuple[PortRange, ...] | None
    """Merged destination port ranges (tcp/udp only); None = every port."""
    cidrs: tuple[IPv4Network, ...] = ()
    remote_groups: tuple[str, ...] = ()
    also: tuple[Service, ...] = ()
    """More (protocol, ports) the spec allows besides ``protocol`` and ``ports``, towards
    the same remotes (``merge_protocols``): sorted, none of them ``all``."""
    _hash: int = field(init=False, repr=False, compare=False)
    """Computed once: passes put specs in sets and dicts over and over, and hashing an
    IPv4Network is a Python call each time."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.project, self.groups, self.direction,
                                                self.protocol, self.ports, self.cidrs,
                                                self.remote_groups, self.also)))

    def __hash__(self) -> int:
        return self._hash

    def services(self) -> tuple[Service, ...]:
        """Every (protocol, ports) the spec allows: its own, then ``also``."""
        return ((self.protocol, self.ports),) + self.also

    def body(self) -> tuple:
        """Everything but ``groups``: two specs with one body are the same rule."""
        body = (self.direction, self.protocol, self.ports, self.cidrs, self.remote_groups)
        return body + (self.also,) if self.also else body

    def sort_key(self) -> tuple:
        """A total order (``ports`` may be None), so output never depends on set order."""
        return (self.project, self.groups, self.direction, self.protocol,
                self.ports is not None, self.ports or (), self.cidrs, self.remote_groups,
                tuple((protocol, ports is not None, ports or ()) for protocol, ports in self.also))

    def with_(self, **changes) -> "AclSpec":
        """This spec with some fields changed (``dataclasses.replace``, several times
        faster: passes make one per spec)."""
        get = changes.get
        return AclSpec(get("project", self.project), get("groups", self.groups),
                       get("direction", self.direction), get("protocol", self.protocol),
                       get("ports", self.ports), get("cidrs", self.cidrs),
                       get("remote_groups", self.remote_groups), get("also", self.also))


@dataclass(frozen=True)
class AclProgram:
    specs: tuple[AclSpec, ...]
    includes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Group key -> included group keys, until ``expand_includes`` has copied them."""
    open: frozenset[tuple[str, Direction]] = frozenset()
    """(group key, direction) whose members are unrestricted that way: an allow-all
    rule lifted out of the specs by ``lift_open_rules``; their ports leave the
    default-drop group of that direction instead of carrying an allow ACL."""
    populated: frozenset[str] | None = None
    """Keys of the groups with at least one member port (None: not known, as if all
    were): a spec of a group without members matches nothing, so no ACL is written
    for it, and ``share_groups`` leaves such groups out of the port groups it makes."""

    def with_specs(self, specs, **changes) -> "AclProgram":
        """This program with ``specs`` (duplicates dropped, first kept: the order stays
        the deterministic one the passes produce, and is sorted once at the end)."""
        return replace(self, specs=tuple(dict.fromkeys(specs)), **changes)

    def sorted(self) -> "AclProgram":
        """The specs in :meth:`AclSpec.sort_key` order: output never depends on how
        the passes happened to order them."""
        return replace(self, specs=tuple(sorted(self.specs, key=AclSpec.sort_key)))


def spec_of_rule(rule: Rule, project: str) -> AclSpec | None:
    """The spec of one written rule; None when the rule's remote was not resolved."""
    if rule.remote is None:
        return None
    remote = rule.remote
    return AclSpec(project=project, groups=(rule.group,), direction=rule.direction,
                   protocol=rule.protocol,
                   ports=rule.ports if rule.protocol in L4_PROTOCOLS else None,
                   cidrs=(remote.cidr,) if remote.cidr is not None else (),
                   remote_groups=(remote.group,) if remote.group else ())


def initial_program(world: World) -> AclProgram:
    """One spec per written rule (the default group's implicit two included)."""
    specs = []
    includes: dict[str, tuple[str, ...]] = {}
    for group in world.groups():
        if group.includes:
            includes[group.key] = group.includes
        for rule in group.rules:
            if _names_a_peer_out_of_view(world, rule):
                continue
            spec = spec_of_rule(rule, group.project)
            if spec is not None:
                specs.append(spec)
    populated = frozenset(group for port in world.ports() for group in port.groups)
    return AclProgram(specs=tuple(sorted(set(specs), key=AclSpec.sort_key)), includes=includes,
                      populated=populated)


def _names_a_peer_out_of_view(world: World, rule: Rule) -> bool:
    """``sg:`` of a listed peer that is neither in the intent nor, planning against a
    database, peered there: the checks warn, and the rule allows nothing."""
    if rule.remote is None or rule.remote.group is None:
        return False
    owner = rule.remote.group.rpartition("/")[0]
    project = rule.group.rpartition("/")[0]
    return owner != project and not world.mutually_peered(project, owner)


DROP_ACLS_PER_WORLD = 2
"""Neutron's default-drop port group holds one drop ACL per direction."""


def neutron_acl_count(world: World) -> int:
    """ACL rows Neutron ML2/OVN would write for this world: one per security-group rule.

    A Neutron rule has one port range and one remote, so a netc rule with N port ranges
    is N Neutron rules; includes are copied (Neutron has no includes); plus the two
    drop ACLs of its default-drop port group.
    """
    total = 0
    for group in world.groups():
        for rule in world.effective_rules(group.key):
            if rule.remote is None:
                continue
            total += len(rule.ports) if rule.ports and rule.protocol in L4_PROTOCOLS else 1
    return total + (DROP_ACLS_PER_WORLD if world.projects else 0)
