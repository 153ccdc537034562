"""The mutations of the NetworkService, one function per RPC, on a :class:`ChangeSet`.

Each takes plain values (the gRPC layer has already turned messages into them) and
either writes the project's new records into the change set and returns the record
the RPC answers with, or raises :class:`ServiceError` having written nothing that
counts (the engine runs each request in a child change set).

What these functions decide themselves is what the compiler's checks cannot see from
one project: allocation (VPC blocks from the pool, IPs in a subnet, unique MACs),
the indexes shared by all projects, and the refusals of contract section 7 (deleting
what is in use, attaching an attached port). Everything else about the new intent
(CIDRs inside the VPC, overlaps, rule ports, unknown groups, ...) is checked by the
same checks ``netc check`` runs, on the whole project, before anything is stored.
"""

from __future__ import annotations

import bisect
import random
import re
import socket
import uuid
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from netc.compiler import names
from netc.config import Settings
from netc.diagnostics import Code
from netc.intent.model import NAME_PATTERN
from netc.ir import parse
from netc.ir.model import DEFAULT_GROUP, DEFAULT_SUBNET
from netc.ir.world import AddressRanges
from netc.service import records
from netc.service.changeset import ChangeSet
from netc.service.errors import ServiceError, invalid

_NAME = re.compile(NAME_PATTERN)
MAX_TEXT = 255
MAX_DESCRIPTION = 4096
PORT_NAME_PREFIX = "port-"
GENERATED_MAC_PREFIX = "0a"
MAC_ATTEMPTS = 32


@dataclass
class Context:
    """What a mutation may use beyond the change set: settings and the clock."""

    settings: Settings
    now: int
    rng: random.Random


# -- small validators ------------------------------------------------------------------


def check_name(value: str, what: str) -> str:
    if not _NAME.match(value or ""):
        shown = value if len(value) <= 80 else value[:80] + "..."
        raise invalid(f"{what} {shown!r} is not a name: lower-case letters, digits and "
                      f"'-', starting with a letter or digit, at most 63 characters")
    return value


def check_text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    if len(value) > limit:
        raise invalid(f"{what} is {len(value)} characters long; at most {limit} are allowed")
    return value


def local_name(cs: ChangeSet, value: str, what: str, missing_code: str) -> str:
    """``org/project/name`` (this project's) or a bare ``name``; another project's id
    is NOT_FOUND, as an unknown name is: ids of other tenants are never confirmed."""
    check_text(value, what)
    owner, _, name = value.rpartition("/")
    if owner and owner != f"{cs.org}/{cs.project}":
        raise ServiceError(missing_code, f"{what} {value!r} not found")
    return check_name(name, what)


def _vpc(cs: ChangeSet) -> dict:
    vpc = cs.get(records.vpc_key(cs.org, cs.project))
    if vpc is None:
        raise ServiceError("VPC_NOT_FOUND", f"project {cs.org}/{cs.project} has no VPC")
    return vpc


def check_vpc_id(cs: ChangeSet, vpc_id: str) -> dict:
    vpc = _vpc(cs)
    if vpc_id and vpc_id != vpc["id"]:
        raise ServiceError("VPC_NOT_FOUND", f"VPC {check_text(vpc_id, 'vpc_id')!r} not found")
    return vpc


# -- VPC -------------------------------------------------------------------------------


def create_vpc(cs: ChangeSet, ctx: Context, name: str, cidr: str) -> dict:
    org, project = cs.org, cs.project
    if cs.get(records.vpc_key(org, project)) is not None:
        raise ServiceError("ALREADY_EXISTS", f"project {org}/{project} already has a VPC")
    name = check_name(name, "VPC name") if name else project
    used = list(cs.get(records.POOL_USED_KEY) or [])
    taken = AddressRanges(IPv4Network(block) for block in used)
    if cidr:
        network = parse.cidr(check_text(cidr, "cidr"))
        if network is None:
            raise ServiceError(Code.INVALID_CIDR, parse.cidr_problem(cidr))
        if taken.overlaps(network):
            other = next(b for b in used if IPv4Network(b).overlaps(network))
            raise ServiceError(Code.CIDR_OVERLAP,
                               f"VPC {network} overlaps {other}, held by another VPC")
    else:
        network = _free_block(ctx.settings, taken)
    block = str(network)
    cs.put(records.POOL_USED_KEY, sorted([*used, block], key=lambda b: IPv4Network(b)))
    cs.put(records.cidr_allocation_key(org, project), block)
    vpc = {"id": f"{org}/{project}", "org_id": org, "project_id": project, "name": name,
           "cidr": block, "created_at": ctx.now, "updated_at": ctx.now}
    cs.put(records.vpc_key(org, project), vpc)
    size = ctx.settings.network.default_subnet_size
    default = network if network.prefixlen >= size else next(network.subnets(new_prefix=size))
    _put_subnet(cs, ctx, DEFAULT_SUBNET, default, True, [])
    cs.put(records.group_key(org, project, DEFAULT_GROUP), {
        "id": f"{org}/{project}/{DEFAULT_GROUP}", "org_id": org, "project_id": project,
        "name": DEFAULT_GROUP, "description": "default security group",
        "ingress_rules": [{"protocol": "all", "port_range": None,
                           "source_type": "security_group",
                           "source": f"{org}/{project}/{DEFAULT_GROUP}"}],
        "egress_rules": [{"protocol": "all", "port_range": None, "source_type": "cidr",
                          "source": "0.0.0.0/0"}],
        "created_at": ctx.now})
    return vpc


def _free_block(settings: Settings, taken: AddressRanges) -> IPv4Network:
    """The lowest free block of the pool after its first: the specification numbers
    projects from the second (pool 10.0.0.0/8: project 1 -> 10.1.0.0/16), keeping the
    block of the pool's own network address out of tenant hands."""
    pool = settings.network.pool
    prefix = max(settings.network.vpc_prefix, pool.prefixlen)
    blocks = pool.subnets(new_prefix=prefix)
    if pool.prefixlen < prefix:
        next(blocks)
    for block in blocks:
        if not taken.overlaps(block):
            return block
    raise ServiceError(Code.POOL_EXHAUSTED, f"no free /{prefix} left in the pool {pool}")


def delete_vpc(cs: ChangeSet, vpc_id: str) -> None:
    vpc = check_vpc_id(cs, vpc_id)
    org, project = cs.org, cs.project
    ports = list(cs.under(f"{records.ROOT}/ports/{org}/{project}/"))
    if ports:
        raise ServiceError("IN_USE", f"VPC {vpc['id']} still has {len(ports)} port(s); "
                                     f"delete them first")
    for prefix in records.project_prefixes(org, project):
        for key, value in list(cs.under(prefix)):
            if prefix.startswith((f"{records.ROOT}/snat/", f"{records.ROOT}/dnat/")):
                cs.delete(records.external_ip_key(value["external_ip"]))
            cs.delete(key)
    used = [b for b in cs.get(records.POOL_USED_KEY) or [] if b != vpc["cidr"]]
    cs.put(records.POOL_USED_KEY, used)
    cs.delete(records.cidr_allocation_key(org, project))
    cs.delete(records.vpc_key(org, project))


# -- subnets ---------------------------------------------------------------------------


def _put_subnet(cs: ChangeSet, ctx: Context, name: str, network: IPv4Network, dhcp: bool,
                dns_servers: list[str]) -> dict:
    org, project = cs.org, cs.project
    subnet = {"id": f"{org}/{project}/{name}", "org_id": org, "project_id": project,
              "vpc_id": f"{org}/{project}", "name": name, "cidr": str(network),
              "gateway_ip": str(network.network_address + 1) if network.num_addresses >= 4
              else "", "dns_servers": dns_servers, "dhcp_enabled": dhcp,
              "created_at": ctx.now}
    cs.put(records.subnet_key(org, project, name), subnet)
    cs.put(records.ipam_key(org, project, name), [])
    return subnet


def create_subnet(cs: ChangeSet, ctx: Context, vpc_id: str, name: str, cidr: str,
                  dhcp: bool, dns_servers: list[str]) -> dict:
    """A new subnet; or, for a name that exists with the same CIDR (the ``default``
    subnet made with the VPC, as the specification's client example creates it), the
    same subnet with the DHCP settings asked for: creating is idempotent."""
    check_vpc_id(cs, vpc_id)
    name = check_name(name, "subnet name")
    network = parse.cidr(check_text(cidr, "cidr"))
    if network is None:
        raise ServiceError(Code.INVALID_CIDR, parse.cidr_problem(cidr))
    for server in dns_servers:
        if parse.ipv4(check_text(server, "dns server")) is None:
            raise ServiceError(Code.INVALID_IP, parse.ipv4_problem(server))
    key = records.subnet_key(cs.org, cs.project, name)
    existing = cs.get(key)
    if existing is not None:
        if existing["cidr"] != str(network):
            raise ServiceError(Code.DUPLICATE_NAME,
                               f"subnet {name} already exists with CIDR {existing['cidr']}")
        subnet = dict(existing, dhcp_enabled=dhcp, dns_servers=list(dns_servers))
        if subnet != existing:
            cs.put(key, subnet)
        return subnet
    return _put_subnet(cs, ctx, name, network, dhcp, list(dns_servers))


def delete_subnet(cs: ChangeSet, subnet_id: str) -> None:
    name = local_name(cs, subnet_id, "subnet", Code.SUBNET_NOT_FOUND)
    key = records.subnet_key(cs.org, cs.project, name)
    if cs.get(key) is None:
        raise ServiceError(Code.SUBNET_NOT_FOUND, f"subnet {subnet_id!r} not found")
    users = [p for _, p in _ports(cs) if p["subnet_id"].rpartition("/")[2] == name]
    if users:
        raise ServiceError("IN_USE", f"subnet {name} still has {len(users)} port(s)")
    cs.delete(key)
    cs.delete(records.ipam_key(cs.org, cs.project, name))


# -- ports -----------------------------------------------------------------------------


def _ports(cs: ChangeSet):
    return cs.under(f"{records.ROOT}/ports/{cs.org}/{cs.project}/")


def _groups(cs: ChangeSet, ids: list[str]) -> list[str]:
    found = []
    for value in ids or [DEFAULT_GROUP]:
        name = local_name(cs, value, "security group", Code.SECURITY_GROUP_NOT_FOUND)
        if cs.get(records.group_key(cs.org, cs.project, name)) is None:
            raise ServiceError(Code.SECURITY_GROUP_NOT_FOUND,
                               f"security group {value!r} not found")
        found.append(f"{cs.org}/{cs.project}/{name}")
    return list(dict.fromkeys(found))


def create_port(cs: ChangeSet, ctx: Context, subnet_id: str, vm_id: str, mac: str, ip: str,
                group_ids: list[str]) -> dict:
    org, project = cs.org, cs.project
    _vpc(cs)
    subnet_name = local_name(cs, subnet_id or DEFAULT_SUBNET, "subnet", Code.SUBNET_NOT_FOUND)
    subnet = cs.get(records.subnet_key(org, project, subnet_name))
    if subnet is None:
        raise ServiceError(Code.SUBNET_NOT_FOUND, f"subnet {subnet_id!r} not found")
    check_text(vm_id, "vm_id")
    groups = _groups(cs, group_ids)
    address = _allocate_ip(cs, subnet, ip)
    mac_address = _claim_mac(cs, ctx, mac)
    name = _new_port_name(cs, ctx)
    port_id = names.port_id(f"{org}/{project}/{name}")
    port = {"id": port_id, "name": name, "org_id": org, "project_id": project,
            "subnet_id": subnet["id"], "vm_id": vm_id or None, "mac_address": mac_address,
            "ip_address": address, "security_group_ids": groups, "created_at": ctx.now}
    cs.put(records.port_key(org, project, port_id), port)
    cs.put(records.mac_key(mac_address), port_id)
    return port


def _new_port_name(cs: ChangeSet, ctx: Context) -> str:
    while True:
        name = PORT_NAME_PREFIX + f"{ctx.rng.getrandbits(48):012x}"
        port_id = names.port_id(f"{cs.org}/{cs.project}/{name}")
        if cs.get(records.port_key(cs.org, cs.project, port_id)) is None:
            return name


def _allocate_ip(cs: ChangeSet, subnet: dict, wanted: str) -> str:
    """A static ``wanted`` IP, checked, or the lowest free one of the subnet; either
    way recorded in the subnet's allocation list, the key that two concurrent
    allocations in one subnet both write (so one of them fails its compare)."""
    key = records.ipam_key(cs.org, cs.project, subnet["name"])
    allocated = list(cs.get(key) or [])  # sorted, each address once
    network, first, last = _host_range(subnet["cidr"])
    if wanted:
        address = parse.ipv4(check_text(wanted, "ip_address"))
        if address is None:
            raise ServiceError(Code.INVALID_IP, parse.ipv4_problem(wanted))
        if address not in network:
            raise ServiceError(Code.IP_OUTSIDE_SUBNET,
                               f"{address} is not inside subnet {subnet['name']} {network}")
        if not first <= int(address) <= last:
            raise ServiceError(Code.RESERVED_IP,
                               f"{address} is the network, gateway or broadcast address of "
                               f"subnet {subnet['name']} {network}")
        chosen = int(address)
        at = bisect.bisect_left(allocated, chosen, key=_as_int)
        if at < len(allocated) and _as_int(allocated[at]) == chosen:
            raise ServiceError(Code.IP_ALREADY_ALLOCATED,
                               f"{address} is already allocated in subnet {subnet['name']}")
    else:
        # the first gap: allocated[i] - i grows with i (a sorted list of distinct
        # addresses), so the lowest free address is found by bisection
        at = bisect.bisect_left(range(len(allocated)), first + 1,
                                key=lambda i: _as_int(allocated[i]) - i)
        chosen = first + at
        if chosen > last:
            raise ServiceError(Code.POOL_EXHAUSTED,
                               f"subnet {subnet['name']} {network} has no free address")
    address = str(IPv4Address(chosen))
    cs.put(key, [*allocated[:at], address, *allocated[at:]])
    return address


@lru_cache(maxsize=1024)
def _host_range(cidr: str) -> tuple[IPv4Network, int, int]:
    """A subnet's network and its first and last allocatable address (as integers),
    parsed once per subnet: ``IPv4Network`` took a third of an allocation's time."""
    network = IPv4Network(cidr)
    return network, int(network.network_address) + 2, int(network.broadcast_address) - 1


def _as_int(address: str) -> int:
    """An allocation list's address as an integer, without ``ipaddress``'s slow parse
    (the list holds only addresses this module wrote)."""
    return int.from_bytes(socket.inet_aton(address), "big")


def _release_ip(cs: ChangeSet, port: dict) -> None:
    subnet = port["subnet_id"].rpartition("/")[2]
    key = records.ipam_key(cs.org, cs.project, subnet)
    cs.put(key, [a for a in cs.get(key) or [] if a != port["ip_address"]])


def _claim_mac(cs: ChangeSet, ctx: Context, wanted: str) -> str:
    if wanted:
        mac = parse.mac(check_text(wanted, "mac_address"))
        if mac is None:
            raise ServiceError(Code.INVALID_MAC, parse.mac_problem(wanted))
        if cs.get(records.mac_key(mac)) is not None:
            raise ServiceError(Code.MAC_CONFLICT, f"MAC {mac} is already used by another port")
        return mac
    for _ in range(MAC_ATTEMPTS):
        mac = ":".join([GENERATED_MAC_PREFIX] + [f"{b:02x}" for b in ctx.rng.randbytes(5)])
        if cs.get(records.mac_key(mac)) is None:
            return mac
    raise ServiceError(Code.MAC_CONFLICT, "no unused MAC found")


def get_port(cs: ChangeSet, port_id: str) -> dict:
    check_text(port_id, "port id")
    port = cs.get(records.port_key(cs.org, cs.project, port_id)) if port_id else None
    if port is None:
        raise ServiceError("PORT_NOT_FOUND", f"port {port_id!r} not found")
    return port


def delete_port(cs: ChangeSet, port_id: str) -> None:
    port = get_port(cs, port_id)
    for _, dnat in cs.under(f"{records.ROOT}/dnat/{cs.org}/{cs.project}/"):
        if dnat["internal_ip"] == port["ip_address"]:
            raise ServiceError("IN_USE", f"DNAT {dnat['id']} forwards to this port's IP "
                                         f"{port['ip_address']}; delete it first")
    _release_ip(cs, port)
    cs.delete(records.mac_key(port["mac_address"]))
    cs.delete(records.port_key(cs.org, cs.project, port["id"]))


def attach_port(cs: ChangeSet, port_id: str, vm_id: str) -> dict:
    port = get_port(cs, port_id)
    if not vm_id:
        raise invalid("vm_id is required")
    check_text(vm_id, "vm_id")
    if port.get("vm_id") == vm_id:
        return port
    if port.get("vm_id"):
        raise ServiceError(Code.PORT_ALREADY_ATTACHED,
                           f"port {port_id} is attached to VM {port['vm_id']}; detach it first")
    port = dict(port, vm_id=vm_id)
    cs.put(records.port_key(cs.org, cs.project, port_id), port)
    return port


def detach_port(cs: ChangeSet, port_id: str) -> dict:
    port = dict(get_port(cs, port_id), vm_id=None)
    cs.put(records.port_key(cs.org, cs.project, port_id), port)
    return port


# -- security groups -------------------------------------------------------------------


def get_group(cs: ChangeSet, group_id: str) -> dict:
    name = local_name(cs, group_id, "security group", Code.SECURITY_GROUP_NOT_FOUND)
    group = cs.get(records.group_key(cs.org, cs.project, name))
    if group is None:
        raise ServiceError(Code.SECURITY_GROUP_NOT_FOUND, f"security group {group_id!r} not found")
    return group


def _rules(cs: ChangeSet, rules: list[dict]) -> list[dict]:
    """Rules as stored; group sources as ids. Another project's group is NOT_FOUND
    (no peering through the service, and no confirming another tenant's ids)."""
    checked = []
    for rule in rules:
        source = check_text(rule["source"], "rule source")
        if rule["source_type"] == "security_group":
            name = local_name(cs, source, "security group", Code.SECURITY_GROUP_NOT_FOUND)
            source = f"{cs.org}/{cs.project}/{name}"
        checked.append(dict(rule, source=source))
    return checked


def create_group(cs: ChangeSet, ctx: Context, name: str, description: str,
                 ingress: list[dict], egress: list[dict]) -> dict:
    _vpc(cs)
    name = check_name(name, "security group name")
    key = records.group_key(cs.org, cs.project, name)
    if cs.get(key) is not None:
        raise ServiceError(Code.DUPLICATE_NAME, f"security group {name} already exists")
    group = {"id": f"{cs.org}/{cs.project}/{name}", "org_id": cs.org,
             "project_id": cs.project, "name": name,
             "description": check_text(description, "description", MAX_DESCRIPTION),
             "ingress_rules": _rules(cs, ingress), "egress_rules": _rules(cs, egress),
             "created_at": ctx.now}
    cs.put(key, group)
    return group


def update_group(cs: ChangeSet, group_id: str, description: str, ingress: list[dict],
                 egress: list[dict]) -> dict:
    group = dict(get_group(cs, group_id),
                 description=check_text(description, "description", MAX_DESCRIPTION),
                 ingress_rules=_rules(cs, ingress), egress_rules=_rules(cs, egress))
    cs.put(records.group_key(cs.org, cs.project, group["name"]), group)
    return group


def delete_group(cs: ChangeSet, group_id: str) -> None:
    group = get_group(cs, group_id)
    if group["name"] == DEFAULT_GROUP:
        raise ServiceError("IN_USE", "the default security group is deleted only with its VPC")
    users = [p["id"] for _, p in _ports(cs) if group["id"] in p["security_group_ids"]]
    if users:
        raise ServiceError("IN_USE", f"security group {group['name']} is used by "
                                     f"{len(users)} port(s)")
    for _, other in cs.under(f"{records.ROOT}/security_groups/{cs.org}/{cs.project}/"):
        if other["id"] != group["id"] and any(
                r["source_type"] == "security_group" and r["source"] == group["id"]
                for r in other["ingress_rules"] + other["egress_rules"]):
            raise ServiceError("IN_USE", f"security group {group['name']} is named by a rule "
                                         f"of {other['name']}")
    cs.delete(records.group_key(cs.org, cs.project, group["name"]))


# -- NAT -------------------------------------------------------------------------------


def _claim_external_ip(cs: ChangeSet, external_ip: str) -> str:
    address = parse.ipv4(check_text(external_ip, "external_ip"))
    if address is None:
        raise ServiceError(Code.INVALID_IP, parse.ipv4_problem(external_ip))
    key = records.external_ip_key(str(address))
    holder = cs.get(key)
    mine = f"{cs.org}/{cs.project}"
    if holder is not None and holder != mine:
        raise ServiceError("ALREADY_EXISTS",
                           f"external IP {address} already serves another project")
    cs.put(key, mine)
    return str(address)


def _release_external_ip(cs: ChangeSet, external_ip: str, exclude: str) -> None:
    """Free the external IP when no other NAT entry of the project (than ``exclude``)
    uses it."""
    for folder in ("snat", "dnat"):
        for key, value in cs.under(f"{records.ROOT}/{folder}/{cs.org}/{cs.project}/"):
            if key != exclude and value["external_ip"] == external_ip:
                return
    cs.delete(records.external_ip_key(external_ip))


def create_snat(cs: ChangeSet, ctx: Context, vpc_id: str, external_ip: str) -> dict:
    vpc = check_vpc_id(cs, vpc_id)
    address = _claim_external_ip(cs, external_ip)
    for _, snat in cs.under(f"{records.ROOT}/snat/{cs.org}/{cs.project}/"):
        if snat["external_ip"] == address:
            raise ServiceError("ALREADY_EXISTS", f"SNAT from {address} already exists")
    snat = {"id": str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4)), "vpc_id": vpc["id"],
            "external_ip": address, "enabled": True}
    cs.put(records.snat_key(cs.org, cs.project, snat["id"]), snat)
    return snat


def create_dnat(cs: ChangeSet, ctx: Context, vpc_id: str, external_ip: str,
                external_port: int, internal_ip: str, internal_port: int,
                protocol: str) -> dict:
    vpc = check_vpc_id(cs, vpc_id)
    if bool(external_port) != bool(internal_port):
        raise ServiceError(Code.INVALID_PORT_RANGE,
                           "give both external_port and internal_port (port forwarding) "
                           "or neither (1:1 DNAT)")
    for port in (external_port, internal_port):
        if port and not 1 <= port <= 65535:
            raise ServiceError(Code.INVALID_PORT_RANGE, f"port {port} is outside 1-65535")
    if external_port and protocol not in ("tcp", "udp"):
        raise invalid("port forwarding needs protocol tcp or udp")
    address = _claim_external_ip(cs, external_ip)
    target = parse.ipv4(check_text(internal_ip, "internal_ip"))
    if target is None:
        raise ServiceError(Code.INVALID_IP, parse.ipv4_problem(internal_ip))
    if not any(p["ip_address"] == str(target) for _, p in _ports(cs)):
        raise ServiceError(Code.DNAT_TARGET_UNKNOWN,
                           f"internal_ip {target} is not the IP of a port of "
                           f"{cs.org}/{cs.project}")
    dnat = {"id": str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4)), "vpc_id": vpc["id"],
            "external_ip": address, "external_port": external_port,
            "internal_ip": str(target), "internal_port": internal_port,
            "protocol": protocol if external_port else "all"}
    cs.put(records.dnat_key(cs.org, cs.project, dnat["id"]), dnat)
    return dnat


def delete_nat(cs: ChangeSet, kind: str, nat_id: str) -> None:
    check_text(nat_id, "id")
    key = (records.snat_key if kind == "snat" else records.dnat_key)(cs.org, cs.project, nat_id)
    entry: Any = cs.get(key) if nat_id else None
    if entry is None:
        raise ServiceError("NAT_NOT_FOUND", f"{kind.upper()} {nat_id!r} not found")
    _release_external_ip(cs, entry["external_ip"], exclude=key)
    cs.delete(key)
