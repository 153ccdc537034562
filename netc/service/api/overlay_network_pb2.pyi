from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Protocol(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROTOCOL_UNSPECIFIED: _ClassVar[Protocol]
    PROTOCOL_TCP: _ClassVar[Protocol]
    PROTOCOL_UDP: _ClassVar[Protocol]
    PROTOCOL_ICMP: _ClassVar[Protocol]
    PROTOCOL_ALL: _ClassVar[Protocol]

class SourceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_TYPE_UNSPECIFIED: _ClassVar[SourceType]
    SOURCE_TYPE_CIDR: _ClassVar[SourceType]
    SOURCE_TYPE_SECURITY_GROUP: _ClassVar[SourceType]
PROTOCOL_UNSPECIFIED: Protocol
PROTOCOL_TCP: Protocol
PROTOCOL_UDP: Protocol
PROTOCOL_ICMP: Protocol
PROTOCOL_ALL: Protocol
SOURCE_TYPE_UNSPECIFIED: SourceType
SOURCE_TYPE_CIDR: SourceType
SOURCE_TYPE_SECURITY_GROUP: SourceType

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateVpcRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "name", "cidr")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CIDR_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    name: str
    cidr: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., cidr: _Optional[str] = ...) -> None: ...

class Vpc(_message.Message):
    __slots__ = ("id", "org_id", "project_id", "name", "cidr", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CIDR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    org_id: str
    project_id: str
    name: str
    cidr: str
    created_at: int
    updated_at: int
    def __init__(self, id: _Optional[str] = ..., org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., cidr: _Optional[str] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ...) -> None: ...

class GetVpcRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class ListVpcsRequest(_message.Message):
    __slots__ = ("org_id", "project_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class ListVpcsResponse(_message.Message):
    __slots__ = ("vpcs",)
    VPCS_FIELD_NUMBER: _ClassVar[int]
    vpcs: _containers.RepeatedCompositeFieldContainer[Vpc]
    def __init__(self, vpcs: _Optional[_Iterable[_Union[Vpc, _Mapping]]] = ...) -> None: ...

class DeleteVpcRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class CreateSubnetRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "vpc_id", "name", "cidr", "dhcp_enabled", "dns_servers")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VPC_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CIDR_FIELD_NUMBER: _ClassVar[int]
    DHCP_ENABLED_FIELD_NUMBER: _ClassVar[int]
    DNS_SERVERS_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    vpc_id: str
    name: str
    cidr: str
    dhcp_enabled: bool
    dns_servers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., vpc_id: _Optional[str] = ..., name: _Optional[str] = ..., cidr: _Optional[str] = ..., dhcp_enabled: _Optional[bool] = ..., dns_servers: _Optional[_Iterable[str]] = ...) -> None: ...

class Subnet(_message.Message):
    __slots__ = ("id", "org_id", "project_id", "vpc_id", "name", "cidr", "gateway_ip", "dns_servers", "dhcp_enabled", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VPC_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CIDR_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_IP_FIELD_NUMBER: _ClassVar[int]
    DNS_SERVERS_FIELD_NUMBER: _ClassVar[int]
    DHCP_ENABLED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    org_id: str
    project_id: str
    vpc_id: str
    name: str
    cidr: str
    gateway_ip: str
    dns_servers: _containers.RepeatedScalarFieldContainer[str]
    dhcp_enabled: bool
    created_at: int
    def __init__(self, id: _Optional[str] = ..., org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., vpc_id: _Optional[str] = ..., name: _Optional[str] = ..., cidr: _Optional[str] = ..., gateway_ip: _Optional[str] = ..., dns_servers: _Optional[_Iterable[str]] = ..., dhcp_enabled: _Optional[bool] = ..., created_at: _Optional[int] = ...) -> None: ...

class GetSubnetRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class ListSubnetsRequest(_message.Message):
    __slots__ = ("org_id", "project_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class ListSubnetsResponse(_message.Message):
    __slots__ = ("subnets",)
    SUBNETS_FIELD_NUMBER: _ClassVar[int]
    subnets: _containers.RepeatedCompositeFieldContainer[Subnet]
    def __init__(self, subnets: _Optional[_Iterable[_Union[Subnet, _Mapping]]] = ...) -> None: ...

class DeleteSubnetRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class CreatePortRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "subnet_id", "vm_id", "mac_address", "ip_address", "security_group_ids")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    VM_ID_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SECURITY_GROUP_IDS_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    subnet_id: str
    vm_id: str
    mac_address: str
    ip_address: str
    security_group_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., subnet_id: _Optional[str] = ..., vm_id: _Optional[str] = ..., mac_address: _Optional[str] = ..., ip_address: _Optional[str] = ..., security_group_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Port(_message.Message):
    __slots__ = ("id", "org_id", "project_id", "subnet_id", "vm_id", "mac_address", "ip_address", "security_group_ids", "ovn_port_uuid", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    VM_ID_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SECURITY_GROUP_IDS_FIELD_NUMBER: _ClassVar[int]
    OVN_PORT_UUID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    org_id: str
    project_id: str
    subnet_id: str
    vm_id: str
    mac_address: str
    ip_address: str
    security_group_ids: _containers.RepeatedScalarFieldContainer[str]
    ovn_port_uuid: str
    created_at: int
    def __init__(self, id: _Optional[str] = ..., org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., subnet_id: _Optional[str] = ..., vm_id: _Optional[str] = ..., mac_address: _Optional[str] = ..., ip_address: _Optional[str] = ..., security_group_ids: _Optional[_Iterable[str]] = ..., ovn_port_uuid: _Optional[str] = ..., created_at: _Optional[int] = ...) -> None: ...

class GetPortRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class ListPortsRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "subnet_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    subnet_id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., subnet_id: _Optional[str] = ...) -> None: ...

class ListPortsResponse(_message.Message):
    __slots__ = ("ports",)
    PORTS_FIELD_NUMBER: _ClassVar[int]
    ports: _containers.RepeatedCompositeFieldContainer[Port]
    def __init__(self, ports: _Optional[_Iterable[_Union[Port, _Mapping]]] = ...) -> None: ...

class DeletePortRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class AttachPortRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id", "vm_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    VM_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    vm_id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ..., vm_id: _Optional[str] = ...) -> None: ...

class DetachPortRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class CreateSecurityGroupRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "name", "description", "ingress_rules", "egress_rules")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INGRESS_RULES_FIELD_NUMBER: _ClassVar[int]
    EGRESS_RULES_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    name: str
    description: str
    ingress_rules: _containers.RepeatedCompositeFieldContainer[SecurityRule]
    egress_rules: _containers.RepeatedCompositeFieldContainer[SecurityRule]
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., ingress_rules: _Optional[_Iterable[_Union[SecurityRule, _Mapping]]] = ..., egress_rules: _Optional[_Iterable[_Union[SecurityRule, _Mapping]]] = ...) -> None: ...

class SecurityRule(_message.Message):
    __slots__ = ("protocol", "port_range", "source_type", "source")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    PORT_RANGE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    protocol: Protocol
    port_range: PortRange
    source_type: SourceType
    source: str
    def __init__(self, protocol: _Optional[_Union[Protocol, str]] = ..., port_range: _Optional[_Union[PortRange, _Mapping]] = ..., source_type: _Optional[_Union[SourceType, str]] = ..., source: _Optional[str] = ...) -> None: ...

class PortRange(_message.Message):
    __slots__ = ("min", "max")
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    min: int
    max: int
    def __init__(self, min: _Optional[int] = ..., max: _Optional[int] = ...) -> None: ...

class SecurityGroup(_message.Message):
    __slots__ = ("id", "org_id", "project_id", "name", "description", "ingress_rules", "egress_rules", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INGRESS_RULES_FIELD_NUMBER: _ClassVar[int]
    EGRESS_RULES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    org_id: str
    project_id: str
    name: str
    description: str
    ingress_rules: _containers.RepeatedCompositeFieldContainer[SecurityRule]
    egress_rules: _containers.RepeatedCompositeFieldContainer[SecurityRule]
    created_at: int
    def __init__(self, id: _Optional[str] = ..., org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., ingress_rules: _Optional[_Iterable[_Union[SecurityRule, _Mapping]]] = ..., egress_rules: _Optional[_Iterable[_Union[SecurityRule, _Mapping]]] = ..., created_at: _Optional[int] = ...) -> None: ...

class GetSecurityGroupRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class ListSecurityGroupsRequest(_message.Message):
    __slots__ = ("org_id", "project_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class ListSecurityGroupsResponse(_message.Message):
    __slots__ = ("security_groups",)
    SECURITY_GROUPS_FIELD_NUMBER: _ClassVar[int]
    security_groups: _containers.RepeatedCompositeFieldContainer[SecurityGroup]
    def __init__(self, security_groups: _Optional[_Iterable[_Union[SecurityGroup, _Mapping]]] = ...) -> None: ...

class UpdateSecurityGroupRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id", "description", "ingress_rules", "egress_rules")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INGRESS_RULES_FIELD_NUMBER: _ClassVar[int]
    EGRESS_RULES_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    description: str
    ingress_rules: _containers.RepeatedCompositeFieldContainer[SecurityRule]
    egress_rules: _containers.RepeatedCompositeFieldContainer[SecurityRule]
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ..., description: _Optional[str] = ..., ingress_rules: _Optional[_Iterable[_Union[SecurityRule, _Mapping]]] = ..., egress_rules: _Optional[_Iterable[_Union[SecurityRule, _Mapping]]] = ...) -> None: ...

class DeleteSecurityGroupRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class SnatConfig(_message.Message):
    __slots__ = ("id", "vpc_id", "external_ip", "enabled")
    ID_FIELD_NUMBER: _ClassVar[int]
    VPC_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_IP_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    id: str
    vpc_id: str
    external_ip: str
    enabled: bool
    def __init__(self, id: _Optional[str] = ..., vpc_id: _Optional[str] = ..., external_ip: _Optional[str] = ..., enabled: _Optional[bool] = ...) -> None: ...

class CreateSnatRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "vpc_id", "external_ip")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VPC_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_IP_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    vpc_id: str
    external_ip: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., vpc_id: _Optional[str] = ..., external_ip: _Optional[str] = ...) -> None: ...

class DeleteSnatRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class DnatConfig(_message.Message):
    __slots__ = ("id", "vpc_id", "external_ip", "external_port", "internal_ip", "internal_port", "protocol")
    ID_FIELD_NUMBER: _ClassVar[int]
    VPC_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_IP_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_PORT_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_IP_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_PORT_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    id: str
    vpc_id: str
    external_ip: str
    external_port: int
    internal_ip: str
    internal_port: int
    protocol: Protocol
    def __init__(self, id: _Optional[str] = ..., vpc_id: _Optional[str] = ..., external_ip: _Optional[str] = ..., external_port: _Optional[int] = ..., internal_ip: _Optional[str] = ..., internal_port: _Optional[int] = ..., protocol: _Optional[_Union[Protocol, str]] = ...) -> None: ...

class CreateDnatRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "vpc_id", "external_ip", "external_port", "internal_ip", "internal_port", "protocol")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VPC_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_IP_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_PORT_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_IP_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_PORT_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    vpc_id: str
    external_ip: str
    external_port: int
    internal_ip: str
    internal_port: int
    protocol: Protocol
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., vpc_id: _Optional[str] = ..., external_ip: _Optional[str] = ..., external_port: _Optional[int] = ..., internal_ip: _Optional[str] = ..., internal_port: _Optional[int] = ..., protocol: _Optional[_Union[Protocol, str]] = ...) -> None: ...

class DeleteDnatRequest(_message.Message):
    __slots__ = ("org_id", "project_id", "id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    project_id: str
    id: str
    def __init__(self, org_id: _Optional[str] = ..., project_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...
