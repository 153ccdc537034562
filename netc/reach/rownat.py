"""What a router's NAT and Load_Balancer rows do at its gateway port, as ovn-northd
23.03 programs them (ovn-northd(8), checked with ovn-trace on this machine).

- NAT acts only on a router with a *distributed gateway port*: a router port with
  ``gateway_chassis`` or an ``ha_chassis_group``. Without one, northd writes no NAT
  flows: a packet to the external address meets the router's own IP stack (a TCP
  reset), and traffic leaves unNATed.
- A way in: a ``dnat`` or ``dnat_and_snat`` row rewrites every packet to its
  ``external_ip`` arriving by the gateway port to ``logical_ip`` (``lr_in_dnat``),
  ports unchanged; a load balancer on the router rewrites ``protocol`` (default
  tcp) to ``VIP:PORT`` into one of its backends ``IP:PORT`` (``ct_lb_mark``), only new
  connections of that protocol and port. An ICMP echo request to an address a
  router port holds is answered by the router itself (``lr_in_ip_input``, priority
  90, before DNAT): it never reaches the port behind a 1:1 NAT of that address.
- The way out: ``snat`` and ``dnat_and_snat`` rows rewrite the source of what leaves
  by the gateway port from an address inside ``logical_ip`` (``lr_out_snat``; the
  longest prefix wins, as northd ranks these flows by prefix length).

The switches on either side judge the packet as it is there: the port's switch sees
the internal address and port, the external switch the external ones.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, summarize_address_range

from netc.compiler.rows import Row
from netc.reach.northbound import Northbound, UnsupportedRows, optional
from netc.reach.trafficset import TrafficSet

_ICMP = TrafficSet(icmp=True)


@dataclass(frozen=True, eq=False)
class RowWayIn:
    """One NAT row or load-balancer VIP that leads to an internal address."""

    row: Row
    external_ip: IPv4Address
    outside: TrafficSet
    """What the external host sends to ``external_ip`` (its ports)."""
    inside: TrafficSet
    """The same traffic as the port receives it."""
    description: str
    forwarded: tuple[str, int] | None = None
    """(protocol, VIP port) of a load-balancer VIP with a port; None when every
    protocol and port passes (a NAT row, a VIP without port)."""

    def __str__(self) -> str:
        return self.description


@dataclass(frozen=True, eq=False)
class RowWayOut:
    row: Row
    external_ip: IPv4Address
    description: str

    def __str__(self) -> str:
        return self.description


def gateway_port(nb: Northbound, router: Row) -> Row | None:
    """The router's distributed gateway port, the one NAT acts at; None without one."""
    found = [lrp for lrp in nb.refs(router, "ports", "Logical_Router_Port")
             if lrp.columns.get("gateway_chassis") or optional(lrp, "ha_chassis_group")]
    if len(found) > 1:
        raise UnsupportedRows(f"router {router.columns['name']}: NAT with several gateway "
                              "ports is not modelled")
    return found[0] if found else None


def ways_in(nb: Northbound, router: Row, address: IPv4Address) -> list[RowWayIn]:
    """The NAT rows and load-balancer VIPs of ``router`` that lead to ``address``."""
    if gateway_port(nb, router) is None:
        return []
    own = {i.ip for lrp in nb.refs(router, "ports", "Logical_Router_Port")
           for i in nb.lrp_interfaces(lrp)}
    found = []
    for nat in nb.refs(router, "nat", "NAT"):
        kind = nat.columns.get("type")
        if kind not in ("dnat", "dnat_and_snat") or _address(nat, "logical_ip") != address:
            continue
        external = _address(nat, "external_ip")
        carried = TrafficSet.everything() - (_ICMP if external in own else TrafficSet.nothing())
        found.append(RowWayIn(nat, external, carried, carried,
                              f"NAT {kind} {external} -> {address}"))
    for balancer in nb.refs(router, "load_balancer", "Load_Balancer"):
        protocol = optional(balancer, "protocol") or "tcp"
        for vip, backends in sorted(balancer.columns.get("vips", {}).items()):
            for backend in backends.split(","):
                found.extend(_balanced(balancer, protocol, vip, backend.strip(), address))
    return found


def _balanced(balancer: Row, protocol: str, vip: str, backend: str,
              address: IPv4Address) -> list[RowWayIn]:
    where = f"load balancer {balancer.columns.get('name', balancer.key)} {vip}"
    try:
        vip_ip, vip_port = _endpoint(vip)
        ip, port = _endpoint(backend)
    except ValueError:
        raise UnsupportedRows(f"{where}: not an IPv4 VIP and backend") from None
    if ip != address:
        return []
    if vip_port is None:  # an address only: every packet of any protocol
        return [RowWayIn(balancer, vip_ip, TrafficSet.everything(), TrafficSet.everything(),
                         f"{where} -> {backend}")]
    if protocol not in ("tcp", "udp"):
        raise UnsupportedRows(f"{where}: protocol {protocol} is not modelled")
    inside = port if port is not None else vip_port
    return [RowWayIn(balancer, vip_ip, TrafficSet.of_rule(protocol, ((vip_port, vip_port),)),
                     TrafficSet.of_rule(protocol, ((inside, inside),)),
                     f"{where}/{protocol} -> {backend}", (protocol, vip_port))]


def way_out(nb: Northbound, router: Row, address: IPv4Address) -> RowWayOut | None:
    """The SNAT row that rewrites what ``address`` sends out of the gateway port."""
    if gateway_port(nb, router) is None:
        return None
    best: tuple[int, Row] | None = None
    for nat in nb.refs(router, "nat", "NAT"):
        if nat.columns.get("type") not in ("snat", "dnat_and_snat"):
            continue
        network = _network(nat)
        if address in network and (best is None or network.prefixlen > best[0]):
            best = (network.prefixlen, nat)
    if best is None:
        return None
    nat = best[1]
    external = _address(nat, "external_ip")
    return RowWayOut(nat, external, f"NAT {nat.columns['type']} {nat.columns['logical_ip']} "
                                    f"-> {external}")


def _address(nat: Row, column: str) -> IPv4Address | None:
    """The single address a NAT column names (None for a wider network)."""
    try:
        network = IPv4Network(nat.columns.get(column, ""), strict=False)
    except ValueError:
        raise UnsupportedRows(f"NAT {nat.key}: {column} {nat.columns.get(column)!r} is not "
                              "IPv4") from None
    return network.network_address if network.prefixlen == 32 else None


def _network(nat: Row) -> IPv4Network:
    try:
        return IPv4Network(nat.columns.get("logical_ip", ""), strict=False)
    except ValueError:
        raise UnsupportedRows(f"NAT {nat.key}: logical_ip {nat.columns.get('logical_ip')!r} "
                              "is not IPv4") from None


def _endpoint(text: str) -> tuple[IPv4Address, int | None]:
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    return IPv4Address(host), (int(port) if port else None)


def external_hosts(nbs, constants) -> list[tuple[str, IPv4Address]]:
    """One sample host for each piece of the external address space that the address
    ranges ``constants`` (``(low, high)`` integers: what the rows' ACLs and routes name)
    cut, named by the smallest of them holding it (``external:198.51.100.0/24``) or
    ``external`` for the rest. Not external: any VPC or subnet of the rows ``nbs``
    (:class:`Northbound`), their NAT and VIP addresses (a router holds them) and the
    reserved ranges."""
    from netc.ir.model import RESERVED_NETWORKS
    from netc.reach.nat import network_interval, pieces_outside

    internal = [network_interval(n) for n in RESERVED_NETWORKS]
    for nb in nbs:
        internal += [network_interval(n) for n in _internal_networks(nb)]
    whole = (0, (1 << 32) - 1)
    named = sorted({c for c in constants if c != whole}, key=lambda c: (c[1] - c[0], c))
    hosts = []
    names: dict[frozenset, str] = {}  # the ranges holding a piece -> its region's name
    for low, high in pieces_outside(internal, constants):
        holders = frozenset(c for c in named if c[0] <= low and high <= c[1])
        if holders in names:
            continue
        smallest = min(holders, key=lambda c: (c[1] - c[0], c)) if holders else None
        name = "external" if smallest is None else "external:" + _range_text(*smallest)
        taken = set(names.values())
        if name in taken:  # ranges that overlap without nesting: one name, two regions
            name += f"#{sum(1 for n in taken if n.split('#')[0] == name) + 1}"
        names[holders] = name
        hosts.append((name, IPv4Address(low)))
    return hosts


def _internal_networks(nb: Northbound):
    for router in nb.rows.tables.get("Logical_Router", {}).values():
        cidr = router.columns.get("external_ids", {}).get("netc:cidr")
        if cidr:
            with suppress(ValueError):
                yield IPv4Network(cidr)
        gateway = gateway_port(nb, router)
        for lrp in nb.refs(router, "ports", "Logical_Router_Port"):
            if lrp is not gateway:
                yield from (i.network for i in nb.lrp_interfaces(lrp))
        for nat in nb.refs(router, "nat", "NAT"):
            address = _address(nat, "external_ip")
            if address is not None:
                yield IPv4Network(address)
        for balancer in nb.refs(router, "load_balancer", "Load_Balancer"):
            for vip in balancer.columns.get("vips", {}):
                with suppress(ValueError):
                    yield IPv4Network(_endpoint(vip)[0])


def _range_text(low: int, high: int) -> str:
    networks = list(summarize_address_range(IPv4Address(low), IPv4Address(high)))
    return str(networks[0]) if len(networks) == 1 else f"{IPv4Address(low)}-{IPv4Address(high)}"
