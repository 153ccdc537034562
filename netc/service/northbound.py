"""The service's Northbound: one connection, a live view of the owned rows, and the
one-transaction apply of a project's compiled rows.

Every apply diffs the project's wanted rows against the view (the same diff
``netc plan`` uses), builds the same transaction ``netc apply`` sends, guarded by the
versions of the project's and the global rows the view holds, and waits until the
monitor has delivered it. A guard that fails (another writer) re-syncs the view and
tries again, a bounded number of times.

Several replicas write one project's rows: each applies the rows compiled from the
store revision it committed (or read), and the project's router records that
revision (``options:netc:revision``). Rows older than what OVN holds are not written,
so a replica whose OVN write comes after a later one's never undoes it (the later
rows were compiled from a read that included the earlier commit). The check and the
write are one: the transaction's ``wait`` on the router's ``_version`` fails if
another replica wrote in between, and the attempt is made again.

The global rows (the default-drop and open-egress port groups, the external switch)
hold references of every project. A project's change adds or removes its own
references there as ``mutate`` operations, which commute, instead of rewriting the
whole set under a ``wait`` on the row's version: replicas writing different projects
then never fail each other's guards (the global row must still exist; any other
change of it is written and guarded as before).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable, Collection

from netc.backends.diff import diff_rows
from netc.backends.ovn_nb.apply import (ATTEMPTS, RETRY_PAUSE, RETRYABLE_ERRORS, changes_of,
                                        comment_for, describe, is_conflict)
from netc.backends.ovn_nb.codec import writer
from netc.backends.ovn_nb.ovsdb import (ConnectionLost, OvsdbClient, OvsdbError,
                                        TransactionError)
from netc.backends.ovn_nb.schema import load_schema
from netc.backends.ovn_nb.txn import build_operations
from netc.backends.ovn_nb.view import REVISION_KEY, OwnedView
from netc.compiler.canonical import without_digest
from netc.compiler.incremental import SetDeltas
from netc.compiler.names import router_key
from netc.compiler.rows import ORG_KEY, OWNER_KEY, PROJECT_KEY, RowSet
from netc.diagnostics import Code
from netc.service.errors import ServiceError


@dataclass
class Applied:
    changes: int
    """Rows created, updated or destroyed."""
    attempts: int
    seconds: float
    """Time spent in OVN transactions (the latency the metrics report)."""
    superseded_by: int | None = None
    """Not written: OVN already holds the rows of this later store revision."""


class ServiceNorthbound:
    def __init__(self, client: OvsdbClient, owner: str) -> None:
        self.client = client
        self.owner = owner
        self.schema = load_schema()
        self.view = OwnedView(client, self.schema, owner)

    def close(self) -> None:
        with self.view.lock:
            self.client.close()

    def ping(self) -> None:
        """Raise OvsdbError unless the Northbound answers."""
        with self.view.lock:
            self.client.echo()

    def sync(self) -> None:
        with self.view.lock:
            self._unavailable_as_error(self.view.sync)

    def port_uuid(self, port_key: str) -> str:
        """The ``_uuid`` of the Logical_Switch_Port of ``ORG/PROJECT/PORT`` ("" if none)."""
        # no lock: one dict read, while other threads' applies may hold it for long
        return self.view.uuid("Logical_Switch_Port", f"port:{port_key}") or ""

    def projects(self) -> set[str]:
        with self.view.lock:
            self._unavailable_as_error(self.view.sync)
            return self.view.projects()

    def apply(self, project: str, rows: RowSet, revision: int | None = None,
              current: Callable[[], int | None] | None = None,
              touched: Collection[tuple[str, str]] | None = None,
              deltas: SetDeltas | None = None, deltas_of: int | None = None) -> Applied:
        """Make the project's owned rows ``rows`` (global rows merged, other projects'
        references kept) in one transaction; ServiceError if that cannot be done.

        ``touched``: the only rows (table, key) that differ from the rows this
        service last applied to the project; only they are diffed against the view
        (any other difference is drift, the reconciler's to repair). ``deltas``: how
        the sets of some of them changed from those rows, which were compiled from
        store revision ``deltas_of``. While OVN holds the project's rows of that
        revision (its router says so: every write of the service's records it, in the
        same transaction), it holds their sets, and a set's ``mutate`` is that delta,
        not one worked out from the sets (two sets of every port of the project, per
        row, per request); a change behind netc's back since is drift, left, like
        drift in any untouched row, to the reconciler.

        ``revision`` is the store revision ``rows`` were compiled from. When OVN holds
        the rows of a later one, nothing is written, unless ``current()`` (the project's
        revision in the store now; None once deleted) is below that: then OVN's revision
        comes from another store (restored, replaced) and ``rows`` are written anyway."""
        with self.view.lock:
            return self._unavailable_as_error(
                lambda: self._apply(project, rows, revision, current, touched, deltas, deltas_of))

    def _apply(self, project: str, rows: RowSet, revision: int | None,
               current: Callable[[], int | None] | None,
               touched: Collection[tuple[str, str]] | None,
               deltas: SetDeltas | None, deltas_of: int | None) -> Applied:
        spent = 0.0
        events = []
        trusted = True
        for attempt in range(1, ATTEMPTS + 1):
            self.view.sync()
            state = self.view.scoped(project)
            applied = self.view.applied_revision(project)
            if revision is not None and applied is not None and applied > revision and trusted:
                now = current() if current is not None else None
                if now is None or now >= applied:  # the store moved on (or deleted it)
                    return Applied(0, attempt, spent, superseded_by=applied)
                trusted = False  # OVN's revision is not of this store's history
            if touched is None:
                changes = changes_of(diff_rows(rows, state.rows, {project}, reasons=False))
            else:
                changes = changes_of(diff_rows(_only(rows, touched), state.only(touched),
                                               {project}, reasons=False))
            if not (changes.creates or changes.updates or changes.destroys):
                return Applied(0, attempt, spent)
            if not len(state.rows):
                self._refuse_foreign(project)
            state.guard_only([(u.row.table, u.row.key) for u in changes.updates]
                             + list(changes.destroys) + [("Logical_Router", router_key(project))])
            operations = build_operations(self.schema, state, creates=changes.creates,
                                          updates=changes.updates, destroys=changes.destroys,
                                          comment=comment_for(self.owner, changes),
                                          deltas=deltas if deltas_of is not None
                                          and applied == deltas_of else None)
            if revision is not None:
                self._record_revision(project, operations, revision)
            operations = self._commute_shared(state, operations)
            read = state.versions()
            started = time.monotonic()
            try:
                results = self.client.transact(operations)
            except TransactionError as error:
                spent += time.monotonic() - started
                if not is_conflict(error) and error.error not in RETRYABLE_ERRORS:
                    code = "OWNED_ELSEWHERE" if error.error == "constraint violation" \
                        else Code.OVN_CONNECTION_FAILED
                    raise ServiceError(code, describe(error)) from error
                events.append(error.error)
            except ConnectionLost as error:
                spent += time.monotonic() - started
                events.append(str(error))
            else:
                spent += time.monotonic() - started
                self.view.await_commit(results, read)
                count = len(changes.creates) + len(changes.updates) + len(changes.destroys)
                return Applied(count, attempt, spent)
            if attempt > 1:  # the first conflict is most often northd's own write of
                time.sleep(random.uniform(*RETRY_PAUSE))  # a row (LSP "up"): re-sync
        raise ServiceError("CONFLICT", f"other writers kept changing the Northbound rows of "
                                       f"{project} during {ATTEMPTS} attempts: {events}")

    def _commute_shared(self, state, operations: list[dict]) -> list[dict]:
        """The updates of global rows as mutations of the references that change (see
        the module docstring), against the project's share of the row (the diff saw
        only that, :meth:`~netc.backends.ovn_nb.view.OwnedView.share`); a global row
        only mutated is guarded by its existence, not by its version. A change of its
        digest alone is not written: the digest describes the whole set, which no
        single project writes any more."""
        shared = {state.uuid(table, key): (table, key) for table, key in state._shared}
        mutated: set[str] = set()
        guarded: set[str] = set()
        """Global rows with a change that does not commute: their version guard stays."""
        result = []
        for operation in operations:
            uuid = _by_uuid(operation)
            if operation["op"] not in ("update", "mutate") or uuid not in shared:
                result.append(operation)
                continue
            table, key = shared[uuid]
            if operation["op"] == "mutate":  # build_operations' delta of a large set
                columns = self.schema.table(table).columns
                commutes = all(not columns[c].is_map and (columns[c].max is None
                                                          or columns[c].max > 1)
                               and m in ("insert", "delete")
                               for c, m, _ in operation["mutations"])
                (mutated if commutes else guarded).add(uuid)
                result.append(operation)
                continue
            before = self.view._raw[table][uuid]
            seen = state.rows.get(table, key)  # its sets of references: the project's share
            kept, mutations = {}, []
            for column, after in operation["row"].items():
                ctype = self.schema.table(table).columns[column]
                if column == "external_ids":
                    if without_digest(_pairs(after)) != without_digest(_pairs(before.get(column))):
                        kept[column] = after
                elif not ctype.is_map and (ctype.max is None or ctype.max > 1):
                    held = before.get(column) if not ctype.key_ref else writer(ctype)(
                        seen.columns.get(column) or [],
                        lambda target, ref: ["uuid", self.view.uuid(target, ref)])
                    old = {_atom(e): e for e in _elements(held)}
                    new = {_atom(e): e for e in _elements(after)}
                    gone = [old[a] for a in old if a not in new]
                    added = [new[a] for a in new if a not in old]
                    if gone:
                        mutations.append([column, "delete", ["set", gone]])
                    if added:
                        mutations.append([column, "insert", ["set", added]])
                else:
                    kept[column] = after
            if kept:
                result.append(dict(operation, row=kept))
                guarded.add(uuid)
            else:
                mutated.add(uuid)
            if mutations:
                result.append({"op": "mutate", "table": table, "where": operation["where"],
                               "mutations": mutations})
        for index, operation in enumerate(result):
            uuid = _by_uuid(operation)
            if operation["op"] == "wait" and uuid in mutated - guarded:  # it must exist
                result[index] = {"op": "wait", "timeout": 0, "table": operation["table"],
                                 "where": operation["where"], "columns": ["_uuid"],
                                 "until": "==", "rows": [{"_uuid": ["uuid", uuid]}]}
        return result

    def _record_revision(self, project: str, operations: list[dict], revision: int) -> None:
        """Make the transaction set the project router's ``options:netc:revision``."""
        org, _, name = project.partition("/")
        for operation in operations:
            if operation["op"] == "insert" and operation["table"] == "Logical_Router":
                ids = dict(operation["row"].get("external_ids", ["map", []])[1])
                if ids.get(ORG_KEY) == org and ids.get(PROJECT_KEY) == name:
                    operation["row"]["options"] = ["map", [[REVISION_KEY, str(revision)]]]
                    return
        uuid = self.view.router_uuid(project)
        if uuid is not None and not any(op["op"] == "delete" and op.get("where") ==
                                        [["_uuid", "==", ["uuid", uuid]]] for op in operations):
            operations.append({"op": "mutate", "table": "Logical_Router",
                               "where": [["_uuid", "==", ["uuid", uuid]]],
                               "mutations": [["options", "delete", ["set", [REVISION_KEY]]],
                                             ["options", "insert",
                                              ["map", [[REVISION_KEY, str(revision)]]]]]})

    def _refuse_foreign(self, project: str) -> None:
        """FAILED_PRECONDITION when another owner already has rows of this project."""
        org, _, name = project.partition("/")
        rows = self.client.select("Logical_Router", [
            ["external_ids", "includes", ["map", [[ORG_KEY, org], [PROJECT_KEY, name]]]],
            ["external_ids", "excludes", ["map", [[OWNER_KEY, self.owner]]]]],
            columns=["external_ids"])
        if rows:
            holder = dict(rows[0]["external_ids"][1]).get(OWNER_KEY, "another system")
            raise ServiceError("OWNED_ELSEWHERE", f"project {project} already exists in OVN, "
                                                  f"owned by {holder}")

    @staticmethod
    def _unavailable_as_error(call):
        try:
            return call()
        except ServiceError:
            raise
        except OvsdbError as error:
            raise ServiceError(Code.OVN_CONNECTION_FAILED, str(error)) from error


def _only(rows: RowSet, where: Collection[tuple[str, str]]) -> RowSet:
    """The rows of ``rows`` at ``where``."""
    found = RowSet()
    for table, key in where:
        row = rows.get(table, key)
        if row is not None:
            found.add(row)
    return found


def _by_uuid(operation: dict) -> str | None:
    """The UUID an operation selects by ``_uuid ==``, if it does."""
    where = operation.get("where")
    if isinstance(where, list) and len(where) == 1 and where[0][:2] == ["_uuid", "=="]:
        return where[0][2][1]
    return None


def _pairs(datum) -> dict:
    return dict(datum[1]) if isinstance(datum, list) and datum and datum[0] == "map" else {}


def _elements(datum) -> list:
    """The atoms of a set datum (a lone atom is a set of one; None is empty)."""
    if datum is None:
        return []
    if isinstance(datum, list) and len(datum) == 2 and datum[0] == "set":
        return list(datum[1])
    return [datum]


def _atom(element):
    return tuple(element) if isinstance(element, list) else element
