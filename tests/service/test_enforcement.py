"""Security groups made through the API are really enforced: after each RPC returns
(and northd has caught up), ovn-trace of a new connection's first packet is
delivered or dropped as the rules say; another project's ports are unreachable."""

from __future__ import annotations

import re
import subprocess

import pytest

from netc.client import PROTOCOL_TCP, PortRange, SecurityRule
from tests.service.conftest import SERVICE

pytestmark = SERVICE


def tcp_from_anywhere(port: int) -> SecurityRule:
    return SecurityRule(protocol=PROTOCOL_TCP, port_range=PortRange(min=port, max=port),
                        source="0.0.0.0/0")


def delivered(sandbox, source, target, port: int, *, eth_dst: str | None = None) -> bool:
    """Whether OVN delivers the first packet of a new TCP connection source -> target."""
    sandbox.nbctl("--wait=sb", "sync")
    switch = source.subnet_id.replace("/", ".")
    flow = (f'inport == "{source.id}" && eth.src == {source.mac_address} && '
            f"eth.dst == {eth_dst or target.mac_address} && ip4.src == {source.ip_address} && "
            f"ip4.dst == {target.ip_address} && ip.ttl == 64 && tcp && tcp.dst == {port}")
    done = subprocess.run(["ovn-trace", f"--db={sandbox.sb_remote}", "--ct=new", "--minimal",
                           switch, flow], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "parsing expression failed" not in done.stderr, done.stderr
    # ovn-trace shortens a UUID-like port name to its first hex digits
    return any(target.id.startswith(name)
               for name in re.findall(r'output\("([^"]+)"\)', done.stdout))


@pytest.fixture(scope="module")
def web(client):
    ids = dict(org_id="enforce", project_id="a")
    client.create_vpc(**ids, cidr="10.90.0.0/16")
    client.create_security_group(**ids, name="web", ingress_rules=[tcp_from_anywhere(80)],
                                 egress_rules=[SecurityRule(source="0.0.0.0/0")])
    client.create_security_group(**ids, name="client",
                                 egress_rules=[SecurityRule(source="0.0.0.0/0")])
    server = client.create_port(**ids, security_group_ids=["web"])
    caller = client.create_port(**ids, security_group_ids=["client"])
    return ids, server, caller


def test_rules_made_through_the_api_decide_each_connection(service, client, web):
    ids, server, caller = web
    assert delivered(service.sandbox, caller, server, 80)
    assert not delivered(service.sandbox, caller, server, 22)
    assert not delivered(service.sandbox, server, caller, 80)  # client admits nothing in


def test_an_update_replaces_the_rules_at_once(service, client, web):
    ids, server, caller = web
    client.update_security_group(**ids, id="web", ingress_rules=[tcp_from_anywhere(22)],
                                 egress_rules=[SecurityRule(source="0.0.0.0/0")])
    assert delivered(service.sandbox, caller, server, 22)
    assert not delivered(service.sandbox, caller, server, 80)


def test_another_projects_ports_are_unreachable(service, client, web):
    _, server, _ = web
    other = dict(org_id="enforce", project_id="b")
    client.create_vpc(**other, cidr="10.91.0.0/16")
    client.create_security_group(**other, name="open",
                                 egress_rules=[SecurityRule(source="0.0.0.0/0")],
                                 ingress_rules=[SecurityRule(source="0.0.0.0/0")])
    stranger = client.create_port(**other, security_group_ids=["open"])
    router_mac = service.sandbox.nbctl("get", "Logical_Router_Port",
                                       "lrp.enforce.b.default", "mac").strip().strip('"')
    for port in (22, 80):
        assert not delivered(service.sandbox, stranger, server, port, eth_dst=router_mac)
    # and the same rule within the project would have let it through
    assert delivered(service.sandbox, stranger, client.create_port(
        **other, security_group_ids=["open"]), 22)
