"""Which rows a plan's reachability must look at, and the rows a plan leaves behind.

A plan of one project in a world of thousands asks only about the part of the world
its changes can touch (:func:`focus`): the projects of the changed rows and the
projects routed to them. Other pairs keep their path and every row on it (their
switches, routers, port groups and address sets belong to untouched projects; the
global rows they meet change only for ports of the changed projects), unless a global
ACL or address set changes, which may touch every pair: then the whole world is asked.
"""

from __future__ import annotations

from collections import defaultdict

from netc.compiler.rows import Row, RowSet
from netc.compiler.schema import TABLES

GLOBAL_DECIDING = frozenset({"ACL", "Address_Set"})
"""Global rows whose change may change any pair's verdict."""
PEER_KEY = "netc:peer"


def focus(before: RowSet, after: RowSet, changes) -> set[str] | None:
    """The projects whose pairs ``changes`` can touch: those of the changed rows, and
    every project routed to them (peers, transitively, on either side); None for all."""
    touched: set[str] = set()
    for change in changes:
        if change.project is not None:
            touched.add(change.project)
            continue
        members = _members_changed(before, after, change.table, change.key)
        if members is None:
            return None
        touched |= members
    links: dict[str, set[str]] = defaultdict(set)
    for rows in (before, after):
        for table in ("Logical_Router_Port", "Logical_Router_Static_Route"):
            for row in rows.tables.get(table, {}).values():
                peer = row.columns.get("external_ids", {}).get(PEER_KEY)
                if peer is not None and row.project is not None:
                    links[row.project].add(peer)
                    links[peer].add(row.project)
    pending = list(touched)
    while pending:
        for peer in links.get(pending.pop(), ()):
            if peer not in touched:
                touched.add(peer)
                pending.append(peer)
    return touched


def _members_changed(before: RowSet, after: RowSet, table: str, key: str) -> set[str] | None:
    """The projects of the rows a global row gained or lost in its reference columns
    (a port joining the default-drop group); None when anything else about it changed
    (it was created or destroyed, a global ACL or address set, another column)."""
    old, new = before.get(table, key), after.get(table, key)
    if table in GLOBAL_DECIDING or old is None or new is None:
        return None
    found: set[str] = set()
    for name, column in TABLES.get(table, {}).items():
        was, now = old.columns.get(name), new.columns.get(name)
        if column.kind != "refs":
            if name != "external_ids" and was != now:
                return None
            continue
        for ref in set(was or ()) ^ set(now or ()):
            row = before.get(column.target, ref) or after.get(column.target, ref)
            if row is None or row.project is None:
                return None
            found.add(row.project)
    return found


def restricted(rows: RowSet, projects: set[str]) -> RowSet:
    """The rows of ``projects`` and the global rows, whose references to rows left out
    (other projects' ports in the default-drop group...) are dropped with them."""
    kept = RowSet({table: {key: row for key, row in by_key.items()
                           if row.project is None or row.project in projects}
                   for table, by_key in rows.tables.items()})
    for table, by_key in kept.tables.items():
        refs = {name: column.target for name, column in TABLES.get(table, {}).items()
                if column.kind == "refs"}
        for key, row in by_key.items():
            if row.project is None and refs:
                columns = dict(row.columns)
                for name, target in refs.items():
                    columns[name] = [v for v in columns.get(name, [])
                                     if kept.get(target, v) is not None]
                by_key[key] = Row(row.table, row.key, columns)
    return kept


def rows_after(actual: RowSet, changes) -> RowSet:
    """``actual`` with a plan's changes made (``changes``: the plan's
    :class:`~netc.backends.diff.Change` list): the rows the database will hold."""
    rows = RowSet({table: dict(by_key) for table, by_key in actual.tables.items()})
    for change in changes:
        table = rows.tables.setdefault(change.table, {})
        if change.action == "destroy":
            table.pop(change.key, None)
        else:
            table[change.key] = change.row
    return rows
