"""Issue 4: ``netc plan`` with no changes vs ``ovsdb-client dump`` of the same tables.

Needs a disposable live Northbound DB (``--nb REMOTE``); the world is applied into it
first. Side by side, each the median of ``context.repeat`` runs:

- reference: ``ovsdb-client -f json dump REMOTE OVN_Northbound``, one process dumping
  every table (those netc reads and a few near-empty others; output discarded);
- netc, read + diff: the owned rows read in one round trip and diffed against the
  compiled world (compile done once beforehand; it has its own figure) (goal 2x);
- netc, the whole library plan: read, compile with read-back allocations, diff.
"""

from __future__ import annotations

import subprocess

from bench.families.apply import apply_world, empty_owned, load_world
from bench.figures import Context, Figure, median, pending, side_by_side
from netc.backends.diff import diff_rows
from netc.app.northbound import plan_live
from netc.backends.ovn_nb.apply import read_state
from netc.backends.ovn_nb.ovsdb import OvsdbClient
from netc.backends.ovn_nb.schema import load_schema
from netc.backends.ovn_nb.state import owned_tables
from netc.compiler.lower import compile_world

FAMILY = "plan"
GOAL = 2.0


def measure(context: Context) -> list[Figure]:
    names = ("plan time, no changes (read + diff)", "plan time, no changes (with compile)")
    if not context.nb:
        why = "needs a disposable live NB (--nb REMOTE, e.g. from netc sandbox up)"
        return [pending(FAMILY, names[0], "s", "ovsdb-client dump", GOAL, why),
                pending(FAMILY, names[1], "s", "ovsdb-client dump", None, why)]
    world = load_world(context.world, context.config)
    owner = world.settings.owner
    schema = load_schema()
    tables = owned_tables(schema)
    with OvsdbClient(context.nb) as client:
        empty_owned(client, owner)
        apply_world(client, world, owner)
        compilation = compile_world(world)
        scope = set(compilation.projects)

        def dump() -> None:
            # One process for the whole DB (a superset of netc's tables, the others
            # near empty): `dump` takes one table at a time, and a process per table
            # would bill the reference for a dozen interpreter starts.
            subprocess.run(["ovsdb-client", "-f", "json", "dump", context.nb,
                            "OVN_Northbound"], check=True, stdout=subprocess.DEVNULL)

        def read_and_diff() -> None:
            state = read_state(client, schema, owner)
            if diff_rows(compilation.rows, state.rows, scope).changes:
                raise RuntimeError("the plan of an applied world is not empty")

        def whole_plan() -> None:
            if plan_live(read_state(client, schema, owner), world).changes:
                raise RuntimeError("the plan of an applied world is not empty")

        netc, reference = side_by_side(read_and_diff, dump, context.repeat)
        whole, reference2 = side_by_side(whole_plan, dump, context.repeat)
    rows = len(compilation.rows)
    return [Figure(FAMILY, names[0], "s", median(netc), "ovsdb-client dump", median(reference),
                   GOAL, {"netc": netc, "reference": reference},
                   note=f"{rows} owned rows, {len(tables)} tables"),
            Figure(FAMILY, names[1], "s", median(whole), "ovsdb-client dump", median(reference2),
                   None, {"netc": whole, "reference": reference2},
                   note="includes compiling the world in Python")]
