"""The reasons a plan gives: drift (a row edited or deleted behind netc's back) told
apart from a change of the intent by each row's ``netc:digest``.

The database is played by a snapshot: the compiled rows read back through the
snapshot reader, then edited the way ``ovn-nbctl`` edits them (a column set, a row
deleted together with every reference to it). Each case names the edit, the intent
planned afterwards and the reason expected for some changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from netc.backends.diff import Plan, diff_rows
from netc.backends.dryrun.snapshot import parse_snapshot
from netc.compiler.canonical import DIGEST_KEY, drifted
from netc.compiler.lower import allocations_in, compile_world
from netc.compiler.rows import Row, RowSet
from netc.compiler.schema import TABLES
from netc.config import Settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths

SHOP = """org: acme
project: shop
vpc: {cidr: 10.70.0.0/16}
security_groups:
  - name: web
    ingress: [{protocol: tcp, ports: [443], from: 0.0.0.0/0}]
ports:
  - {name: web1, security_groups: [web]}
  - {name: web2, security_groups: [web]}
"""
SHOP_HTTP = SHOP.replace("ports: [443]", "ports: [80]")
LAB = """org: acme
project: lab
vpc: {cidr: 10.71.0.0/16}
ports:
  - {name: l1}
"""
PG_WEB = "pg:acme/shop/web"
SWITCH = "switch:acme/shop/default"


def compile_text(tmp_path: Path, text: str, existing: RowSet | None = None):
    intent = tmp_path / "intent.yaml"
    intent.write_text(text, encoding="utf-8")
    diagnostics = Diagnostics()
    result = check_paths([str(intent)], Settings(), diagnostics)
    assert result.ok, [d.render() for d in diagnostics]
    existing_ips = allocations_in(existing) if existing is not None else None
    return compile_world(result.world, existing=existing_ips, diagnostics=diagnostics)


def read_back(rows: RowSet) -> RowSet:
    return parse_snapshot(rows.dumps(), Settings().owner)


def acl_of(rows: RowSet, group: str = PG_WEB) -> str:
    return rows.get("Port_Group", group).columns["acls"][0]


# -- edits, as ovn-nbctl makes them ----------------------------------------------------

Key = Callable[[RowSet], str] | str
"""A row's netc:key, or how to find it in the rows at hand."""


def resolve(key: Key, rows: RowSet) -> str:
    return key(rows) if callable(key) else key


def set_column(table: str, key: Key, column: str, value) -> Callable[[RowSet], None]:
    def edit(rows: RowSet) -> None:
        rows.get(table, resolve(key, rows)).columns[column] = value
    return edit


def delete(table: str, key: Key) -> Callable[[RowSet], None]:
    """The row goes, and so does every reference to it (``acl-del``, ``lsp-del``:
    the parent's strong reference by the command, weak ones by OVSDB)."""
    def edit(rows: RowSet) -> None:
        gone = resolve(key, rows)
        del rows.tables[table][gone]
        for row in rows:
            for name, column in TABLES[row.table].items():
                if column.target == table and gone in row.columns.get(name, []):
                    row.columns[name] = [r for r in row.columns[name] if r != gone]
    return edit


def delete_group(rows: RowSet) -> None:
    """``pg-del``: the group goes, and its ACLs with it (nothing else refers to them)."""
    acls = rows.get("Port_Group", PG_WEB).columns["acls"]
    delete("Port_Group", PG_WEB)(rows)
    for acl in acls:
        del rows.tables["ACL"][acl]


def strip_digests(rows: RowSet) -> None:
    """Rows as a netc that stamped no digest wrote them."""
    for row in rows:
        row.columns["external_ids"].pop(DIGEST_KEY)


@dataclass
class Case:
    name: str
    edits: list[Callable[[RowSet], None]] = field(default_factory=list)
    intent: str = SHOP
    expected: dict[tuple[str, str, Key], str] = field(default_factory=dict)
    """(action, table, key) -> reason; a callable key is looked up in the compiled rows."""


CASES = [
    Case("untouched: no changes"),
    Case("edited column", [set_column("ACL", acl_of, "match", "ip4")],
         expected={("update", "ACL", acl_of): "changed outside netc (drift): match"}),
    Case("edited external_ids of a port",
         [lambda rows: rows.get("Logical_Switch_Port", "port:acme/shop/web1")
          .columns["external_ids"].update({"netc:vm": "x"})],
         expected={("update", "Logical_Switch_Port", "port:acme/shop/web1"):
                   "changed outside netc (drift): external_ids"}),
    Case("acl-del: child deleted, parent edited", [delete("ACL", acl_of)],
         expected={("create", "ACL", acl_of):
                   f"deleted outside netc (drift; its Port_Group {PG_WEB} was edited)",
                   ("update", "Port_Group", PG_WEB): "changed outside netc (drift): acls"}),
    Case("lsp-del: port gone from its switch and groups",
         [delete("Logical_Switch_Port", "port:acme/shop/web2")],
         expected={("create", "Logical_Switch_Port", "port:acme/shop/web2"):
                   f"deleted outside netc (drift; its Logical_Switch {SWITCH} was edited)",
                   ("update", "Logical_Switch", SWITCH): "changed outside netc (drift): ports",
                   ("update", "Port_Group", "pg:drop"): "changed outside netc (drift): ports"}),
    Case("lsp-del and acl-del on one group: both put back restore it",
         [delete("Logical_Switch_Port", "port:acme/shop/web2"), delete("ACL", acl_of)],
         expected={("create", "ACL", acl_of):
                   f"deleted outside netc (drift; its Port_Group {PG_WEB} was edited)",
                   ("update", "Port_Group", PG_WEB):
                   "changed outside netc (drift): ports, acls"}),
    Case("child deleted from a parent edited in other ways too",
         [delete("ACL", acl_of), set_column("Port_Group", PG_WEB, "name", "renamed")],
         expected={("create", "ACL", acl_of):
                   f"not in the database (its Port_Group {PG_WEB} was edited outside netc)",
                   ("update", "Port_Group", PG_WEB):
                   "changed outside netc (drift): name, acls"}),
    Case("pg-del: a root row deleted, nothing vouches for it or its ACLs", [delete_group],
         expected={("create", "Port_Group", PG_WEB): "not in the database",
                   ("create", "ACL", acl_of): "not in the database"}),
    Case("intent change", intent=SHOP_HTTP,
         expected={("create", "ACL", acl_of): "new in the intent",
                   ("update", "Port_Group", PG_WEB): "differs from the intent: acls"}),
    Case("intent change beside drift", [set_column("Logical_Switch", SWITCH, "name", "x")],
         intent=SHOP_HTTP,
         expected={("create", "ACL", acl_of): "new in the intent",
                   ("update", "Port_Group", PG_WEB): "differs from the intent: acls",
                   ("update", "Logical_Switch", SWITCH):
                   "changed outside netc (drift): name"}),
    Case("new project", intent=SHOP + "---\n" + LAB,
         expected={("create", "Logical_Router", "router:acme/lab"): "new in the intent",
                   ("create", "Logical_Switch_Port", "port:acme/lab/l1"): "new in the intent",
                   ("update", "Port_Group", "pg:drop"): "differs from the intent: ports"}),
    Case("rows of an older netc: no drift claim", [strip_digests,
                                                   set_column("ACL", acl_of, "match", "ip4")],
         expected={("update", "ACL", acl_of): "differs from the intent: match"}),
]


def plan_after(tmp_path: Path, case: Case) -> tuple[Plan, RowSet, RowSet]:
    applied = compile_text(tmp_path, SHOP).rows
    actual = read_back(applied)
    for edit in case.edits:
        edit(actual)
    compilation = compile_text(tmp_path, case.intent, actual)
    return (diff_rows(compilation.rows, actual, set(compilation.projects)), actual,
            compilation.rows)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reasons(tmp_path: Path, case: Case) -> None:
    plan, _, desired = plan_after(tmp_path, case)
    reasons = {(c.action, c.table, c.key): c.reason for c in plan.changes}
    expected = {(action, table, resolve(key, desired)): reason
                for (action, table, key), reason in case.expected.items()}
    assert {k: reasons.get(k) for k in expected} == expected
    if not case.edits and case.intent == SHOP:
        assert plan.empty


def test_compiled_rows_read_back_without_drift(tmp_path: Path) -> None:
    actual = read_back(compile_text(tmp_path, SHOP + "---\n" + LAB).rows)
    assert len(actual) > 10
    assert [row.key for row in actual if drifted(row) is not False] == []


def test_digest_is_never_a_listed_column(tmp_path: Path) -> None:
    """An older row lacking the digest is no change by itself; a changed row gets its
    digest rewritten with the change, but the text names only real columns."""
    plan, _, _ = plan_after(tmp_path, CASES[-1])
    for change in plan.changes:
        assert DIGEST_KEY not in change.reason
    untouched = read_back(compile_text(tmp_path, SHOP).rows)
    strip_digests(untouched)
    again = compile_text(tmp_path, SHOP, untouched)
    assert diff_rows(again.rows, untouched, set(again.projects)).empty


def apply_plan(actual: RowSet, plan: Plan) -> RowSet:
    """What the live backend's transaction leaves: created rows whole, the written
    columns of updates, destroyed rows gone."""
    after = RowSet()
    destroyed = {(c.table, c.key) for c in plan.changes if c.action == "destroy"}
    updates = {(c.table, c.key): c for c in plan.changes if c.action == "update"}
    for row in actual:
        if (row.table, row.key) in destroyed:
            continue
        change = updates.get((row.table, row.key))
        if change is not None:
            written = {c.column: change.row.columns.get(c.column) for c in change.columns}
            row = Row(row.table, row.key, dict(row.columns, **written))
        after.add(row)
    for change in plan.changes:
        if change.action == "create":
            after.add(change.row)
    return read_back(after)


def test_partial_and_repairing_applies_leave_no_drift(tmp_path: Path) -> None:
    """Rows netc writes always carry the digest of what they hold: a plan of one project
    of two (the global rows keep the other's references) and a repair of drift."""
    both = compile_text(tmp_path, SHOP + "---\n" + LAB)
    actual = apply_plan(RowSet(), diff_rows(both.rows, RowSet(), set(both.projects)))
    delete("ACL", acl_of)(actual)
    set_column("Logical_Switch", SWITCH, "name", "x")(actual)
    changed = SHOP_HTTP.replace("web2", "web3")
    shop_only = compile_text(tmp_path, changed, actual)
    plan = diff_rows(shop_only.rows, actual, set(shop_only.projects))
    assert ("update", "Port_Group", "pg:drop") in {(c.action, c.table, c.key)
                                                   for c in plan.changes}
    actual = apply_plan(actual, plan)
    assert [row.key for row in actual if drifted(row) is not False] == []
    assert "port:acme/lab/l1" in actual.get("Port_Group", "pg:drop").columns["ports"]
    again = compile_text(tmp_path, changed, actual)
    assert diff_rows(again.rows, actual, set(again.projects)).empty
