"""Render a Plan the way Terraform does: text for people, JSON for programs.

Text: a legend of the symbols used (``+`` create, ``~`` update in place, ``-``
destroy), the changes grouped by project (global rows last), a reason under each,
the changed columns of an update (not ``netc:digest``, which is rewritten with any
change), and the closing ``Plan: N to add, N to change, N to destroy.`` line, or
``No changes.``.
"""

from __future__ import annotations

import json
from typing import Any

from netc.backends.diff import Change, ColumnChange, Plan
from netc.compiler.canonical import DIGEST_KEY

SYMBOLS = {"create": ("+", "create"), "update": ("~", "update in place"),
           "destroy": ("-", "destroy")}
PLAN_FORMAT = "netc.plan/v1"


def summary_line(plan: Plan) -> str:
    return (f"Plan: {plan.count('create')} to add, {plan.count('update')} to change, "
            f"{plan.count('destroy')} to destroy.")


def render_text(plan: Plan) -> str:
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
            for column in change.columns:
                lines += _column_lines(column)
    lines += ["", summary_line(plan)]
    return "\n".join(lines) + "\n"


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


def render_json(plan: Plan) -> str:
    changes = [{"action": c.action, "table": c.table, "key": c.key, "project": c.project,
                "reason": c.reason, "row": c.row.columns,
                "columns": [{"column": col.column, "before": col.before, "after": col.after}
                            for col in c.columns]}
               for c in plan.changes]
    document = {"format": PLAN_FORMAT, "changes": changes,
                "summary": {"add": plan.count("create"), "change": plan.count("update"),
                            "destroy": plan.count("destroy")}}
    return json.dumps(document, indent=1, sort_keys=True) + "\n"
