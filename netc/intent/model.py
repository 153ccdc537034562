"""The intent model: exactly what a person wrote, in the contract's YAML shape.

The model keeps what was written, not what it means: defaults that depend on other
projects (VPC CIDR from the pool, the default subnet and group) are filled in by the
IR, so that ``netc fmt`` can print a file back without inventing lines. Addresses are
kept as strings here and parsed by the IR checks, which report INVALID_CIDR or
INVALID_IP at the offending value instead of a generic SCHEMA_ERROR.

Fields whose absence and emptiness mean the same thing (``nat``, ``subnets``, a
port's ``security_groups``) default to the empty value, so that two spellings of one
intent compare equal; this is what lets YAML and DSL round-trip exactly.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Protocol = Literal["tcp", "udp", "icmp", "all"]
L4Protocol = Literal["tcp", "udp"]
PortSpec = int | str
"""One entry of a rule's ``ports``: a port number or a ``"low-high"`` range."""


class IntentModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def normalise_port_spec(value: PortSpec) -> PortSpec:
    """Write ``"80"`` as ``80`` and ``"8000 - 8080"`` as ``"8000-8080"``.

    YAML authors quote port numbers inconsistently; the DSL has one spelling. A spec
    that is not a number or a range stays as written, for INVALID_PORT_RANGE.
    """
    if isinstance(value, str):
        text = "".join(value.split())
        if text.isdigit() and len(text) < 12:
            return int(text)
        return text
    return value


class Vpc(IntentModel):
    name: Name | None = Field(None, description="Router name; default: the project name.")
    cidr: str | None = Field(None, description="IPv4 CIDR; default: next free block of the pool.")


class Subnet(IntentModel):
    name: Name
    cidr: str = Field(description="IPv4 CIDR inside the VPC, not overlapping a sibling.")
    dhcp: bool = Field(True, description="OVN answers DHCPv4 for the subnet's ports.")
    dns_servers: list[str] = Field(default_factory=list)


class Rule(IntentModel):
    protocol: Protocol = "all"
    ports: list[PortSpec] | None = Field(
        None, description="tcp/udp only: port numbers or 'low-high' ranges; default every port.")

    @field_validator("ports", mode="before")
    @classmethod
    def _normalise_ports(cls, value: object) -> object:
        if isinstance(value, list):
            return [normalise_port_spec(v) if isinstance(v, (int, str)) and not isinstance(v, bool)
                    else v for v in value]
        return value


class IngressRule(Rule):
    from_: str = Field("0.0.0.0/0", alias="from",
                       description="CIDR, sg:NAME or sg:ORG/PROJECT/NAME.")

    @property
    def remote(self) -> str:
        return self.from_


class EgressRule(Rule):
    to: str = Field("0.0.0.0/0", description="CIDR, sg:NAME or sg:ORG/PROJECT/NAME.")

    @property
    def remote(self) -> str:
        return self.to


class SecurityGroup(IntentModel):
    name: Name
    description: str | None = None
    include: list[Name] = Field(default_factory=list,
                                description="Groups of this project whose rules are copied in.")
    ingress: list[IngressRule] = Field(default_factory=list)
    egress: list[EgressRule] = Field(default_factory=list)


class Port(IntentModel):
    name: Name
    subnet: Name = "default"
    vm: str | None = Field(None, description="The VM the port is attached to; absent = detached.")
    mac: str | None = Field(None, description="Derived deterministically when absent.")
    ip: str | None = Field(None, description="Allocated when absent.")
    security_groups: list[Name] = Field(default_factory=list,
                                        description="Default (and when empty): [default].")


class Snat(IntentModel):
    external_ip: str


class Dnat(IntentModel):
    """Port forwarding when both ports are written; 1:1 (a floating IP) when neither is."""

    # Exactly one port, or a protocol written on a 1:1 entry, is accepted here and
    # reported by the checks (SCHEMA_ERROR at the value), which can point at what was
    # written. ``protocol`` keeps its default on 1:1 entries, where it means nothing
    # (every protocol is forwarded); ``protocol_written`` tells whether it was written.

    model_config = ConfigDict(json_schema_extra={"dependentRequired": {
        # what the checks report, said to editors: both ports or neither, and a
        # protocol only beside them
        "external_port": ["internal_port"], "internal_port": ["external_port"],
        "protocol": ["external_port", "internal_port"]}})

    external_ip: str
    external_port: int | None = Field(None, description="Both ports, or neither (1:1 DNAT).")
    internal_ip: str
    internal_port: int | None = Field(None, description="Both ports, or neither (1:1 DNAT).")
    protocol: L4Protocol = Field("tcp", description="Port forwarding only.")

    @property
    def one_to_one(self) -> bool:
        """No ports: the external IP stands for the internal one on every port."""
        return self.external_port is None and self.internal_port is None

    @property
    def protocol_written(self) -> bool:
        return "protocol" in self.model_fields_set


class Nat(IntentModel):
    snat: list[Snat] = Field(default_factory=list)
    dnat: list[Dnat] = Field(default_factory=list)


class Project(IntentModel):
    """One YAML document, or one ``project ORG/NAME { ... }`` block of the DSL."""

    org: Name
    project: Name
    vpc: Vpc = Field(default_factory=Vpc)
    subnets: list[Subnet] = Field(
        default_factory=list,
        description="Default (and when empty): one subnet 'default', the first block of the VPC.")
    security_groups: list[SecurityGroup] = Field(default_factory=list)
    ports: list[Port] = Field(default_factory=list)
    nat: Nat = Field(default_factory=Nat)
    peerings: list[str] = Field(default_factory=list,
                                description="ORG/PROJECT of peers; effective only when mutual.")

    @property
    def key(self) -> str:
        return f"{self.org}/{self.project}"
