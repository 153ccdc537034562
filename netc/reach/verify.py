"""``netc verify``: the matrix by classes, and the rows held to it class pair by class pair.

The intent's answer comes from :class:`~netc.reach.classes.ClassModel`. What the rows
do comes from :class:`~netc.reach.rowmodel.RowModel`. Neither knows the other's
classes, so both are put together: a :class:`Cell` is a class of the intent cut by
what the rows can tell apart (switch, port groups, address constants...), and every
cell pair that the intent or the rows let meet at all (same project, mutual peers,
or a route between their switches) is asked once, for all traffic: the intent's
exact set against the rows' (new connection and replies). Every difference is
reported as a :class:`Mismatch` with the pair-by-pair evaluator's account of one
sample question, and a difference that lets two projects that do not peer talk is
also an isolation breach (contract 2.1).

Every port of a cell is the same to both models, which is what makes one
representative pair per cell pair stand for all of them (the property test holds the
class answers to the pair-by-pair ones on random worlds).

The external network (contract 2.8) is held the same way by :func:`check_external`:
each cell of a project with NAT, against a sample host of every piece of the external
address space that the intent's CIDRs and the rows' address constants cut, through
each DNAT (keyed by its external address and port, so a wrong external or internal
port shows) and out by SNAT or a floating IP (a wrong source address shows).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ipaddress import IPv4Address

from netc.compiler.rows import Row
from netc.reach import rownat
from netc.reach.classes import ClassModel, PortClass
from netc.reach.nat import distinct_pieces, internal_networks, network_interval, pieces_outside
from netc.reach.northbound import Northbound
from netc.reach.rowmodel import RowModel, RowVerdict
from netc.reach.trafficset import TrafficSet


@dataclass(frozen=True, eq=False)
class Cell:
    """Ports that both the intent and the rows treat alike."""

    cls: PortClass
    ports: tuple[str, ...]
    """Port keys, sorted; the first is the representative."""
    lsps: tuple[Row, ...]
    """Their Logical_Switch_Ports, in the same order."""
    switch: str | None
    """Key of the switch they are on."""

    @property
    def representative(self) -> str:
        return self.ports[0]

    def __repr__(self) -> str:
        return f"Cell({self.cls.id}, {len(self.ports)} port(s))"


def make_cells(model: ClassModel, rows: RowModel, lsp_of: dict[str, Row],
               extra: Callable[[Row], object] | None = None) -> list[Cell]:
    """Cut every class by the rows' signatures (and ``extra(lsp)``, if given).
    Ports the rows do not hold (``lsp_of`` lacks them) are left out."""
    signatures = rows.signatures(list(lsp_of.values()))
    grouped: dict[tuple, list[str]] = defaultdict(list)
    for cls in model.classes:
        for key in cls.ports:
            lsp = lsp_of.get(key)
            if lsp is None:
                continue
            signature = signatures[lsp.columns["name"]]
            grouped[(id(cls), signature, extra(lsp) if extra else None)].append(key)
    by_id = {id(cls): cls for cls in model.classes}
    cells = []
    for (cls_id, signature, _), keys in grouped.items():
        keys.sort()
        cells.append(Cell(by_id[cls_id], tuple(keys), tuple(lsp_of[k] for k in keys),
                          signature[0]))
    cells.sort(key=lambda c: (c.cls.id, c.ports[0]))
    return cells


def cell_pairs(model: ClassModel, rows: RowModel, cells: list[Cell]) -> Iterator[tuple[Cell, Cell]]:
    """Every ordered cell pair holding two distinct ports that may meet: by the intent
    (same project, mutual peers) or by the rows (a route between their switches)."""
    by_switch: dict[str | None, list[Cell]] = defaultdict(list)
    by_project: dict[str, list[Cell]] = defaultdict(list)
    for cell in cells:
        by_switch[cell.switch].append(cell)
        by_project[cell.cls.project].append(cell)
    for src in cells:
        seen: set[int] = set()
        candidates: list[Cell] = []
        for project in (src.cls.project, *model.peers.get(src.cls.project, ())):
            candidates.extend(by_project.get(project, ()))
        if src.switch is not None:
            for switch in rows.reachable_switches(src.switch):
                candidates.extend(by_switch.get(switch, ()))
        for dst in candidates:
            if id(dst) in seen or (dst is src and len(src.ports) < 2):
                continue
            seen.add(id(dst))
            yield src, dst


@dataclass
class Mismatch:
    """Traffic between two cells on which the rows do not do what the intent means."""

    src: Cell
    dst: Cell
    traffic: TrafficSet
    intent: bool
    """The intent allows this traffic."""
    rows: bool
    """The rows let its new connection through."""
    replies: bool
    """... and its replies back."""
    unpeered: bool
    """The two projects do not peer each other (a breach of isolation if ``rows``)."""
    detail: str = ""


@dataclass
class RowsCheck:
    cells: list[Cell]
    pairs: int
    mismatches: list[Mismatch] = field(default_factory=list)
    external_questions: int = 0
    external: list[ExternalMismatch] = field(default_factory=list)

    @property
    def breaches(self) -> list[Mismatch]:
        return [m for m in self.mismatches if m.unpeered and m.rows]


def mismatches_of(model: ClassModel, src: Cell, dst: Cell, verdict: RowVerdict) -> list[Mismatch]:
    intent = model.traffic(src.cls, dst.cls)
    unpeered = not model.peered(src.cls.project, dst.cls.project)
    found = []
    regions = ((intent - verdict.forward, True, False, False),
               ((intent & verdict.forward) - verdict.reply, True, True, False),
               ((verdict.forward - intent) & verdict.reply, False, True, True),
               ((verdict.forward - intent) - verdict.reply, False, True, False))
    for traffic, allow, rows, replies in regions:
        if traffic:
            found.append(Mismatch(src, dst, traffic, allow, rows, replies, unpeered))
    return found


def check_rows(model: ClassModel, nb: Northbound,
               explain: Callable[[str, str, TrafficSet], str] | None = None) -> RowsCheck:
    """Hold the rows to the intent on every cell pair (offline ``netc verify``)."""
    rows = RowModel(nb)
    lsp_of = {key: lsp for key in model.class_of if (lsp := nb.by_port_key.get(key)) is not None}
    cells = make_cells(model, rows, lsp_of)
    check = RowsCheck(cells, 0)
    missing = sorted(set(model.class_of) - set(lsp_of))
    for key in missing:
        cls = model.class_of[key]
        lone = Cell(cls, (key,), (), None)
        check.mismatches.append(Mismatch(lone, lone, TrafficSet.everything(), True, False,
                                         False, False, f"port {key} has no emitted switch port"))
    for src, dst in cell_pairs(model, rows, cells):
        check.pairs += 1
        i, j = representatives(src, dst)
        verdict = rows.deliver(src.lsps[i], dst.lsps[j])
        for mismatch in mismatches_of(model, src, dst, verdict):
            if explain is not None:
                mismatch.detail = explain(src.ports[i], dst.ports[j], mismatch.traffic)
            check.mismatches.append(mismatch)
    check.external_questions, check.external = check_external(model, rows, cells)
    return check


def representatives(src: Cell, dst: Cell) -> tuple[int, int]:
    """Indices of the pair that stands for the cell pair: the first ports (the
    second of the destination when both are one cell)."""
    return 0, 1 if dst is src else 0


def sample_pairs(src: Cell, dst: Cell, extra: int, chooser: random.Random) -> list[tuple[int, int]]:
    """Indices (into the cells' ports) of the representative pair and ``extra`` more
    distinct pairs drawn by ``chooser`` (fewer when the cells hold fewer pairs)."""
    first = representatives(src, dst)
    if extra <= 0:
        return [first]
    total = len(src.ports) * len(dst.ports) - (len(src.ports) if dst is src else 0)
    wanted = min(extra, total - 1)
    chosen = {first}
    result = [first]
    if wanted <= 0:
        return result
    if total <= 4 * (wanted + 1):
        every = [(i, j) for i in range(len(src.ports)) for j in range(len(dst.ports))
                 if not (dst is src and i == j) and (i, j) != first]
        result += chooser.sample(every, wanted)
        return result
    while len(result) < wanted + 1:
        pair = (chooser.randrange(len(src.ports)), chooser.randrange(len(dst.ports)))
        if pair in chosen or (dst is src and pair[0] == pair[1]):
            continue
        chosen.add(pair)
        result.append(pair)
    return result


@dataclass
class ExternalMismatch:
    """Traffic between an external host and a cell on which the rows (NAT rows, load
    balancers, ACLs) do not do what the intent means by one NAT entry."""

    host: IPv4Address
    """The sample of the external region (cut by the rows' address constants)."""
    region: str
    cell: Cell
    inbound: bool
    nat: str
    """The NAT entry (intent) or row (rows) concerned."""
    traffic: TrafficSet
    intent: bool
    rows: bool
    replies: bool


def check_external(model: ClassModel, rows: RowModel, cells: list[Cell]) -> tuple[int, list[ExternalMismatch]]:
    """Hold the rows to the intent on the external network (contract 2.8): for every
    cell of a project with NAT in the intent or a gateway port in the rows, and every
    piece of the external address space that the project's rules and the address
    constants of the rows on the way (:meth:`RowModel.address_intervals_near`) cut
    (one host for all pieces the same ranges hold), the traffic of each way in and of
    the way out. Returns the number
    of questions asked and the mismatches."""
    asked = 0
    found: list[ExternalMismatch] = []
    pieces: dict[tuple, list[IPv4Address]] = {}
    internal = [network_interval(n) for n in internal_networks(model.world)]
    for cell in cells:
        project = cell.cls.project
        lsp = cell.lsps[0]
        router = rows.router_of_port(lsp)
        has_gateway = router is not None and rownat.gateway_port(rows.nb, router) is not None
        if not (model.ways_in(cell.cls) or model.way_out(cell.cls) or has_gateway):
            continue
        near = tuple(sorted(rows.address_intervals_near(lsp)))
        if (project, near) not in pieces:
            cuts = [*(network_interval(n) for n in model.own_cidrs(project)), *near]
            pieces[(project, near)] = [IPv4Address(low) for low, _ in distinct_pieces(
                pieces_outside(internal, cuts), cuts)]
        seen: set[tuple] = set()  # one report per region, from its first host
        for host in pieces[(project, near)]:
            asked += 1
            region = model.region_of(project, host)
            for mismatch in (_inbound_mismatches(model, rows, cell, region, host)
                             + _outbound_mismatches(model, rows, cell, region, host)):
                key = (region.id, mismatch.inbound, mismatch.nat, mismatch.traffic,
                       mismatch.intent, mismatch.rows, mismatch.replies)
                if key not in seen:
                    seen.add(key)
                    found.append(mismatch)
    return asked, found


def _inbound_mismatches(model: ClassModel, rows: RowModel, cell: Cell, region,
                        host: IPv4Address) -> list[ExternalMismatch]:
    """Each way in, keyed by its external address and port (None for 1:1): the
    intent's traffic against what the rows carry by the same key."""
    intent: dict[tuple, tuple[str, TrafficSet]] = {}
    for way, traffic in model.inbound(region, cell.cls):
        entry = way.entry
        key = (entry.external_ip, None if entry.one_to_one
               else (entry.protocol, entry.external_port))
        intent[key] = (str(way), traffic)
    carried: dict[tuple, tuple[str, RowVerdict]] = {}
    for way, verdict in rows.deliver_inbound(host, cell.lsps[0]):
        carried[(way.external_ip, way.forwarded)] = (str(way), verdict)
    found = []
    for key in sorted(set(intent) | set(carried), key=str):
        name, meant = intent.get(key, (None, TrafficSet.nothing()))
        row_name, verdict = carried.get(key, (None, RowVerdict(TrafficSet.nothing(),
                                                               TrafficSet.nothing(),
                                                               TrafficSet.nothing())))
        nat = name or row_name
        for traffic, allow, passes, replies in _regions(meant, verdict):
            found.append(ExternalMismatch(host, region.id, cell, True, nat, traffic, allow,
                                          passes, replies))
    return found


def _outbound_mismatches(model: ClassModel, rows: RowModel, cell: Cell, region,
                         host: IPv4Address) -> list[ExternalMismatch]:
    out, meant = model.outbound(cell.cls, region)
    row_out, verdict = rows.deliver_outbound(cell.lsps[0], host)
    if out is not None and row_out is not None and row_out.external_ip != out.external_ip:
        # leaving from another address than the intent's is wrong for all of it
        verdict = RowVerdict(TrafficSet.nothing(), TrafficSet.nothing(), TrafficSet.nothing())
    nat = str(out) if out is not None else str(row_out) if row_out is not None else "no NAT"
    return [ExternalMismatch(host, region.id, cell, False, nat, traffic, allow, passes,
                             replies)
            for traffic, allow, passes, replies in _regions(meant, verdict)]


def _regions(intent: TrafficSet, verdict: RowVerdict):
    """The pieces of traffic where the rows differ from the intent, each with (intent
    allows, rows pass the new connection, replies come back)."""
    for traffic, allow, rows, replies in (
            (intent - verdict.forward, True, False, False),
            ((intent & verdict.forward) - verdict.reply, True, True, False),
            ((verdict.forward - intent) & verdict.reply, False, True, True),
            ((verdict.forward - intent) - verdict.reply, False, True, False)):
        if traffic:
            yield traffic, allow, rows, replies
