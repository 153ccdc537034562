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
"""

from __future__ import annotations

from netc.reach.classes import ClassModel, ClassPair, PortClass, by_project
from netc.reach.verify import Cell, Mismatch

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


def matrix_json(model: ClassModel, matrix: list[ClassPair]) -> dict:
    return {
        "ports": len(model.class_of),
        "classes": [cls.to_json() for cls in model.classes],
        "projects": [{"from": edge.src, "to": edge.dst, "traffic": edge.traffic.labels()}
                     for edge in by_project(matrix)],
        "matrix": [{"from": pair.src.id, "to": pair.dst.id, "traffic": pair.traffic.labels()}
                   for pair in matrix],
    }


def matrix_dot(model: ClassModel, matrix: list[ClassPair]) -> str:
    """Classes as nodes in one ``cluster_`` subgraph per project, an edge per class pair
    labelled with its traffic."""
    lines = ["digraph netc {", "  rankdir=LR;", "  node [shape=box, fontsize=10];",
             "  edge [fontsize=9];"]
    projects: dict[str, list[PortClass]] = {}
    for cls in model.classes:
        projects.setdefault(cls.project, []).append(cls)
    for index, (project, classes) in enumerate(sorted(projects.items())):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_quote(project)};")
        for cls in classes:
            lines.append(f"    {_quote(cls.id)} [label={_quote(class_label(cls))}];")
        lines.append("  }")
    for pair in matrix:
        lines.append(f"  {_quote(pair.src.id)} -> {_quote(pair.dst.id)} "
                     f"[label={_quote(str(pair.traffic))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
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
