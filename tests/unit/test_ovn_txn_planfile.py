"""Saved plans round-trip exactly: what was reviewed is what ``netc apply PLAN`` builds."""

from __future__ import annotations

import pytest

from netc.backends.ovn_nb import planfile
from netc.backends.ovn_nb.schema import DEFAULT_SCHEMA_PATH, load_schema
from netc.backends.ovn_nb.txn import Update
from netc.compiler.rows import Ref, Row

pytestmark = pytest.mark.skipif(not DEFAULT_SCHEMA_PATH.exists(),
                                reason="needs the installed OVN Northbound schema")


def test_plan_file_round_trips_rows_references_and_fingerprint(tmp_path):
    changes = planfile.Changes(
        creates=(Row("Port_Group", "pg/web", {"name": "pg_web", "acls": [Ref("acl/1")],
                                              "external_ids": {"netc:key": "pg/web"}}),),
        updates=(Update(Row("Logical_Switch_Port", "lsp/1",
                            {"dhcpv4_options": Ref("dhcp/1"), "addresses": ["a 1.2.3.4"]}),
                        ("dhcpv4_options",)),),
        destroys=(("ACL", "acl/0"),))
    saved = planfile.SavedPlan(owner="netc", remote="unix:/x.sock", fingerprint="sha256:ab",
                               changes=changes, text="Plan: 1 to add, 1 to change, 1 to destroy.\n",
                               prune=True)
    path = tmp_path / "release.plan"
    path.write_text(planfile.dumps(saved))
    assert planfile.looks_like_plan(str(path))
    loaded = planfile.loads(path.read_text(), load_schema())
    assert loaded == saved
    assert type(loaded.changes.creates[0].columns["acls"][0]) is Ref
    assert type(loaded.changes.updates[0].row.columns["dhcpv4_options"]) is Ref
    assert type(loaded.changes.updates[0].row.columns["addresses"][0]) is str


@pytest.mark.parametrize("text", ["", "{", "[]", '{"format": "netc.rows/v1"}',
                                  '{"format": "netc.plan/v1"}',
                                  '{"format": "netc.plan/v1", "owner": "n", "remote": "r", '
                                  '"fingerprint": "f", "text": "", "creates": [{"table": '
                                  '"No_Such_Table", "key": "k", "columns": {}}], '
                                  '"updates": [], "destroys": []}'])
def test_unreadable_plan_files_are_plan_file_errors(text):
    with pytest.raises(planfile.PlanFileError):
        planfile.loads(text, load_schema())


def test_intent_files_are_not_plans(tmp_path):
    intent = tmp_path / "web.yaml"
    intent.write_text("org: acme\nproject: web\n")
    assert not planfile.looks_like_plan(str(intent))
    assert not planfile.looks_like_plan(str(tmp_path))
