"""PlasmaVMC's VM creation flow (specification 11.3) on real packets, through `netc serve`.

A real ``netc serve`` (SQLite store, a bearer token per tenant) runs on a sandbox
with a dataplane (OVS userspace datapath, ovn-controller). Everything is made
through the generated client, as PlasmaVMC makes it: a VPC with its CIDR
allocated, a subnet with DHCP, security groups with rules, and for every VM
``create_vm`` does the specification's five steps: CreatePort with the VM's groups
and no address (the service allocates the IP and generates the MAC), the OVN
logical port exists when the RPC returns, the VM's NIC (a network namespace) is
plugged into br-int with ``external_ids:iface-id`` = the returned port id and the
returned MAC, and the VM takes its address by DHCP: it must be the one CreatePort
returned.

Then the groups are held to their rules on real connections (TCP connects to a
listener that is always there, one UDP datagram to an echo, one ping), as created
and after UpdateSecurityGroup replaced them; a VM created later is a member of its
group at once; another tenant's VM is unreachable whatever the groups say; and
DeletePort takes the VM off the network. After every RPC the test waits for the
chassis to enforce the new Northbound (:func:`tests.e2e.lab.settle`), never a bare
sleep. Denied connections wait out the probe timeout, so there are few of them.

The tests run in file order, as the VM manager's calls would: the update test finds
the groups as created, and the last one deletes a VM.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from netc.client import (PROTOCOL_ALL, PROTOCOL_ICMP, PROTOCOL_TCP, PROTOCOL_UDP,
                         SOURCE_TYPE_CIDR, SOURCE_TYPE_SECURITY_GROUP, NetworkClient,
                         PortRange, SecurityRule)
from netc.devtools.sandbox import Sandbox, VmPort
from netc.devtools.service import ServiceProcess
from tests.e2e.lab import (addresses, default_gateway, listen, ping, probe, settle,
                           stop_dhclients, stop_listeners, take_lease, vswitchd_emergencies)
from tests.ovn.conftest import start_sandbox

pytestmark = [pytest.mark.ovn, pytest.mark.dataplane, pytest.mark.service]

TENANTS = {"plasma/shop": "plasma-token", "globex/lab": "globex-token"}
"""The two tenants' projects and the bearer token that grants each its own only."""
SHOP, LAB = "plasma/shop", "globex/lab"
GUEST_MAC = "02:00:5e:10:00:32"
"""guest-1's NetworkSpec names its MAC and its IP (the 50th address of its subnet)."""
LISTENING = {"web-1": {80, 8080, 53}, "ops-1": {22}, "ops-2": {22}, "guest-1": {22}}
"""What each VM serves (TCP and UDP) once it has its address."""


def rule(protocol: int, port: int | None = None, source: str = "0.0.0.0/0") -> SecurityRule:
    """A rule on one port (or all), from a CIDR or (with a ``/`` and no dot) a group id."""
    kind = SOURCE_TYPE_CIDR if "." in source else SOURCE_TYPE_SECURITY_GROUP
    return SecurityRule(protocol=protocol, port_range=PortRange(min=port or 0, max=port or 0),
                        source=source, source_type=kind)


EVERYWHERE = [rule(PROTOCOL_ALL)]
WEB_AS_CREATED = [rule(PROTOCOL_TCP, 80), rule(PROTOCOL_ICMP, source=f"{SHOP}/ops"),
                  rule(PROTOCOL_UDP, 53, source="10.0.0.0/8")]
WEB_AS_UPDATED = [rule(PROTOCOL_TCP, 8080, source=f"{SHOP}/ops"),
                  rule(PROTOCOL_UDP, 53, source="10.0.0.0/8")]
"""tcp/80 and icmp go, tcp/8080 from the ops group comes, udp/53 stays."""
OPS_TO_WEB = {"tcp/80": ("open", "timeout"), "tcp/8080": ("timeout", "open"),
              "icmp": ("reply", "no reply"), "udp/53": ("reply", "reply")}
"""ops-1 -> web-1 (across subnets): the outcome with web's rules as created, as updated."""


@dataclass
class Vm:
    """A VM as PlasmaVMC knows it: the port CreatePort returned and the NIC plugged with it."""

    port: object
    """The ``Port`` message CreatePort returned."""
    nic: VmPort
    prefix: int
    gateway: str


@dataclass
class Cloud:
    sandbox: Sandbox
    server: ServiceProcess
    directory: Path
    clients: dict[str, NetworkClient] = field(default_factory=dict)
    subnets: dict[str, object] = field(default_factory=dict)
    """``PROJECT/SUBNET`` -> the Subnet message."""
    vms: dict[str, Vm] = field(default_factory=dict)
    listeners: list[subprocess.Popen] = field(default_factory=list)

    def api(self, project: str) -> tuple[NetworkClient, dict[str, str]]:
        """The tenant's client and the ``org_id``/``project_id`` of its requests."""
        org, _, name = project.partition("/")
        return self.clients[project], {"org_id": org, "project_id": name}

    def create_vm(self, name: str, subnet: str, groups: list[str], vm_id: str | None = None,
                  mac: str | None = None, ip: str | None = None) -> Vm:
        """The specification's 11.3 for one NIC: CreatePort, plug, DHCP; then serve.
        ``mac`` and ``ip`` are the NetworkSpec's optional ones (None: the service's)."""
        project = subnet.rpartition("/")[0]
        client, ids = self.api(project)
        port = client.create_port(**ids, subnet_id=self.subnets[subnet].id, vm_id=vm_id,
                                  security_group_ids=groups, mac_address=mac, ip_address=ip)
        nic = self.sandbox.add_vm_port(name, port.id, port.mac_address, None)
        self.sandbox.wait_port_up(port.id)  # the iface-id named a logical port, now bound
        settle(self.sandbox)
        take_lease(nic, self.directory)
        network = IPv4Network(self.subnets[subnet].cidr)
        vm = self.vms[name] = Vm(port, nic, network.prefixlen, self.subnets[subnet].gateway_ip)
        self.listeners.append(listen(nic.namespace, LISTENING[name]))
        return vm

    def ask(self, src: str, dst: str, traffic: str) -> str:
        """One new connection (``tcp/P``, ``udp/P``, ``icmp``) from VM src to VM dst."""
        host = self.vms[dst].port.ip_address
        protocol, _, port = traffic.partition("/")
        if protocol == "icmp":
            return ping(self.vms[src].nic.namespace, host)
        return probe(self.vms[src].nic.namespace, "udp" if protocol == "udp" else "connect",
                     host, int(port))

    def logical_port(self, port_id: str) -> dict | None:
        """The Logical_Switch_Port named ``port_id`` as OVSDB sends it (``_uuid`` as
        ``["uuid", U]``, a one-element set as its atom, a map as ``["map", PAIRS]``)."""
        with self.sandbox.client() as nb:
            rows = nb.select("Logical_Switch_Port", [["name", "==", port_id]],
                             ["_uuid", "addresses", "external_ids", "up"])
        return rows[0] if rows else None


def second_subnet(cidr: str) -> str:
    """The /24 after the VPC's first one (which is its ``default`` subnet)."""
    return str(list(IPv4Network(cidr).subnets(new_prefix=24))[1])


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """The service on a dataplane; both tenants' networks and VMs made through the API."""
    sandbox = start_sandbox(Sandbox(tmp_path_factory.mktemp("flow-sandbox"), dataplane=True))
    server = ServiceProcess(tmp_path_factory.mktemp("flow-serve"), sandbox.nb_remote,
                            tokens=[{"token": token, "projects": [project]}
                                    for project, token in TENANTS.items()])
    cloud = Cloud(sandbox, server, tmp_path_factory.mktemp("flow-vms"))
    try:
        server.start()
        for project, token in TENANTS.items():
            cloud.clients[project] = NetworkClient.connect(server.address, token=token)
        client, ids = cloud.api(SHOP)
        vpc = client.create_vpc(**ids, name="shop")  # no CIDR: taken from the pool
        cloud.subnets[f"{SHOP}/default"] = client.get_subnet(**ids, id="default")
        cloud.subnets[f"{SHOP}/app"] = client.create_subnet(
            **ids, vpc_id=vpc.id, name="app", cidr=second_subnet(vpc.cidr), dhcp_enabled=True)
        client.create_security_group(**ids, name="ops", egress_rules=EVERYWHERE,
                                     ingress_rules=[rule(PROTOCOL_TCP, 22, f"{SHOP}/ops")])
        client.create_security_group(**ids, name="web", egress_rules=EVERYWHERE,
                                     ingress_rules=WEB_AS_CREATED)
        client, ids = cloud.api(LAB)
        client.create_vpc(**ids, name="lab")
        cloud.subnets[f"{LAB}/default"] = client.get_subnet(**ids, id="default")
        client.create_security_group(**ids, name="open", egress_rules=EVERYWHERE,
                                     ingress_rules=EVERYWHERE)
        cloud.create_vm("web-1", f"{SHOP}/app", [f"{SHOP}/web"], vm_id="vm-web-1")
        cloud.create_vm("ops-1", f"{SHOP}/default", ["ops"], vm_id="vm-ops-1")
        guest_ip = str(IPv4Network(cloud.subnets[f"{LAB}/default"].cidr)[50])
        cloud.create_vm("guest-1", f"{LAB}/default", ["open"], vm_id="vm-guest-1",
                        mac=GUEST_MAC, ip=guest_ip)
        yield cloud
    finally:
        stop_listeners(cloud.listeners)
        stop_dhclients(cloud.directory)
        for client in cloud.clients.values():
            client.close()
        server.stop()
        sandbox.stop()


@pytest.fixture(autouse=True)
def datapath_alive(cloud: Cloud):
    """Every test ends with ovs-vswitchd still running (:func:`vswitchd_emergencies`)."""
    yield
    dead = vswitchd_emergencies(cloud.sandbox)
    assert not dead, f"ovs-vswitchd died during this test: {dead[0]}"


@pytest.mark.parametrize("name", ["web-1", "ops-1", "guest-1"])
def test_createport_returns_a_port_that_ovn_has_and_binds(cloud: Cloud, name: str) -> None:
    port = cloud.vms[name].port
    lsp = cloud.logical_port(port.id)
    assert lsp["_uuid"] == ["uuid", port.ovn_port_uuid]
    assert lsp["addresses"] == f"{port.mac_address} {port.ip_address}"
    assert dict(lsp["external_ids"][1])["netc:vm"] == port.vm_id == f"vm-{name}"
    assert lsp["up"] is True  # bound through the iface-id = the returned port id


def test_createport_allocates_or_keeps_the_address(cloud: Cloud) -> None:
    """Without an address a port gets its subnet's lowest free one (the network and
    the gateway are reserved); a MAC and an IP the VM manager gives are kept."""
    for name, subnet in (("web-1", f"{SHOP}/app"), ("ops-1", f"{SHOP}/default")):
        assert cloud.vms[name].port.ip_address == str(IPv4Network(cloud.subnets[subnet].cidr)[2])
    port = cloud.vms["guest-1"].port
    subnet = IPv4Network(cloud.subnets[f"{LAB}/default"].cidr)
    assert (port.mac_address, port.ip_address) == (GUEST_MAC, str(subnet[50]))


@pytest.mark.parametrize("name", ["web-1", "ops-1", "guest-1"])
def test_dhcp_gives_each_vm_the_address_createport_returned(cloud: Cloud, name: str) -> None:
    vm = cloud.vms[name]
    assert addresses(vm.nic) == [f"{vm.port.ip_address}/{vm.prefix}"]
    assert default_gateway(vm.nic) == vm.gateway


def test_the_groups_as_created_decide_each_connection(cloud: Cloud) -> None:
    outcomes = {traffic: cloud.ask("ops-1", "web-1", traffic) for traffic in OPS_TO_WEB}
    assert outcomes == {traffic: created for traffic, (created, _) in OPS_TO_WEB.items()}


def test_an_update_replaces_the_rules_on_real_connections(cloud: Cloud) -> None:
    client, ids = cloud.api(SHOP)
    updated = client.update_security_group(**ids, id="web", ingress_rules=WEB_AS_UPDATED,
                                           egress_rules=EVERYWHERE)
    assert len(updated.ingress_rules) == len(WEB_AS_UPDATED)
    settle(cloud.sandbox)
    outcomes = {traffic: cloud.ask("ops-1", "web-1", traffic) for traffic in OPS_TO_WEB}
    assert outcomes == {traffic: after for traffic, (_, after) in OPS_TO_WEB.items()}


def test_a_vm_created_later_is_a_member_of_its_group_at_once(cloud: Cloud) -> None:
    """ops admits tcp/22 from the ops group only: the new VM, made without a VM id
    and attached once plugged (AttachPort), is in it both ways, and in no other."""
    vm = cloud.create_vm("ops-2", f"{SHOP}/app", [f"{SHOP}/ops"])
    client, ids = cloud.api(SHOP)
    attached = client.attach_port(**ids, id=vm.port.id, vm_id="vm-ops-2")
    assert attached.vm_id == "vm-ops-2"
    assert dict(cloud.logical_port(vm.port.id)["external_ids"][1])["netc:vm"] == "vm-ops-2"
    settle(cloud.sandbox)
    assert cloud.ask("ops-2", "ops-1", "tcp/22") == "open"
    assert cloud.ask("ops-1", "ops-2", "tcp/22") == "open"
    assert cloud.ask("web-1", "ops-2", "tcp/22") == "timeout"  # web is not in ops


def test_another_tenants_vm_is_unreachable_whatever_the_groups_say(cloud: Cloud) -> None:
    guest = cloud.vms["guest-1"]
    # web admits udp/53 from 10.0.0.0/8, guest's address among them; open admits all
    assert IPv4Address(guest.port.ip_address) in IPv4Network("10.0.0.0/8")
    assert cloud.ask("ops-1", "web-1", "udp/53") == "reply"
    assert cloud.ask("guest-1", "web-1", "udp/53") == "timeout"
    assert cloud.ask("web-1", "guest-1", "tcp/22") == "timeout"


def test_deleteport_takes_the_vm_off_the_network(cloud: Cloud) -> None:
    """As a VM is destroyed: DetachPort, DeletePort; the logical port goes, and the
    namespace, still plugged under the old iface-id, reaches nothing and nothing it."""
    web = cloud.vms["web-1"]
    assert cloud.ask("ops-1", "web-1", "udp/53") == "reply"
    assert ping(web.nic.namespace, web.gateway) == "reply"
    client, ids = cloud.api(SHOP)
    client.detach_port(**ids, id=web.port.id)
    assert not client.get_port(**ids, id=web.port.id).HasField("vm_id")
    client.delete_port(**ids, id=web.port.id)
    assert cloud.logical_port(web.port.id) is None
    settle(cloud.sandbox)
    assert cloud.sandbox.sbctl("--columns=logical_port", "find", "Port_Binding",
                               f"logical_port={web.port.id}").strip() == ""
    assert cloud.ask("ops-1", "web-1", "udp/53") == "timeout"
    assert ping(web.nic.namespace, web.gateway) == "no reply"
