"""Issue 4: full apply vs one raw JSON-RPC ``transact``; one rule changed.

Needs a disposable, live Northbound DB (``--nb REMOTE``, e.g. from ``netc sandbox
up``): the NB is emptied of netc's rows before each run. Side by side, each the
median of ``context.repeat`` runs:

- reference: the world's compiled rows as ``insert`` operations with named-uuid
  references, sent as ONE ``transact`` on a plain JSON-RPC socket, send to reply;
- netc, backend: what ``netc apply`` does once the rows are compiled: read the owned
  rows, diff, check names, one guarded transaction (goal 1.5x);
- netc, end to end: the library call behind ``netc apply`` (front end, compile with
  read-back allocations, diff, transaction): the front end and the compiler have
  their own figures, so this one is shown for the record, without a goal.

One rule changed: the world applied, one ingress rule of one project gets a port
more; the plan's row count beside the rows derived from that rule's group (its ACLs
and Port_Group), and the time of that apply.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from bench.figures import Context, Figure, median, pending, side_by_side, timed
from netc.backends.diff import diff_rows
from netc.app.northbound import plan_live
from netc.backends.ovn_nb.apply import changes_of, check_names, comment_for, commit, read_state
from netc.backends.ovn_nb.ovsdb import OvsdbClient
from netc.backends.ovn_nb.schema import load_schema
from netc.backends.ovn_nb.state import OwnedState, owner_condition
from netc.backends.ovn_nb.txn import build_operations
from netc.compiler.lower import compile_world
from netc.compiler.rows import RowSet
from netc.compiler.schema import ROOT_TABLES
from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths
from netc.ir.world import World

FAMILY = "apply"
GOAL = 1.5


def load_world(folder: Path, config: Path) -> World:
    diagnostics = Diagnostics()
    result = check_paths([str(folder)], load_settings(str(config), diagnostics), diagnostics)
    if not result.ok:
        raise RuntimeError(f"the bench world does not check clean: {list(diagnostics)[:3]}")
    return result.world


def empty_owned(client: OvsdbClient, owner: str) -> None:
    """Delete every root row ``owner`` owns; OVSDB collects their children."""
    client.transact([{"op": "delete", "table": table, "where": [owner_condition(owner)]}
                     for table in sorted(ROOT_TABLES)])


def raw_insert_operations(rows: RowSet, owner: str) -> list[dict]:
    """The rows as bare inserts (named-uuid references), no guard and no comment."""
    operations = build_operations(load_schema(), OwnedState(RowSet(), owner), creates=list(rows),
                                  updates=[], destroys=[], comment="")
    return [op for op in operations if op["op"] == "insert"]


def backend_apply(client: OvsdbClient, desired: RowSet, scope: set[str], owner: str) -> int:
    """netc apply after compiling: read, diff, check names, one guarded transaction."""
    schema = load_schema()
    state = read_state(client, schema, owner)
    changes = changes_of(diff_rows(desired, state.rows, scope))
    check_names(client, schema, owner, changes)
    commit(client, schema, state, changes, comment_for(owner, changes), None)
    return len(changes.creates) + len(changes.updates) + len(changes.destroys)


def measure(context: Context) -> list[Figure]:
    names = ("full apply time (backend: read, diff, one transaction)",
             "full apply time (end to end: front end + compile + backend)",
             "one rule changed: rows touched", "one rule changed: apply time")
    if not context.nb:
        why = "needs a disposable live NB (--nb REMOTE, e.g. from netc sandbox up)"
        return [pending(FAMILY, names[0], "s", "raw JSON-RPC transact", GOAL, why),
                pending(FAMILY, names[1], "s", "raw JSON-RPC transact", None, why),
                pending(FAMILY, names[2], "rows", "rows of the rule's group", 1.0, why),
                pending(FAMILY, names[3], "s", "raw JSON-RPC transact", None, why)]
    world = load_world(context.world, context.config)
    owner = world.settings.owner
    compilation = compile_world(world)
    desired, scope = compilation.rows, set(compilation.projects)
    inserts = raw_insert_operations(desired, owner)
    schema = load_schema()
    with OvsdbClient(context.nb) as client:
        runs = {"raw": lambda: client.transact(inserts),
                "backend": lambda: backend_apply(client, desired, scope, owner),
                "end to end": lambda: apply_world(client, world, owner)}
        samples: dict[str, list[float]] = {name: [] for name in runs}
        # Interleaved, round by round: the server's own time grows with its log and
        # drops after a compaction, so running one side's repeats first would hand
        # the other side a different database.
        for _ in range(context.repeat):
            for name, run in runs.items():
                empty_owned(client, owner)
                samples[name].append(timed(run))
        touched, must, rule_time = one_rule_changed(client, context, owner)
    raw = median(samples["raw"])
    return [
        Figure(FAMILY, names[0], "s", median(samples["backend"]), "raw JSON-RPC transact", raw,
               GOAL, {"netc": samples["backend"], "reference": samples["raw"]},
               note=f"{len(desired)} rows; compile excluded (see the compile figure)"),
        Figure(FAMILY, names[1], "s", median(samples["end to end"]), "raw JSON-RPC transact",
               raw, None, {"netc": samples["end to end"], "reference": samples["raw"]},
               note="includes parsing and compiling the world in Python"),
        Figure(FAMILY, names[2], "rows", touched, "rows of the rule's group", must, 1.0),
        Figure(FAMILY, names[3], "s", rule_time, "raw JSON-RPC transact", raw, None,
               note="end to end (front end + compile + read + diff + transaction)"),
    ]


def apply_world(client: OvsdbClient, world: World, owner: str) -> int:
    schema = load_schema()
    plan = plan_live(read_state(client, schema, owner), world)
    check_names(client, schema, owner, plan.changes)
    commit(client, schema, plan.state, plan.changes, comment_for(owner, plan.changes), None)
    return len(plan.diff.changes)


def one_rule_changed(client: OvsdbClient, context: Context, owner: str) -> tuple[int, int, float]:
    """Apply the world, add a port to one tcp rule of one project, apply again."""
    empty_owned(client, owner)
    apply_world(client, load_world(context.world, context.config), owner)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "world"
        shutil.copytree(context.world, copy)
        file = sorted(copy.rglob("*.yaml"))[0]
        text, count = re.subn(r"\n( +)- 22\n", r"\n\1- 22\n\1- 2222\n", file.read_text(), 1)
        if not count:
            raise RuntimeError(f"no tcp/22 rule to edit in {file}")
        file.write_text(text)
        world = load_world(copy, copy / "netc.toml")
        plan = plan_live(read_state(client, load_schema(), owner), world)
        # ACL keys are "acl:ORG/PROJECT/GROUP:...", their Port_Group "pg:ORG/PROJECT/GROUP"
        groups = {c.key[len("acl:"):].split(":")[0] for c in plan.diff.changes
                  if c.table == "ACL"}
        must = sum(1 for c in plan.diff.changes
                   if (c.table == "ACL" and c.key[len("acl:"):].split(":")[0] in groups)
                   or (c.table == "Port_Group" and c.key[len("pg:"):] in groups))
        seconds = timed(lambda: apply_world(client, world, owner))
        return len(plan.diff.changes), must, seconds
