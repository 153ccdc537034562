"""Render a Plan the way Terraform does: text for people, JSON for programs.

Text: a legend of the symbols used (``+`` create, ``~`` update in place, ``-``
destroy), the changes grouped by project (global rows last), a reason under each,
the columns a reviewer judges a created row by (:data:`REVIEW_COLUMNS`: an ACL's
direction, priority, match and action, a NAT's addresses, a port's addresses), the
changed columns of an update (not ``netc:digest``, which is rewritten with any
change), the reachability the plan opens and closes when it was computed
(:mod:`netc.reach.changes`), and the closing ``Plan: N to add, N to change, N to
destroy.`` line, or ``No changes.``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from netc.backends.diff import Change, ColumnChange, Plan
from netc.compiler.canonical import DIGEST_KEY

if TYPE_CHECKING:
    from netc.reach.changes import ReachChanges

SYMBOLS = {"create": ("+", "create"), "update": ("~", "update in place"),
           "destroy": ("-", "destroy")}
PLAN_FORMAT = "netc.plan/v1"
REVIEW_COLUMNS = {
    "ACL": ("direction", "priority", "match", "action"),
    "NAT": ("type", "external_ip", "logical_ip"),
    "Load_Balancer": ("protocol", "vips"),
    "Logical_Switch_Port": ("type", "addresses"),
    "Logical_Router_Port": ("networks",),
    "Logical_Router_Static_Route": ("ip_prefix", "nexthop"),
    "Address_Set": ("addresses",),
    "DHCP_Options": ("cidr",),
}
"""Per table, the columns that say what a created row does (shown when set)."""
SHOWN_ITEMS = 8
"""Items of a set column shown in text (an address set may hold thousands)."""


def summary_line(plan: Plan) -> str:
    return (f"Plan: {plan.count('create')} to add, {plan.count('update')} to change, "
            f"{plan.count('destroy')} to destroy.")


def render_text(plan: Plan, reachability: ReachChanges | None = None) -> str:
    if plan.empty:
        return "No changes. The Northbound rows match the intent.\n"
    used = [action for action in SYMBOLS if plan.count(action)]
    lines = ["netc will perform the following actions:", "",
             "Symbols used:"] + [f"  {SYMBOLS[a][0]} {SYMBOLS[a][1]}" for a in used]
    groups: dict[str | None, list[Change]] = {}
    for change in plan.changes:
        groups.setdefault(change.project, []).append(change)
    for project in sorted(groups, key=lambda p: (p is None, p or "")):
        title = f"project {project}" if project else "global rows (shared by every project)"
        lines += ["", title]
        order = {"destroy": 0, "update": 1, "create": 2}
        for change in sorted(groups[project], key=lambda c: (order[c.action], c.table, c.key)):
            lines.append(f"  {SYMBOLS[change.action][0]} {change.table} {change.key}")
            lines.append(f"      # {change.reason}")
            if change.action == "create":
                lines += _review_lines(change)
            for column in change.columns:
                lines += _column_lines(column)
    if reachability is not None:
        from netc.reach.plan_report import changes_text

        lines += ["", *changes_text(reachability)]
    lines += ["", summary_line(plan)]
    return "\n".join(lines) + "\n"


def _review_lines(change: Change) -> list[str]:
    columns = change.row.columns
    wanted = [name for name in REVIEW_COLUMNS.get(change.table, ())
              if columns.get(name) not in (None, "", [], {})]
    width = max((len(name) for name in wanted), default=0)
    return [f"      {name:<{width}} = {_show_value(columns[name])}" for name in wanted]


def _show_value(value: Any) -> str:
    if isinstance(value, dict):
        value = [f"{key}={item}" for key, item in sorted(value.items())]
    if isinstance(value, list) and len(value) > SHOWN_ITEMS:
        return (json.dumps(value[:SHOWN_ITEMS])[:-1]
                + f", ... {len(value) - SHOWN_ITEMS} more]")
    return json.dumps(value)


def _column_lines(column: ColumnChange) -> list[str]:
    before, after = column.before, column.after
    if isinstance(before, list) and isinstance(after, list):
        return ([f"      {column.column}: - {v}" for v in before if v not in after]
                + [f"      {column.column}: + {v}" for v in after if v not in before])
    if isinstance(before, dict) and isinstance(after, dict):
        lines = []
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key) and key != DIGEST_KEY:
                lines.append(f"      {column.column}:{key}: {_show(before.get(key))} -> "
                             f"{_show(after.get(key))}")
        return lines
    return [f"      {column.column}: {_show(before)} -> {_show(after)}"]


def _show(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value)


def render_json(plan: Plan, reachability: ReachChanges | None = None) -> str:
    changes = [{"action": c.action, "table": c.table, "key": c.key, "project": c.project,
                "reason": c.reason, "row": c.row.columns,
                "columns": [{"column": col.column, "before": col.before, "after": col.after}
                            for col in c.columns]}
               for c in plan.changes]
    document = {"format": PLAN_FORMAT, "changes": changes,
                "summary": {"add": plan.count("create"), "change": plan.count("update"),
                            "destroy": plan.count("destroy")}}
    if reachability is not None:
        document["reachability"] = reachability.to_json()
    return json.dumps(document, indent=1, sort_keys=True) + "\n"
