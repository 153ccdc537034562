"""Would OVN deliver a new connection between two ports, given the emitted rows?

This evaluates what the compiler wrote, not what the intent meant: the packet takes
the path of :mod:`netc.reach.routing`, and on every switch it crosses it meets

1. port security of the port it enters by (its own MAC and IP only, contract 2.5),
2. the from-lport ACL pipeline (``inport`` = that port, no ``outport`` yet),
3. the to-lport ACL pipeline (``outport`` = the port it leaves by),
4. port security of the port it leaves by.

In each pipeline the ACLs are those of the switch and of every port group with a
port on it (as ovn-northd applies them); the highest-priority ACL whose match holds
decides: ``allow`` and ``allow-related`` pass, ``drop`` and ``reject`` do not, and
no matching ACL passes. Two matching ACLs of equal priority with different verdicts
are an error (OVN's choice between them is undefined), as is any other action.

Replies: a switch with a stateful ACL (``allow-related``) lets the replies of a
connection it passed through, whatever its ACLs say; on other switches the reply
packet meets the ACLs like any packet. The reply takes its own path back, so a
missing return route shows.

Not modelled here (see docs/reach.md): NAT and load balancers, which act only on
traffic to and from the external network (:mod:`netc.reach.rownat` and
:meth:`netc.reach.rowmodel.RowModel.deliver_inbound`), and conntrack bypasses of
router ports.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from netc.compiler.rows import Row
from netc.reach.northbound import Northbound, UnsupportedRows, lsp_ips
from netc.reach.ovn_match import Packet
from netc.reach.routing import Blocked, Segment, find_path
from netc.reach.traffic import SOURCE_PORT, Traffic

ETH_IP4 = 0x800
ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY = 8, 0
_VERDICTS = {"allow": True, "allow-related": True, "drop": False, "reject": False}


class AmbiguousAcls(UnsupportedRows):
    """Matching ACLs of one priority that disagree: OVN picks one, unpredictably."""


@dataclass(frozen=True, slots=True)
class Stage:
    """One pipeline a packet met, and what decided it there."""

    switch: str
    pipeline: str
    """``port-security-in``, ``from-lport``, ``to-lport`` or ``port-security-out``."""
    port: str
    allowed: bool
    acl: Row | None = None
    note: str = ""

    def __str__(self) -> str:
        verdict = "pass" if self.allowed else "DROP"
        if self.acl is not None:
            acl = self.acl.columns
            how = f"ACL {acl['priority']} {acl['action']} ({acl['match']})"
        else:
            how = self.note or "no ACL matches"
        return f"{verdict}: switch {self.switch} {self.pipeline} {self.port}: {how}"


@dataclass(frozen=True, slots=True)
class Delivery:
    allow: bool
    """The new connection reaches the destination port."""
    reply: bool
    """Its replies reach the source port (False whenever ``allow`` is)."""
    reason: str
    stages: tuple[Stage, ...] = ()
    reply_stages: tuple[Stage, ...] = field(default=())


def deliver(nb: Northbound, src: str, dst: str, traffic: Traffic) -> Delivery:
    """``src`` and ``dst``: netc port keys (ORG/PROJECT/PORT) or OVN port names."""
    source, target = _port(nb, src), _port(nb, dst)
    src_ip, dst_ip = _ip(source), _ip(target)
    forward = _walk(nb, source, target, dst_ip,
                    _packet(src_ip, dst_ip, traffic, reply=False), established=set())
    if not forward.allow:
        return forward
    passed = {stage.switch for stage in forward.stages}
    back = _walk(nb, target, source, src_ip, _packet(dst_ip, src_ip, traffic, reply=True),
                 established=passed)
    return Delivery(True, back.allow, "delivered" if back.allow else f"reply: {back.reason}",
                    forward.stages, back.stages)


def _port(nb: Northbound, name: str) -> Row:
    lsp = nb.by_port_key.get(name) or nb.lsps.get(name)
    if lsp is None:
        raise LookupError(f"no emitted switch port for {name!r}")
    return lsp


def _ip(lsp: Row) -> IPv4Address:
    ips = lsp_ips(lsp)
    if not ips:
        raise UnsupportedRows(f"port {lsp.columns['name']} has no IPv4 address")
    return ips[0]


def _packet(src: IPv4Address, dst: IPv4Address, traffic: Traffic, reply: bool) -> Packet:
    packet: Packet = {"eth.type": ETH_IP4, "ip.proto": traffic.number,
                      "ip4.src": int(src), "ip4.dst": int(dst)}
    if traffic.port is not None:
        ports = (traffic.port, SOURCE_PORT) if reply else (SOURCE_PORT, traffic.port)
        packet[f"{traffic.protocol}.src"], packet[f"{traffic.protocol}.dst"] = ports
    elif traffic.protocol == "icmp":
        packet["icmp4.type"] = ICMP_ECHO_REPLY if reply else ICMP_ECHO_REQUEST
        packet["icmp4.code"] = 0
    return packet


def _walk(nb: Northbound, source: Row, target: Row, dst_ip: IPv4Address, base: Packet,
          established: set[str]) -> Delivery:
    path = find_path(nb, source, dst_ip)
    if isinstance(path, Blocked):
        return Delivery(False, False, path.reason)
    if path.destination is not target:
        return Delivery(False, False, f"{dst_ip} leads to port "
                                      f"{path.destination.columns['name']}, not "
                                      f"{target.columns['name']}")
    stages: list[Stage] = []
    for segment in path.segments:
        for stage in _segment_stages(nb, segment, base, established):
            stages.append(stage)
            if not stage.allowed:
                return Delivery(False, False, str(stage), tuple(stages))
    return Delivery(True, True, "delivered", tuple(stages))


def segment_packet(segment: Segment, base: Packet) -> Packet:
    """The packet as it enters ``segment``'s switch: its ports, TTL and Ethernet ends."""
    packet = {**base, "inport": segment.inport.columns["name"], "outport": "",
              "ip.ttl": segment.ttl}
    if segment.eth_src is not None:
        packet["eth.src"] = segment.eth_src
    if segment.eth_dst is not None:
        packet["eth.dst"] = segment.eth_dst
    return packet


def _segment_stages(nb: Northbound, segment: Segment, base: Packet, established: set[str]):
    """The four checks of one switch, lazily: the walk stops at the first drop."""
    switch = segment.switch
    name = switch.columns["name"]
    inport, outport = segment.inport.columns["name"], segment.outport.columns["name"]
    packet = segment_packet(segment, base)
    yield _port_security(name, "port-security-in", segment.inport, packet, "src")
    replying = name in established and nb.stateful(switch.key)
    yield _acl_stage(nb, switch, "from-lport", inport, packet, replying)
    packet["outport"] = outport
    yield _acl_stage(nb, switch, "to-lport", outport, packet, replying)
    yield _port_security(name, "port-security-out", segment.outport, packet, "dst")


def _acl_stage(nb: Northbound, switch: Row, direction: str, port: str, packet: Packet,
               replying: bool) -> Stage:
    name = switch.columns["name"]
    acls = [acl for acl in nb.acls(switch.key) if acl.columns["direction"] == direction]
    # every match is evaluated, even for a reply, so that none OVN would refuse hides
    matching = [acl for acl in acls if nb.match(acl.columns["match"]).evaluate(packet)]
    if replying:
        return Stage(name, direction, port, True, note="reply of a tracked connection")
    if not matching:
        return Stage(name, direction, port, True)
    top = max(acl.columns["priority"] for acl in matching)
    deciding = [acl for acl in matching if acl.columns["priority"] == top]
    verdicts = {_verdict(acl) for acl in deciding}
    if len(verdicts) > 1:
        listed = "; ".join(f"{a.columns['action']} ({a.columns['match']})" for a in deciding)
        raise AmbiguousAcls(f"switch {name} {direction}: ACLs of priority {top} disagree "
                            f"on one packet: {listed}")
    return Stage(name, direction, port, verdicts.pop(), acl=deciding[0])


def _verdict(acl: Row) -> bool:
    action = acl.columns["action"]
    if action not in _VERDICTS:
        raise UnsupportedRows(f"ACL action {action!r} is not modelled")
    return _VERDICTS[action]


def _port_security(switch: str, pipeline: str, lsp: Row, packet: Packet, side: str) -> Stage:
    """OVN's port security: the port's MAC and, when listed, its IPs (or networks)."""
    name = lsp.columns["name"]
    entries = lsp.columns.get("port_security", [])
    if not entries:
        return Stage(switch, pipeline, name, True, note="no port security")
    for entry in entries:
        mac, networks = _security_entry(entry)
        if mac != packet.get(f"eth.{side}"):
            continue
        address = IPv4Address(packet[f"ip4.{side}"])
        if not networks or any(address in network for network in networks):
            return Stage(switch, pipeline, name, True, note=f"port security {entry!r}")
    return Stage(switch, pipeline, name, False, note=f"port security {entries!r} refuses "
                                                     f"{IPv4Address(packet[f'ip4.{side}'])}")


@functools.lru_cache(maxsize=1 << 16)
def _security_entry(entry: str) -> tuple[int, tuple[IPv4Network, ...]]:
    """``"MAC IP..."`` of a port_security entry, parsed once."""
    mac, *addresses = entry.split()
    return int(mac.replace(":", ""), 16), tuple(IPv4Network(a, strict=False)
                                                for a in addresses)
