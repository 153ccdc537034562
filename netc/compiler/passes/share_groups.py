"""Pass: one spec for a rule that several groups of a project carry.

A spec applied to groups A and B becomes one ACL on a port group holding the members
of A and B (a shared port group; the groups' own port groups keep their own members
for ``sg:`` references). For a set S of groups carrying n identical rules this writes
n ACLs + 1 port group instead of n x |S| ACLs: fewer ACLs and logical flows whenever
|S| >= 2, and never more rows. The OpenFlow flows are the same (one per member port
and alternative either way). Groups without member ports are left out of S: their
specs match nothing and get no ACL anyway. Sharing stays inside a project: a shared
row never couples two projects' plans.

Before::

    AclSpec(("acme/web/db",),  egress, tcp, ((443, 443),), (0.0.0.0/0,))
    AclSpec(("acme/web/web",), egress, tcp, ((443, 443),), (0.0.0.0/0,))
    AclSpec(("acme/web/app",), egress, tcp, ((443, 443),), (0.0.0.0/0,))

After::

    AclSpec(("acme/web/app", "acme/web/db", "acme/web/web"), egress, tcp, ((443, 443),),
            (0.0.0.0/0,))
"""

from __future__ import annotations

from collections import defaultdict

from netc.compiler.acl import AclProgram, AclSpec


def share_groups(program: AclProgram) -> AclProgram:
    populated = program.populated
    buckets: dict[tuple, list[AclSpec]] = defaultdict(list)
    result = []
    for spec in program.specs:
        if populated is not None and not any(group in populated for group in spec.groups):
            result.append(spec)  # matches nothing: lowering writes no ACL for it
        else:
            buckets[(spec.project,) + spec.body()].append(spec)
    for specs in buckets.values():
        groups = tuple(sorted({g for spec in specs for g in spec.groups
                               if populated is None or g in populated}))
        if len(groups) > 1:
            result.append(specs[0].with_(groups=groups))
        else:
            result.extend(specs)
    return program.with_specs(result)
