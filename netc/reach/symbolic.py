"""A parsed match evaluated over *all* traffic at once: the set of packets it matches.

:meth:`~netc.reach.ovn_match.Match.evaluate` answers for one concrete packet. Here
everything about the packet is fixed (ports, addresses, MACs, TTL, the source port,
the ICMP type) except its traffic: the IP protocol and the destination port of a new
connection (for a reply, the *source* port, which is the connection's destination
port). :func:`traffic_matched` returns the exact
:class:`~netc.reach.trafficset.TrafficSet` of traffic for which the match holds, so
a whole class of questions is answered by one walk over the expression, with the
same semantics as the concrete evaluator: a comparison holds only under its field's
prerequisite, ``!=`` against a set is none-of, masks select bit patterns.

Results are memoized on the match and the values of the fixed fields it reads.
"""

from __future__ import annotations

from netc.reach.ovn_match import (Match, MatchError, Packet, _All, _Any, _Bool, _Compare,
                                  _Not)
from netc.reach.trafficset import Intervals, TrafficSet, complement, normalize

MAX_MASK_PIECES = 4096
"""A masked port or protocol constant whose free bits scatter it into more intervals
than this is refused (``MatchError``) rather than enumerated."""

_PORT_FIELDS = {"tcp.dst": "tcp", "udp.dst": "udp", "tcp.src": "tcp", "udp.src": "udp"}
_UNMODELLED = ("sctp.src", "sctp.dst")


def _symbolic_fields(reply: bool) -> dict[str, str]:
    """Fields that carry the traffic: the protocol, and the connection's destination
    port (``*.dst`` on the way there, ``*.src`` on the way back)."""
    side = "src" if reply else "dst"
    return {"ip.proto": "proto", f"tcp.{side}": "tcp", f"udp.{side}": "udp"}


def _values(constants, width: int, op: str) -> Intervals:
    """The integers of ``width`` bits a comparison with ``constants`` holds for."""
    top = (1 << width) - 1
    if op in ("<", "<=", ">", ">="):
        value = constants[0].value
        return {"<": ((0, value - 1),), "<=": ((0, value),), ">": ((value + 1, top),),
                ">=": ((value, top),)}[op]
    found: list[tuple[int, int]] = []
    for constant in constants:
        found.extend(_masked(constant.value, constant.mask, width))
    held = normalize(found, 0, top)
    return complement(held, 0, top) if op == "!=" else held


def _masked(value: int, mask: int | None, width: int) -> list[tuple[int, int]]:
    if mask is None:
        return [(value, value)]
    top = (1 << width) - 1
    free = ~mask & top
    run = 0  # free bits at the bottom form one interval of size 2**run
    while free >> run & 1:
        run += 1
    high_free = free >> run << run
    bits = [b for b in range(width) if high_free >> b & 1]
    if 1 << len(bits) > MAX_MASK_PIECES:
        raise MatchError(f"mask {mask:#x} scatters a constant into more than "
                         f"{MAX_MASK_PIECES} ranges")
    found = []
    for combination in range(1 << len(bits)):
        base = value
        for index, bit in enumerate(bits):
            if combination >> index & 1:
                base |= 1 << bit
        found.append((base, base + (1 << run) - 1))
    return found


class Symbolic:
    """Evaluate matches for one direction of travel (``reply`` or not).

    Each match is compiled once into a function of the packet's fixed fields: the
    parts that read only traffic (``tcp``, ``tcp.dst == 80``) and ``eth.type``
    (every packet asked about is IPv4) become constant sets, the rest set-membership
    tests, so a stage costs a few lookups per ACL.
    """

    def __init__(self, reply: bool = False) -> None:
        self.reply = reply
        self.symbolic = _symbolic_fields(reply)
        self._memo: dict[tuple, TrafficSet] = {}
        self._compiled: dict[str, tuple[tuple[str, ...], object]] = {}
        self._nodes: dict[int, tuple[object, object]] = {}
        self._indexes: dict[int, tuple[tuple, tuple]] = {}
        self._match_probes: dict[str, dict[tuple, tuple[str, object]]] = {}

    def compile_all(self, matches) -> None:
        """Compile ``matches`` (raising MatchError for any outside the model)."""
        for match in matches:
            self._compiled_of(match)

    def _compiled_of(self, match: Match):
        compiled = self._compiled.get(match.text)
        if compiled is None:
            found: set[str] = set()
            _fields(match.expr, found)
            reads = tuple(sorted(found - set(self.symbolic) - {"eth.type"}))
            compiled = self._compiled[match.text] = (reads, self._compile(match.expr))
        return compiled

    def traffic_matched(self, match: Match, packet: Packet) -> TrafficSet:
        reads, function = self._compiled_of(match)
        if isinstance(function, TrafficSet):
            return function
        key = (match.text, *(packet.get(field) for field in reads))
        result = self._memo.get(key)
        if result is None:
            result = self._memo[key] = function(packet)
        return result

    def probes(self, matches: list[Match]) -> list[tuple[str, object]]:
        """(field, test) of every comparison on a fixed field in ``matches``, once each:
        the truths that decide every one of them for a packet (eth.type aside, which
        is IPv4 for every packet asked about)."""
        found: dict[tuple, tuple[str, object]] = {}
        for match in matches:
            tests = self._match_probes.get(match.text)
            if tests is None:
                tests = self._match_probes[match.text] = {}
                for compare in comparisons(match.expr):
                    if compare.field in self.symbolic or compare.field == "eth.type" \
                            or compare.field in _UNMODELLED:
                        continue
                    key = (compare.field, compare.op, id(compare.constants))
                    if key not in tests:
                        tests[key] = (compare.field, _tester(compare, self._indexes))
            found.update(tests)
        return list(found.values())

    def _compile(self, expr):
        """A TrafficSet when ``expr`` does not depend on the packet's fixed fields,
        else a function of the packet returning one."""
        found = self._nodes.get(id(expr))
        if found is None or found[0] is not expr:
            found = self._nodes[id(expr)] = (expr, self._compile_node(expr))
        return found[1]

    def _compile_node(self, expr):
        if isinstance(expr, _Bool):
            return _ALL if expr.value else _NONE
        if isinstance(expr, _Not):
            inner = self._compile(expr.operand)
            if isinstance(inner, TrafficSet):
                return ~inner
            return lambda packet: ~inner(packet)
        if isinstance(expr, (_All, _Any)):
            return self._junction(expr)
        if isinstance(expr, _Compare):
            return self._comparison(expr)
        raise MatchError(f"cannot evaluate {expr!r} symbolically")

    def _junction(self, expr):
        conjunction = isinstance(expr, _All)
        static = _ALL if conjunction else _NONE
        dynamic = []
        for operand in expr.operands:
            part = self._compile(operand)
            if isinstance(part, TrafficSet):
                static = static & part if conjunction else static | part
            else:
                dynamic.append(part)
        if not dynamic or (conjunction and not static) or (not conjunction and static.full):
            return static
        if conjunction:
            def all_of(packet):
                result = static
                for part in dynamic:
                    result = result & part(packet)
                    if not result:
                        break
                return result
            return all_of

        def any_of(packet):
            result = static
            for part in dynamic:
                result = result | part(packet)
                if result.full:
                    break
            return result
        return any_of

    def _comparison(self, expr: _Compare):
        held = _ALL if expr.prerequisite is None else self._compile(expr.prerequisite)
        kind = self.symbolic.get(expr.field)
        if kind is not None:
            values = TrafficSet.of_protocols(_values(expr.constants, 8, expr.op)) \
                if kind == "proto" else TrafficSet.of_ports(kind, _values(expr.constants, 16,
                                                                          expr.op))
            if isinstance(held, TrafficSet):
                return held & values
            return lambda packet: held(packet) & values
        if expr.field in _UNMODELLED:
            raise MatchError(f"{expr.field} is not modelled (netc's traffic has no sctp ports)")
        test = _tester(expr, self._indexes)
        if expr.field == "eth.type":  # every packet asked about is IPv4
            truth = test(ETH_IP4)
            if isinstance(held, TrafficSet):
                return held if truth else _NONE
            return held if truth else (lambda packet: _NONE)
        field = expr.field

        def compare(packet):
            prerequisite = held if isinstance(held, TrafficSet) else held(packet)
            if not prerequisite:
                return prerequisite
            if field not in packet:
                raise MatchError(f"the packet has no value for {field}")
            return prerequisite if test(packet[field]) else _NONE
        return compare


def _index(constants: tuple, indexes: dict) -> tuple:
    """(mask, values) pairs of a constant set, built once per set: the parser shares
    one tuple among every comparison with the same port group or address set."""
    found = indexes.get(id(constants))
    if found is None or found[0] is not constants:
        by_mask: dict = {}
        for constant in constants:
            by_mask.setdefault(constant.mask, set()).add(constant.value)
        found = indexes[id(constants)] = (constants, tuple(
            (mask, frozenset(values)) for mask, values in by_mask.items()))
    return found[1]


def _tester(expr: _Compare, indexes: dict):
    """The truth of the comparison for one value of its field; constant sets are
    indexed (port groups and address sets of thousands of members are common)."""
    if expr.op not in ("==", "!="):
        constants, op = expr.constants, expr.op
        return lambda actual: any(c.test(op, actual) for c in constants)
    index = _index(expr.constants, indexes)
    wanted = expr.op == "=="

    def test(actual) -> bool:
        for mask, values in index:
            if (actual if mask is None else int(actual) & mask) in values:
                return wanted
        return not wanted
    return test


def comparisons(expr):
    """Every comparison of a parsed match, prerequisites included."""
    if isinstance(expr, _Compare):
        yield expr
        if expr.prerequisite is not None:
            yield from comparisons(expr.prerequisite)
    elif isinstance(expr, _Not):
        yield from comparisons(expr.operand)
    elif isinstance(expr, (_All, _Any)):
        for operand in expr.operands:
            yield from comparisons(operand)


def _fields(expr, found: set[str]) -> None:
    if isinstance(expr, _Compare):
        found.add(expr.field)
        if expr.prerequisite is not None:
            _fields(expr.prerequisite, found)
    elif isinstance(expr, _Not):
        _fields(expr.operand, found)
    elif isinstance(expr, (_All, _Any)):
        for operand in expr.operands:
            _fields(operand, found)


ETH_IP4 = 0x800
_ALL = TrafficSet.everything()
_NONE = TrafficSet.nothing()
