"""A live view of the rows one owner holds in the Northbound, kept current by an OVSDB
``monitor_cond`` instead of being read again for every change.

Why our own client's monitor and not python-ovs's IDL: the IDL mirrors whole tables
(every foreign row too) and writes through its own transaction objects, while netc
already builds its one transaction itself (:mod:`~netc.backends.ovn_nb.txn`) and
needs the owned rows only; a condition on ``netc:owner`` makes the server send just
those, the same condition :mod:`~netc.backends.ovn_nb.state` reads with.

The view answers per project: the rows of one project plus the global rows (the
default-drop group, the external switch), as a state that the shared diff and the
transaction builder take like a full :class:`~netc.backends.ovn_nb.state.OwnedState`,
but whose ``wait`` guard covers only those rows. Planning one project so costs what
that project holds, not what the whole database holds, and writers of different
projects do not fail each other's guards (except on the few global rows).

The view is only a cache: every transaction built from it is guarded by the
versions it saw, so a stale view costs a retry, never a wrong write. After its own
commit the caller waits (:meth:`OwnedView.await_commit`) until the monitor has
delivered that transaction, so the next plan sees it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Collection, Iterator
from typing import Any

from netc import sorted_sets
from netc.backends.ovn_nb.codec import foreign_ref, reader
from netc.backends.ovn_nb.ovsdb import OvsdbClient
from netc.backends.ovn_nb.schema import NbSchema
from netc.backends.ovn_nb.state import owned_tables, owner_condition, read_columns
from netc.compiler.names import router_key
from netc.compiler.rows import KEY_KEY, ORG_KEY, OWNER_KEY, PROJECT_KEY, Ref, Row

MONITOR_ID = "netc-owned"
REVISION_KEY = "netc:revision"
"""In a project's Logical_Router ``options``: the store revision of the project's rows
that OVN holds (written by the service, see :meth:`OwnedView.applied_revision`)."""
EXTRA_COLUMNS = {"Logical_Router": ["options"]}
"""Monitored beyond what netc compares, and kept out of the rows the diff sees."""
CATCH_UP_SECONDS = 5.0
"""How long to wait for the monitor to deliver one's own committed transaction."""


class OwnedView:
    """Every row ``owner`` holds, by table and UUID, decoded on demand."""

    def __init__(self, client: OvsdbClient, schema: NbSchema, owner: str) -> None:
        self.client = client
        self.schema = schema
        self.owner = owner
        self.lock = threading.RLock()
        """Held by whoever uses the client: the view and the writers share it."""
        self._generation = -1
        self._monitors = 0
        self._monitor_id = ""
        self._raw: dict[str, dict[str, dict[str, Any]]] = {}
        self._key_by_uuid: dict[str, tuple[str, str]] = {}
        self._uuid_by_key: dict[tuple[str, str], str] = {}
        self._by_project: dict[str | None, set[tuple[str, str]]] = {}
        self._project_by_key: dict[tuple[str, str], str | None] = {}
        self._decoded: dict[tuple[str, str], Row] = {}
        self._sets: dict[str, dict[str, dict]] = {}
        """UUID -> column -> the elements of a set column, once it has been modified."""
        self._gone: dict[str, tuple[str, str]] = {}
        self._shares: dict[tuple[str, str], tuple[Row, dict[str, _Shares]]] = {}
        """Global row -> (its decoded row, column -> its references by project): see
        :meth:`share`."""
        self._share_rows: dict[tuple[str, str, str], tuple[Row, Row]] = {}
        """(table, key, project) -> (the decoded row, the project's share of it)."""
        """Rows forgotten while applying one update: their keys, for :meth:`_ref_of`."""
        self._readers = {table: {name: reader(ctype, self._key_of)
                                 for name, ctype in schema.table(table).columns.items()}
                         for table in owned_tables(schema)}
        self.updates_seen = 0

    # -- keeping current -------------------------------------------------------------

    def sync(self) -> None:
        """Apply what the server sent since the last call; (re)start the monitor when
        the connection is new (first use, reconnect, failover to another member)."""
        with self.lock:
            if self.client.generation == self._generation and self.client.poll():
                return
            self._restart()

    def _restart(self) -> None:
        self.client.connect()
        condition = [owner_condition(self.owner)]
        requests = {table: [{"columns": [c for c in read_columns(table) if c != "_uuid"]
                             + EXTRA_COLUMNS.get(table, []), "where": condition}]
                    for table in owned_tables(self.schema)}
        self._monitors += 1
        self._monitor_id = f"{MONITOR_ID}-{self._monitors}"  # a fresh id: the server may
        initial = self.client.monitor_cond(self._monitor_id, requests, self._on_update)
        self._generation = self.client.generation        # still hold the old monitor
        self._raw = {table: {} for table in owned_tables(self.schema)}
        self._key_by_uuid.clear()
        self._uuid_by_key.clear()
        self._by_project.clear()
        self._project_by_key.clear()
        self._decoded.clear()
        self._sets.clear()
        self._shares.clear()
        self._share_rows.clear()
        self._apply(initial)

    def _on_update(self, message: dict) -> None:
        params = message.get("params") or []
        if len(params) == 2 and params[0] == self._monitor_id:
            self._apply(params[1])
            self.updates_seen += 1

    def _apply(self, tables: dict) -> None:
        patches = []
        for table, changes in tables.items():
            rows = self._raw.setdefault(table, {})
            for uuid, change in changes.items():
                (kind, value), = change.items()
                if kind == "delete":
                    self._forget(table, uuid)
                    rows.pop(uuid, None)
                    self._sets.pop(uuid, None)
                    continue
                decoded = None
                if kind == "modify":
                    decoded = self._decoded.get(self._key_by_uuid.get(uuid, ("", "")))
                    diff, value = value, self._modified(uuid, rows.get(uuid, {}), value,
                                                        self.schema.table(table).columns)
                    self._forget(table, uuid)
                    if decoded is not None:
                        patches.append((table, uuid, decoded, diff))
                rows[uuid] = value
                self._remember(table, uuid, value)
        for table, uuid, decoded, diff in patches:  # every row of the update known now
            self._patch_decoded(table, uuid, decoded, diff)
        self._gone.clear()

    def _modified(self, uuid: str, old: dict[str, Any], diff: dict[str, Any],
                  types: dict) -> dict[str, Any]:
        """A row after an ``update2`` ``modify`` (RFC 7047 as extended by ovsdb-server): a
        scalar column holds its new value; for a set column (optional ones included) the
        diff holds the elements to add or remove; for a map the pairs to add, to remove
        (same key and value) or to change (same key, new value). A set column's elements
        are indexed once and then toggled, so a port group of thousands of ports gaining
        one costs one element, not thousands."""
        row = dict(old)
        for column, change in diff.items():
            ctype = types.get(column)
            before = row.get(column)
            if ctype is None or ctype.is_scalar:
                row[column] = change
            elif ctype.is_map:
                pairs = {_hashable(k): v for k, v in (before[1] if _tagged(before, "map") else [])}
                for k, v in change[1]:
                    k = _hashable(k)
                    if k in pairs and pairs[k] == v:
                        del pairs[k]
                    else:
                        pairs[k] = v
                row[column] = ["map", [[list(k) if isinstance(k, tuple) else k, v]
                                       for k, v in pairs.items()]]
            else:
                indexed = self._sets.setdefault(uuid, {})
                current = indexed.get(column)
                if current is None:
                    current = indexed[column] = {_hashable(e): e for e in _elements(before)}
                for element in _elements(change):
                    key = _hashable(element)
                    if key in current:
                        del current[key]
                    else:
                        current[key] = element
                row[column] = ["set", list(current.values())]
        return row

    def _patch_decoded(self, table: str, uuid: str, decoded: Row, diff: dict) -> None:
        """The decoded row of ``uuid`` after ``diff``, from the one decoded before: a
        set of references (of strings) toggles the keys of the elements (the elements)
        in ``diff`` in its sorted list, any other column is decoded anew; a port group
        of thousands of ports gaining one is not decoded, nor sorted, again whole."""
        where = self._key_by_uuid.get(uuid)
        if where is None or where != (decoded.table, decoded.key):
            return
        readers = self._readers[table]
        types = self.schema.table(table).columns
        raw = self._raw[table][uuid]
        columns = dict(decoded.columns)
        shares = self._shares.pop(where, None)
        shares = shares[1] if shares is not None and shares[0] is decoded else None
        for column in diff:
            if column not in readers or column in EXTRA_COLUMNS.get(table, ()):
                continue
            ctype = types[column]
            if _is_string_set(ctype):  # an address set's addresses
                columns[column] = sorted_sets.toggled(columns.get(column) or [],
                                                      _elements(diff[column]))
            elif _is_ref_set(ctype):
                toggled = {self._ref_of(atom[1]) for atom in _elements(diff[column])}
                columns[column] = sorted_sets.toggled(columns.get(column) or [], toggled)
                if shares is not None:
                    shares[column].toggle(toggled, lambda ref: self._project_by_key.get(
                        (ctype.key_ref, ref)))
            else:
                columns[column] = readers[column](raw[column]) if column in raw else None
        self._decoded[where] = Row(table, decoded.key, columns)
        if shares is not None:
            self._shares[where] = (self._decoded[where], shares)

    def _ref_of(self, uuid: str) -> Ref:
        """The reference a row decoded now holds to ``uuid`` (a row deleted by the update
        being applied still answers by its key)."""
        where = self._key_by_uuid.get(uuid) or self._gone.get(uuid)
        return Ref(where[1]) if where is not None else foreign_ref(uuid)

    def _remember(self, table: str, uuid: str, row: dict) -> None:
        ids = dict(row.get("external_ids", ["map", []])[1])
        key = ids.get(KEY_KEY)
        if key is None or ids.get(OWNER_KEY) != self.owner or (table, key) in self._uuid_by_key:
            return  # no identity, or a duplicate of a key (left alone, as the reader does)
        self._key_by_uuid[uuid] = (table, key)
        self._uuid_by_key[(table, key)] = uuid
        project = f"{ids[ORG_KEY]}/{ids[PROJECT_KEY]}" if PROJECT_KEY in ids else None
        self._by_project.setdefault(project, set()).add((table, key))
        self._project_by_key[(table, key)] = project

    def _forget(self, table: str, uuid: str) -> None:
        where = self._key_by_uuid.pop(uuid, None)
        if where is None:
            return
        self._gone[uuid] = where
        self._uuid_by_key.pop(where, None)
        self._decoded.pop(where, None)
        self._by_project.get(self._project_by_key.pop(where, None), set()).discard(where)

    def await_commit(self, results: list[dict], touched: dict[str, str]) -> None:
        """Wait until the monitor has delivered the transaction that gave ``results``:
        its inserted rows are in the view, or one of the ``touched`` rows (UUID -> the
        version read before) changed or vanished."""
        inserted = [r["uuid"][1] for r in results if isinstance(r, dict) and "uuid" in r]
        deadline = time.monotonic() + CATCH_UP_SECONDS
        with self.lock:
            while True:
                if inserted and all(self._known(u) for u in inserted):
                    return
                if not inserted and any(self._version(u) != v for u, v in touched.items()):
                    return
                if time.monotonic() > deadline or not self.client.poll():
                    self._generation = -1  # resynchronise from scratch on next use
                    return
                time.sleep(0.001)

    def _known(self, uuid: str) -> bool:
        return any(uuid in rows for rows in self._raw.values())

    def _version(self, uuid: str) -> str | None:
        for rows in self._raw.values():
            if uuid in rows:
                return rows[uuid].get("_version", [None, None])[1]
        return None

    # -- reading ---------------------------------------------------------------------

    def _key_of(self, uuid: str) -> str | None:
        where = self._key_by_uuid.get(uuid)
        return where[1] if where else None

    def row(self, table: str, key: str) -> Row | None:
        where = (table, key)
        row = self._decoded.get(where)
        if row is None:
            uuid = self._uuid_by_key.get(where)
            if uuid is None:
                return None
            readers = self._readers[table]
            raw = self._raw[table][uuid]
            extra = EXTRA_COLUMNS.get(table, ())
            row = Row(table, key, {name: readers[name](datum) for name, datum in raw.items()
                                   if name in readers and name not in extra})
            self._decoded[where] = row
        return row

    def share(self, table: str, key: str, project: str) -> Row | None:
        """A global row as ``project`` sees it: its sets of references hold only those
        to rows of ``project`` and to rows of no project. The default-drop group holds
        every port of every project; a project's plan and its transaction then work
        with its own ports there (added and removed as mutations, which leave the
        others' alone), not with the whole world's."""
        row = self.row(table, key)
        if row is None:
            return None
        seen = self._share_rows.get((table, key, project))
        if seen is not None and seen[0] is row:
            return seen[1]
        indexed = self._shares.get((table, key))
        if indexed is None or indexed[0] is not row:
            types = self.schema.table(table).columns
            indexed = self._shares[(table, key)] = (row, {
                column: _Shares(row.columns.get(column) or (),
                                lambda ref, target=types[column].key_ref:
                                self._project_by_key.get((target, ref)))
                for column in self._readers[table] if _is_ref_set(types[column])})
        columns = dict(row.columns)
        for column, shares in indexed[1].items():
            columns[column] = shares.of(project, None)
        share = Row(table, key, columns)
        self._share_rows[(table, key, project)] = (row, share)
        return share

    def uuid(self, table: str, key: str) -> str | None:
        return self._uuid_by_key.get((table, key))

    def projects(self) -> set[str]:
        return {p for p, members in self._by_project.items() if p is not None and members}

    def router_uuid(self, project: str) -> str | None:
        """The ``_uuid`` of the project's Logical_Router, if OVN has it."""
        return self._uuid_by_key.get(("Logical_Router", router_key(project)))

    def applied_revision(self, project: str) -> int | None:
        """The store revision whose rows of ``project`` OVN holds, as the service last
        wrote it in the project's router's ``options:netc:revision`` (None: unknown).
        Every write of the service's is guarded by the router's ``_version``, so this
        can only grow while the project exists."""
        uuid = self.router_uuid(project)
        if uuid is None:
            return None
        options = self._raw["Logical_Router"][uuid].get("options", ["map", []])
        value = dict(options[1]).get(REVISION_KEY) if _tagged(options, "map") else None
        return int(value) if value and value.isdigit() else None

    def scoped(self, project: str) -> "ScopedState":
        """The rows of ``project`` and the global rows, as a state to plan against."""
        return ScopedState(self, project)


class ScopedRows:
    """A RowSet-like window on the view for one project: iterates the project's and
    the global rows (these as the project sees them, :meth:`OwnedView.share`), answers
    ``get`` for any owned row and which project an owned row belongs to."""

    shares = True
    """Global rows are shown as the project's share (for the diff: no other project's
    references to keep)."""

    def __init__(self, view: OwnedView, members: Collection[tuple[str, str]],
                 project: str) -> None:
        self.view = view
        self._members = members
        self.project = project

    @functools.cached_property
    def members(self) -> list[tuple[str, str]]:
        """The rows' (table, key), sorted on first use: a plan of the touched rows
        alone never iterates a project of thousands of rows."""
        return sorted(self._members)

    def get(self, table: str, key: str) -> Row | None:
        """The row; a global one as the project sees it (:meth:`OwnedView.share`)."""
        if (table, key) in self.view._project_by_key and \
                self.view._project_by_key[(table, key)] is None:
            return self.view.share(table, key, self.project)
        return self.view.row(table, key)

    def project_of(self, table: str, key: str) -> str | None:
        """The project of an owned row, from the view's index (no row decoded): the
        diff asks it for every member of the default-drop group."""
        return self.view._project_by_key.get((table, key))

    def __iter__(self) -> Iterator[Row]:
        for table, key in self.members:
            yield self.get(table, key)

    def __len__(self) -> int:
        return len(self._members)


class ScopedState:
    """What :func:`~netc.backends.ovn_nb.txn.build_operations` needs of an owned state,
    for one project: its rows, the UUIDs to address, and a guard on just those rows."""

    duplicates: list = []

    def __init__(self, view: OwnedView, project: str) -> None:
        self.view = view
        self.project = project
        self._own = frozenset(view._by_project.get(project, ()))
        self._shared = sorted(view._by_project.get(None, ()))  # a few global rows
        self.rows = ScopedRows(view, self._own.union(self._shared), project)

    def uuid(self, table: str, key: str) -> str | None:
        return self.view.uuid(table, key)

    def only(self, where) -> ScopedRows:
        """The rows at ``where`` (table, key) that the view holds, to diff just those."""
        return ScopedRows(self.view, sorted(k for k in where if self.view.uuid(*k) is not None),
                          self.project)

    def versions(self) -> dict[str, str]:
        """UUID -> _version of every row the guard covers."""
        found = {}
        own = self._own if self.guarded is None else self.guarded
        for table, key in [*own, *self._shared]:
            uuid = self.view.uuid(table, key)
            found[uuid] = self.view._raw[table][uuid]["_version"][1]
        return found

    guarded: list[tuple[str, str]] | None = None
    """With :meth:`guard_only`: the project's rows the guard covers (else all of them)."""

    def guard_only(self, keys) -> None:
        """Guard only these rows of the project (those the transaction writes, and the
        one every writer of the project writes: its router), not every row of it: a
        row nobody writes here cannot be overwritten by this transaction, and rows
        netc does not write (northd's ``up`` of a port) then fail no guard. A project
        with no rows yet keeps the whole guard: two first writers must not both
        create it."""
        if self._own:
            self.guarded = sorted(k for k in set(keys) if k in self._own)

    def wait_operations(self) -> list[dict]:
        """Fail the transaction if a row of the project appeared, vanished or changed
        (one ``wait`` per table, selected by owner and project), or if one of the
        global rows read changed (one ``wait`` per row, by UUID). After
        :meth:`guard_only`, the project's rows are guarded one by one, like the
        global rows."""
        if self.guarded is not None:
            return [self._row_wait(table, key) for table, key in self.guarded + self._shared]
        org, _, name = self.project.partition("/")
        condition = ["external_ids", "includes",
                     ["map", [[OWNER_KEY, self.view.owner], [ORG_KEY, org], [PROJECT_KEY, name]]]]
        by_table: dict[str, list[str]] = {table: [] for table in owned_tables(self.view.schema)}
        for table, key in sorted(self._own):
            uuid = self.view.uuid(table, key)
            by_table[table].append(self.view._raw[table][uuid]["_version"][1])
        operations = [{"op": "wait", "timeout": 0, "table": table, "where": [condition],
                       "columns": ["_version"], "until": "==",
                       "rows": [{"_version": ["uuid", v]} for v in sorted(versions)]}
                      for table, versions in sorted(by_table.items())]
        operations.extend(self._row_wait(table, key) for table, key in self._shared)
        return operations

    def _row_wait(self, table: str, key: str) -> dict:
        uuid = self.view.uuid(table, key)
        return {"op": "wait", "timeout": 0, "table": table,
                "where": [["_uuid", "==", ["uuid", uuid]]], "columns": ["_version"],
                "until": "==", "rows": [{"_version": self.view._raw[table][uuid]["_version"]}]}


class _Shares:
    """The references of one set column of a global row, by the project of the row
    each refers to (None: a global row, or one netc does not own), each project's
    kept sorted: a share is then what a decoded row holds, with no sort per plan."""

    def __init__(self, refs, project_of) -> None:
        self._project: dict[Ref, str | None] = {}
        self._refs: dict[str | None, list[Ref]] = {}
        for ref in refs:
            project = self._project[ref] = project_of(ref)
            self._refs.setdefault(project, []).append(ref)
        for held in self._refs.values():
            held.sort()

    def toggle(self, refs, project_of) -> None:
        """Remove each of ``refs`` held, add each not held. A project's list is replaced,
        never changed in place: shares handed out keep what they were given."""
        by_project: dict[str | None, list[Ref]] = {}
        for ref in refs:
            if ref in self._project:
                project = self._project.pop(ref)
            else:
                project = self._project[ref] = project_of(ref)
            by_project.setdefault(project, []).append(ref)
        for project, toggled in by_project.items():  # one copy of each project's list
            self._refs[project] = sorted_sets.toggled(self._refs.get(project, []), toggled)

    def of(self, *projects: str | None) -> list[Ref]:
        """The sorted references to rows of any of ``projects``."""
        held = [self._refs[project] for project in projects if self._refs.get(project)]
        if len(held) == 1:
            return held[0]
        return sorted(ref for refs in held for ref in refs)


def _is_string_set(ctype) -> bool:
    """A set (not a map, not at most one) of strings."""
    return ctype.key == "string" and not (ctype.is_map or ctype.is_scalar or ctype.is_optional)


def _is_ref_set(ctype) -> bool:
    """A set (not a map, not at most one) of references."""
    return bool(ctype.key_ref) and not (ctype.is_map or ctype.is_scalar or ctype.is_optional)


def _tagged(datum: Any, tag: str) -> bool:
    return isinstance(datum, list) and len(datum) == 2 and datum[0] == tag


def _hashable(atom: Any) -> Any:
    """``["uuid", U]`` atoms as tuples, so they can key a dict."""
    return tuple(atom) if isinstance(atom, list) else atom


def _elements(datum: Any) -> list:
    """The atoms of a set datum (a lone atom is a set of one)."""
    if datum is None:
        return []
    if _tagged(datum, "set"):
        return list(datum[1])
    return [datum]
