"""How ``netc verify`` shows the matrix by classes: text, JSON and Graphviz.

Text, project pair by project pair, then class to class::

    acme/web -> acme/web: tcp/80, icmp
      admin@default (bastion) -> web@default (web-1, web-2): tcp/80, icmp
    acme/web -> acme/db: tcp/5432
      web@default (web-1, web-2) -> pg@default (pg-1): tcp/5432

A class is named ``group+group@subnet`` inside its project (``#2`` when CIDRs of the
rules cut one such set of ports in two) and shown with its first ports. JSON gives
every class with all its ports, the project pairs and the class pairs with their
traffic as lists (``["tcp/5432", "tcp/8000-8080", "udp/53", "icmp", "ip"]``, ``ip``
being all IPv4 traffic).

The external network follows (contract 2.8), one edge per NAT entry::

    external -> acme/edge: tcp/80
      external -> app@default (nat-app): tcp/80 via port forwarding 203.0.113.10:8080/tcp -> 10.40.0.10:80
    acme/edge -> external: tcp/9000
      app@default (nat-app) -> external: tcp/9000 from SNAT 203.0.113.10 of acme/edge
"""

from __future__ import annotations

from netc.reach.classes import ClassModel, ClassPair, ExternalEdge, PortClass, by_project
from netc.reach.trafficset import TrafficSet
from netc.reach.verify import Cell, ExternalMismatch, Mismatch

SHOWN_PORTS = 3


def class_label(cls: PortClass) -> str:
    names = [key.rpartition("/")[2] for key in cls.ports]
    shown = ", ".join(names[:SHOWN_PORTS])
    if len(names) > SHOWN_PORTS:
        shown += f", +{len(names) - SHOWN_PORTS} more"
    return f"{cls.label} ({shown})"


def matrix_text(matrix: list[ClassPair]) -> str:
    lines = []
    for edge in by_project(matrix):
        lines.append(f"{edge.src} -> {edge.dst}: {edge.traffic}")
        for pair in edge.pairs:
            lines.append(f"  {class_label(pair.src)} -> {class_label(pair.dst)}: {pair.traffic}")
    return "".join(line + "\n" for line in lines)


def external_text(edges: list[ExternalEdge]) -> str:
    """The external edges, by project and direction, then class by class."""
    lines = []
    grouped: dict[tuple[bool, str], list[ExternalEdge]] = {}
    for edge in edges:
        grouped.setdefault((not edge.inbound, edge.cls.project), []).append(edge)
    for (outbound, project), found in sorted(grouped.items()):
        total = TrafficSet.nothing()
        for edge in found:
            total = total | edge.traffic
        lines.append(f"{project} -> external: {total}" if outbound
                     else f"external -> {project}: {total}")
        for edge in found:
            ends = ((class_label(edge.cls), edge.region.id) if outbound
                    else (edge.region.id, class_label(edge.cls)))
            how = "from" if outbound else "via"
            lines.append(f"  {ends[0]} -> {ends[1]}: {edge.traffic} {how} {edge.nat}")
    return "".join(line + "\n" for line in lines)


def external_json(edges: list[ExternalEdge]) -> list[dict]:
    return [{"from": edge.region.id if edge.inbound else edge.cls.id,
             "to": edge.cls.id if edge.inbound else edge.region.id,
             "region": edge.region.to_json(), "traffic": edge.traffic.labels(),
             "nat": edge.nat.to_json()} for edge in edges]


def matrix_json(model: ClassModel, matrix: list[ClassPair],
                external: list[ExternalEdge] | None = None) -> dict:
    return {
        "ports": len(model.class_of),
        "classes": [cls.to_json() for cls in model.classes],
        "projects": [{"from": edge.src, "to": edge.dst, "traffic": edge.traffic.labels()}
                     for edge in by_project(matrix)],
        "matrix": [{"from": pair.src.id, "to": pair.dst.id, "traffic": pair.traffic.labels()}
                   for pair in matrix],
        "external": external_json(external or []),
    }


def matrix_dot(model: ClassModel, matrix: list[ClassPair],
               external: list[ExternalEdge] | None = None) -> str:
    """Classes as nodes in one ``cluster_`` subgraph per project, an edge per class pair
    labelled with its traffic; external regions as ellipses outside every cluster, an
    edge per NAT entry labelled with its traffic and the entry."""
    lines = ["digraph netc {", "  rankdir=LR;", "  node [shape=box, fontsize=10];",
             "  edge [fontsize=9];"]
    projects: dict[str, list[PortClass]] = {}
    for cls in model.classes:
        projects.setdefault(cls.project, []).append(cls)
    for index, (project, classes) in enumerate(sorted(projects.items())):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={dot_quote(project)};")
        for cls in classes:
            lines.append(f"    {dot_quote(cls.id)} [label={dot_quote(class_label(cls))}];")
        lines.append("  }")
    for pair in matrix:
        lines.append(f"  {dot_quote(pair.src.id)} -> {dot_quote(pair.dst.id)} "
                     f"[label={dot_quote(str(pair.traffic))}];")
    regions = sorted({edge.region.id for edge in external or []})
    for region in regions:
        lines.append(f"  {dot_quote(region)} [shape=ellipse];")
    for edge in external or []:
        ends = (edge.region.id, edge.cls.id) if edge.inbound else (edge.cls.id, edge.region.id)
        lines.append(f"  {dot_quote(ends[0])} -> {dot_quote(ends[1])} "
                     f"[label={dot_quote(f'{edge.traffic} ({edge.nat})')}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_quote(text: str) -> str:
    """``text`` as a DOT string (verify's and the plan's pictures)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _verdict(allow: bool) -> str:
    return "allow" if allow else "deny"


def _cell(cell: Cell) -> str:
    return f"{cell.cls.id} ({len(cell.ports)} port(s))"


def mismatch_entries(mismatch: Mismatch) -> list[dict]:
    """One JSON entry per atom of the mismatched traffic, from the representatives."""
    src, dst = mismatch.src, mismatch.dst
    pair = (src.ports[0], dst.ports[1] if dst is src and len(dst.ports) > 1 else dst.ports[0])
    return [{"from": pair[0], "to": pair[1], "traffic": str(atom),
             "intent": _verdict(mismatch.intent), "rows": _verdict(mismatch.rows),
             "replies": mismatch.replies, "from_class": src.cls.id, "to_class": dst.cls.id,
             "unpeered": mismatch.unpeered, "detail": mismatch.detail}
            for atom in mismatch.traffic.atoms()]


def mismatch_text(mismatch: Mismatch) -> str:
    entry = mismatch_entries(mismatch)[0]
    rows = _verdict(mismatch.rows) + ("" if mismatch.replies or not mismatch.rows
                                      else ", replies dropped")
    head = (f"DISAGREE {entry['from']} -> {entry['to']} {mismatch.traffic}: intent says "
            f"{_verdict(mismatch.intent)}, rows {rows} (classes {_cell(mismatch.src)} -> "
            f"{_cell(mismatch.dst)})")
    return head + ("\n" + _indent(mismatch.detail) if mismatch.detail else "")


def breach_text(mismatch: Mismatch) -> str:
    entry = mismatch_entries(mismatch)[0]
    return (f"error[UNPEERED_REACHABILITY]: {entry['from']} -> {entry['to']} "
            f"{mismatch.traffic}: projects {mismatch.src.cls.project} and "
            f"{mismatch.dst.cls.project} do not peer each other, yet the rows let it through")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def external_mismatch_entries(mismatch: ExternalMismatch) -> list[dict]:
    """One JSON entry per atom, as for port pairs; ``from``/``to`` the host and port."""
    host, port = f"external:{mismatch.host}", mismatch.cell.representative
    ends = (host, port) if mismatch.inbound else (port, host)
    return [{"from": ends[0], "to": ends[1], "traffic": str(atom), "nat": mismatch.nat,
             "intent": _verdict(mismatch.intent), "rows": _verdict(mismatch.rows),
             "replies": mismatch.replies, "region": mismatch.region,
             "class": mismatch.cell.cls.id}
            for atom in mismatch.traffic.atoms()]


def external_mismatch_text(mismatch: ExternalMismatch) -> str:
    entry = external_mismatch_entries(mismatch)[0]
    rows = _verdict(mismatch.rows) + ("" if mismatch.replies or not mismatch.rows
                                      else ", replies dropped")
    how = "via" if mismatch.inbound else "from"
    return (f"DISAGREE {entry['from']} -> {entry['to']} {mismatch.traffic} {how} "
            f"{mismatch.nat}: intent says {_verdict(mismatch.intent)}, rows {rows} "
            f"(region {mismatch.region}, class {_cell(mismatch.cell)})")
