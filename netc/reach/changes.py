"""What a plan does to reachability: the connections it opens and the ones it closes.

A plan turns the rows it was computed against (the live Northbound or a snapshot,
drift included) into the rows it wants. Both are Northbound rows, so both are asked
the same question by the same row model (:class:`~netc.reach.rowmodel.RowModel`,
the one ``netc verify`` holds to the intent): which traffic does a new connection
from each port to each other port get through, replies included?

A plan of one project in a world of thousands asks only about the part of the world
its changes can touch (:func:`focus`): the projects of the changed rows and the
projects routed to them. Other pairs keep their path and every row on it (their
switches, routers, port groups and address sets belong to untouched projects; the
global rows they meet change only for ports of the changed projects), unless a global
ACL or address set changes, which may touch every pair: then the whole world is asked.

Asking every port pair twice would cost what the pair-by-pair ``verify`` did, so
ports are taken in classes: two ports the rows before *and* the rows after cannot
tell apart (:meth:`RowModel.signatures` on each side) behave alike in both, and one
representative pair answers for a class pair. Only class pairs that some route lets
meet on either side are asked. The difference of the two answers is what changes;
entries that open (or close) the same traffic are merged, so a reviewer reads "web
-> db: tcp/5432" once instead of once per port pair.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from netc.compiler.rows import Row, RowSet
from netc.compiler.schema import TABLES
from netc.reach.northbound import Northbound, UnsupportedRows, lsp_ips
from netc.reach.rowmodel import RowModel
from netc.reach.trafficset import TrafficSet


@dataclass(frozen=True)
class ReachEdge:
    """Traffic newly allowed (or no longer allowed) from each of ``sources`` to each of
    ``targets`` (port keys ``ORG/PROJECT/PORT``)."""

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    traffic: TrafficSet

    def to_json(self) -> dict:
        return {"from": list(self.sources), "to": list(self.targets),
                "traffic": self.traffic.labels()}


@dataclass
class ReachChanges:
    opened: list[ReachEdge] = field(default_factory=list)
    closed: list[ReachEdge] = field(default_factory=list)
    unsupported: str = ""
    """Why reachability could not be computed (rows the model does not read), if so."""

    def __bool__(self) -> bool:
        return bool(self.opened or self.closed)

    def to_json(self) -> dict:
        found = {"opened": [e.to_json() for e in self.opened],
                 "closed": [e.to_json() for e in self.closed]}
        if self.unsupported:
            found["unsupported"] = self.unsupported
        return found


@dataclass
class _Side:
    """One set of rows, with the VM ports it holds by key."""

    model: RowModel
    lsps: dict[str, Row]
    signatures: dict[str, tuple]

    @classmethod
    def of(cls, rows: RowSet) -> _Side:
        model = RowModel(Northbound(rows), strict=False)
        lsps = {key: lsp for key, lsp in model.nb.by_port_key.items() if lsp_ips(lsp)}
        by_name = model.signatures(list(lsps.values()))
        return cls(model, lsps, {key: by_name[lsp.columns["name"]]
                                 for key, lsp in lsps.items()})

    def switch(self, key: str) -> str | None:
        return self.signatures[key][0] if key in self.signatures else None

    def reachable(self, key: str) -> frozenset[str]:
        switch = self.switch(key)
        return self.model.reachable_switches(switch) if switch is not None else frozenset()

    def allowed(self, src: str, dst: str) -> TrafficSet:
        if src not in self.lsps or dst not in self.lsps:
            return TrafficSet.nothing()
        return self.model.deliver(self.lsps[src], self.lsps[dst]).allowed


def plan_reachability(actual: RowSet, changes) -> ReachChanges:
    """What making ``changes`` (a plan's :class:`~netc.backends.diff.Change` list) to
    the rows ``actual`` opens and closes."""
    after = rows_after(actual, changes)
    projects = focus(actual, after, changes)
    if projects is not None:
        actual, after = restricted(actual, projects), restricted(after, projects)
    return reachability_changes(actual, after)


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


def reachability_changes(before: RowSet, after: RowSet) -> ReachChanges:
    """The connections ``after`` opens and closes with respect to ``before``."""
    try:
        old, new = _Side.of(before), _Side.of(after)
    except UnsupportedRows as error:
        return ReachChanges(unsupported=str(error))
    classes: dict[tuple, list[str]] = defaultdict(list)
    for key in sorted(set(old.lsps) | set(new.lsps)):
        classes[(old.signatures.get(key), new.signatures.get(key))].append(key)
    members = list(classes.values())
    by_switch: dict[str, list[int]] = defaultdict(list)
    for index, keys in enumerate(members):
        for switch in {old.switch(keys[0]), new.switch(keys[0])} - {None}:
            by_switch[switch].append(index)
    opened: dict[tuple[int, int], TrafficSet] = {}
    closed: dict[tuple[int, int], TrafficSet] = {}
    for i, sources in enumerate(members):
        src = sources[0]
        candidates = {j for switch in old.reachable(src) | new.reachable(src)
                      for j in by_switch.get(switch, ())}
        for j in sorted(candidates):
            targets = members[j]
            if i == j and len(sources) < 2:
                continue
            dst = targets[1] if i == j else targets[0]
            was, now = old.allowed(src, dst), new.allowed(src, dst)
            if now - was:
                opened[(i, j)] = now - was
            if was - now:
                closed[(i, j)] = was - now
    return ReachChanges(_merged(opened, members), _merged(closed, members))


def _merged(found: dict[tuple[int, int], TrafficSet], members: list[list[str]]) -> list[ReachEdge]:
    """Class pairs as edges: the target classes of one source class that get equal
    traffic share an edge when they are in one project, then so do the source classes
    of one project with equal targets and traffic. Each side of an edge is thus ports
    of one project (a class pair with itself lists the class once on each side: its
    ports reach each other)."""
    targets: dict[tuple[int, str, TrafficSet], list[int]] = defaultdict(list)
    for (i, j), traffic in found.items():
        targets[(i, _project(members[j][0]), traffic)].append(j)
    sources: dict[tuple[str, tuple[str, ...], TrafficSet], list[str]] = defaultdict(list)
    for (i, _, traffic), js in targets.items():
        to = tuple(sorted(key for j in js for key in members[j]))
        sources[(_project(members[i][0]), to, traffic)].extend(members[i])
    edges = [ReachEdge(tuple(sorted(froms)), to, traffic)
             for (_, to, traffic), froms in sources.items()]
    edges.sort(key=lambda e: (e.sources, e.targets, e.traffic.labels()))
    return edges


def _project(port_key: str) -> str:
    return port_key.rpartition("/")[0]


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
