"""What Northbound rows do to whole classes of ports and all traffic at once.

:func:`netc.reach.acl_eval.deliver` follows one packet; this module follows one port
pair with every traffic at once, by the same rules (the path of
:mod:`netc.reach.routing`, port security, the from-lport and to-lport pipelines of
each switch crossed, the highest-priority matching ACL deciding, replies let through
by stateful switches), evaluating each ACL match symbolically
(:mod:`netc.reach.symbolic`). :meth:`RowModel.deliver` gives the exact set of traffic
whose new connection reaches the destination and the set whose replies come back.

:meth:`RowModel.signature` says which ports the rows treat alike: two VM ports on one
switch, in the same port groups, named by the same ``inport``/``outport``
constants, inside the same address constants of every ``ip4.src``/``ip4.dst``
comparison and every route prefix (and the same MAC ones), whose port security
admits their own addresses alike. The rows cannot tell such ports apart, whoever
wrote them: foreign port groups and ACLs split classes just as netc's own do.

:meth:`RowModel.deliver_inbound` and :meth:`RowModel.deliver_outbound` do the same
between a port and an external host: in through each NAT row or load-balancer VIP of
the port's router (:mod:`netc.reach.rownat`), the external switch judging the packet
with its external address and port and the port's switch with the internal ones; out
by the SNAT row the port's address falls under, with its replies back in.

:meth:`RowModel.reachable_switches` bounds where a packet from a switch can go at
all: the switch itself and the switches of the routers its routers reach through
static routes (connected routes deliver on their own switch only), so isolation
between unrelated VPCs is shown without asking about every pair of them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from contextlib import suppress
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from netc.compiler.rows import Row
from netc.reach.acl_eval import ETH_IP4, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, AmbiguousAcls, \
    _port_security, _verdict, segment_packet
from netc.reach.northbound import Northbound, UnsupportedRows, lsp_ips, lsp_mac, optional
from netc.reach.ovn_match import Match, _All, _Compare
from netc.reach import rownat
from netc.reach.rownat import RowWayIn, RowWayOut
from netc.reach.routing import Blocked, Path, find_path, first_router_port, path_from_outside
from netc.reach.symbolic import Symbolic, _masked, comparisons
from netc.reach.traffic import SOURCE_PORT
from netc.reach.trafficset import TrafficSet

_ANY = TrafficSet.everything()
_NONE = TrafficSet.nothing()


@dataclass(frozen=True)
class RowVerdict:
    forward: TrafficSet
    """Traffic whose new connection reaches the destination port."""
    reply: TrafficSet
    """Traffic (within ``forward``) whose replies reach the source port."""
    ambiguous: TrafficSet
    """Traffic that meets matching ACLs of one priority with different verdicts."""
    pieces: tuple[TrafficSet, ...] = ()
    """What each ACL met on the way matched (when asked for): the edges along which
    the rows may treat traffic differently."""
    reason: str = ""
    """Why nothing passes, when the path itself is blocked."""

    @property
    def allowed(self) -> TrafficSet:
        """Traffic whose connection works both ways."""
        return self.forward & self.reply


class RowModel:
    """Symbolic delivery over one :class:`Northbound`.

    ``strict``: matching ACLs of one priority that disagree raise
    :class:`AmbiguousAcls` (as the concrete evaluator does); otherwise the traffic
    concerned is reported in :attr:`RowVerdict.ambiguous` and counted as allowed.
    """

    def __init__(self, nb: Northbound, *, strict: bool = True) -> None:
        self.nb = nb
        self.strict = strict
        self._forward = Symbolic(reply=False)
        self._back = Symbolic(reply=True)
        self._stage_acls: dict[tuple[str, str], list[tuple[int, bool, Match, tuple]]] = {}
        self._paths: dict[tuple[str, IPv4Address], Path | Blocked] = {}
        self._switch_reach: dict[str, frozenset[str]] | None = None
        self._guards: dict[str, tuple[str, frozenset] | None] = {}
        self._securities: dict[tuple, bool] = {}
        self._guarded: dict[tuple, list[tuple]] = {}
        self._probes: dict[tuple, list] = {}
        self._stages: dict[tuple, tuple[TrafficSet, TrafficSet]] = {}
        self._intervals: dict[str, list[tuple[int, int]]] = {}

    # -- delivery
    def deliver(self, source: Row, target: Row, pieces: bool = False) -> RowVerdict:
        src_ip, dst_ip = _ip(source), _ip(target)
        collected: list[TrafficSet] | None = [] if pieces else None
        forward, ambiguous, blocked, switches = self._walk(
            source, target, dst_ip, self._base(src_ip, dst_ip, False), frozenset(),
            self._forward, collected)
        if not forward:
            return RowVerdict(_NONE, _NONE, ambiguous, tuple(collected or ()), blocked)
        back, back_ambiguous, _, _ = self._walk(
            target, source, src_ip, self._base(dst_ip, src_ip, True), switches, self._back,
            collected)
        return RowVerdict(forward, back & forward, ambiguous | (back_ambiguous & forward),
                          tuple(collected or ()))

    # -- the external network (NAT and load balancers, :mod:`netc.reach.rownat`)
    def deliver_inbound(self, address: IPv4Address, target: Row
                        ) -> list[tuple[RowWayIn, RowVerdict]]:
        """For each NAT row or VIP leading to ``target``, what a new connection from the
        external host at ``address`` may be (as the port sees it), and its replies."""
        target_ip = _ip(target)
        router = self.router_of_port(target)
        if router is None:
            return []
        gateway = rownat.gateway_port(self.nb, router)
        found = []
        for way in rownat.ways_in(self.nb, router, target_ip):
            path = self._outside_path(gateway, target_ip)
            if isinstance(path, Blocked) or path.destination is not target:
                reason = path.reason if isinstance(path, Blocked) else \
                    f"{target_ip} leads to port {path.destination.columns['name']}"
                found.append((way, RowVerdict(_NONE, _NONE, _NONE, reason=reason)))
                continue
            outside, inside = path.segments[:1], path.segments[1:]
            a, a_unclear, _, a_switches = self._through(
                outside, self._base(address, way.external_ip, False), frozenset(),
                self._forward, None)
            b, b_unclear, _, b_switches = self._through(
                inside, self._base(address, target_ip, False), frozenset(), self._forward,
                None)
            forward = _carried(way, a, b)
            if not forward:
                found.append((way, RowVerdict(_NONE, _NONE, a_unclear | b_unclear,
                                              reason="dropped on the way in")))
                continue
            back = self.path(target, address)
            reply = _NONE
            if not isinstance(back, Blocked) and _leaves(back):
                established = a_switches | b_switches
                c, _, _, _ = self._through(back.segments[:-1],
                                           self._base(target_ip, address, True),
                                           established, self._back, None)
                d, _, _, _ = self._through(back.segments[-1:],
                                           self._base(way.external_ip, address, True),
                                           established, self._back, None)
                reply = _carried(way, d, c) & forward
            found.append((way, RowVerdict(forward, reply, (a_unclear | b_unclear) & forward)))
        return found

    def deliver_outbound(self, source: Row, address: IPv4Address
                         ) -> tuple[RowWayOut | None, RowVerdict]:
        """Where a new connection from ``source`` to the external host at ``address``
        leaves from (its SNAT), what it may be, and its replies."""
        src_ip = _ip(source)
        path = self.path(source, address)
        if isinstance(path, Blocked):
            return None, RowVerdict(_NONE, _NONE, _NONE, reason=path.reason)
        if not _leaves(path):
            return None, RowVerdict(_NONE, _NONE, _NONE, reason=(
                f"{address} leads to port {path.destination.columns['name']}"))
        lrp = self.nb.lrps.get(path.segments[-1].inport.columns.get("options", {})
                               .get("router-port"))
        router = self.nb.router_of.get(lrp.columns["name"]) if lrp is not None else None
        out = rownat.way_out(self.nb, router, src_ip) if router is not None else None
        if out is None or rownat.gateway_port(self.nb, router) is not lrp:
            return None, RowVerdict(_NONE, _NONE, _NONE, reason=(
                f"it leaves by {lrp.columns['name'] if lrp else '?'} with its own address "
                f"{src_ip}: no SNAT there"))
        a, a_unclear, _, a_switches = self._through(
            path.segments[:-1], self._base(src_ip, address, False), frozenset(),
            self._forward, None)
        b, b_unclear, _, b_switches = self._through(
            path.segments[-1:], self._base(out.external_ip, address, False), frozenset(),
            self._forward, None)
        forward = a & b
        if not forward:
            return out, RowVerdict(_NONE, _NONE, a_unclear | b_unclear,
                                   reason="dropped on the way out")
        back = self._outside_path(lrp, src_ip)
        reply = _NONE
        if not isinstance(back, Blocked) and back.destination is source:
            established = a_switches | b_switches
            c, _, _, _ = self._through(back.segments[:1],
                                       self._base(address, out.external_ip, True),
                                       established, self._back, None)
            d, _, _, _ = self._through(back.segments[1:], self._base(address, src_ip, True),
                                       established, self._back, None)
            reply = c & d & forward
        return out, RowVerdict(forward, reply, (a_unclear | b_unclear) & forward)

    def router_of_port(self, lsp: Row) -> Row | None:
        """The router of the port's own subnet (the one its gateway belongs to)."""
        switch = self.nb.switch_of.get(lsp.columns["name"])
        if switch is None:
            return None
        lrp = first_router_port(self.nb, switch, lsp)
        return None if lrp is None else self.nb.router_of.get(lrp.columns["name"])

    def _outside_path(self, gateway: Row, dst_ip: IPv4Address) -> Path | Blocked:
        key = ("outside:" + gateway.columns["name"], dst_ip)
        if key not in self._paths:
            self._paths[key] = path_from_outside(self.nb, gateway, dst_ip)
        return self._paths[key]

    @staticmethod
    def _base(src: IPv4Address, dst: IPv4Address, reply: bool) -> dict:
        ports = ("dst", "src") if reply else ("src", "dst")
        fixed = ports[0]
        return {"eth.type": ETH_IP4, "ip4.src": int(src), "ip4.dst": int(dst),
                f"tcp.{fixed}": SOURCE_PORT, f"udp.{fixed}": SOURCE_PORT,
                "icmp4.type": ICMP_ECHO_REPLY if reply else ICMP_ECHO_REQUEST,
                "icmp4.code": 0}

    def path(self, source: Row, dst_ip: IPv4Address) -> Path | Blocked:
        key = (source.columns["name"], dst_ip)
        if key not in self._paths:
            self._paths[key] = find_path(self.nb, source, dst_ip)
        return self._paths[key]

    def _walk(self, source: Row, target: Row, dst_ip: IPv4Address, base: dict,
              established: frozenset[str], symbolic: Symbolic,
              pieces: list[TrafficSet] | None):
        path = self.path(source, dst_ip)
        if isinstance(path, Blocked):
            return _NONE, _NONE, path.reason, frozenset()
        if path.destination is not target:
            return _NONE, _NONE, (f"{dst_ip} leads to port "
                                  f"{path.destination.columns['name']}"), frozenset()
        return self._through(path.segments, base, established, symbolic, pieces)

    def _through(self, segments, base: dict, established: frozenset[str],
                 symbolic: Symbolic, pieces: list[TrafficSet] | None):
        """What passes every check of ``segments`` (the packet ``base`` on each)."""
        passed = _ANY
        ambiguous = _NONE
        for segment in segments:
            switch = segment.switch
            name = switch.columns["name"]
            inport, outport = segment.inport.columns["name"], segment.outport.columns["name"]
            packet = segment_packet(segment, base)
            if not self._security(segment.inport, packet, "src"):
                return _NONE, ambiguous, f"port security of {inport}", frozenset()
            replying = name in established and self.nb.stateful(switch.key)
            for direction in ("from-lport", "to-lport"):
                if direction == "to-lport":
                    packet["outport"] = outport
                if replying:  # the stateful switch lets the reply through, whatever its
                    # ACLs say; they are still compiled, so none OVN would refuse hides
                    symbolic.compile_all(m for _, _, m in self._acls_for(switch, direction,
                                                                         packet))
                    continue
                allowed, unclear = self._stage(switch, direction, packet, symbolic, pieces)
                passed = passed & allowed
                ambiguous = ambiguous | (unclear & passed)
                if not passed:
                    return _NONE, ambiguous, f"ACLs of switch {name} {direction}", frozenset()
            if not self._security(segment.outport, packet, "dst"):
                return _NONE, ambiguous, f"port security of {outport}", frozenset()
        switches = frozenset(s.switch.columns["name"] for s in segments)
        return passed, ambiguous, "", switches

    def _security(self, lsp: Row, packet: dict, side: str) -> bool:
        key = (lsp.key, side, packet.get(f"eth.{side}"), packet[f"ip4.{side}"])
        found = self._securities.get(key)
        if found is None:
            found = self._securities[key] = _port_security(
                "", "", lsp, packet, side).allowed
        return found

    def _stage(self, switch: Row, direction: str, packet: dict, symbolic: Symbolic,
               pieces: list[TrafficSet] | None) -> tuple[TrafficSet, TrafficSet]:
        """What the stage lets through. Its ACLs' matches depend on the packet only
        through the truth of their comparisons on fixed fields, so the result is
        memoized on those truths: one evaluation per distinct combination, shared by
        every port pair that meets the stage alike."""
        acls = self._acls_for(switch, direction, packet)
        if pieces is not None:
            return self._evaluate_stage(switch, direction, packet, symbolic, acls, pieces)
        stage = (symbolic.reply, switch.key, direction, packet["inport"], packet["outport"])
        probes = self._probes.get(stage)
        if probes is None:
            probes = self._probes[stage] = symbolic.probes([m for _, _, m in acls])
        key = (stage, tuple(test(packet[field]) if field in packet else None
                            for field, test in probes))
        found = self._stages.get(key)
        if found is None:
            found = self._stages[key] = self._evaluate_stage(switch, direction, packet,
                                                             symbolic, acls, None)
        return found

    def _evaluate_stage(self, switch: Row, direction: str, packet: dict, symbolic: Symbolic,
                        acls: list[tuple], pieces: list[TrafficSet] | None
                        ) -> tuple[TrafficSet, TrafficSet]:
        remaining = _ANY
        allowed = _NONE
        ambiguous = _NONE
        level: int | None = None
        level_allow = level_drop = _NONE
        for priority, verdict, match in acls:
            if priority != level:
                if level is not None:
                    remaining, allowed, ambiguous = self._settle(
                        switch, direction, level, level_allow, level_drop, remaining,
                        allowed, ambiguous)
                    if not remaining:
                        return allowed, ambiguous
                level, level_allow, level_drop = priority, _NONE, _NONE
            matched = symbolic.traffic_matched(match, packet)
            if pieces is not None and matched and not matched.full:
                pieces.append(matched)
            matched = matched & remaining
            if verdict:
                level_allow = level_allow | matched
            else:
                level_drop = level_drop | matched
        if level is not None:
            remaining, allowed, ambiguous = self._settle(
                switch, direction, level, level_allow, level_drop, remaining, allowed,
                ambiguous)
        return allowed | remaining, ambiguous

    def _settle(self, switch: Row, direction: str, priority: int, allow: TrafficSet,
                drop: TrafficSet, remaining: TrafficSet, allowed: TrafficSet,
                ambiguous: TrafficSet):
        both = allow & drop
        if both:
            if self.strict:
                raise AmbiguousAcls(f"switch {switch.columns['name']} {direction}: ACLs of "
                                    f"priority {priority} disagree on {both}")
            ambiguous = ambiguous | both
        return remaining - (allow | drop), allowed | allow, ambiguous

    def _acls_for(self, switch: Row, direction: str, packet: dict) -> list[tuple]:
        """The stage's ACLs whose guard the packet's ``inport`` and ``outport`` meet."""
        key = (switch.key, direction, packet["inport"], packet["outport"])
        found = self._guarded.get(key)
        if found is None:
            found = self._guarded[key] = [
                (priority, verdict, match)
                for priority, verdict, match, guard in self._acls_of(switch, direction)
                if guard is None or packet.get(guard[0]) in guard[1]]
        return found

    def _acls_of(self, switch: Row, direction: str) -> list[tuple[int, bool, Match, tuple]]:
        """The stage's ACLs, highest priority first, each with its guard: (field,
        names) when the match requires ``inport``/``outport`` to be one of names."""
        key = (switch.key, direction)
        found = self._stage_acls.get(key)
        if found is None:
            found = []
            for acl in self.nb.acls(switch.key):
                if acl.columns["direction"] != direction:
                    continue
                match = self.nb.match(acl.columns["match"])
                if match.text not in self._guards:
                    self._guards[match.text] = _guard(match)
                found.append((acl.columns["priority"], _verdict(acl), match,
                              self._guards[match.text]))
            found.sort(key=lambda item: -item[0])
            self._stage_acls[key] = found
        return found

    # -- classes
    def signatures(self, lsps: list[Row]) -> dict[str, tuple]:
        """Port name -> what the rows can tell about it (equal: treated alike)."""
        names, addresses, macs = self._predicates()
        name_roles: dict[str, list[int]] = {}
        for index, members in enumerate(names):
            for member in members:
                name_roles.setdefault(member, []).append(index)
        ordered = sorted((int(ip), lsp.columns["name"]) for lsp in lsps
                         for ip in lsp_ips(lsp)[:1])
        keys = [ip for ip, _ in ordered]
        address_roles: dict[str, list[int]] = {}
        for index, intervals in enumerate(addresses):
            for low, high in intervals:
                for position in range(bisect_left(keys, low), bisect_right(keys, high)):
                    address_roles.setdefault(ordered[position][1], []).append(index)
        found = {}
        for lsp in lsps:
            name = lsp.columns["name"]
            mac = lsp_mac(lsp)
            switch = self.nb.switch_of.get(name)
            found[name] = (
                switch.key if switch is not None else None,
                tuple(name_roles.get(name, ())),
                tuple(sorted(set(address_roles.get(name, ())))),
                tuple(i for i, test in enumerate(macs) if mac is not None and test(mac)),
                self._own_security(lsp),
            )
        return found

    def _own_security(self, lsp: Row) -> bool:
        ips, mac = lsp_ips(lsp), lsp_mac(lsp)
        if not ips or mac is None:
            return False
        packet = {"eth.src": mac, "eth.dst": mac, "ip4.src": int(ips[0]), "ip4.dst": int(ips[0])}
        return _port_security("", "", lsp, packet, "src").allowed

    def _predicates(self):
        """The name sets, address interval sets and MAC tests of every ACL match and
        route prefix: what can single a port out."""
        names: dict[frozenset, None] = {}
        addresses: dict[tuple, None] = {}
        macs: dict[tuple, None] = {}
        for acl in self.nb.rows.tables.get("ACL", {}).values():
            for compare in comparisons(self.nb.match(acl.columns["match"]).expr):
                constants = tuple((c.value, c.mask) for c in compare.constants)
                if compare.field in ("inport", "outport"):
                    names[frozenset(c.value for c in compare.constants)] = None
                elif compare.field in ("ip4.src", "ip4.dst"):
                    addresses[_address_intervals(compare.op, constants)] = None
                elif compare.field in ("eth.src", "eth.dst"):
                    macs[(compare.op, constants)] = None
        for route in self.nb.rows.tables.get("Logical_Router_Static_Route", {}).values():
            try:
                prefix = IPv4Network(route.columns["ip_prefix"], strict=False)
            except (KeyError, ValueError):
                continue
            addresses[((int(prefix.network_address), int(prefix.broadcast_address)),)] = None
        tests = [_mac_test(op, constants) for op, constants in macs]
        return list(names), list(addresses), tests

    def address_intervals(self) -> list[tuple[int, int]]:
        """Every address range an ACL comparison or a route prefix names: the edges
        along which the rows may treat external hosts differently."""
        _, addresses, _ = self._predicates()
        return [interval for intervals in addresses for interval in intervals]

    def address_intervals_near(self, port: Row) -> list[tuple[int, int]]:
        """The address ranges that can matter between ``port`` and an external host:
        those the ACLs applying on its switch and on its router's gateway switch
        compare with, and the prefixes of its router's routes (a packet between them
        crosses nothing else)."""
        switch = self.nb.switch_of.get(port.columns["name"])
        router = self.router_of_port(port)
        switches = [switch.key] if switch is not None else []
        gateway = rownat.gateway_port(self.nb, router) if router is not None else None
        attachment = self.nb.router_lsp_of(gateway.columns["name"]) if gateway else None
        outside = self.nb.switch_of.get(attachment.columns["name"]) if attachment else None
        if outside is not None:
            switches.append(outside.key)
        found: dict[tuple[int, int], None] = {}
        for key in switches:
            found.update(dict.fromkeys(self._switch_intervals(key)))
        if router is not None:
            for route in self.nb.refs(router, "static_routes", "Logical_Router_Static_Route"):
                with suppress(KeyError, ValueError):
                    prefix = IPv4Network(route.columns["ip_prefix"], strict=False)
                    found[(int(prefix.network_address), int(prefix.broadcast_address))] = None
        return list(found)

    def _switch_intervals(self, switch_key: str) -> list[tuple[int, int]]:
        if switch_key not in self._intervals:
            found: dict[tuple[int, int], None] = {}
            for acl in self.nb.acls(switch_key):
                for compare in comparisons(self.nb.match(acl.columns["match"]).expr):
                    if compare.field in ("ip4.src", "ip4.dst"):
                        constants = tuple((c.value, c.mask) for c in compare.constants)
                        found.update(dict.fromkeys(_address_intervals(compare.op, constants)))
            self._intervals[switch_key] = list(found)
        return self._intervals[switch_key]

    def reachable_switches(self, switch_key: str) -> frozenset[str]:
        """Switch keys a packet from ``switch_key`` may end on (itself included)."""
        if self._switch_reach is None:
            self._switch_reach = self._reach()
        return self._switch_reach.get(switch_key, frozenset({switch_key}))

    def _reach(self) -> dict[str, frozenset[str]]:
        nb = self.nb
        switches_of: dict[str, set[str]] = {}   # router name -> attached switch keys
        routers_on: dict[str, set[str]] = {}    # switch key -> attached router names
        for lrp_name, router in nb.router_of.items():
            attachment = nb.router_lsp_of(lrp_name)
            if attachment is None:
                continue
            switch = nb.switch_of.get(attachment.columns["name"])
            if switch is None:
                continue
            switches_of.setdefault(router.columns["name"], set()).add(switch.key)
            routers_on.setdefault(switch.key, set()).add(router.columns["name"])
        hops: dict[str, set[str]] = {}
        for router in nb.router_of.values():
            name = router.columns["name"]
            if name in hops:
                continue
            hops[name] = set()
            for route in nb.refs(router, "static_routes", "Logical_Router_Static_Route"):
                try:
                    nexthop = IPv4Address(route.columns["nexthop"])
                except (KeyError, ValueError):
                    continue
                for lrp in nb.refs(router, "ports", "Logical_Router_Port"):
                    peer = nb.lrps.get(optional(lrp, "peer") or "")
                    if peer is not None and any(i.ip == nexthop
                                                for i in nb.lrp_interfaces(peer)):
                        hops[name].add(nb.router_of[peer.columns["name"]].columns["name"])
                    attachment = nb.router_lsp_of(lrp.columns["name"])
                    switch = nb.switch_of.get(attachment.columns["name"]) if attachment else None
                    if switch is not None:
                        owner = nb.owner_of_ip(switch, nexthop)
                        if owner is not None and owner.columns.get("type") == "router":
                            target = nb.lrps.get(owner.columns["options"].get("router-port"))
                            if target is not None and target.columns["name"] in nb.router_of:
                                hops[name].add(nb.router_of[target.columns["name"]]
                                               .columns["name"])
        closure: dict[str, frozenset[str]] = {}
        for start in hops:
            seen = {start}
            pending = [start]
            while pending:
                for following in hops.get(pending.pop(), ()):
                    if following not in seen:
                        seen.add(following)
                        pending.append(following)
            closure[start] = frozenset(seen)
        reach: dict[str, frozenset[str]] = {}
        for switch in nb.rows.tables.get("Logical_Switch", {}):
            found = {switch}
            for router in routers_on.get(switch, ()):
                for reached in closure.get(router, {router}):
                    found |= switches_of.get(reached, set())
            reach[switch] = frozenset(found)
        return reach


def _leaves(path: Path) -> bool:
    """The path ends at a localnet port: out to the physical network."""
    return path.destination.columns.get("type") == "localnet"


def _carried(way: RowWayIn, outside: TrafficSet, inside: TrafficSet) -> TrafficSet:
    """What a way in delivers, given what passes outside (in its external ports) and
    inside (in the port's): a 1:1 NAT keeps the ports; a VIP maps one port to one."""
    if way.outside == way.inside:
        return way.inside & outside & inside
    return way.inside & inside if (way.outside & outside) == way.outside else _NONE


def _ip(lsp: Row) -> IPv4Address:
    ips = lsp_ips(lsp)
    if not ips:
        raise UnsupportedRows(f"port {lsp.columns['name']} has no IPv4 address")
    return ips[0]


def _guard(match: Match) -> tuple[str, frozenset] | None:
    operands = match.expr.operands if isinstance(match.expr, _All) else (match.expr,)
    for operand in operands:
        if isinstance(operand, _Compare) and operand.field in ("inport", "outport") \
                and operand.op == "==":
            return operand.field, frozenset(c.value for c in operand.constants)
    return None


def _address_intervals(op: str, constants: tuple) -> tuple[tuple[int, int], ...]:
    """The addresses for which the comparison holds or not (the same split either
    way), as sorted intervals."""
    top = 0xFFFFFFFF
    if op in ("<", "<=", ">", ">="):
        value = constants[0][0]
        return ({"<": (0, value - 1), "<=": (0, value), ">": (value + 1, top),
                 ">=": (value, top)}[op],)
    found = []
    for value, mask in constants:
        found.extend(_masked(value, mask, 32))
    return tuple(sorted(found))


def _mac_test(op: str, constants: tuple):
    def test(mac: int) -> bool:
        if op in ("<", "<=", ">", ">="):
            value = constants[0][0]
            return {"<": mac < value, "<=": mac <= value, ">": mac > value,
                    ">=": mac >= value}[op]
        return any((mac & mask if mask is not None else mac) == value
                   for value, mask in constants)
    return test
