"""Exact sets of traffic: what a class of ports may send to another, as intervals.

A reachability question is about one :class:`~netc.reach.traffic.Traffic` (tcp or udp
with a destination port, icmp, another IPv4 protocol by number). A
:class:`TrafficSet` is any set of them, kept exact and small: per protocol a sorted
tuple of disjoint port intervals for tcp and udp, a flag for icmp, and intervals of
protocol numbers for every other protocol. Rules only ever split the port space at
the ends of their ranges, so the intervals are the *atomic predicates* of the rules
that built a set: two ports inside one interval are treated alike by all of them.

Sets are immutable and hashable, so models can memoize on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from netc.reach.traffic import PORTED, PROTOCOL_NUMBERS, Traffic

PORTS = (1, 65535)
"""Destination ports a question may ask about (Traffic's own range)."""
PROTOCOLS = (0, 255)
Intervals = tuple[tuple[int, int], ...]
_NAMED = frozenset(PROTOCOL_NUMBERS.values())


def normalize(intervals: Iterable[tuple[int, int]], low: int, high: int) -> Intervals:
    """Sorted, clipped to [low, high], overlapping and adjacent intervals merged."""
    merged: list[list[int]] = []
    for start, end in sorted((max(a, low), min(b, high)) for a, b in intervals):
        if start > end:
            continue
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)


def union(a: Intervals, b: Intervals) -> Intervals:
    if not a:
        return b
    if not b or a == b:
        return a
    return normalize(a + b, -1, 1 << 32)


def intersect(a: Intervals, b: Intervals) -> Intervals:
    found = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start <= end:
            found.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(found)


def complement(a: Intervals, low: int, high: int) -> Intervals:
    found = []
    position = low
    for start, end in a:
        if start > position:
            found.append((position, start - 1))
        position = max(position, end + 1)
    if position <= high:
        found.append((position, high))
    return tuple(found)


def _union(a: Intervals, b: Intervals) -> Intervals:
    if not b or a == b:
        return a
    return union(a, b) if a else b


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return ()
    if a == b or b == (PORTS,):
        return a
    if a == (PORTS,):
        return b
    return intersect(a, b)


def contains(a: Intervals, value: int) -> bool:
    return any(start <= value <= end for start, end in a)


_OTHER_UNIVERSE = complement(tuple((n, n) for n in sorted(_NAMED)), *PROTOCOLS)
"""Every IPv4 protocol number but icmp, tcp and udp."""


@dataclass(frozen=True, slots=True)
class TrafficSet:
    tcp: Intervals = ()
    udp: Intervals = ()
    icmp: bool = False
    other: Intervals = ()
    """Protocol numbers other than 1, 6 and 17."""

    # -- building
    @classmethod
    def everything(cls) -> TrafficSet:
        return _EVERYTHING

    @classmethod
    def nothing(cls) -> TrafficSet:
        return _NOTHING

    @classmethod
    def of_rule(cls, protocol: str, ports: Iterable[tuple[int, int]] | None) -> TrafficSet:
        """What one intent rule matches: ``protocol`` tcp, udp, icmp or all."""
        if protocol == "all":
            return _EVERYTHING
        if protocol == "icmp":
            return _ICMP
        ranges = (PORTS,) if not ports else normalize(ports, *PORTS)
        return TrafficSet(tcp=ranges) if protocol == "tcp" else TrafficSet(udp=ranges)

    @classmethod
    def of_protocols(cls, numbers: Intervals) -> TrafficSet:
        """Every packet whose IP protocol number is in ``numbers`` (any port)."""
        return TrafficSet(tcp=(PORTS,) if contains(numbers, 6) else (),
                          udp=(PORTS,) if contains(numbers, 17) else (),
                          icmp=contains(numbers, 1),
                          other=intersect(normalize(numbers, *PROTOCOLS), _OTHER_UNIVERSE))

    @classmethod
    def of_ports(cls, protocol: str, ports: Intervals) -> TrafficSet:
        ranges = normalize(ports, *PORTS)
        return TrafficSet(tcp=ranges) if protocol == "tcp" else TrafficSet(udp=ranges)

    @classmethod
    def of_traffic(cls, traffic: Traffic) -> TrafficSet:
        if traffic.protocol in PORTED:
            return cls.of_ports(traffic.protocol, ((traffic.port, traffic.port),))
        if traffic.protocol == "icmp":
            return _ICMP
        return TrafficSet(other=((traffic.number, traffic.number),))

    # -- algebra
    def __or__(self, other: TrafficSet) -> TrafficSet:
        if other is self or other is _NOTHING or self is _EVERYTHING:
            return self
        if self is _NOTHING or other is _EVERYTHING:
            return other
        return TrafficSet(_union(self.tcp, other.tcp), _union(self.udp, other.udp),
                          self.icmp or other.icmp, _union(self.other, other.other))

    def __and__(self, other: TrafficSet) -> TrafficSet:
        if other is self or other is _EVERYTHING or self is _NOTHING:
            return self
        if self is _EVERYTHING or other is _NOTHING:
            return other
        result = TrafficSet(_intersect(self.tcp, other.tcp), _intersect(self.udp, other.udp),
                            self.icmp and other.icmp, _intersect(self.other, other.other))
        return result if result else _NOTHING

    def __invert__(self) -> TrafficSet:
        return TrafficSet(complement(self.tcp, *PORTS), complement(self.udp, *PORTS),
                          not self.icmp, intersect(complement(self.other, *PROTOCOLS),
                                                   _OTHER_UNIVERSE))

    def __sub__(self, other: TrafficSet) -> TrafficSet:
        if not other or not self:
            return self
        return self & ~other

    def __bool__(self) -> bool:
        return bool(self.tcp or self.udp or self.icmp or self.other)

    @property
    def full(self) -> bool:
        return self == _EVERYTHING

    def __contains__(self, traffic: Traffic) -> bool:
        if traffic.protocol == "tcp":
            return contains(self.tcp, traffic.port)
        if traffic.protocol == "udp":
            return contains(self.udp, traffic.port)
        if traffic.protocol == "icmp":
            return self.icmp
        return contains(self.other, traffic.number)

    # -- reading
    def labels(self) -> list[str]:
        """``["tcp/22", "tcp/8000-8080", "udp", "icmp"]``; everything is ``["ip"]``.

        ``tcp`` alone is every tcp port; ``ip proto 47`` (or ``2-5``) other protocols.
        """
        if self.full:
            return ["ip"]
        found: list[str] = []
        for protocol, ranges in (("tcp", self.tcp), ("udp", self.udp)):
            if ranges == (PORTS,):
                found.append(protocol)
                continue
            found += [f"{protocol}/{a}" if a == b else f"{protocol}/{a}-{b}" for a, b in ranges]
        if self.icmp:
            found.append("icmp")
        if self.other == _OTHER_UNIVERSE:
            found.append("ip proto other")
        else:
            found += [f"ip proto {a}" if a == b else f"ip proto {a}-{b}" for a, b in self.other]
        return found

    def __str__(self) -> str:
        return ", ".join(self.labels()) or "nothing"

    def atoms(self) -> Iterator[TrafficSet]:
        """One set per interval (and icmp): the pieces a person reads one by one."""
        for protocol in PORTED:
            for interval in getattr(self, protocol):
                yield TrafficSet(**{protocol: (interval,)})
        if self.icmp:
            yield _ICMP
        for interval in self.other:
            yield TrafficSet(other=(interval,))

    def sample(self) -> Traffic:
        """One question inside the set (its lowest tcp port, else udp, icmp, other)."""
        if self.tcp:
            return Traffic("tcp", self.tcp[0][0])
        if self.udp:
            return Traffic("udp", self.udp[0][0])
        if self.icmp:
            return Traffic("icmp")
        if self.other:
            number = 47 if contains(self.other, 47) else self.other[0][0]  # GRE, if held
            return Traffic(str(number))
        raise ValueError("an empty traffic set has no sample")


_EVERYTHING = TrafficSet((PORTS,), (PORTS,), True, _OTHER_UNIVERSE)
_NOTHING = TrafficSet()
_ICMP = TrafficSet(icmp=True)


def refine(sets: Iterable[TrafficSet]) -> list[TrafficSet]:
    """The atoms of the common refinement of ``sets`` over all traffic: pieces that
    every given set either holds whole or not at all (plus what none of them holds)."""
    edges: dict[str, set[int]] = {"tcp": set(), "udp": set(), "other": set()}
    for traffic_set in sets:
        for name in edges:
            for start, end in getattr(traffic_set, name):
                edges[name].update((start, end + 1))
    pieces: list[TrafficSet] = []
    for name, universe in (("tcp", (PORTS,)), ("udp", (PORTS,)), ("other", _OTHER_UNIVERSE)):
        for low, high in universe:
            cuts = sorted(e for e in edges[name] if low < e <= high) + [high + 1]
            start = low
            for cut in cuts:
                if cut > start:
                    piece = (start, cut - 1)
                    pieces.append(TrafficSet(**{name: (piece,)}))
                    start = cut
    pieces.append(_ICMP)
    return pieces


def atoms(sets: Iterable[TrafficSet]) -> list[TrafficSet]:
    """The smallest pieces of traffic that every given set holds whole or not at all,
    one protocol family at a time: within tcp (udp, other protocols) the pieces of
    :func:`refine` that the same sets hold are put together, and icmp is its own.
    One question per atom asks everything the sets can tell apart."""
    sets = [s for s in sets if s]
    grouped: dict[tuple[str, tuple[bool, ...]], TrafficSet] = {}
    for piece in refine(sets):
        family = "tcp" if piece.tcp else "udp" if piece.udp else \
            "icmp" if piece.icmp else "other"
        signature = tuple(bool(piece & s) for s in sets)
        key = (family, signature)
        grouped[key] = grouped[key] | piece if key in grouped else piece
    return list(grouped.values())
