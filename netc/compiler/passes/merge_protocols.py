"""Pass: merge specs that differ only in protocol (and ports) into one spec.

A group's rules towards one remote often name several protocols (DNS over udp and
tcp, ``icmp`` beside a tcp service): one ACL can allow them all,
``ip4.dst == R && ((tcp && tcp.dst == {53, 443}) || (udp && udp.dst == {53, 123}))``.
OVN turns the disjunction into one flow per alternative, as many as the separate
ACLs would have, but it is one ACL row and one logical flow per switch instead of
several. Not merged, so that no match multiplies flows:

- a port range beside a remote set of two or more items (OVN would have to combine
  the range's masks with every remote in a conjunction): such specs stay apart;
- ``all`` absorbs the other protocols instead (it allows them anyway).

Before::

    AclSpec(("acme/web/ops",), egress, udp, ((53, 53), (123, 123)), (0.0.0.0/0,))
    AclSpec(("acme/web/ops",), egress, tcp, ((53, 53),), (0.0.0.0/0,))

After::

    AclSpec(("acme/web/ops",), egress, tcp, ((53, 53),), (0.0.0.0/0,),
            also=(("udp", ((53, 53), (123, 123))),))
"""

from __future__ import annotations

from collections import defaultdict

from netc.compiler.acl import AclProgram, AclSpec, Service
from netc.ir.parse import merge_ranges


def merge_protocols(program: AclProgram) -> AclProgram:
    buckets: dict[tuple, list[AclSpec]] = defaultdict(list)
    for spec in program.specs:
        buckets[(spec.project, spec.groups, spec.direction, spec.cidrs,
                 spec.remote_groups)].append(spec)
    merged = []
    for specs in buckets.values():
        if len(specs) == 1:
            merged.append(specs[0])
            continue
        everything = next((spec for spec in specs if spec.protocol == "all"), None)
        if everything is not None:
            merged.append(everything.with_(also=()))  # allows the others' packets too
            continue
        services = _services(specs)
        remotes = len(specs[0].cidrs) + len(specs[0].remote_groups)
        if remotes > 1 and any(_has_range(ports) for _, ports in services):
            merged.extend(specs)  # a range in a conjunction with a remote set
            continue
        (protocol, ports), *also = services
        merged.append(specs[0].with_(protocol=protocol, ports=ports, also=tuple(also)))
    return program.with_specs(merged)


def _services(specs: list[AclSpec]) -> list[Service]:
    """The protocols of ``specs`` with their ports joined, sorted by protocol."""
    ports: dict[str, list | None] = {}
    for spec in specs:
        for protocol, ranges in spec.services():
            if protocol not in ports:
                ports[protocol] = None if ranges is None else list(ranges)
            elif ports[protocol] is not None:
                ports[protocol] = None if ranges is None else ports[protocol] + list(ranges)
    return [(protocol, None if ranges is None else merge_ranges(ranges))
            for protocol, ranges in sorted(ports.items())]


def _has_range(ports) -> bool:
    return ports is not None and any(low != high for low, high in ports)
