"""What a plan does to reachability: the connections it opens and the ones it closes.

A plan turns the rows it was computed against (the live Northbound or a snapshot,
drift included) into the rows it wants. Both are Northbound rows, so both are asked
the same question by the same row model (:class:`~netc.reach.rowmodel.RowModel`,
the one ``netc verify`` holds to the intent): which traffic does a new connection
from each port to each other port get through, replies included? And between each
port and the external network, through NAT rows and load-balancer VIPs (what a host
of each external region may open to the port, what the port may open to it)? Only the
projects the changes can touch are asked (:mod:`netc.reach.plan_scope`).

Asking every port pair twice would cost what the pair-by-pair ``verify`` did, so
ports are taken in classes: two ports the rows before *and* the rows after cannot
tell apart (:meth:`RowModel.signatures` on each side) behave alike in both, and one
representative pair answers for a class pair. Only class pairs that some route lets
meet on either side are asked. The difference of the two answers is what changes;
entries that open (or close) the same traffic are merged, so a reviewer reads "web
-> db: tcp/5432" once instead of once per port pair. The external network is cut into
regions by the address ranges the rows name (:func:`~netc.reach.rownat.external_hosts`:
``external:198.51.100.0/24`` for a range a rule names, ``external`` for the rest), one
sample host each; a region stands on one side of an edge alone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ipaddress import IPv4Address

from netc.compiler.rows import Row, RowSet
from netc.reach import rownat
from netc.reach.northbound import Northbound, UnsupportedRows, lsp_ips
from netc.reach.plan_scope import focus, restricted, rows_after
from netc.reach.rowmodel import RowModel
from netc.reach.trafficset import TrafficSet

EXTERNAL = "external"


@dataclass(frozen=True)
class ReachEdge:
    """Traffic newly allowed (or no longer allowed) from each of ``sources`` to each of
    ``targets``: port keys ``ORG/PROJECT/PORT`` of one project, or one external region
    (``external``, ``external:CIDR``)."""

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
    regions: dict[str, str] = field(default_factory=dict)
    """Each external region the edges name -> the host that answered for it."""
    unsupported: str = ""
    """Why reachability could not be computed (rows the model does not read), if so."""

    def __bool__(self) -> bool:
        return bool(self.opened or self.closed)

    def to_json(self) -> dict:
        found = {"opened": [e.to_json() for e in self.opened],
                 "closed": [e.to_json() for e in self.closed]}
        named = {side[0] for e in self.opened + self.closed for side in (e.sources, e.targets)}
        if named & set(self.regions):
            found["regions"] = {name: host for name, host in sorted(self.regions.items())
                                if name in named}
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

    def nat(self, key: str) -> tuple:
        """What the NAT rows and VIPs do for the port (its ways in and out), so that
        ports the ACLs treat alike but NAT does not are told apart."""
        router = self._router(key)
        if router is None:
            return ()
        ip = lsp_ips(self.lsps[key])[0]
        out = rownat.way_out(self.model.nb, router, ip)
        return (tuple(sorted(str(way) for way in rownat.ways_in(self.model.nb, router, ip))),
                None if out is None else str(out))

    def _router(self, key: str) -> Row | None:
        """The port's router, when it has a gateway port (else nothing external)."""
        if key not in self.lsps:
            return None
        router = self.model.router_of_port(self.lsps[key])
        if router is None or rownat.gateway_port(self.model.nb, router) is None:
            return None
        return router

    def inbound(self, host: IPv4Address, key: str) -> TrafficSet:
        """What the external ``host`` may open to the port, through any NAT row or VIP
        (as the port sees it)."""
        found = TrafficSet.nothing()
        if self._router(key) is not None:
            for _, verdict in self.model.deliver_inbound(host, self.lsps[key]):
                found = found | verdict.allowed
        return found

    def outbound(self, key: str, host: IPv4Address) -> TrafficSet:
        if self._router(key) is None:
            return TrafficSet.nothing()
        return self.model.deliver_outbound(self.lsps[key], host)[1].allowed


def plan_reachability(actual: RowSet, changes) -> ReachChanges:
    """What making ``changes`` (a plan's :class:`~netc.backends.diff.Change` list) to
    the rows ``actual`` opens and closes."""
    after = rows_after(actual, changes)
    projects = focus(actual, after, changes)
    if projects is not None:
        actual, after = restricted(actual, projects), restricted(after, projects)
    return reachability_changes(actual, after)


def reachability_changes(before: RowSet, after: RowSet) -> ReachChanges:
    """The connections ``after`` opens and closes with respect to ``before``."""
    try:
        return _Changes(_Side.of(before), _Side.of(after)).found()
    except UnsupportedRows as error:
        return ReachChanges(unsupported=str(error))


class _Changes:
    """The differences, class pair by class pair; a class is a list of port keys (or
    one region's name) in :attr:`members`, named by its index there."""

    def __init__(self, old: _Side, new: _Side) -> None:
        self.old, self.new = old, new
        classes: dict[tuple, list[str]] = defaultdict(list)
        for key in sorted(set(old.lsps) | set(new.lsps)):
            classes[(old.signatures.get(key), new.signatures.get(key),
                     old.nat(key), new.nat(key))].append(key)
        self.members = list(classes.values())
        # the classes some NAT row or VIP lets in or out, on either side
        self.natted = [index for index, signature in enumerate(classes)
                       if signature[2] or signature[3]]
        self.opened: dict[tuple[int, int], TrafficSet] = {}
        self.closed: dict[tuple[int, int], TrafficSet] = {}
        self.regions: dict[str, str] = {}

    def found(self) -> ReachChanges:
        self._between_ports()
        self._with_the_outside()
        return ReachChanges(_merged(self.opened, self.members),
                            _merged(self.closed, self.members), self.regions)

    def _note(self, pair: tuple[int, int], was: TrafficSet, now: TrafficSet) -> None:
        if now - was:
            self.opened[pair] = now - was
        if was - now:
            self.closed[pair] = was - now

    def _between_ports(self) -> None:
        old, new, members = self.old, self.new, self.members
        by_switch: dict[str, list[int]] = defaultdict(list)
        for index, keys in enumerate(members):
            for switch in {old.switch(keys[0]), new.switch(keys[0])} - {None}:
                by_switch[switch].append(index)
        for i, sources in enumerate(members):
            src = sources[0]
            candidates = {j for switch in old.reachable(src) | new.reachable(src)
                          for j in by_switch.get(switch, ())}
            for j in sorted(candidates):
                targets = members[j]
                if i == j and len(sources) < 2:
                    continue
                dst = targets[1] if i == j else targets[0]
                self._note((i, j), old.allowed(src, dst), new.allowed(src, dst))

    def _with_the_outside(self) -> None:
        old, new, classes = self.old, self.new, self.natted
        if not classes:
            return
        constants = [*old.model.address_intervals(), *new.model.address_intervals()]
        for name, host in rownat.external_hosts([old.model.nb, new.model.nb], constants):
            region = len(self.members)
            self.members.append([name])
            self.regions[name] = str(host)
            for i in classes:
                key = self.members[i][0]
                self._note((region, i), old.inbound(host, key), new.inbound(host, key))
                self._note((i, region), old.outbound(key, host), new.outbound(key, host))


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


def _project(key: str) -> str:
    """A port key's project; an external region is a side of its own."""
    return key if key.startswith(EXTERNAL) else key.rpartition("/")[0]


