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

Each change gives a reason, and drift (a row edited or deleted behind netc's back)
is told apart from a change of the intent by the rows' ``netc:digest``
(:mod:`netc.compiler.canonical`): a row whose digest no longer matches its columns
was edited outside netc. Every row this diff asks to write carries the digest of
what it will hold, so a row stays recognisably netc's own after any apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from netc.compiler.canonical import (DIGEST_KEY, digest_of, drifted, normalised,
                                     stamped_copy, without_digest)
from netc.compiler.rows import Ref, Row, RowSet
from netc.compiler.schema import TABLES

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


def diff_rows(desired: RowSet, actual: RowSet, scope: set[str], prune: bool = False, *,
              reasons: bool = True) -> Plan:
    """The changes turning ``actual`` (owned rows) into ``desired`` for projects in
    ``scope`` (and, with ``prune``, for every owned project). Without ``reasons`` a
    created row's reason is not worked out (it asks every parent of the row), nor
    whether an updated row drifted (a digest of the row read back), nor an updated
    column's values (only its name; both sides sorted, costly for a port group of
    thousands of ports): the service applies plans nobody reads."""
    def in_scope(project: str | None) -> bool:
        return project is None or project in scope or prune

    destroyed = {(row.table, row.key) for row in actual
                 if desired.get(row.table, row.key) is None and in_scope(row.project)
                 and (row.project is not None or prune)}
    plan = Plan()
    absent = _AbsentRows(desired, actual)
    for row in desired:
        before = actual.get(row.table, row.key)
        if before is None:
            plan.changes.append(Change("create", row.table, row.key, row.project,
                                       absent.reason(row) if reasons else "", row))
            continue
        if row.project is None and not prune and not getattr(actual, "shares", False):
            row = _keep_unseen_refs(row, before, actual, scope)
        _update(plan, before, row, None if reasons else "", bare=not reasons)
    for row in actual:
        if (row.table, row.key) in destroyed:
            reason = ("no longer in the intent" if row.project is None or row.project in scope
                      else f"project {row.project} is not in the intent (--prune)")
            plan.changes.append(Change("destroy", row.table, row.key, row.project, reason, row))
        elif desired.get(row.table, row.key) is None and row.project is None:
            kept = _without_refs(row, destroyed)
            _update(plan, row, kept, "references rows being destroyed", bare=not reasons)
    return plan


def _edited_reason(before: Row) -> str:
    """Why a row in the DB differs from the wanted one: its digest says whether it still
    holds what netc wrote (so the intent, or netc, changed) or was edited since."""
    if drifted(before):
        return "changed outside netc (drift)"
    return "differs from the intent"


def _differs(before: Row, after: Row, column: str) -> bool:
    held, wanted = before.columns.get(column), after.columns.get(column)
    if held == wanted:
        return False  # the same value normalises the same: no sort of a large set
    if isinstance(held, list) and isinstance(wanted, list) and len(held) != len(wanted):
        return True  # sets of another size (the elements of a set are distinct)
    old, new = normalised(before, column), normalised(after, column)
    if column == "external_ids" and old != new:
        return without_digest(old) != without_digest(new)
    return old != new


def _update(plan: Plan, before: Row, after: Row, reason: str | None = None, *,
            bare: bool = False) -> None:
    """An update of the columns that differ (the digest alone is no difference). The
    digest is rewritten with them, so it keeps describing the row as netc left it.
    Without a ``reason`` (None), the row's digest gives it (hashed only for changed
    rows); an empty one leaves the change without any. ``bare``: the columns' names
    without their values."""
    if before.columns == after.columns:  # the common case, decided at C speed
        return
    changed = [name for name in TABLES[after.table] if _differs(before, after, name)]
    if not changed:
        return
    if reason is None:
        reason = _edited_reason(before)
    written = set(changed)
    if _digest(before) != _digest(after):
        written.add("external_ids")
    if bare:
        columns = tuple(ColumnChange(name, None, None)
                        for name in TABLES[after.table] if name in written)
    else:
        columns = tuple(ColumnChange(name, normalised(before, name), normalised(after, name))
                        for name in TABLES[after.table] if name in written)
    plan.changes.append(Change("update", after.table, after.key, after.project,
                               f"{reason}: {', '.join(changed)}" if reason else "", after,
                               columns))


def _digest(row: Row) -> str | None:
    return row.columns.get("external_ids", {}).get(DIGEST_KEY)


class _AbsentRows:
    """Why a wanted row is not in the DB. A parent (a row referring to it in the wanted
    state) read back can vouch: if the parent still holds what netc wrote, netc never
    attached this row to it, so the row is new in the intent; if the parent was edited
    and putting back its missing children restores its digest, they were deleted
    behind netc's back. With no parent to ask, a project netc has written before can
    only say the row is not there (root rows have no parent)."""

    def __init__(self, desired: RowSet, actual: RowSet) -> None:
        self.desired = desired
        self.actual = actual
        self._parents: dict[tuple[str, str], list[Row]] | None = None
        self._projects: set[str | None] | None = None
        self._verdicts: dict[tuple[str, str], tuple[str, Row] | None] = {}

    def reason(self, row: Row) -> str:
        if row.project not in self.projects():
            return "new in the intent"
        verdicts = [self.verdict(parent) for parent in self.parents().get((row.table, row.key), [])
                    if self.actual.get(parent.table, parent.key) is not None]
        for kind in ("deleted", "edited", "intact"):
            for verdict in verdicts:
                if verdict is not None and verdict[0] == kind:
                    parent = verdict[1]
                    return _ABSENT_REASONS[kind].format(f"{parent.table} {parent.key}")
        return "not in the database"

    def verdict(self, wanted: Row) -> tuple[str, Row] | None:
        """What the parent ``wanted``, read back, says of its missing children:
        ``intact`` (as netc wrote it), ``deleted`` (edited exactly by deleting them),
        ``edited`` (otherwise too), or None (no digest to judge by). Once per parent."""
        where = (wanted.table, wanted.key)
        if where not in self._verdicts:
            parent = self.actual.get(*where)
            state = drifted(parent)
            if state is None:
                self._verdicts[where] = None
            elif not state:
                self._verdicts[where] = ("intact", parent)
            else:
                restored = self._restored(parent, wanted)
                self._verdicts[where] = ("deleted" if restored else "edited", parent)
        return self._verdicts[where]

    def _restored(self, parent: Row, wanted: Row) -> bool:
        """Whether ``parent`` read back, given back every wanted child missing from the
        DB (in each of its reference columns: ``lsp-del`` also empties weak references
        in port groups), is again exactly what netc wrote."""
        columns = dict(parent.columns)
        for name, column in TABLES[parent.table].items():
            if column.kind not in ("ref", "refs"):
                continue
            missing = {ref for ref in _as_list(wanted.columns.get(name))
                       if self.actual.get(column.target, ref) is None}
            if not missing:
                continue
            value: Any = sorted(set(_as_list(parent.columns.get(name))) | missing)
            if column.kind == "ref":
                value = value[0] if len(value) == 1 else None
            columns[name] = value
        return digest_of(parent.table, columns) == _digest(parent)

    def projects(self) -> set[str | None]:
        """Projects (None: the global rows) with at least one row in the DB."""
        if self._projects is None:
            self._projects = {row.project for row in self.actual}
        return self._projects

    def parents(self) -> dict[tuple[str, str], list[Row]]:
        """(table, key) -> the wanted rows referring to it, by table and key."""
        if self._parents is None:
            self._parents = {}
            for table, rows in self.desired.tables.items():
                refs = [(name, column.target) for name, column in TABLES[table].items()
                        if column.kind in ("ref", "refs")]
                for row in rows.values():
                    for name, target in refs:
                        for ref in _as_list(row.columns.get(name)):
                            self._parents.setdefault((target, ref), []).append(row)
            for found in self._parents.values():
                found.sort(key=lambda row: (row.table, row.key))
        return self._parents


_ABSENT_REASONS = {
    "deleted": "deleted outside netc (drift; its {} was edited)",
    "edited": "not in the database (its {} was edited outside netc)",
    "intact": "new in the intent",
}
"""The reason of a missing row by the strongest verdict among its parents."""


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ref_columns(table: str):
    return [(name, col) for name, col in TABLES[table].items() if col.kind == "refs"]


def _keep_unseen_refs(row: Row, before: Row, actual: RowSet, scope: set[str]) -> Row:
    """A global row as wanted, plus its references to rows of projects outside scope.
    Not asked of a live view's window on one project (``actual.shares``): it shows a
    global row as that project's share, which holds no other project's references."""
    columns = dict(row.columns)
    for name, column in _ref_columns(row.table):
        held = before.columns.get(name, [])
        if not held:
            continue
        # only references the wanted row lacks can be another project's: asking each of
        # a group's thousands of ports its project would cost more than the whole diff
        extra = set(held).difference(columns.get(name) or ())
        unseen = [ref for ref in extra
                  if _project_of(actual, column.target, ref) not in (None, *scope)]
        if unseen:
            columns[name] = sorted(set(columns.get(name, [])) | set(unseen))
    if columns == row.columns:
        return row
    return stamped_copy(Row(row.table, row.key, columns))


def _without_refs(row: Row, destroyed: set[tuple[str, str]]) -> Row:
    columns = dict(row.columns)
    for name, column in _ref_columns(row.table):
        columns[name] = [Ref(r) for r in row.columns.get(name, [])
                         if (column.target, r) not in destroyed]
    kept = Row(row.table, row.key, columns)
    return stamped_copy(kept) if drifted(row) is False else kept


def _project_of(rows: RowSet, table: str, key: str) -> str | None:
    indexed = getattr(rows, "project_of", None)  # a live view answers from its index
    if indexed is not None:
        return indexed(table, key)
    target = rows.get(table, key)
    return target.project if target is not None else None
