"""Plan and apply against a live Northbound DB: read, compile, diff, one transaction.

The steps of one attempt:

1. read the owned rows (:func:`~netc.backends.ovn_nb.state.read_owned`, one round
   trip, a consistent snapshot);
2-3. the planner (:func:`netc.app.northbound.plan_live`) compiles the world with the
   port addresses read back, so allocations never move, and diffs the wanted rows
   against the owned ones by netc:key;
4. check that no foreign row holds a unique name netc is about to take;
5. send ONE transaction (:mod:`~netc.backends.ovn_nb.txn`) guarded by ``wait``
   operations on the versions read in step 1.

A guard that fails means another writer changed owned rows in between: nothing was
written, so the attempt starts again from step 1, a bounded number of times with a
random pause, then gives up with :class:`Conflict`. A connection lost after sending
is handled the same way: the re-read shows whether the transaction committed (the
new diff is then empty). A change the operator approved is never widened silently:
if the re-planned changes differ from the approved ones, interactive applies stop.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from netc.backends.ovn_nb.ovsdb import ConnectionLost, OvsdbClient, TransactionError
from netc.backends.ovn_nb.planfile import Changes, SavedPlan
from netc.backends.ovn_nb.schema import NbSchema
from netc.backends.diff import Plan
from netc.backends.ovn_nb.state import OwnedState, owner_condition, read_owned
from netc.backends.ovn_nb.txn import Update, build_operations
from netc.compiler.rows import OWNER_KEY, Row
from netc.diagnostics import Diagnostics
from netc.gc_pause import gc_paused

ATTEMPTS = 5
"""Transactions tried before a conflict is reported."""

RETRY_PAUSE = (0.05, 0.4)
"""Bounds of the random pause (seconds) before a retry: racing writers spread out."""

WAIT_TIMEOUT = 60.0
"""Seconds ``--wait sb|hv`` waits for northd or the chassis, as a default."""

RETRYABLE_ERRORS = frozenset({"not leader", "cluster error", "not owner"})


class ApplyError(Exception):
    """An apply that did not happen; the message says why and what to do."""


class Conflict(ApplyError):
    """Other writers kept changing netc's rows; nothing of this apply was written."""


class NameTaken(ApplyError):
    """A row netc does not own already holds a unique name netc needs."""


class PlanOutdated(ApplyError):
    """The database moved since the plan was made (or approved)."""


@dataclass
class LivePlan:
    """One read of the DB and what it would take to reach the intent."""

    state: OwnedState
    diff: Plan
    """The shared diff (what plan output renders)."""
    changes: Changes
    """The same changes, as the transaction builder takes them."""
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


def changes_of(diff: Plan) -> Changes:
    return Changes(
        creates=tuple(c.row for c in diff.changes if c.action == "create"),
        updates=tuple(Update(c.row, tuple(cc.column for cc in c.columns))
                      for c in diff.changes if c.action == "update"),
        destroys=tuple((c.table, c.key) for c in diff.changes if c.action == "destroy"))


@dataclass
class Outcome:
    changes: Changes
    attempts: int
    nb_cfg: int | None = None
    events: list[str] = field(default_factory=list)
    """Why earlier attempts were retried (conflicts, lost connections)."""


Planner = Callable[[OwnedState], LivePlan]
"""Computes the plan from a fresh read of the owned rows."""

Progress = Callable[[str], None]


def read_state(client: OvsdbClient, schema: NbSchema, owner: str) -> OwnedState:
    with gc_paused():
        return read_owned(client.transact, schema, owner)


def check_names(client: OvsdbClient, schema: NbSchema, owner: str, changes: Changes) -> None:
    """Raise :class:`NameTaken` if a foreign row holds a unique index value (a Port_Group
    or Address_Set name, ...) that a created or updated row would take. OVSDB would
    refuse the transaction anyway; this names the row and its owner."""
    claims: dict[str, dict[tuple, Row]] = {}
    for row in [*changes.creates, *(u.row for u in changes.updates)]:
        for index in schema.table(row.table).indexes:
            if all(column in row.columns for column in index):
                value = tuple(str(row.columns[column]) for column in index)
                claims.setdefault(row.table, {})[(index, value)] = row
    if not claims:
        return
    tables = sorted(claims)
    exclude_owned = ["external_ids", "excludes", owner_condition(owner)[2]]
    operations = [{"op": "select", "table": table, "where": [exclude_owned],
                   "columns": sorted({"external_ids", *(c for index in schema.table(table).indexes
                                                        for c in index)})}
                  for table in tables]
    results = client.transact(operations)
    taken = []
    for table, result in zip(tables, results):
        for foreign in result["rows"]:
            for index in schema.table(table).indexes:
                value = tuple(str(foreign.get(column)) for column in index)
                row = claims[table].get((index, value))
                if row is not None:
                    ids = dict(foreign["external_ids"][1])
                    holder = ids.get(OWNER_KEY) or "another system"
                    taken.append(f"{table} {'/'.join(index)} {'/'.join(value)!r} (wanted "
                                 f"by {row.key}) is held by a row owned by {holder}")
    if taken:
        raise NameTaken("names already taken by rows netc does not own (rename the "
                        "intent or remove those rows): " + "; ".join(taken))


@gc_paused()
def commit(client: OvsdbClient, schema: NbSchema, state: OwnedState, changes: Changes,
           comment: str, wait: str | None) -> int | None:
    """Send the one transaction; the nb_cfg to wait for when ``wait`` is sb or hv."""
    operations = build_operations(schema, state, creates=changes.creates,
                                  updates=changes.updates, destroys=changes.destroys,
                                  comment=comment)
    if wait:
        operations += client.nb_cfg_bump_ops()
    results = client.transact(operations)
    if wait:
        return results[-1]["rows"][0]["nb_cfg"]
    return None


def comment_for(owner: str, changes: Changes) -> str:
    return f"netc apply (owner {owner}): {changes.summary()}"


def is_conflict(error: TransactionError) -> bool:
    """The transaction's own ``wait`` guard failed: an owned row moved."""
    return error.op is not None and error.op.get("op") == "wait" and error.error == "timed out"


def describe(error: TransactionError) -> str:
    if error.error == "constraint violation":
        return f"a unique name is already taken: {error.details}"
    if error.error == "referential integrity violation":
        return (f"a row netc would delete is still referenced by a row it does not own: "
                f"{error.details}")
    return str(error)


def apply_live(client: OvsdbClient, schema: NbSchema, owner: str, planner: Planner,
               approved: LivePlan, *, follow_replans: bool, wait: str | None = None,
               wait_timeout: float = WAIT_TIMEOUT, attempts: int = ATTEMPTS,
               progress: Progress = lambda message: None) -> Outcome:
    """Apply ``approved``; on a conflict re-plan and retry. With ``follow_replans``
    (``--auto-approve``) a re-planned diff is applied as it now is; otherwise only if
    it equals the approved one, else :class:`PlanOutdated`."""
    plan = approved
    events: list[str] = []
    for attempt in range(1, attempts + 1):
        if not plan.changes:
            return Outcome(plan.changes, attempt, events=events)
        check_names(client, schema, owner, plan.changes)
        progress(f"applying {plan.changes.summary()} in one transaction")
        try:
            nb_cfg = commit(client, schema, plan.state, plan.changes,
                            comment_for(owner, plan.changes), wait)
        except TransactionError as error:
            if not is_conflict(error) and error.error not in RETRYABLE_ERRORS:
                raise ApplyError(describe(error)) from error
            events.append(f"attempt {attempt}: {error.error}: {error.details}".rstrip(": "))
        except ConnectionLost as error:
            events.append(f"attempt {attempt}: {error}")
        else:
            if wait:
                progress(f"waiting for {'ovn-northd' if wait == 'sb' else 'the hypervisors'}")
                client.wait_for_nb_cfg(wait, nb_cfg, wait_timeout)
            return Outcome(plan.changes, attempt, nb_cfg, events)
        if attempt == attempts:
            break
        time.sleep(random.uniform(*RETRY_PAUSE))
        progress("the owned rows changed meanwhile: reading them again")
        previous = plan
        plan = planner(read_state(client, schema, owner))
        if plan.changes and not follow_replans and plan.changes != previous.changes:
            raise PlanOutdated("the database changed while the plan was being approved, "
                               "and the plan is now different; run netc apply again to "
                               "review the new plan")
    raise Conflict(f"other writers changed netc's rows during each of {attempts} attempts; "
                   f"nothing was written. Run netc apply again. ({'; '.join(events)})")


def apply_saved(client: OvsdbClient, schema: NbSchema, saved: SavedPlan, *,
                wait: str | None = None, wait_timeout: float = WAIT_TIMEOUT,
                progress: Progress = lambda message: None) -> Outcome:
    """Apply exactly a saved plan, only onto the very state it was computed against."""
    state = read_state(client, schema, saved.owner)
    if state.fingerprint() != saved.fingerprint:
        raise PlanOutdated("the database changed since this plan was made; run netc plan "
                           "again and review the new plan")
    if not saved.changes:
        return Outcome(saved.changes, 1)
    check_names(client, schema, saved.owner, saved.changes)
    progress(f"applying {saved.changes.summary()} in one transaction")
    try:
        nb_cfg = commit(client, schema, state, saved.changes,
                        comment_for(saved.owner, saved.changes), wait)
    except TransactionError as error:
        if is_conflict(error):
            raise PlanOutdated("the database changed while the plan was being applied; "
                               "nothing was written. Run netc plan again") from error
        raise ApplyError(describe(error)) from error
    except ConnectionLost as error:
        raise ApplyError(f"{error}. Run netc plan to see whether it was applied") from error
    if wait:
        progress(f"waiting for {'ovn-northd' if wait == 'sb' else 'the hypervisors'}")
        client.wait_for_nb_cfg(wait, nb_cfg, wait_timeout)
    return Outcome(saved.changes, 1, nb_cfg)

