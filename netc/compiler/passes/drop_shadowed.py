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

from netc.compiler.acl import ANY_CIDR, AclProgram, AclSpec


def drop_shadowed(program: AclProgram) -> AclProgram:
    buckets: dict[tuple, list[AclSpec]] = defaultdict(list)
    for spec in program.specs:
        buckets[(spec.project, spec.groups, spec.direction)].append(spec)
    kept = []
    for specs in buckets.values():
        for spec in specs:
            if not any(_shadows(other, spec) for other in specs if other is not spec):
                kept.append(spec)
    return program.with_specs(kept)


def _shadows(other: AclSpec, spec: AclSpec) -> bool:
    """``other`` covers ``spec`` and wins the tie when they cover each other."""
    return covers(other, spec) and (not covers(spec, other) or other < spec)


def covers(broad: AclSpec, narrow: AclSpec) -> bool:
    """Every packet ``narrow`` allows, ``broad`` allows too."""
    if broad.protocol != "all" and broad.protocol != narrow.protocol:
        return False
    if broad.ports is not None and (narrow.ports is None or not all(
            any(lo <= n_lo and n_hi <= hi for lo, hi in broad.ports)
            for n_lo, n_hi in narrow.ports)):
        return False
    if not all(any(cidr.subnet_of(b) for b in broad.cidrs) for cidr in narrow.cidrs):
        return False
    return ANY_CIDR in broad.cidrs or set(narrow.remote_groups) <= set(broad.remote_groups)
