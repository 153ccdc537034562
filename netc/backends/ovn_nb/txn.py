"""One OVSDB transaction that takes the owned rows from what was read to what is wanted.

The operations, in order:

1. ``wait`` per owned table: the rows netc owns still have the ``_version`` s that were
   read. A concurrent writer (another netc, or ovn-nbctl on an owned row) makes the
   whole transaction fail with nothing written; the caller re-reads and retries.
2. ``insert`` per created row, each with a ``uuid-name``, so new rows refer to each
   other (a new ACL from a new Port_Group) by ``named-uuid`` inside the transaction.
3. ``update`` of the changed columns only, addressed by ``_uuid``; a large set of
   references (a port group's ports) as a ``mutate`` of what leaves and what joins. A parent's update
   of its reference columns is also what attaches a new child and detaches an old
   one: non-root rows (ACL, Logical_Switch_Port, NAT, ...) exist only while a parent
   refers to them strongly.
4. ``delete`` per destroyed row, addressed by ``_uuid``. For a child its parent's
   update in the same transaction has already dropped the reference; if a parent netc
   does not own still holds it, OVSDB refuses the transaction (referential integrity)
   rather than netc touching that parent.
5. ``comment`` naming netc and the change summary (it lands in the server's log).

Every address is an owned row's UUID from the state just read, so a row netc does not
own can never be updated or deleted by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from netc.backends.ovn_nb.codec import Writer, writer
from netc.backends.ovn_nb.schema import NbSchema
from netc.backends.ovn_nb.state import OwnedState
from netc.compiler.rows import Row


class TransactionBuildError(ValueError):
    """The wanted rows cannot be written: a reference to a row that neither exists nor is
    created, or a value that does not fit the schema."""


@dataclass(frozen=True, slots=True)
class Update:
    """The wanted row and the names of the columns that differ from the DB."""

    row: Row
    columns: tuple[str, ...]


def by_uuid(uuid: str) -> list:
    return [["_uuid", "==", ["uuid", uuid]]]


def build_operations(schema: NbSchema, state: OwnedState, *, creates: Iterable[Row],
                     updates: Iterable[Update], destroys: Iterable[tuple[str, str]],
                     comment: str, deltas: Mapping[tuple[str, str], Mapping[str, tuple]]
                     | None = None) -> list[dict]:
    """The operations of the one transaction (see the module docstring). ``deltas``:
    (table, key) -> column -> (elements to delete, to insert), where the caller knows
    them to take the row as read to the row wanted; the rest are worked out here."""
    creates = sorted(creates, key=lambda row: (row.table, row.key))
    names = {(row.table, row.key): f"netc{index}" for index, row in enumerate(creates)}

    def uuid_of(table: str, key: str) -> list:
        if (table, key) in names:
            return ["named-uuid", names[(table, key)]]
        uuid = state.uuid(table, key)
        if uuid is None:
            raise TransactionBuildError(
                f"reference to {table} row {key!r}, which is neither in the database "
                f"nor created by this plan")
        return ["uuid", uuid]

    writers: dict[tuple[str, str], Writer] = {}

    def datum(row: Row, column: str) -> object:
        try:
            write = writers.get((row.table, column))
            if write is None:
                write = writers[row.table, column] = writer(schema.column(row.table, column))
            return write(row.columns[column], uuid_of)
        except (KeyError, ValueError) as exc:
            raise TransactionBuildError(f"{row.table} {row.key!r} column {column}: "
                                        f"{exc.args[0]}") from None

    operations = state.wait_operations()
    for row in creates:
        operations.append({"op": "insert", "table": row.table,
                           "uuid-name": names[(row.table, row.key)],
                           "row": {column: datum(row, column) for column in sorted(row.columns)}})
    for update in sorted(updates, key=lambda u: (u.row.table, u.row.key)):
        row = update.row
        uuid = _existing(state, row.table, row.key)
        before = state.rows.get(row.table, row.key)
        mutations, columns = [], []
        known = (deltas or {}).get((row.table, row.key), {})
        for column in sorted(update.columns):
            delta = known.get(column) or _set_delta(schema, row, before, column)
            if delta is None:
                columns.append(column)
                continue
            for mutator, items in zip(("delete", "insert"), delta):
                if items:
                    mutations.append([column, mutator, datum(Row(row.table, row.key,
                                                                 {column: items}), column)])
        if columns:
            operations.append({"op": "update", "table": row.table, "where": by_uuid(uuid),
                               "row": {column: datum(row, column) for column in columns}})
        if mutations:
            operations.append({"op": "mutate", "table": row.table, "where": by_uuid(uuid),
                               "mutations": mutations})
    for table, key in sorted(destroys):
        operations.append({"op": "delete", "table": table,
                           "where": by_uuid(_existing(state, table, key))})
    for duplicate in state.duplicates:
        operations.append({"op": "delete", "table": duplicate.table,
                           "where": by_uuid(duplicate.uuid)})
    operations.append({"op": "comment", "comment": comment})
    return operations


def _set_delta(schema: NbSchema, row: Row, before: Row | None,
               column: str) -> tuple[list, list] | None:
    """(elements to delete, to insert) when ``column`` is a set worth writing as a
    ``mutate``: a port group of thousands of ports (an address set of thousands of
    addresses) gaining one is then one element on the wire, not thousands. Exact, because
    the transaction's ``wait`` guard has already pinned the row to the version ``before``
    was read at. None: write the whole value (maps, scalars, small sets)."""
    ctype = schema.column(row.table, column)
    if before is None or ctype.is_map or ctype.max == 1:
        return None
    old, new = before.columns.get(column), row.columns.get(column)
    if not isinstance(old, list) or not isinstance(new, list) or len(new) < MUTATE_FROM:
        return None
    held, wanted = set(old), set(new)
    return sorted(held - wanted), sorted(wanted - held)


MUTATE_FROM = 16
"""Sets smaller than this are written whole: the ``update`` is as short, and reads better."""


def _existing(state: OwnedState, table: str, key: str) -> str:
    uuid = state.uuid(table, key)
    if uuid is None:
        raise TransactionBuildError(f"{table} row {key!r} is not in the database")
    return uuid
