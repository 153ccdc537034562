"""The way a packet takes through emitted switches and routers, as OVN forwards it.

From the source port's switch a packet goes straight to the port that owns the
destination address when it is on the same switch, else to the router port of the
source's subnet (its default gateway). Each router picks the longest prefix among
its connected networks and static routes (a connected network wins a tie, as in
ovn-northd), and hands the packet on: through a switch to the port that owns the
next hop, or over a direct router-to-router link (``peer``). A packet with no route,
no owner of its next hop, or more than :data:`MAX_ROUTERS` routers to cross, is
dropped: that is how unpeered VPCs stay apart. A next hop that no port of a switch
owns, on a switch with a localnet port, is on the physical network: the packet leaves
by the localnet port (the way to the external network, contract 2.8), and
:func:`path_from_outside` is the way back in.

The result is a list of :class:`Segment`: one per switch crossed, with the port the
packet enters by and the one it leaves by, so the ACL evaluator can run the
from-lport and to-lport pipelines of each switch with the right ``inport`` and
``outport``.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from netc.compiler.rows import Row
from netc.reach.northbound import Northbound, UnsupportedRows, lsp_ips, lsp_mac, optional

MAX_ROUTERS = 8
INITIAL_TTL = 64


@dataclass(frozen=True, slots=True)
class Segment:
    switch: Row
    inport: Row
    outport: Row
    eth_src: int | None
    eth_dst: int | None
    ttl: int


@dataclass(frozen=True, slots=True)
class Path:
    segments: tuple[Segment, ...]
    routers: tuple[str, ...]

    @property
    def destination(self) -> Row:
        return self.segments[-1].outport


@dataclass(frozen=True, slots=True)
class Blocked:
    """No way through; ``reason`` says where the packet is dropped."""

    reason: str


def find_path(nb: Northbound, source: Row, dst: IPv4Address) -> Path | Blocked:
    name = source.columns["name"]
    switch = nb.switch_of.get(name)
    if switch is None:
        return Blocked(f"port {name} is on no switch")
    owner = nb.owner_of_ip(switch, dst)
    if owner is not None and owner.columns.get("type") != "router":
        return Path((Segment(switch, source, owner, lsp_mac(source), lsp_mac(owner),
                             INITIAL_TTL),), ())
    gateway = _gateway(nb, switch, source)
    if isinstance(gateway, Blocked):
        return gateway
    lrp = nb.lrps[gateway.columns["options"]["router-port"]]
    segments = [Segment(switch, source, gateway, lsp_mac(source), _mac(lrp), INITIAL_TTL)]
    return _onward(nb, lrp, dst, segments)


def path_from_outside(nb: Northbound, gateway: Row, dst: IPv4Address) -> Path | Blocked:
    """The way of a packet that an external host sends through the localnet port of
    ``gateway``'s switch to that router port (its MAC), addressed to ``dst``."""
    attachment = nb.router_lsp_of(gateway.columns["name"])
    switch = nb.switch_of.get(attachment.columns["name"]) if attachment else None
    localnet = nb.localnet_of(switch) if switch is not None else None
    if localnet is None:
        return Blocked(f"router port {gateway.columns['name']} is on no switch with a "
                       "localnet port")
    segments = [Segment(switch, localnet, attachment, None, _mac(gateway), INITIAL_TTL)]
    return _onward(nb, gateway, dst, segments)


def _onward(nb: Northbound, lrp: Row, dst: IPv4Address, segments: list[Segment]
            ) -> Path | Blocked:
    """From the router of ``lrp`` (which the packet entered by) to ``dst``: a VM port,
    or the localnet port of a switch on which nobody answers for the next hop (the
    packet leaves for the physical network)."""
    routers: list[str] = []
    ttl = INITIAL_TTL
    router = nb.router_of.get(lrp.columns["name"])
    while router is not None:
        if len(routers) == MAX_ROUTERS:
            return Blocked(f"more than {MAX_ROUTERS} routers on the way to {dst}")
        if router.columns.get("enabled") is False:
            return Blocked(f"router {router.columns['name']} is disabled")
        routers.append(router.columns["name"])
        ttl -= 1
        route = _route(nb, router, dst)
        if route is None:
            return Blocked(f"router {router.columns['name']} has no route to {dst}")
        out, nexthop = route
        peer_name = optional(out, "peer")
        if peer_name is not None:
            peer = nb.lrps.get(peer_name)
            if peer is None or all(i.ip != nexthop for i in nb.lrp_interfaces(peer)):
                return Blocked(f"router port {out.columns['name']}: nothing answers for "
                               f"next hop {nexthop} over its peer link")
            router = nb.router_of.get(peer_name)
            continue
        attachment = nb.router_lsp_of(out.columns["name"])
        if attachment is None:
            return Blocked(f"router port {out.columns['name']} is attached to no switch")
        switch = nb.switch_of[attachment.columns["name"]]
        owner = nb.owner_of_ip(switch, nexthop)
        if owner is None:
            localnet = nb.localnet_of(switch)
            if localnet is None:
                return Blocked(f"no port of switch {switch.columns['name']} answers for "
                               f"{nexthop}")
            segments.append(Segment(switch, attachment, localnet, _mac(out), None, ttl))
            return Path(tuple(segments), tuple(routers))
        segments.append(Segment(switch, attachment, owner, _mac(out), _owner_mac(nb, owner), ttl))
        if owner.columns.get("type") == "router":
            router = nb.router_of.get(owner.columns["options"]["router-port"])
            continue
        if nexthop != dst:
            return Blocked(f"next hop {nexthop} is a VM port, not a router")
        return Path(tuple(segments), tuple(routers))
    return Blocked(f"router port {lrp.columns['name']} belongs to no router")


def first_router_port(nb: Northbound, switch: Row, source: Row) -> Row | None:
    """The router port that is the default gateway of ``source`` (None without one)."""
    gateway = _gateway(nb, switch, source)
    if isinstance(gateway, Blocked):
        return None
    return nb.lrps.get(gateway.columns["options"]["router-port"])


def _gateway(nb: Northbound, switch: Row, source: Row) -> Row | Blocked:
    """The router port of the source's subnet: the one whose network holds its IP."""
    own = lsp_ips(source)
    for lsp in nb.refs(switch, "ports", "Logical_Switch_Port"):
        if lsp.columns.get("type") != "router":
            continue
        lrp = nb.lrps.get(lsp.columns.get("options", {}).get("router-port"))
        if lrp is not None and lrp.columns.get("enabled") is not False and any(
                ip in i.network for i in nb.lrp_interfaces(lrp) for ip in own):
            return lsp
    return Blocked(f"switch {switch.columns['name']} has no router port for "
                   f"{', '.join(map(str, own)) or source.columns['name']}")


def _route(nb: Northbound, router: Row, dst: IPv4Address) -> tuple[Row, IPv4Address] | None:
    """(output router port, next hop) of the longest matching prefix."""
    candidates: list[tuple[int, int, Row, IPv4Address]] = []
    ports = [p for p in nb.refs(router, "ports", "Logical_Router_Port")
             if p.columns.get("enabled") is not False]
    for lrp in ports:
        for interface in nb.lrp_interfaces(lrp):
            if dst in interface.network:
                candidates.append((interface.network.prefixlen, 1, lrp, dst))
    for route in nb.refs(router, "static_routes", "Logical_Router_Static_Route"):
        where = f"router {router.columns['name']}: static route {route.columns.get('ip_prefix')}"
        if (optional(route, "policy") or "dst-ip") != "dst-ip" or optional(route, "route_table"):
            raise UnsupportedRows(f"{where}: only dst-ip routes of the main table are modelled")
        try:
            prefix, nexthop = _parsed_route(route.columns["ip_prefix"], route.columns["nexthop"])
        except ValueError:
            raise UnsupportedRows(f"{where}: not an IPv4 prefix and next hop") from None
        if dst not in prefix:
            continue
        named = optional(route, "output_port")
        out = next((p for p in ports if (p.columns["name"] == named if named else any(
            nexthop in i.network for i in nb.lrp_interfaces(p)))), None)
        if out is not None:
            candidates.append((prefix.prefixlen, 0, out, nexthop))
    if not candidates:
        return None
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    best = candidates[0]
    rivals = {(c[2].key, c[3]) for c in candidates if c[:2] == best[:2]}
    if len(rivals) > 1:
        raise UnsupportedRows(f"router {router.columns['name']}: several routes of equal "
                              f"rank to {dst} (ECMP) are not modelled")
    return best[2], best[3]


@functools.lru_cache(maxsize=1 << 14)
def _parsed_route(prefix: str, nexthop: str) -> tuple[IPv4Network, IPv4Address]:
    return IPv4Network(prefix, strict=False), IPv4Address(nexthop)


def _mac(lrp: Row) -> int | None:
    mac = lrp.columns.get("mac")
    return int(mac.replace(":", ""), 16) if mac else None


def _owner_mac(nb: Northbound, owner: Row) -> int | None:
    if owner.columns.get("type") == "router":
        return _mac(nb.lrps[owner.columns["options"]["router-port"]])
    return lsp_mac(owner)
