"""``netc verify --nb``: the intent's verdicts held to OVN itself, class pair by class pair.

1. Wait for ovn-northd to catch up with the Northbound (as ``ovn-nbctl --wait=sb
   sync``), then read *every* row of the tables that decide port-to-port traffic,
   whoever owns them.
2. Form cells from those rows (:func:`~netc.reach.verify.make_cells`: the intent's
   classes cut by what the rows can tell apart, foreign port groups and ACLs, literal
   port names and addresses included, and by a port's ``enabled`` and ``up``), and
   take every cell pair that the intent or the rows let meet.
3. For each cell pair, the representative port pair (and ``--sample N`` more, drawn
   with ``--seed``), and for each atom of the traffic (the pieces that the intent's
   set and every ACL met on the way, as netc models them, hold whole or not at all),
   one packet: the first of a new connection, traced by one ``ovn-trace`` daemon
   (:mod:`netc.reach.ovntrace`) with ``--ct=new`` against the Southbound northd
   computed. For each ordered pair of projects that no route joins, one more packet
   between them (the traffic their groups would allow if they peered): isolation is
   asked of OVN too, not only of netc's model of routing.
4. A packet OVN delivers to the destination port is OVN's ``allow``; the intent's
   verdict is netc's. Every difference is reported, whoever wrote the rows behind it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field

from netc.compiler.rows import Row, RowSet
from netc.reach.classes import ClassModel
from netc.reach.northbound import MODELLED, WITHOUT_EFFECT, Northbound, lsp_ips, lsp_mac
from netc.reach.ovntrace import Packet, delivered_to, trace_in_parallel
from netc.reach.rowmodel import RowModel
from netc.reach.routing import Blocked, _gateway
from netc.reach.traffic import SOURCE_PORT, Traffic
from netc.reach.trafficset import atoms
from netc.reach.verify import Cell, cell_pairs, make_cells, sample_pairs

SB_ENVIRONMENT_VARIABLE = "OVN_SB_DB"
IGNORED = frozenset({"Connection", "SSL"})
"""Tables that hold no network state at all."""
INITIAL_TTL = 64
SYNC_TIMEOUT = 60.0


# -- reading the Northbound -------------------------------------------------------

def read_northbound(client, schema) -> tuple[RowSet, dict[str, int]]:
    """Every row of the modelled tables (keys ``uuid:U``, references too), and the row
    count of each other table that has rows (which netc does not model)."""
    from netc.backends.ovn_nb.codec import reader

    wanted = sorted(t for t in schema.tables if t in MODELLED or t in WITHOUT_EFFECT)
    others = sorted(t for t in schema.tables if t not in wanted and t not in IGNORED)
    operations = [{"op": "select", "table": t, "where": []} for t in wanted]
    operations += [{"op": "select", "table": t, "where": [], "columns": ["_uuid"]}
                   for t in others]
    results = client.transact(operations)
    rows = RowSet()
    for table, result in zip(wanted, results):
        readers = {name: reader(ctype, lambda uuid: None)
                   for name, ctype in schema.table(table).columns.items()}
        for record in result["rows"]:
            columns = {name: readers[name](datum) for name, datum in record.items()
                       if name in readers}
            if table == "Logical_Switch_Port":
                columns["addresses"] = effective_addresses(columns)
            rows.add(Row(table, "uuid:" + record["_uuid"][1], columns))
    unmodelled = {t: len(r["rows"]) for t, r in zip(others, results[len(wanted):])
                  if r["rows"]}
    return rows, unmodelled


def effective_addresses(columns: dict) -> list[str]:
    """A port's addresses as OVN uses them: ``dynamic`` is what northd assigned
    (``dynamic_addresses``); ``unknown`` names no address of its own."""
    found = []
    for entry in columns.get("addresses", []):
        word = entry.split()[0] if entry.split() else ""
        if word == "dynamic":
            if columns.get("dynamic_addresses"):
                found.append(columns["dynamic_addresses"])
        elif word != "unknown":
            found.append(entry)
    return found


# -- the packets --------------------------------------------------------------------

def _mac(value: int) -> str:
    return ":".join(f"{value:012x}"[i:i + 2] for i in range(0, 12, 2))


def traffic_terms(traffic: Traffic) -> str:
    if traffic.protocol in ("tcp", "udp"):
        flags = " && tcp.flags == 0x002" if traffic.protocol == "tcp" else ""  # a SYN
        return (f"{traffic.protocol} && {traffic.protocol}.src == {SOURCE_PORT} && "
                f"{traffic.protocol}.dst == {traffic.port}{flags}")
    if traffic.protocol == "icmp":
        return "icmp4 && icmp4.type == 8 && icmp4.code == 0"
    return f"ip.proto == {traffic.number}"


def first_packet(nb: Northbound, source: Row, target: Row, traffic: Traffic) -> Packet:
    """The first packet of a new connection from ``source`` to ``target``, as it
    leaves the source VM: to the peer's MAC on one switch, else to the MAC of the
    router port of the source's subnet (its gateway)."""
    switch = nb.switch_of[source.columns["name"]]
    eth_dst = lsp_mac(target)
    if nb.switch_of.get(target.columns["name"]) is not switch:
        gateway = _gateway(nb, switch, source)
        if not isinstance(gateway, Blocked):
            mac = nb.lrps[gateway.columns["options"]["router-port"]].columns.get("mac")
            eth_dst = int(mac.replace(":", ""), 16) if mac else eth_dst
    microflow = " && ".join([
        f'inport == "{source.columns["name"]}"', f"eth.src == {_mac(lsp_mac(source))}",
        f"eth.dst == {_mac(eth_dst)}", f"ip4.src == {lsp_ips(source)[0]}",
        f"ip4.dst == {lsp_ips(target)[0]}", f"ip.ttl == {INITIAL_TTL}",
        traffic_terms(traffic)])
    datapath = switch.key.removeprefix("uuid:")  # ovn-trace takes the NB UUID
    return Packet(datapath, microflow)


# -- the cross-check ----------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    src: str
    dst: str
    traffic: Traffic
    netc: bool
    src_lsp: Row
    dst_lsp: Row
    src_class: str
    dst_class: str
    isolation: bool = False
    """One of the packets between projects that no route joins."""


@dataclass
class Disagreement:
    question: Question
    ovn: bool
    unpeered: bool

    def to_json(self) -> dict:
        q = self.question
        return {"from": q.src, "to": q.dst, "traffic": str(q.traffic),
                "netc": "allow" if q.netc else "deny", "ovn": "allow" if self.ovn else "deny",
                "from_class": q.src_class, "to_class": q.dst_class,
                "unpeered": self.unpeered}

    def __str__(self) -> str:
        q = self.question
        return (f"{q.src} -> {q.dst} {q.traffic}: netc {'allow' if q.netc else 'deny'}, "
                f"OVN {'allow' if self.ovn else 'deny'}")


@dataclass
class CrossCheck:
    model: ClassModel
    cells: list[Cell]
    class_pairs: int = 0
    isolation_pairs: int = 0
    questions: list[Question] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    traces: int = 0
    daemons: int = 0
    """ovn-trace daemons started, restarts included."""

    @property
    def pairs_traced(self) -> int:
        return len({(q.src, q.dst) for q in self.questions})


def plan_questions(model: ClassModel, nb: Northbound, sample: int, seed: int) -> CrossCheck:
    rows = RowModel(nb, strict=False)
    lsp_of = {key: nb.by_port_key[key] for key in model.class_of if key in nb.by_port_key}
    cells = make_cells(model, rows, lsp_of,
                       extra=lambda lsp: (lsp.columns.get("enabled"), lsp.columns.get("up")))
    check = CrossCheck(model, cells)
    chooser = random.Random(seed)
    met: set[tuple[str, str]] = set()
    for src, dst in cell_pairs(model, rows, cells):
        check.class_pairs += 1
        met.add((src.cls.project, dst.cls.project))
        intent = model.traffic(src.cls, dst.cls)
        for i, j in sample_pairs(src, dst, sample, chooser):
            verdict = rows.deliver(src.lsps[i], dst.lsps[j], pieces=True)
            for atom in atoms([intent, verdict.forward, *verdict.pieces]):
                traffic = atom.sample()
                check.questions.append(Question(
                    src.ports[i], dst.ports[j], traffic, traffic in intent, src.lsps[i],
                    dst.lsps[j], src.cls.id, dst.cls.id))
    first: dict[str, Cell] = {}
    for cell in cells:
        first.setdefault(cell.cls.project, cell)
    for a, src in sorted(first.items()):
        for b, dst in sorted(first.items()):
            if a == b or (a, b) in met:
                continue
            check.isolation_pairs += 1
            wished = model.traffic_if_peered(src.cls, dst.cls)
            traffic = wished.sample() if wished else Traffic("icmp")
            check.questions.append(Question(
                src.ports[0], dst.ports[0], traffic, model.allows(src.ports[0], dst.ports[0],
                                                                  traffic),
                src.lsps[0], dst.lsps[0], src.cls.id, dst.cls.id, isolation=True))
    return check


TRACE_WORKERS = min(2, os.cpu_count() or 1)
"""ovn-trace daemons run at once on a large cross-check (each is single-threaded)."""


def run_traces(check: CrossCheck, nb: Northbound, sb: str, ssl=None) -> None:
    packets = [first_packet(nb, q.src_lsp, q.dst_lsp, q.traffic) for q in check.questions]
    outputs, check.daemons = trace_in_parallel(sb, packets, TRACE_WORKERS, ssl)
    check.traces = len(packets)
    for question, output in zip(check.questions, outputs):
        ovn = question.dst_lsp.columns["name"] in delivered_to(output)
        if ovn != question.netc:
            src_project = question.src.rpartition("/")[0]
            dst_project = question.dst.rpartition("/")[0]
            check.disagreements.append(Disagreement(
                question, ovn, not check.model.peered(src_project, dst_project)))


# -- the command --------------------------------------------------------------------

def sb_remote(args: argparse.Namespace, settings) -> str:
    return args.sb or os.environ.get(SB_ENVIRONMENT_VARIABLE) or \
        settings.network.ovn_southbound_endpoint


def verify_live_command(args: argparse.Namespace) -> int:
    from netc.app.northbound import open_northbound
    from netc.backends.ovn_nb.ovsdb import OvsdbClient, OvsdbError, SslFiles
    from netc.backends.ovn_nb.schema import NbSchema
    from netc.diagnostics import Code, Diagnostics, Location
    from netc.frontend import check_paths
    from netc.config import load_settings
    from netc.reach.northbound import UnsupportedRows, port_addresses
    from netc.reach.ovn_match import MatchError
    from netc.reach.ovntrace import TraceError
    from netc.reach.report import external_text, matrix_json, matrix_text
    from netc.terminal import print_diagnostics

    started = time.perf_counter()
    diagnostics = Diagnostics()
    settings = load_settings(args.config, diagnostics)
    result = None if diagnostics.has_errors else check_paths(args.paths, settings, diagnostics)
    ssl = None
    if args.private_key and args.certificate and args.ca_cert:
        ssl = SslFiles(args.private_key, args.certificate, args.ca_cert)
    client = open_northbound(args.nb, settings, diagnostics, ssl_files=ssl) \
        if result is not None and result.ok else None
    sb = sb_remote(args, settings)
    if client is not None:
        try:
            with OvsdbClient(sb, "OVN_Southbound", ssl_files=ssl) as probe:
                probe.connect()
        except OvsdbError as error:
            diagnostics.error(Code.OVN_CONNECTION_FAILED, f"Southbound: {error}", Location(sb))
            client.close()
            client = None
    if client is None:
        print_diagnostics(diagnostics)
        return 1
    try:
        with client:
            client.bump_nb_cfg_and_wait("sb", SYNC_TIMEOUT)  # as ovn-nbctl --wait=sb sync
            schema = NbSchema.from_json(client.get_schema())
            rows, unmodelled = read_northbound(client, schema)
    except OvsdbError as error:
        diagnostics.error(Code.OVN_CONNECTION_FAILED, str(error), Location(str(client.remote)))
        print_diagnostics(diagnostics)
        return 1
    print_diagnostics(diagnostics)
    for table, count in sorted(unmodelled.items()):
        print(f"netc verify: warning: {count} row(s) of {table} are not modelled: classes "
              f"do not single out what they may single out (the traces are OVN's verdict "
              f"for the pairs traced)", file=sys.stderr)
    world = result.world
    read = time.perf_counter()
    try:
        nb = Northbound(rows)
        model = ClassModel(world, port_addresses(rows))
        missing = sorted(set(model.class_of) - set(nb.by_port_key))
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more"
                                              if len(missing) > 5 else "")
            print(f"netc verify: error: {len(missing)} port(s) of the intent are not in the "
                  f"Northbound (apply the intent first): {shown}", file=sys.stderr)
            return 1
        check = plan_questions(model, nb, args.sample, args.seed)
        planned = time.perf_counter()
        run_traces(check, nb, sb, (ssl.private_key, ssl.certificate, ssl.ca_cert) if ssl
                   else None)
    except (UnsupportedRows, MatchError, LookupError, TraceError) as error:
        print(f"netc verify: error: {error}", file=sys.stderr)
        return 1
    traced = time.perf_counter()
    matrix = model.matrix()
    external = model.external_edges()  # the intent's; NAT is not traced (docs/reach.md)
    wrong = check.disagreements
    if args.format == "json":
        print(json.dumps({"agree": not wrong, "pairs_traced": check.pairs_traced,
                          "traces": check.traces, "daemons": check.daemons,
                          "class_pairs": check.class_pairs,
                          "isolation_pairs": check.isolation_pairs,
                          "disagreements": [d.to_json() for d in wrong],
                          **matrix_json(model, matrix, external)}, indent=2))
    else:
        if args.format == "text":
            sys.stdout.write(matrix_text(matrix))
            sys.stdout.write(external_text(external))
        for disagreement in wrong:
            print(disagreement)
    for disagreement in wrong:
        if disagreement.unpeered and disagreement.ovn:
            print(f"error[UNPEERED_REACHABILITY]: {disagreement}: projects that do not peer "
                  "each other", file=sys.stderr)
    verdict = f"{len(wrong)} disagreement(s)" if wrong else "OVN agrees with the intent"
    print(f"verify --nb: {len(model.class_of)} port(s), {len(check.cells)} class(es), "
          f"{check.class_pairs} class pair(s) and {check.isolation_pairs} unrouted project "
          f"pair(s): {check.pairs_traced} port pair(s) traced, {check.traces} packet(s), "
          f"{check.daemons} ovn-trace daemon(s) (read {read - started:.2f}s, plan "
          f"{planned - read:.2f}s, trace {traced - planned:.2f}s): {verdict}",
          file=sys.stderr)
    return 1 if wrong else 0
