"""Pass: one spec for a rule that several groups of a project carry, when it saves rows.

A spec applied to groups A and B becomes one ACL on a port group holding the members
of A and B (a shared port group; the groups' own port groups keep their own members
for ``sg:`` references). For a set S of groups carrying n identical rules this writes
n ACLs + 1 port group instead of n x |S| ACLs, so it is done only when that is fewer
rows. Sharing stays inside a project: a shared row never couples two projects' plans.

Before::

    AclSpec(("acme/web/db",),  egress, all, None, (0.0.0.0/0,))
    AclSpec(("acme/web/web",), egress, all, None, (0.0.0.0/0,))
    AclSpec(("acme/web/default",), egress, all, None, (0.0.0.0/0,))

After::

    AclSpec(("acme/web/db", "acme/web/default", "acme/web/web"), egress, all, None, (0.0.0.0/0,))
"""

from __future__ import annotations

from collections import defaultdict

from netc.compiler.acl import AclProgram, AclSpec


def share_groups(program: AclProgram) -> AclProgram:
    buckets: dict[tuple, list[AclSpec]] = defaultdict(list)
    for spec in program.specs:
        buckets[(spec.project,) + spec.body()].append(spec)
    by_set: dict[tuple[str, ...], list[list[AclSpec]]] = defaultdict(list)
    for specs in buckets.values():
        if len(specs) > 1:
            by_set[tuple(sorted({g for spec in specs for g in spec.groups}))].append(specs)
    result = [spec for specs in buckets.values() if len(specs) == 1 for spec in specs]
    for groups, bucket_list in by_set.items():
        unshared_rows = sum(len(specs) for specs in bucket_list)
        if len(bucket_list) + 1 < unshared_rows:
            result.extend(specs[0].with_(groups=groups) for specs in bucket_list)
        else:
            result.extend(spec for specs in bucket_list for spec in specs)
    return program.with_specs(result)
