"""The compiler's passes over the ACL program, in the order they run.

Each pass is a plain function ``AclProgram -> AclProgram`` in a module of its own name,
documented with a before/after example. Every pass keeps the meaning of the program
(which packets are allowed); all but ``expand_includes`` exist only to write fewer
rows. Tests and the equivalence checks compile with any subset:
``compile_world(world, passes=PASSES[:2])``.
"""

from __future__ import annotations

from netc.compiler.passes.drop_shadowed import drop_shadowed
from netc.compiler.passes.expand_includes import expand_includes
from netc.compiler.passes.lift_open_rules import lift_open_rules
from netc.compiler.passes.merge_ports import merge_ports
from netc.compiler.passes.merge_protocols import merge_protocols
from netc.compiler.passes.merge_remotes import merge_remotes
from netc.compiler.passes.share_groups import share_groups

PASSES = (
    expand_includes,
    drop_shadowed,
    merge_ports,
    merge_remotes,
    lift_open_rules,
    merge_protocols,
    share_groups,
)


def run_passes(program, passes=PASSES):
    """``program`` through ``passes`` in order, its specs sorted at the end (passes keep
    a deterministic order of their own but do not sort, which took a quarter of their
    time)."""
    for compiler_pass in passes:
        program = compiler_pass(program)
    return program.sorted()
