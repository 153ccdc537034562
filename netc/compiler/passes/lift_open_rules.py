"""Pass: a rule allowing everything in one direction becomes membership of an open group.

``egress all to 0.0.0.0/0`` (in the default group of every project) allows every IPv4
packet out of the group's members. Rather than one allow ACL per group carrying it,
the members join the world's open port group of that direction, whose single
allow-related ACL (``inport == @open_egress && ip4``) allows the same packets: one
ACL for the world instead of one per group. The same holds for ``ingress all from
0.0.0.0/0``. Other rules of an open group in that direction are redundant and go.

Before::

    AclSpec(("acme/web/default",), egress, all, None, (0.0.0.0/0,))
    AclSpec(("acme/web/default",), ingress, all, None, (), ("acme/web/default",))
    open = {}

After::

    AclSpec(("acme/web/default",), ingress, all, None, (), ("acme/web/default",))
    open = {("acme/web/default", "egress")}
"""

from __future__ import annotations

from netc.compiler.acl import ANY_CIDR, AclProgram, AclSpec


def lift_open_rules(program: AclProgram) -> AclProgram:
    lifted = [spec for spec in program.specs if allows_everything(spec)]
    if not lifted:
        return program
    opened = {(group, spec.direction) for spec in lifted for group in spec.groups}
    kept = [spec for spec in program.specs
            if not all((g, spec.direction) in opened for g in spec.groups)]
    return program.with_specs(kept, open=program.open | opened)


def allows_everything(spec: AclSpec) -> bool:
    return spec.protocol == "all" and ANY_CIDR in spec.cidrs
