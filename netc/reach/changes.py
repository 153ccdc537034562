"""What a plan does to reachability: the connections it opens and the ones it closes.

A plan turns the rows it was computed against (the live Northbound or a snapshot,
drift included) into the rows it wants. Both are Northbound rows, so both are asked
the same question by the same row model (:class:`~netc.reach.rowmodel.RowModel`,
the one ``netc verify`` holds to the intent): which traffic does a new connection
from each port to each other port get through, replies included?

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
    return reachability_changes(actual, rows_after(actual, changes))


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
