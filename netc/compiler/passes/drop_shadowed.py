"""Pass: drop specs that a broader spec of the same groups and direction already allows.

Specs are allows, so one that only admits packets another admits too is dead weight.
``t`` covers ``s`` when its protocol is ``all`` or the same, its ports are every port
or a superset, and every remote of ``s`` is inside a remote of ``t`` (a CIDR inside
one of ``t``'s CIDRs, a group named by ``t`` too or covered by ``0.0.0.0/0``). Of two
specs covering each other only the first in sort order is kept.

Before::

    AclSpec(("acme/web/web",), ingress, all, None, (0.0.0.0/0,))
    AclSpec(("acme/web/web",), ingress, tcp, ((22, 22),), (10.0.0.0/8,))
    AclSpec(("acme/web/web",), ingress, icmp, None, (), ("acme/web/admin",))

After::

    AclSpec(("acme/web/web",), ingress, all, None, (0.0.0.0/0,))
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from netc.compiler.acl import ANY_CIDR, AclProgram, AclSpec


def drop_shadowed(program: AclProgram) -> AclProgram:
    buckets: dict[tuple, list[AclSpec]] = defaultdict(list)
    for spec in program.specs:
        buckets[(spec.project, spec.groups, spec.direction)].append(spec)
    kept = []
    for specs in buckets.values():
        if len(specs) == 1:
            kept.extend(specs)
            continue
        shapes = [_Shape(spec) for spec in specs]
        by_protocol: dict[str, list[_Shape]] = defaultdict(list)
        for shape in shapes:
            by_protocol["*" if shape.also else shape.protocol].append(shape)
        for shape in shapes:
            # only a spec of the same protocol, of all, or of several can cover it
            others = shapes if shape.also or "*" in by_protocol else \
                by_protocol[shape.protocol] + by_protocol.get("all", [])
            if not any(_shadows(other, shape) for other in others if other is not shape):
                kept.append(shape.spec)
    return program.with_specs(kept)


class _Shape:
    """A spec with its CIDRs as integer ranges, for the many pairwise tests of a bucket."""

    __slots__ = ("spec", "protocol", "ports", "also", "ranges", "any", "groups")

    def __init__(self, spec: AclSpec) -> None:
        self.spec = spec
        self.protocol = spec.protocol
        self.ports = spec.ports
        self.also = spec.also
        self.ranges = [(int(c.network_address), int(c.broadcast_address)) for c in spec.cidrs]
        self.any = ANY_CIDR in spec.cidrs
        self.groups = frozenset(spec.remote_groups)


def _shadows(other: _Shape, shape: _Shape) -> bool:
    """``other`` covers ``shape`` and wins the tie when they cover each other (the first
    in sort order is kept)."""
    return _covers(other, shape) and (
        not _covers(shape, other) or other.spec.sort_key() < shape.spec.sort_key())


def _covers(broad: _Shape, narrow: _Shape) -> bool:
    # plain loops, not all()/any() over generators: a bucket of k specs takes k*k tests
    if broad.also or narrow.also:  # several services (merge_protocols): each covered
        if not all(any(_service_covers(b, n) for b in broad.spec.services())
                   for n in narrow.spec.services()):
            return False
    elif not _service_covers((broad.protocol, broad.ports), (narrow.protocol, narrow.ports)):
        return False
    if narrow.ranges and not _inside(narrow.ranges, broad.ranges):
        return False
    return broad.any or narrow.groups <= broad.groups


def _service_covers(broad: tuple, narrow: tuple) -> bool:
    """(protocol, ports) ``broad`` admits every packet (protocol, ports) ``narrow`` does."""
    if broad[0] != "all" and broad[0] != narrow[0]:
        return False
    return broad[1] is None or (narrow[1] is not None and _inside(narrow[1], broad[1]))


def _inside(narrow: Iterable[tuple[int, int]], broad: list | tuple) -> bool:
    """Every range of ``narrow`` inside one range of ``broad``."""
    for n_lo, n_hi in narrow:
        for lo, hi in broad:
            if lo <= n_lo and n_hi <= hi:
                break
        else:
            return False
    return True


def covers(broad: AclSpec, narrow: AclSpec) -> bool:
    """Every packet ``narrow`` allows, ``broad`` allows too."""
    return _covers(_Shape(broad), _Shape(narrow))
