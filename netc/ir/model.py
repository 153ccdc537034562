"""The IR: every project of a world with its defaults filled in and its values parsed.

An element keeps the document and path it came from, so a check can point at the
value it is unhappy with. Values that failed to parse are ``None`` here; the checks
report them (INVALID_CIDR, INVALID_IP, ...) and every later check skips them, so one
typo yields one diagnostic rather than a cascade.

Keys are the stable identities of the contract: ``ORG/PROJECT`` for a project (and
its VPC), ``ORG/PROJECT/NAME`` for a subnet, port or security group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from netc.diagnostics import Location
from netc.intent.source import Document, Path

Direction = Literal["ingress", "egress"]
PortRange = tuple[int, int]
DEFAULT_GROUP = "default"
DEFAULT_SUBNET = "default"
PEER_LINK_NETWORK = IPv4Network("169.254.0.0/16")
"""Where the compiler takes the /30 of each routed link between peered VPCs."""
RESERVED_NETWORKS = {
    IPv4Network("0.0.0.0/8"): "'this network' range",
    IPv4Network("127.0.0.0/8"): "loopback range",
    PEER_LINK_NETWORK: "link-local range that netc uses for peering links",
    IPv4Network("224.0.0.0/4"): "multicast range",
    IPv4Network("240.0.0.0/4"): "reserved class E range",
}
"""Ranges a VPC may not use: OVN could not route them, or netc needs them itself."""


@dataclass(eq=False, slots=True)
class Element:
    """Something written in a document, at ``path``."""

    doc: Document
    path: Path

    def loc(self, *more: str | int) -> Location:
        return self.doc.source.locate(self.path + more)


@dataclass(frozen=True, slots=True)
class Remote:
    """The other end of a rule: a CIDR, or the members of a security group (by key)."""

    cidr: IPv4Network | None = None
    group: str | None = None

    def __str__(self) -> str:
        return f"sg:{self.group}" if self.group else str(self.cidr)


@dataclass(eq=False, slots=True)
class Rule(Element):
    group: str
    direction: Direction
    protocol: str
    ports: tuple[PortRange, ...] | None
    """Destination port ranges, merged and sorted; None = every port (or not tcp/udp)."""
    remote: Remote | None
    """None when the remote could not be parsed or resolved (already diagnosed)."""

    @property
    def remote_field(self) -> str:
        return "from" if self.direction == "ingress" else "to"


@dataclass(eq=False, slots=True)
class Group(Element):
    key: str
    project: str
    name: str
    description: str | None
    includes: tuple[str, ...]
    """Keys of the included groups of the same project."""
    rules: list[Rule] = field(default_factory=list)
    implicit: bool = False


@dataclass(eq=False, slots=True)
class Subnet(Element):
    key: str
    project: str
    name: str
    cidr: IPv4Network | None
    dhcp: bool
    dns_servers: tuple[IPv4Address, ...]
    implicit: bool = False

    @property
    def gateway(self) -> IPv4Address | None:
        """The router port's address: the first usable address of the subnet."""
        if self.cidr is None or self.cidr.num_addresses < 4:
            return None
        return self.cidr.network_address + 1

    def reserved(self) -> tuple[IPv4Address, ...]:
        """Network, gateway and broadcast addresses (contract 2.7)."""
        if self.cidr is None or self.cidr.num_addresses < 4:
            return ()
        return (self.cidr.network_address, self.cidr.network_address + 1,
                self.cidr.broadcast_address)


@dataclass(eq=False, slots=True)
class Port(Element):
    key: str
    project: str
    name: str
    subnet: str
    """Key of the subnet (which may not exist: SUBNET_NOT_FOUND)."""
    vm: str | None
    mac: str | None
    """Lower-case ``xx:xx:xx:xx:xx:xx``; None when absent (derived later) or invalid."""
    ip: IPv4Address | None
    """None when absent (allocated later) or invalid."""
    groups: tuple[str, ...]
    """Keys of the port's security groups (``default`` when it names none)."""


@dataclass(eq=False, slots=True)
class Snat(Element):
    external_ip: IPv4Address | None


@dataclass(eq=False, slots=True)
class Dnat(Element):
    """Port forwarding (both ports) or 1:1, a floating IP (neither port, any protocol).

    An entry with exactly one port is neither; the checks report it (SCHEMA_ERROR)
    and the compiler skips it."""

    external_ip: IPv4Address | None
    external_port: int | None
    internal_ip: IPv4Address | None
    internal_port: int | None
    protocol: str
    """tcp or udp for port forwarding; meaningless on a 1:1 entry."""

    @property
    def one_to_one(self) -> bool:
        return self.external_port is None and self.internal_port is None

    @property
    def forwards_port(self) -> bool:
        return self.external_port is not None and self.internal_port is not None


@dataclass(eq=False, slots=True)
class Project(Element):
    key: str
    org: str
    name: str
    vpc_name: str
    vpc_cidr: IPv4Network | None
    """Declared, or taken from the pool; None when invalid or the pool is exhausted."""
    vpc_cidr_from_pool: bool
    subnets: dict[str, Subnet] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    ports: dict[str, Port] = field(default_factory=dict)
    snat: list[Snat] = field(default_factory=list)
    dnat: list[Dnat] = field(default_factory=list)
    peers: tuple[str, ...] = ()
    """Project keys this project lists in ``peerings`` (one-sided ones included)."""


@dataclass(frozen=True, slots=True)
class OutsideProject:
    """A project netc owns in the database but that is not in the intent in view: what a
    plan of the projects in view needs of it (contract section 4, Scope). Read from
    its rows (:func:`netc.compiler.peering.database_view`), never changed."""

    key: str
    vpc_cidr: IPv4Network | None
    """Its router's ``netc:cidr``."""
    peers: frozenset[str]
    """Projects its rows hold a peering link to (its ``lrp-peer:KEY>PEER`` ports): the
    peerings the database has, mutual when they were written."""
    port_groups: dict[str, str]
    """Security group name -> its Port_Group's OVN name (``$NAME_ip4`` in matches)."""
