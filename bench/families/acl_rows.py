"""ACL rows netc writes vs Neutron's one-ACL-per-rule translation of the same intent.

Counted for the bench world and for each folder of ``policies/``. netc's count is
the ACL table of ``netc compile`` (all passes on, the default-drop ACLs included);
the reference is :func:`netc.compiler.acl.neutron_acl_count` (one ACL per rule and
port range, includes copied, Neutron's two default-drop ACLs). Goals: netc at most
0.3x on the world (issue 11) and 0.5x on all of ``policies/`` (issue 3); the single
folders are there to show where netc saves rows and where it does not.
Counting needs no repetition: both are deterministic.
"""

from __future__ import annotations

from pathlib import Path

from bench.figures import Context, Figure
from netc.compiler.acl import neutron_acl_count
from netc.compiler.lower import compile_world
from netc.compiler.passes import PASSES, merge_protocols
from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths

FAMILY = "acl"
REFERENCE = "one ACL per rule (Neutron)"
GOAL = 0.5
WORLD_GOAL = 0.3
"""Issue 11 on the bench world (issue 3's 0.5 stays the goal of all of policies/)."""
POLICIES = Path(__file__).resolve().parents[2] / "policies"


def acl_counts(paths: list[str], config: Path, passes=PASSES) -> tuple[int, int]:
    """(netc's ACL rows, Neutron's) for the intent under ``paths``."""
    diagnostics = Diagnostics()
    settings = load_settings(str(config), diagnostics)
    result = check_paths(paths, settings, diagnostics)
    compilation = compile_world(result.world, passes=passes,
                                diagnostics=diagnostics) if result.ok else None
    if compilation is None or diagnostics.has_errors:
        first = next(d for d in diagnostics if d.is_error)
        raise RuntimeError(f"{' '.join(paths)} does not compile: {first.render()}")
    return compilation.rows.count("ACL"), neutron_acl_count(result.world)


def measure(context: Context) -> list[Figure]:
    config = POLICIES.parent / "netc.toml"
    targets = [(f"ACL rows, world {context.shape.name}", [str(context.world)], context.config,
                WORLD_GOAL)]
    targets += [(f"ACL rows, policies/{folder.name}", [str(folder)], config, None)
                for folder in sorted(p for p in POLICIES.iterdir() if p.is_dir())]
    targets.append(("ACL rows, all of policies/", [str(POLICIES)], config, GOAL))
    figures = []
    for name, paths, config_path, goal in targets:
        netc, neutron = acl_counts(paths, config_path)
        figures.append(Figure(FAMILY, name, "rows", float(netc), REFERENCE, float(neutron), goal))
    # what merge_protocols saves (docs/compiler.md, Passes)
    without = tuple(p for p in PASSES if p is not merge_protocols)
    for name, paths, config_path in ((f"world {context.shape.name}", [str(context.world)],
                                      context.config), ("all of policies/", [str(POLICIES)],
                                                        config)):
        netc, neutron = acl_counts(paths, config_path, without)
        figures.append(Figure(FAMILY, f"ACL rows, {name}, without merge_protocols", "rows",
                              float(netc), REFERENCE, float(neutron), None,
                              note="for comparison: every pass but merge_protocols"))
    return figures
