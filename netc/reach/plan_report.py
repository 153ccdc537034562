"""How a plan shows its reachability changes: lines of text and a Graphviz picture.

Text, one line per edge, as contract section 8 writes it::

    Reachability: + acme/web/{web-1,web-2} -> acme/db/pg-1 tcp/5432
    Reachability: - acme/web/web-1 -> acme/db/pg-1 icmp

``+`` opens, ``-`` closes; each side names ports of one project, a few of them in
text (all of them in the JSON plan), or one external region (``external``,
``external:198.51.100.0/24``). The picture draws each side as a node inside
its project's ``cluster_`` subgraph, opened edges green and closed ones red.
"""

from __future__ import annotations

from netc.reach.changes import EXTERNAL, ReachChanges, ReachEdge
from netc.reach.report import dot_quote

SHOWN_PORTS = 4


def ports_text(keys: tuple[str, ...]) -> str:
    """``acme/web/web-1``, or ``acme/web/{web-1,web-2,+3 more}`` for several, or an
    external region (``external:198.51.100.0/24``)."""
    if _external(keys):
        return keys[0]
    return f"{keys[0].rpartition('/')[0]}/{names_text(keys)}"


def names_text(keys: tuple[str, ...]) -> str:
    """The ports' names without their project: ``web-1`` or ``{web-1,web-2,+3 more}``."""
    if _external(keys):
        return keys[0]
    names = [key.rpartition("/")[2] for key in keys]
    if len(names) == 1:
        return names[0]
    shown = names[:SHOWN_PORTS] + ([f"+{len(names) - SHOWN_PORTS} more"]
                                   if len(names) > SHOWN_PORTS else [])
    return "{" + ",".join(shown) + "}"


def edge_text(edge: ReachEdge) -> str:
    return f"{ports_text(edge.sources)} -> {ports_text(edge.targets)} {edge.traffic}"


def changes_text(changes: ReachChanges) -> list[str]:
    if changes.unsupported:
        return [f"Reachability: not computed: {changes.unsupported}"]
    if not changes:
        return ["Reachability: unchanged (no connection opened or closed)."]
    return ([f"Reachability: + {edge_text(e)}" for e in changes.opened]
            + [f"Reachability: - {edge_text(e)}" for e in changes.closed])


def changes_dot(changes: ReachChanges) -> str:
    """Every side of an edge a node in its project's cluster (labelled with a few of
    its ports' names, all of them in its tooltip), external regions as ellipses outside
    every cluster; opened edges green, closed red, labelled with their traffic."""
    nodes: dict[tuple[str, ...], str] = {}
    for edge in changes.opened + changes.closed:
        for side in (edge.sources, edge.targets):
            nodes.setdefault(side, f"n{len(nodes)}")
    projects: dict[str, list[tuple[str, ...]]] = {}
    for side in nodes:
        if not _external(side):
            projects.setdefault(side[0].rpartition("/")[0], []).append(side)
    lines = ["digraph netc_plan {", "  rankdir=LR;", "  node [shape=box, fontsize=10];",
             "  edge [fontsize=9];"]
    for index, project in enumerate(sorted(projects)):
        lines += [f"  subgraph cluster_{index} {{", f"    label={dot_quote(project)};"]
        lines += [f"    {nodes[side]} [label={dot_quote(names_text(side))}, "
                  f"tooltip={dot_quote(' '.join(side))}];" for side in projects[project]]
        lines.append("  }")
    lines += [f"  {nodes[side]} [label={dot_quote(side[0])}, tooltip={dot_quote(side[0])}, "
              "shape=ellipse];" for side in nodes if _external(side)]
    for colour, edges in (("green", changes.opened), ("red", changes.closed)):
        for edge in edges:
            sign = "+" if colour == "green" else "-"
            lines.append(f"  {nodes[edge.sources]} -> {nodes[edge.targets]} "
                         f"[color={colour}, fontcolor={colour}, "
                         f"label={dot_quote(f'{sign} {edge.traffic}')}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _external(side: tuple[str, ...]) -> bool:
    return side[0].startswith(EXTERNAL)
