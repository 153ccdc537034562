"""What it takes to go from the rows netc owns now to the rows it wants: a Plan.

Shared by every backend: the dry-run backend diffs against a snapshot file, the live
backend against the Northbound DB; both hand in ``actual`` already restricted to
rows whose ``netc:owner`` is ours, so a row of anyone else can never be touched.

Rows are matched by (table, netc:key), never by UUID or position, and compared on
the columns netc writes (:data:`netc.compiler.schema.TABLES`), unset columns read
as OVSDB's defaults. Scope (contract section 4): only projects present in the intent
are planned. Rows of other owned projects are destroyed only with ``prune``; until
then they stay, and so do their entries in the global rows (the default-drop group's
ports, the external switch's router ports), which the intent cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from netc.compiler.rows import Ref, Row, RowSet
from netc.compiler.schema import TABLES, unset_value

Action = Literal["create", "update", "destroy"]


@dataclass(frozen=True, slots=True)
class ColumnChange:
    column: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class Change:
    action: Action
    table: str
    key: str
    project: str | None
    reason: str
    row: Row
    """The desired row (create, update) or the row being destroyed."""
    columns: tuple[ColumnChange, ...] = ()
    """For an update, the columns that differ."""


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def empty(self) -> bool:
        return not self.changes


def normalised(row: Row | None, column: str) -> Any:
    spec = TABLES[row.table][column] if row is not None else None
    if row is None or column not in row.columns:
        return unset_value(spec) if spec else None
    value = row.columns[column]
    if isinstance(value, list):
        return sorted(value)
    return value


def diff_rows(desired: RowSet, actual: RowSet, scope: set[str], prune: bool = False) -> Plan:
    """The changes turning ``actual`` (owned rows) into ``desired`` for projects in
    ``scope`` (and, with ``prune``, for every owned project)."""
    def in_scope(project: str | None) -> bool:
        return project is None or project in scope or prune

    destroyed = {(row.table, row.key) for row in actual
                 if desired.get(row.table, row.key) is None and in_scope(row.project)
                 and (row.project is not None or prune)}
    plan = Plan()
    for row in desired:
        before = actual.get(row.table, row.key)
        if before is None:
            plan.changes.append(Change("create", row.table, row.key, row.project,
                                       "new in the intent", row))
            continue
        if row.project is None and not prune:
            row = _keep_unseen_refs(row, before, actual, scope)
        _update(plan, before, row, "differs from the intent")
    for row in actual:
        if (row.table, row.key) in destroyed:
            reason = ("no longer in the intent" if row.project is None or row.project in scope
                      else f"project {row.project} is not in the intent (--prune)")
            plan.changes.append(Change("destroy", row.table, row.key, row.project, reason, row))
        elif desired.get(row.table, row.key) is None and row.project is None:
            kept = _without_refs(row, destroyed)
            _update(plan, row, kept, "references rows being destroyed")
    return plan


def _update(plan: Plan, before: Row, after: Row, reason: str) -> None:
    columns = tuple(ColumnChange(name, normalised(before, name), normalised(after, name))
                    for name in TABLES[after.table]
                    if normalised(before, name) != normalised(after, name))
    if columns:
        names = ", ".join(c.column for c in columns)
        plan.changes.append(Change("update", after.table, after.key, after.project,
                                   f"{reason}: {names}", after, columns))


def _ref_columns(table: str):
    return [(name, col) for name, col in TABLES[table].items() if col.kind == "refs"]


def _keep_unseen_refs(row: Row, before: Row, actual: RowSet, scope: set[str]) -> Row:
    """A global row as wanted, plus its references to rows of projects outside scope."""
    columns = dict(row.columns)
    for name, column in _ref_columns(row.table):
        unseen = [ref for ref in before.columns.get(name, [])
                  if _project_of(actual, column.target, ref) not in (None, *scope)]
        if unseen:
            columns[name] = sorted(set(columns.get(name, [])) | set(unseen))
    return Row(row.table, row.key, columns)


def _without_refs(row: Row, destroyed: set[tuple[str, str]]) -> Row:
    columns = dict(row.columns)
    for name, column in _ref_columns(row.table):
        columns[name] = [Ref(r) for r in row.columns.get(name, [])
                         if (column.target, r) not in destroyed]
    return Row(row.table, row.key, columns)


def _project_of(rows: RowSet, table: str, key: str) -> str | None:
    target = rows.get(table, key)
    return target.project if target is not None else None
