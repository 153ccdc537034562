"""The OVSDB transaction builder and value codec, checked against the installed schema
without a database: values round-trip through OVSDB JSON, new rows refer to each other
by named-uuid, updates touch only changed columns, and only owned UUIDs are addressed."""

from __future__ import annotations

import json

import pytest

from netc.app.offline import compile_paths
from netc.backends.ovn_nb.codec import foreign_ref, from_datum, to_datum, writer
from netc.backends.ovn_nb.schema import DEFAULT_SCHEMA_PATH, load_schema
from netc.backends.ovn_nb.state import state_from_results
from netc.backends.ovn_nb.txn import TransactionBuildError, Update, build_operations
from netc.compiler.rows import Ref, Row
from netc.config import load_settings
from netc.diagnostics import Diagnostics
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(not DEFAULT_SCHEMA_PATH.exists(),
                                reason="needs the installed OVN Northbound schema")

UUID_A = "11111111-1111-1111-1111-111111111111"
UUID_B = "22222222-2222-2222-2222-222222222222"
UUID_F = "ffffffff-ffff-ffff-ffff-ffffffffffff"


@pytest.fixture(scope="module")
def schema():
    return load_schema()


def ids(key: str, owner: str = "netc") -> dict:
    return {"netc:owner": owner, "netc:key": key}


def wire_ids(key: str, owner: str = "netc") -> list:
    return ["map", sorted([["netc:owner", owner], ["netc:key", key]])]


# (table, column, python value, OVSDB JSON written, OVSDB JSON as a server returns it)
ROUND_TRIPS = [
    ("ACL", "priority", 1002, 1002, 1002),
    ("ACL", "log", False, False, False),
    ("ACL", "match", "ip4", "ip4", "ip4"),
    ("ACL", "name", None, ["set", []], ["set", []]),
    ("ACL", "name", "web", "web", "web"),
    ("Logical_Switch_Port", "addresses", ["0a:00:00:00:00:01 10.0.0.5"],
     ["set", ["0a:00:00:00:00:01 10.0.0.5"]], "0a:00:00:00:00:01 10.0.0.5"),
    ("Logical_Switch_Port", "addresses", [], ["set", []], ["set", []]),
    ("Logical_Switch_Port", "addresses", ["b", "a"], ["set", ["b", "a"]], ["set", ["a", "b"]]),
    ("Logical_Switch", "other_config", {"subnet": "10.0.0.0/24"},
     ["map", [["subnet", "10.0.0.0/24"]]], ["map", [["subnet", "10.0.0.0/24"]]]),
    ("Logical_Switch", "other_config", {}, ["map", []], ["map", []]),
    ("Port_Group", "acls", [Ref("acl-b")], ["set", [["uuid", UUID_B]]], ["uuid", UUID_B]),
    ("Logical_Switch_Port", "dhcpv4_options", Ref("dhcp-a"), ["uuid", UUID_A], ["uuid", UUID_A]),
    ("Logical_Switch_Port", "dhcpv4_options", None, ["set", []], ["set", []]),
    ("Port_Group", "acls", [foreign_ref(UUID_F)], ["set", [["uuid", UUID_F]]], ["uuid", UUID_F]),
]


@pytest.mark.parametrize("table,column,value,written,returned", ROUND_TRIPS)
def test_codec_round_trip(schema, table, column, value, written, returned):
    uuids = {"acl-b": UUID_B, "dhcp-a": UUID_A}
    keys = {uuid: key for key, uuid in uuids.items()}
    ctype = schema.column(table, column)
    assert to_datum(ctype, value, lambda _table, key: ["uuid", uuids[key]]) == written
    assert writer(ctype)(value, lambda _table, key: ["uuid", uuids[key]]) == written
    expected = sorted(value) if isinstance(value, list) else value
    assert from_datum(ctype, returned, keys.get) == expected


@pytest.mark.parametrize("table,column,value", [
    ("ACL", "priority", "1002"),
    ("ACL", "priority", True),
    ("ACL", "log", "yes"),
    ("Logical_Switch", "other_config", ["subnet"]),
    ("ACL", "match", 5),
])
def test_codec_rejects_values_of_the_wrong_type(schema, table, column, value):
    ctype = schema.column(table, column)
    for write in (lambda v, u: to_datum(ctype, v, u), writer(ctype)):
        with pytest.raises(ValueError):
            write(value, lambda _t, _k: ["uuid", UUID_A])


def test_fast_writers_agree_with_the_generic_codec_on_every_compiled_cell(schema):
    """Every cell of every example policy's rows, written both ways."""
    diagnostics = Diagnostics()
    settings = load_settings(str(REPO / "netc.toml"), diagnostics)
    compilation = compile_paths([str(REPO / "policies")], settings, diagnostics)
    assert compilation is not None

    def uuid_of(table: str, key: str) -> list:
        return ["named-uuid", f"{table}/{key}"]

    cells = 0
    for row in compilation.rows:
        for column, value in row.columns.items():
            ctype = schema.column(row.table, column)
            fast = json.dumps(writer(ctype)(value, uuid_of))
            assert fast == json.dumps(to_datum(ctype, value, uuid_of)), (row.table, column)
            cells += 1
    assert cells > 1000


def select_row(uuid: str, version: str, **columns) -> dict:
    row = {"_uuid": ["uuid", uuid], "_version": ["uuid", version]}
    row.update(columns)
    return row


@pytest.fixture
def state(schema):
    """An owned Port_Group holding one owned ACL and a foreign ACL someone attached."""
    return state_from_results(schema, "netc", {
        "Port_Group": [select_row(UUID_A, "aaaa0000-0000-0000-0000-000000000000",
                                  name="pg_web", external_ids=wire_ids("pg/web"),
                                  acls=["set", [["uuid", UUID_B], ["uuid", UUID_F]]],
                                  ports=["set", []])],
        "ACL": [select_row(UUID_B, "bbbb0000-0000-0000-0000-000000000000",
                           priority=1002, match="ip4", action="allow-related",
                           direction="to-lport", external_ids=wire_ids("acl/1"))],
        "Logical_Switch": [],
    })


def test_state_translates_uuids_to_keys_and_marks_foreign_references(state):
    group = state.rows.get("Port_Group", "pg/web")
    assert group.columns["acls"] == sorted([Ref("acl/1"), foreign_ref(UUID_F)])
    assert state.uuid("ACL", "acl/1") == UUID_B
    assert state.rows.get("ACL", "acl/1").columns["priority"] == 1002


def test_state_fingerprint_follows_versions(schema, state):
    same = state_from_results(schema, "netc", {
        "ACL": [select_row(UUID_B, "bbbb0000-0000-0000-0000-000000000000",
                           external_ids=wire_ids("acl/1"))],
        "Port_Group": [select_row(UUID_A, "aaaa0000-0000-0000-0000-000000000000",
                                  external_ids=wire_ids("pg/web"))],
        "Logical_Switch": []})
    moved = state_from_results(schema, "netc", {
        "ACL": [select_row(UUID_B, "cccc0000-0000-0000-0000-000000000000",
                           external_ids=wire_ids("acl/1"))],
        "Port_Group": [select_row(UUID_A, "aaaa0000-0000-0000-0000-000000000000",
                                  external_ids=wire_ids("pg/web"))],
        "Logical_Switch": []})
    assert same.fingerprint() == state.fingerprint()
    assert moved.fingerprint() != state.fingerprint()


def test_duplicate_keys_are_kept_aside_and_deleted(schema):
    state = state_from_results(schema, "netc", {"Address_Set": [
        select_row(UUID_A, UUID_A, name="as1", external_ids=wire_ids("as/1")),
        select_row(UUID_B, UUID_B, name="as1", external_ids=wire_ids("as/1"))]})
    assert len(state.duplicates) == 1
    operations = build_operations(schema, state, creates=[], updates=[], destroys=[],
                                  comment="netc")
    deletes = [op for op in operations if op["op"] == "delete"]
    assert deletes == [{"op": "delete", "table": "Address_Set",
                        "where": [["_uuid", "==", ["uuid", state.duplicates[0].uuid]]]}]


def test_new_rows_refer_to_each_other_by_named_uuid(schema, state):
    acl = Row("ACL", "acl/2", {"priority": 1001, "match": "tcp", "action": "allow-related",
                                "direction": "from-lport", "external_ids": ids("acl/2")})
    group = Row("Port_Group", "pg/db", {"name": "pg_db", "acls": [Ref("acl/2"), Ref("acl/1")],
                                        "external_ids": ids("pg/db")})
    operations = build_operations(schema, state, creates=[group, acl], updates=[],
                                  destroys=[], comment="netc apply: 2 to add")
    inserts = {op["table"]: op for op in operations if op["op"] == "insert"}
    acl_name = inserts["ACL"]["uuid-name"]
    assert inserts["Port_Group"]["row"]["acls"] == ["set", [["named-uuid", acl_name],
                                                            ["uuid", UUID_B]]]
    assert inserts["Port_Group"]["row"]["external_ids"] == ["map", [["netc:key", "pg/db"],
                                                                    ["netc:owner", "netc"]]]
    assert operations[-1] == {"op": "comment", "comment": "netc apply: 2 to add"}


def test_wait_guards_every_owned_table_first(schema, state):
    operations = build_operations(schema, state, creates=[], updates=[], destroys=[],
                                  comment="netc")
    waits = [op for op in operations if op["op"] == "wait"]
    assert operations[:len(waits)] == waits
    by_table = {op["table"]: op for op in waits}
    assert set(by_table) == {"ACL", "Port_Group", "Logical_Switch"}
    assert by_table["ACL"]["rows"] == [{"_version": ["uuid", "bbbb0000-0000-0000-0000-000000000000"]}]
    assert by_table["Logical_Switch"]["rows"] == []
    assert all(op["until"] == "==" and op["timeout"] == 0 for op in waits)
    assert all(op["where"] == [["external_ids", "includes", ["map", [["netc:owner", "netc"]]]]]
               for op in waits)


def test_update_sends_only_changed_columns_by_uuid_and_delete_by_uuid(schema, state):
    group = state.rows.get("Port_Group", "pg/web")
    wanted = Row("Port_Group", "pg/web", {**group.columns, "acls": [], "name": "pg_web2"})
    operations = build_operations(schema, state, creates=[],
                                  updates=[Update(wanted, ("acls",))],
                                  destroys=[("ACL", "acl/1")], comment="netc")
    update, = [op for op in operations if op["op"] == "update"]
    delete, = [op for op in operations if op["op"] == "delete"]
    assert update == {"op": "update", "table": "Port_Group",
                      "where": [["_uuid", "==", ["uuid", UUID_A]]],
                      "row": {"acls": ["set", []]}}
    assert delete == {"op": "delete", "table": "ACL",
                      "where": [["_uuid", "==", ["uuid", UUID_B]]]}


def test_only_owned_uuids_are_ever_addressed(schema, state):
    operations = build_operations(
        schema, state,
        creates=[Row("Address_Set", "as/x", {"name": "x", "external_ids": ids("as/x")})],
        updates=[Update(state.rows.get("ACL", "acl/1"), ("match",))],
        destroys=[("Port_Group", "pg/web")], comment="netc")
    addressed = {op["where"][0][2][1] for op in operations if op["op"] in ("update", "delete")}
    assert addressed <= set(state.uuids.values())


@pytest.mark.parametrize("creates,updates,destroys", [
    ([Row("Port_Group", "pg/x", {"name": "x", "acls": [Ref("acl/none")]})], [], []),
    ([], [Update(Row("ACL", "acl/none", {"match": "ip4"}), ("match",))], []),
    ([], [], [("ACL", "acl/none")]),
    ([Row("ACL", "acl/x", {"priority": "high"})], [], []),
    ([Row("ACL", "acl/x", {"no_such_column": 1})], [], []),
])
def test_unbuildable_changes_are_clear_errors(schema, state, creates, updates, destroys):
    with pytest.raises(TransactionBuildError):
        build_operations(schema, state, creates=creates, updates=updates,
                         destroys=destroys, comment="netc")
