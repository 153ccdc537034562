"""Every RPC of the NetworkService through the generated client, on a real netc serve
and a real OVN: the specification's client example as written, a tour of every RPC,
and every refusal with its status and code, after which neither the Northbound nor
the store has changed."""

from __future__ import annotations

import ipaddress

import grpc
import pytest

from netc.client import (CreatePortRequest, CreateSubnetRequest, CreateVpcRequest, NetworkClient,
                         NetworkError, PortRange, SecurityRule)
from netc.client import PROTOCOL_ICMP, PROTOCOL_TCP, PROTOCOL_UDP  # noqa: F401
from netc.client import SOURCE_TYPE_CIDR, SOURCE_TYPE_SECURITY_GROUP
from tests.service.conftest import SERVICE, northbound_rows

pytestmark = SERVICE


def lsp(service, name: str) -> dict | None:
    from netc.backends.ovn_nb.ovsdb import OvsdbClient
    with OvsdbClient(service.sandbox.nb_remote) as nb:
        rows = nb.select("Logical_Switch_Port", [["name", "==", name]])
    return rows[0] if rows else None


def test_the_specification_client_example_as_written(service, client):
    vpc = client.create_vpc(CreateVpcRequest(
        org_id="org1", project_id="proj1", name="my-vpc", cidr=None))  # Auto-allocate
    subnet = client.create_subnet(CreateSubnetRequest(
        org_id="org1", project_id="proj1", vpc_id=vpc.id, name="default",
        cidr="10.1.0.0/24", dhcp_enabled=True, dns_servers=["8.8.8.8"]))
    port = client.create_port(CreatePortRequest(
        org_id="org1", project_id="proj1", subnet_id=subnet.id, vm_id="vm-123",
        mac_address=None, ip_address=None, security_group_ids=["default"]))

    assert (vpc.id, vpc.cidr, vpc.name) == ("org1/proj1", "10.1.0.0/16", "my-vpc")
    assert (subnet.id, subnet.gateway_ip, list(subnet.dns_servers)) == \
        ("org1/proj1/default", "10.1.0.1", ["8.8.8.8"])
    assert ipaddress.IPv4Address(port.ip_address) in ipaddress.IPv4Network("10.1.0.0/24")
    assert port.ip_address not in ("10.1.0.0", "10.1.0.1", "10.1.0.255")
    assert list(port.security_group_ids) == ["org1/proj1/default"]
    row = lsp(service, port.id)
    assert row is not None and row["_uuid"][1] == port.ovn_port_uuid
    assert row["addresses"] == f"{port.mac_address} {port.ip_address}"
    assert row["port_security"] == f"{port.mac_address} {port.ip_address}"
    assert dict(row["external_ids"][1])["netc:vm"] == "vm-123"
    shown = service.sandbox.nbctl("show")
    assert port.id in shown and "org1.proj1.default" in shown


def rule(protocol=PROTOCOL_TCP, low=0, high=0, source="0.0.0.0/0", kind=SOURCE_TYPE_CIDR):
    return SecurityRule(protocol=protocol, port_range=PortRange(min=low, max=high),
                        source_type=kind, source=source)


def test_a_tour_of_every_rpc(service, client):
    org, project = "tour", "web"
    ids = dict(org_id=org, project_id=project)
    vpc = client.create_vpc(**ids, name="main", cidr="10.20.0.0/16")
    assert client.get_vpc(**ids, id=vpc.id) == vpc
    assert [v.id for v in client.list_vpcs(org_id=org).vpcs] == ["tour/web"]

    web = client.create_subnet(**ids, vpc_id=vpc.id, name="web", cidr="10.20.1.0/24",
                               dhcp_enabled=True)
    assert client.get_subnet(**ids, id="web") == web
    assert sorted(s.name for s in client.list_subnets(**ids).subnets) == ["default", "web"]

    admin = client.create_security_group(**ids, name="admin", description="operators")
    group = client.create_security_group(
        **ids, name="web", description="public web",
        ingress_rules=[rule(low=80, high=80), rule(low=22, high=22, source="admin",
                                                   kind=SOURCE_TYPE_SECURITY_GROUP)],
        egress_rules=[rule(protocol=0)])
    assert client.get_security_group(**ids, id=group.id) == group
    assert sorted(g.name for g in client.list_security_groups(**ids).security_groups) == \
        ["admin", "default", "web"]
    updated = client.update_security_group(**ids, id="web", description="web tier",
                                           ingress_rules=[rule(low=443, high=443)],
                                           egress_rules=[rule(protocol=0)])
    assert [r.port_range.min for r in updated.ingress_rules] == [443]
    assert admin.ingress_rules == []

    port = client.create_port(**ids, subnet_id=web.id, vm_id="vm-1", ip_address="10.20.1.10",
                              mac_address="0a:00:00:00:20:10", security_group_ids=[group.id])
    assert (port.ip_address, port.mac_address) == ("10.20.1.10", "0a:00:00:00:20:10")
    assert client.get_port(**ids, id=port.id) == port
    other = client.create_port(**ids, subnet_id="default")
    assert [p.id for p in client.list_ports(**ids, subnet_id="web").ports] == [port.id]
    assert len(client.list_ports(**ids).ports) == 2
    assert not other.HasField("vm_id")
    assert client.attach_port(**ids, id=port.id, vm_id="vm-1") == port  # again: a no-op
    client.detach_port(**ids, id=port.id)
    assert not client.get_port(**ids, id=port.id).HasField("vm_id")
    assert client.attach_port(**ids, id=port.id, vm_id="vm-2").vm_id == "vm-2"
    assert dict(lsp(service, port.id)["external_ids"][1])["netc:vm"] == "vm-2"

    snat = client.create_snat(**ids, vpc_id=vpc.id, external_ip="203.0.113.20")
    forward = client.create_dnat(**ids, vpc_id=vpc.id, external_ip="203.0.113.20",
                                 external_port=8080, internal_ip="10.20.1.10",
                                 internal_port=80, protocol=PROTOCOL_TCP)
    floating = client.create_dnat(**ids, vpc_id=vpc.id, external_ip="203.0.113.21",
                                  external_port=0, internal_ip=other.ip_address)
    rows = northbound_rows(service.sandbox.nb_remote)
    assert any("203.0.113.21" in repr(row) and "dnat" in repr(row) for row in rows["NAT"])
    assert any("203.0.113.20:8080" in repr(row) for row in rows["Load_Balancer"])
    for dnat in (forward, floating):
        client.delete_dnat(**ids, id=dnat.id)
    client.delete_snat(**ids, id=snat.id)

    for each in (port, other):
        client.delete_port(**ids, id=each.id)
    assert lsp(service, port.id) is None
    client.delete_security_group(**ids, id="web")
    client.delete_subnet(**ids, id="web")
    client.delete_vpc(**ids, id=vpc.id)
    assert client.list_vpcs(org_id=org).vpcs == []
    left = [row for rows in northbound_rows(service.sandbox.nb_remote).values()
            for row in rows if "'netc:org', 'tour'" in repr(row)]
    assert left == []


# -- refusals --------------------------------------------------------------------------

BASE = dict(org_id="refuse", project_id="base")


@pytest.fixture(scope="module")
def base(client):
    """A project to be refused things: VPC 10.30.0.0/16, subnet web, group web, a port
    at 10.30.1.10 attached to vm-1, a SNAT."""
    client.create_vpc(**BASE, name="base", cidr="10.30.0.0/16")
    client.create_subnet(**BASE, name="web", cidr="10.30.1.0/24", dhcp_enabled=True)
    client.create_security_group(**BASE, name="web", ingress_rules=[rule(low=80, high=80)])
    port = client.create_port(**BASE, subnet_id="web", vm_id="vm-1", ip_address="10.30.1.10",
                              mac_address="0a:00:00:00:30:10", security_group_ids=["web"])
    client.create_snat(**BASE, external_ip="203.0.113.30")
    return port


REFUSALS = [
    # (what, method, request fields, gRPC status, error code)
    ("a second VPC", "CreateVpc", dict(**BASE, cidr="10.31.0.0/16"),
     "ALREADY_EXISTS", "ALREADY_EXISTS"),
    ("an overlapping VPC", "CreateVpc", dict(org_id="refuse", project_id="other",
                                            cidr="10.30.128.0/17"),
     "ALREADY_EXISTS", "CIDR_OVERLAP"),
    ("a bad CIDR", "CreateVpc", dict(org_id="refuse", project_id="other", cidr="10.31.0.0/33"),
     "INVALID_ARGUMENT", "INVALID_CIDR"),
    ("host bits in a CIDR", "CreateVpc", dict(org_id="refuse", project_id="other",
                                             cidr="10.31.0.1/16"),
     "INVALID_ARGUMENT", "INVALID_CIDR"),
    ("a reserved VPC range", "CreateVpc", dict(org_id="refuse", project_id="other",
                                              cidr="127.0.0.0/16"),
     "INVALID_ARGUMENT", "INVALID_CIDR"),
    ("unicode in a name", "CreateVpc", dict(org_id="refuse", project_id="p\u00e9", cidr=""),
     "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("a subnet outside the VPC", "CreateSubnet", dict(**BASE, name="x", cidr="10.99.0.0/24"),
     "INVALID_ARGUMENT", "SUBNET_OUTSIDE_VPC"),
    ("an overlapping subnet", "CreateSubnet", dict(**BASE, name="x", cidr="10.30.1.128/25"),
     "ALREADY_EXISTS", "SUBNET_OVERLAP"),
    ("a subnet name taken with another CIDR", "CreateSubnet",
     dict(**BASE, name="web", cidr="10.30.2.0/24"), "ALREADY_EXISTS", "DUPLICATE_NAME"),
    ("a bad DNS server", "CreateSubnet", dict(**BASE, name="x", cidr="10.30.9.0/24",
                                             dns_servers=["8.8.8"]),
     "INVALID_ARGUMENT", "INVALID_IP"),
    ("an IP outside the subnet", "CreatePort", dict(**BASE, subnet_id="web",
                                                   ip_address="10.30.2.10"),
     "INVALID_ARGUMENT", "IP_OUTSIDE_SUBNET"),
    ("an IP taken", "CreatePort", dict(**BASE, subnet_id="web", ip_address="10.30.1.10"),
     "ALREADY_EXISTS", "IP_ALREADY_ALLOCATED"),
    ("the gateway IP", "CreatePort", dict(**BASE, subnet_id="web", ip_address="10.30.1.1"),
     "INVALID_ARGUMENT", "RESERVED_IP"),
    ("a bad IP", "CreatePort", dict(**BASE, subnet_id="web", ip_address="10.30.1.300"),
     "INVALID_ARGUMENT", "INVALID_IP"),
    ("an unknown group", "CreatePort", dict(**BASE, subnet_id="web",
                                           security_group_ids=["nope"]),
     "NOT_FOUND", "SECURITY_GROUP_NOT_FOUND"),
    ("a MAC taken", "CreatePort", dict(**BASE, subnet_id="web", mac_address="0a:00:00:00:30:10"),
     "ALREADY_EXISTS", "MAC_CONFLICT"),
    ("a multicast MAC", "CreatePort", dict(**BASE, subnet_id="web",
                                          mac_address="01:00:00:00:00:01"),
     "INVALID_ARGUMENT", "INVALID_MAC"),
    ("an unknown subnet", "CreatePort", dict(**BASE, subnet_id="nope"),
     "NOT_FOUND", "SUBNET_NOT_FOUND"),
    ("a 10 MB string", "CreatePort", dict(**BASE, subnet_id="web", vm_id="v" * 10_000_000),
     "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("a port above 65535", "CreateSecurityGroup",
     dict(**BASE, name="x", ingress_rules=[rule(low=70000, high=70000)]),
     "INVALID_ARGUMENT", "INVALID_PORT_RANGE"),
    ("a reversed range", "CreateSecurityGroup",
     dict(**BASE, name="x", ingress_rules=[rule(low=90, high=80)]),
     "INVALID_ARGUMENT", "INVALID_PORT_RANGE"),
    ("ports for icmp", "CreateSecurityGroup",
     dict(**BASE, name="x", ingress_rules=[rule(protocol=PROTOCOL_ICMP, low=1, high=2)]),
     "INVALID_ARGUMENT", "INVALID_PORT_RANGE"),
    ("a rule naming an unknown group", "CreateSecurityGroup",
     dict(**BASE, name="x", ingress_rules=[rule(source="ghost", kind=SOURCE_TYPE_SECURITY_GROUP)]),
     "NOT_FOUND", "SECURITY_GROUP_NOT_FOUND"),
    ("a group name taken", "CreateSecurityGroup", dict(**BASE, name="web"),
     "ALREADY_EXISTS", "DUPLICATE_NAME"),
    ("a port attached elsewhere", "AttachPort", dict(**BASE, vm_id="vm-2"),
     "FAILED_PRECONDITION", "PORT_ALREADY_ATTACHED"),
    ("a subnet in use", "DeleteSubnet", dict(**BASE, id="web"), "FAILED_PRECONDITION", "IN_USE"),
    ("a group in use", "DeleteSecurityGroup", dict(**BASE, id="web"),
     "FAILED_PRECONDITION", "IN_USE"),
    ("the default group", "DeleteSecurityGroup", dict(**BASE, id="default"),
     "FAILED_PRECONDITION", "IN_USE"),
    ("a VPC with ports", "DeleteVpc", dict(**BASE, id="refuse/base"),
     "FAILED_PRECONDITION", "IN_USE"),
    ("an unknown port", "GetPort", dict(**BASE, id="no-such-port"), "NOT_FOUND", "PORT_NOT_FOUND"),
    ("a DNAT to no port", "CreateDnat", dict(**BASE, external_ip="203.0.113.30",
                                            external_port=80, internal_ip="10.30.1.99",
                                            internal_port=80, protocol=PROTOCOL_TCP),
     "NOT_FOUND", "DNAT_TARGET_UNKNOWN"),
    ("a DNAT with one port", "CreateDnat", dict(**BASE, external_ip="203.0.113.30",
                                               external_port=80, internal_ip="10.30.1.10"),
     "INVALID_ARGUMENT", "INVALID_PORT_RANGE"),
    ("an external IP of another project", "CreateSnat",
     dict(org_id="tour", project_id="web", external_ip="203.0.113.30"),
     "NOT_FOUND", "VPC_NOT_FOUND"),
    ("an unknown SNAT", "DeleteSnat", dict(**BASE, id="nope"), "NOT_FOUND", "NAT_NOT_FOUND"),
    ("no VPC yet", "CreateSubnet", dict(org_id="refuse", project_id="empty", name="x",
                                       cidr="10.40.0.0/24"),
     "NOT_FOUND", "VPC_NOT_FOUND"),
]


@pytest.mark.parametrize("what, method, fields, status, code", REFUSALS,
                         ids=[case[0] for case in REFUSALS])
def test_a_refused_request_changes_nothing(service, client, base, fingerprint,
                                           what, method, fields, status, code):
    if method == "AttachPort":
        fields = dict(fields, id=base.id)
    before = fingerprint(service)
    with pytest.raises(NetworkError) as refused:
        client.call(method, **fields)
    assert (refused.value.status.name, refused.value.code) == (status, code), refused.value
    assert refused.value.message
    assert fingerprint(service) == before


def test_an_external_ip_serves_one_project(service, client, base, fingerprint):
    client.create_vpc(org_id="refuse", project_id="nat2", cidr="10.32.0.0/16")
    before = fingerprint(service)
    with pytest.raises(NetworkError) as refused:
        client.create_snat(org_id="refuse", project_id="nat2", external_ip="203.0.113.30")
    assert (refused.value.status, refused.value.code) == (grpc.StatusCode.ALREADY_EXISTS,
                                                          "ALREADY_EXISTS")
    assert fingerprint(service) == before


def test_the_client_reports_an_unreachable_service():
    with pytest.raises(NetworkError) as failed:
        NetworkClient.connect("127.0.0.1:1", timeout=0.5)
    assert failed.value.status == grpc.StatusCode.UNAVAILABLE


def test_the_example_file_runs_against_a_fresh_service(service_factory):
    import subprocess
    import sys

    from tests.conftest import REPO
    server = service_factory()
    done = subprocess.run([sys.executable, str(REPO / "examples" / "client_example.py"),
                           f"http://{server.address}"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "VPC org1/proj1 10.1.0.0/16; subnet org1/proj1/default 10.1.0.0/24" in done.stdout
    port_id = done.stdout.split("port ")[1].split(":")[0]
    assert port_id in server.sandbox.nbctl("show")
