"""Pass: merge specs that differ only in destination ports into one spec.

The merged ranges are rendered as one match, ``tcp.dst == {22, 80} || 8000 <=
tcp.dst <= 8099`` (OVN has sets and relational ranges but no ``a..b``). A spec
with every port absorbs the others.

Before::

    AclSpec(("acme/web/web",), ingress, tcp, ((22, 22),), (10.0.0.0/8,))
    AclSpec(("acme/web/web",), ingress, tcp, ((80, 80), (8000, 8099)), (10.0.0.0/8,))

After::

    AclSpec(("acme/web/web",), ingress, tcp, ((22, 22), (80, 80), (8000, 8099)), (10.0.0.0/8,))
"""

from __future__ import annotations

from collections import defaultdict

from netc.compiler.acl import L4_PROTOCOLS, AclProgram, AclSpec
from netc.ir.parse import merge_ranges


def merge_ports(program: AclProgram) -> AclProgram:
    buckets: dict[tuple, list[AclSpec]] = defaultdict(list)
    others = []
    for spec in program.specs:
        if spec.protocol in L4_PROTOCOLS:
            buckets[(spec.project, spec.groups, spec.direction, spec.protocol,
                     spec.cidrs, spec.remote_groups, spec.also)].append(spec)
        else:
            others.append(spec)
    for specs in buckets.values():
        if len(specs) == 1:  # nothing to merge (rule ports are merged ranges already)
            others.append(specs[0])
            continue
        if any(spec.ports is None for spec in specs):
            ports = None
        else:
            ports = merge_ranges([r for spec in specs for r in spec.ports])
        others.append(specs[0].with_(ports=ports))
    return program.with_specs(others)
