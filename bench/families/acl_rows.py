"""ACL rows netc writes vs Neutron's one-ACL-per-rule translation of the same intent.

Counted for the bench world and for each folder of ``policies/``. The reference is
:func:`netc.compiler.acl.neutron_acl_count` (one ACL per rule and port range,
includes copied, Neutron's two default-drop ACLs). Goal (issue 3): netc at most 0.5x.

SLOT: netc's own count needs the lowering to ACL rows (issue 3, ``netc compile``),
which is not there yet; it is reported as not measured until then.
"""

from __future__ import annotations

from pathlib import Path

from bench.figures import Context, Figure
from netc.compiler.acl import neutron_acl_count
from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths

FAMILY = "acl"
REFERENCE = "one ACL per rule (Neutron)"
GOAL = 0.5
POLICIES = Path(__file__).resolve().parents[2] / "policies"
NETC_PENDING = "netc count not measured: ACL lowering (issue 3) is not there yet"


def _world(paths: list[str], config: Path):
    diagnostics = Diagnostics()
    settings = load_settings(str(config), diagnostics)
    return check_paths(paths, settings, diagnostics).world


def measure(context: Context) -> list[Figure]:
    worlds = [(f"ACL rows, world {context.shape.name}", _world([str(context.world)],
                                                             context.config))]
    config = POLICIES.parent / "netc.toml"
    for folder in sorted(p for p in POLICIES.iterdir() if p.is_dir()):
        worlds.append((f"ACL rows, policies/{folder.name}", _world([str(folder)], config)))
    return [Figure(FAMILY, name, "rows", None, REFERENCE, float(neutron_acl_count(world)),
                   GOAL, note=NETC_PENDING) for name, world in worlds]
