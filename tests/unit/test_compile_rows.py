"""The rows themselves: valid against the installed OVN NB schema, well-formed names and
matches, the isolation layout, fewer ACLs than Neutron's one-per-rule, nbctl quoting,
and the snapshot reader on a real ``ovsdb-client -f json dump`` layout."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from netc.backends.dryrun.nbctl import render_nbctl
from netc.backends.dryrun.snapshot import parse_snapshot
from netc.compiler.acl import neutron_acl_count
from netc.compiler.lower import compile_world
from netc.compiler.rows import KEY_KEY, OWNER_KEY, PROJECT_KEY, Ref
from netc.compiler.schema import NB_SCHEMA_VERSION, TABLES
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths
from tests.unit.test_compile_golden import CASE_DIRS, POLICY_DIRS, settings_for

INSTALLED_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
ALL_CASES = CASE_DIRS + POLICY_DIRS
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def compiled(case: Path):
    intent = case / "intent.yaml" if (case / "intent.yaml").exists() else case
    result = check_paths([str(intent)], settings_for(case), Diagnostics())
    assert result.ok
    return result.world, compile_world(result.world).rows


@pytest.mark.skipif(not INSTALLED_SCHEMA.exists(), reason="ovn-central not installed")
def test_written_columns_exist_in_the_installed_schema_with_their_kind():
    schema = json.loads(INSTALLED_SCHEMA.read_text())
    assert schema["version"] == NB_SCHEMA_VERSION
    for table, columns in TABLES.items():
        for name, column in columns.items():
            ovsdb = schema["tables"][table]["columns"][name]["type"]
            key = ovsdb["key"] if isinstance(ovsdb, dict) else ovsdb
            ref = key.get("refTable") if isinstance(key, dict) else None
            many = isinstance(ovsdb, dict) and ovsdb.get("max") == "unlimited"
            optional = isinstance(ovsdb, dict) and ovsdb.get("min") == 0
            kind = ("refs" if ref and many else "ref" if ref else
                    "map" if isinstance(ovsdb, dict) and "value" in ovsdb else
                    "set" if many else "optional" if optional else "atom")
            assert kind == column.kind, (table, name)
            assert ref == column.target, (table, name)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda p: p.name)
def test_rows_are_well_formed(case: Path):
    world, rows = compiled(case)
    enums = {("ACL", "direction"): {"from-lport", "to-lport"},
             ("ACL", "action"): {"allow", "allow-related", "drop"},
             ("NAT", "type"): {"snat", "dnat", "dnat_and_snat"},
             ("Load_Balancer", "protocol"): {"tcp", "udp"}}
    for row in rows:
        ids = row.columns["external_ids"]
        assert ids[OWNER_KEY] == world.settings.owner and ids[KEY_KEY] == row.key
        for name, value in row.columns.items():
            column = TABLES[row.table][name]
            if column.kind in ("ref", "refs"):
                for target in value if isinstance(value, list) else [value]:
                    assert isinstance(target, Ref) and rows.get(column.target, target), \
                        (row.key, name, target)
            if (row.table, name) in enums:
                assert value in enums[(row.table, name)]
        if row.table in ("Port_Group", "Address_Set"):
            assert IDENTIFIER.match(row.columns["name"]), row.columns["name"]
        if row.table == "ACL":
            match = row.columns["match"]
            assert ".." not in match
            for pg in re.findall(r"@(\w+)", match):
                assert any(r.columns["name"] == pg for r in rows.tables["Port_Group"].values())
                assert not re.search(rf"\${pg}_ip4\b", match), "@pg with its own address set"


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda p: p.name)
def test_every_port_is_in_the_drop_group_and_open_ones_in_open_groups(case: Path):
    world, _ = compiled(case)
    compilation = compile_world(world)
    rows, program = compilation.rows, compilation.program
    assert set(rows.get("Port_Group", "pg:drop").columns["ports"]) == {
        f"port:{port.key}" for port in world.ports()}
    for direction in ("egress", "ingress"):
        members = set(rows.get("Port_Group", f"pg:open-{direction}").columns["ports"])
        for port in world.ports():
            opened = any((group, direction) in program.open for group in port.groups)
            assert (f"port:{port.key}" in members) == opened, (port.key, direction)
    for row in rows.tables.get("Logical_Switch_Port", {}).values():
        if row.key.startswith("port:"):
            assert row.columns["addresses"] == row.columns["port_security"]


def test_non_peered_routers_share_nothing():
    _, rows = compiled(next(c for c in CASE_DIRS if c.name == "isolation-orgs"))
    routers = rows.tables["Logical_Router"].values()
    assert all(not r.columns["static_routes"] for r in routers)
    assert not any(r.columns.get("peer") for r in rows.tables["Logical_Router_Port"].values())
    for switch in rows.tables["Logical_Switch"].values():
        owners = {rows.get("Logical_Switch_Port", p).columns["external_ids"].get(PROJECT_KEY)
                  for p in switch.columns["ports"]}
        assert len(owners) == 1


def test_one_sided_peering_writes_nothing():
    _, rows = compiled(next(c for c in CASE_DIRS if c.name == "peering-one-sided"))
    assert "Logical_Router_Static_Route" not in rows.tables
    assert all(len(r.columns["ports"]) == 1 for r in rows.tables["Logical_Router"].values())


def test_fewer_acls_than_one_per_rule_over_all_cases():
    netc = neutron = 0
    for case in ALL_CASES:
        world, rows = compiled(case)
        netc += rows.count("ACL")
        neutron += neutron_acl_count(world)
    assert netc < neutron


def test_nbctl_script_quotes_every_argument():
    _, rows = compiled(next(c for c in CASE_DIRS if c.name == "merge-ports"))
    script = render_nbctl(rows)
    commands = [line for line in script.splitlines() if line.startswith("  -- ")]
    assert len(commands) == len(rows) + 1  # `add` of the project's port to pg:drop
    for line in commands:
        words = shlex.split(line.rstrip(" \\"))
        assert words[0] == "--"
    assert "'match=\"outport == @" in script


def test_snapshot_reader_reads_an_ovsdb_client_dump():
    dump = "\n".join(json.dumps(table) for table in [
        {"caption": "Logical_Switch_Port table",
         "headings": ["_uuid", "addresses", "dhcpv4_options", "external_ids", "name",
                      "options", "port_security", "type", "up"],
         "data": [[["uuid", "u1"], "0a:00:00:00:00:01 10.0.0.5", ["set", []],
                   ["map", [["netc:key", "port:a/b/c"], ["netc:owner", "netc"],
                            ["netc:org", "a"], ["netc:project", "b"]]],
                   "x", ["map", []], ["set", []], "", ["set", []]],
                  [["uuid", "u2"], ["set", []], ["set", []],
                   ["map", [["netc:key", "theirs"], ["netc:owner", "other"]]],
                   "y", ["map", []], ["set", []], "", ["set", []]]]},
        {"caption": "Port_Group table", "headings": ["_uuid", "acls", "external_ids", "name",
                                                     "ports"],
         "data": [[["uuid", "g"], ["set", []],
                   ["map", [["netc:key", "pg:drop"], ["netc:owner", "netc"]]], "drop",
                   ["set", [["uuid", "u1"], ["uuid", "u2"]]]]]},
    ])
    rows = parse_snapshot(dump, "netc")
    assert len(rows) == 2
    port = rows.get("Logical_Switch_Port", "port:a/b/c")
    assert port.columns["addresses"] == ["0a:00:00:00:00:01 10.0.0.5"]
    assert "dhcpv4_options" not in port.columns and port.project == "a/b"
    assert rows.get("Port_Group", "pg:drop").columns["ports"] == ["port:a/b/c", "uuid:u2"]
