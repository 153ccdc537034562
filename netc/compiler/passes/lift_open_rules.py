"""Pass: a rule allowing everything in one direction becomes "no default drop" there.

``egress all to 0.0.0.0/0`` (in the default group of every project) allows every IPv4
packet out of the group's members, so the default-drop ACL is all it overrides. Rather
than an allow ACL per group, the members simply stay out of the default-drop port
group of that direction: zero ACL rows instead of one per group, same packets (the
other direction is still dropped by default, so isolation is unchanged). The same
holds for ``ingress all from 0.0.0.0/0``.

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
