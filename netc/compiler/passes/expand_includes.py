"""Pass: copy the rules of included groups into the groups that include them.

Contract 2.3: ``include`` copies rules (transitively), membership does not change,
so the copies apply to the including group's port group and ``sg:`` references to
either group keep meaning their own members.

Before::

    AclSpec(groups=("acme/web/web",), ingress, tcp, ((80, 80),), 0.0.0.0/0)
    AclSpec(groups=("acme/web/base",), ingress, tcp, ((22, 22),), 10.0.0.0/8)
    includes = {"acme/web/web": ("acme/web/base",)}

After::

    AclSpec(groups=("acme/web/base",), ingress, tcp, ((22, 22),), 10.0.0.0/8)
    AclSpec(groups=("acme/web/web",),  ingress, tcp, ((22, 22),), 10.0.0.0/8)
    AclSpec(groups=("acme/web/web",),  ingress, tcp, ((80, 80),), 0.0.0.0/0)
    includes = {}

Directions an included group is open in (``lift_open_rules``) open the includer too.
This pass is a normalisation, not an optimisation: lowering runs it when a pass list
leaves it out, so every pass list compiles the same meaning.

Once copied, the specs of groups without member ports (``AclProgram.populated``: a
group included by others and used by no port, an unused ``default``) are dropped:
they match nothing, lowering writes no ACL for them, and every later pass would only
carry them along (a sixth of the specs of the 200 x 50 bench world).
"""

from __future__ import annotations

from netc.compiler.acl import AclProgram


def expand_includes(program: AclProgram) -> AclProgram:
    if not program.includes:
        return _populated_only(program)
    specs = list(program.specs)
    opened = set(program.open)
    by_group: dict[str, list] = {}
    for spec in program.specs:
        for member in spec.groups:
            by_group.setdefault(member, []).append(spec)
    for group in program.includes:
        for source in _closure(group, program.includes):
            specs.extend(spec.with_(groups=(group,)) for spec in by_group.get(source, ()))
            opened |= {(group, way) for key, way in program.open if key == source}
    return _populated_only(program.with_specs(specs, includes={}, open=frozenset(opened)))


def _populated_only(program: AclProgram) -> AclProgram:
    populated = program.populated
    if populated is None:
        return program
    kept = [spec for spec in program.specs if any(g in populated for g in spec.groups)]
    return program if len(kept) == len(program.specs) else program.with_specs(kept)


def _closure(group: str, includes) -> list[str]:
    """Groups reached from ``group`` by includes, itself excluded; cycles stop."""
    seen: list[str] = []
    pending = list(includes.get(group, ()))
    while pending:
        key = pending.pop(0)
        if key == group or key in seen:
            continue
        seen.append(key)
        pending.extend(includes.get(key, ()))
    return seen
