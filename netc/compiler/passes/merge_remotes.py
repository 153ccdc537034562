"""Pass: merge specs that differ only in remotes into one remote set.

CIDRs are aggregated (``ipaddress.collapse_addresses``: adjacent and nested blocks
become one); ``0.0.0.0/0`` absorbs every group remote, whose members' addresses it
holds anyway.

Before::

    AclSpec(("acme/web/web",), ingress, tcp, ((22, 22),), (10.0.0.0/25,))
    AclSpec(("acme/web/web",), ingress, tcp, ((22, 22),), (10.0.0.128/25,))
    AclSpec(("acme/web/web",), ingress, tcp, ((22, 22),), (), ("acme/web/admin",))

After::

    AclSpec(("acme/web/web",), ingress, tcp, ((22, 22),), (10.0.0.0/24,), ("acme/web/admin",))
"""

from __future__ import annotations

from collections import defaultdict
from ipaddress import collapse_addresses

from netc.compiler.acl import ANY_CIDR, AclProgram, AclSpec


def merge_remotes(program: AclProgram) -> AclProgram:
    buckets: dict[tuple, list[AclSpec]] = defaultdict(list)
    for spec in program.specs:
        buckets[(spec.project, spec.groups, spec.direction, spec.protocol,
                 spec.ports, spec.also)].append(spec)
    merged = []
    for specs in buckets.values():
        if len(specs) == 1 and len(specs[0].cidrs) <= 1 and not (
                specs[0].remote_groups and ANY_CIDR in specs[0].cidrs):
            merged.append(specs[0])  # nothing to merge or collapse
            continue
        cidrs = tuple(collapse_addresses(c for spec in specs for c in spec.cidrs))
        groups = tuple(sorted({g for spec in specs for g in spec.remote_groups}))
        if ANY_CIDR in cidrs:
            groups = ()
        merged.append(specs[0].with_(cidrs=cidrs, remote_groups=groups))
    return program.with_specs(merged)
