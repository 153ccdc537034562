"""Render desired rows as an ``ovn-nbctl`` script a person could run instead of apply.

One ``ovn-nbctl`` transaction for the global rows, then one per project (so no command
line grows with the world). Inside a transaction rows are created children first with
``--id=@rN create``, and references are those ``@rN`` symbols. A global row that
references rows of a project (the default-drop group's ports, the external switch's
router ports) is created without them; each project's transaction then ``add``\\s its
own rows to it, naming the global row by its ``name``.

Values use OVSDB's string syntax (ovs-vsctl(8) "Database Values"): strings in JSON
double quotes, sets in ``[]``, maps as ``{"k"="v"}``; every argument is then quoted
for the shell. The script is for an NB that holds no netc rows yet.
"""

from __future__ import annotations

import json
import shlex

from netc.compiler.rows import FORMAT, Ref, Row, RowSet
from netc.compiler.schema import TABLES

CREATE_ORDER = ("Gateway_Chassis", "ACL", "DHCP_Options", "Address_Set", "Load_Balancer",
                "NAT", "Logical_Router_Static_Route", "Logical_Router_Port",
                "Logical_Switch_Port", "Logical_Switch", "Logical_Router", "Port_Group")
"""Referenced tables before referencing ones, so every ``@rN`` is defined before use."""


def render_nbctl(rows: RowSet) -> str:
    by_project: dict[str | None, list[Row]] = {}
    for row in rows:
        by_project.setdefault(row.project, []).append(row)
    order = {table: index for index, table in enumerate(CREATE_ORDER)}
    lines = ["#!/bin/sh",
             f"# {FORMAT} as ovn-nbctl commands: {len(rows)} rows, one transaction for the",
             "# global rows, then one per project. For an NB holding no netc rows yet:",
             '#   OVN_NBCTL="ovn-nbctl --db=unix:/path/to/nb.sock" sh THIS_FILE',
             "set -eu",
             'NBCTL=${OVN_NBCTL:-ovn-nbctl}']
    projects = sorted(by_project, key=lambda p: (p is not None, p or ""))
    for project in projects:
        txn = sorted(by_project[project], key=lambda r: (order[r.table], r.key))
        lines += ["", f"# {project or 'global'}"]
        lines += _transaction(txn, rows, project)
    return "\n".join(lines) + "\n"


def _transaction(txn: list[Row], rows: RowSet, project: str | None) -> list[str]:
    symbols = {(row.table, row.key): f"@r{index}" for index, row in enumerate(txn)}
    local = {key for _, key in symbols}
    commands = []
    for (table, key), symbol in symbols.items():
        row = rows.get(table, key)
        args = [f"--id={symbol}", "create", table]
        for name in sorted(row.columns):
            value = row.columns[name]
            column = TABLES[table][name]
            if column.kind in ("ref", "refs"):
                value = [v for v in _as_list(value) if v in local]
                if column.kind == "ref" and not value:
                    continue
                value = [_symbol(rows, column.target, v, symbols) for v in value]
                rendered = value[0] if column.kind == "ref" else "[" + ",".join(value) + "]"
            else:
                rendered = _value(value)
            args.append(f"{name}={rendered}")
        commands.append(args)
    if project is not None:
        commands += _adds_to_global_rows(rows, symbols, project)
    lines = ["$NBCTL \\"]
    for index, args in enumerate(commands):
        end = " \\" if index < len(commands) - 1 else ""
        lines.append("  -- " + " ".join(shlex.quote(a) for a in args) + end)
    return lines


def _adds_to_global_rows(rows: RowSet, symbols: dict, project: str) -> list[list[str]]:
    adds = []
    for row in rows:
        if row.project is not None:
            continue
        for name, value in sorted(row.columns.items()):
            column = TABLES[row.table][name]
            if column.kind not in ("ref", "refs"):
                continue
            mine = [symbols[(column.target, v)] for v in _as_list(value)
                    if (column.target, v) in symbols]
            if mine:
                adds.append(["add", row.table, row.columns["name"], name] + mine)
    return adds


def _symbol(rows: RowSet, table: str, key: str, symbols: dict) -> str:
    return symbols[(table, key)]


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _atom(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def _value(value) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{_atom(k)}={_atom(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_atom(v) for v in value) + "]"
    return _atom(value)
