"""One side of a mutual peering in view (contract section 4, Scope), offline: plans of
one project against a snapshot of both keep the peering the snapshot has; check and
compile of one side warn and leave the peering out. The same on a real Northbound:
tests/ovn/test_apply.py::test_one_side_of_a_peering_keeps_the_peering."""

from __future__ import annotations

import json
import shutil
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from netc.app.offline import compile_paths, plan_against
from netc.compiler.peering import peer_links
from netc.config import load_settings
from netc.diagnostics import Code, Diagnostics, Severity

REPO = Path(__file__).resolve().parents[2]
CONTOSO = REPO / "policies" / "contoso-shared-services"
CONFIG = REPO / "netc.toml"
PAYMENTS, SHARED = "contoso/payments", "contoso/shared-services"


def _settings():
    return load_settings(str(CONFIG), Diagnostics())


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    """The rows of all three contoso projects, compiled together (as applied together)."""
    out = Diagnostics()
    compilation = compile_paths([str(CONTOSO)], _settings(), out)
    assert compilation is not None, [d.render() for d in out]
    path = tmp_path_factory.mktemp("snap") / "rows.json"
    path.write_text(compilation.rows.dumps(), encoding="utf-8")
    return path


def _plan(paths: list[Path], snapshot: Path, prune: bool = False):
    out = Diagnostics()
    offline = plan_against([str(p) for p in paths], _settings(), str(snapshot), prune, out)
    return offline, out


@pytest.mark.parametrize("name", ["payments", "shared-services", "analytics"])
def test_each_side_alone_plans_no_changes(snapshot, name):
    offline, out = _plan([CONTOSO / f"{name}.yaml"], snapshot)
    assert offline is not None, [d.render() for d in out]
    assert offline.plan.changes == []
    assert not out.has_errors


def test_offline_a_peer_out_of_view_is_a_warning_and_its_rules_allow_nothing():
    out = Diagnostics()
    compilation = compile_paths([str(CONTOSO / "payments.yaml")], _settings(), out)
    assert compilation is not None
    assert [(d.code, d.severity) for d in out] == [(Code.PEERING_NOT_MUTUAL, Severity.WARNING)]
    assert compilation.rows.tables.get("Logical_Router_Static_Route", {}) == {}
    matches = [row.columns["match"] for row in compilation.rows.tables["ACL"].values()]
    assert not any("shared_services" in match for match in matches)


def test_dropping_the_peer_on_one_side_removes_that_side_of_the_link(snapshot, tmp_path):
    payments = tmp_path / "payments.yaml"
    text = (CONTOSO / "payments.yaml").read_text()
    text = text.replace("peerings: [contoso/shared-services]\n", "")
    text = text.replace("sg:contoso/shared-services/monitoring", "10.20.0.0/16")
    text = text.replace("sg:contoso/shared-services/dns", "10.20.0.0/16")
    text = text.replace("sg:contoso/shared-services/ntp", "10.20.0.0/16")
    payments.write_text(text)
    offline, out = _plan([payments], snapshot)
    assert offline is not None, [d.render() for d in out]
    destroyed = {(c.table, c.key) for c in offline.plan.changes if c.action == "destroy"}
    link = f"{PAYMENTS}>{SHARED}"
    assert destroyed >= {("Logical_Router_Port", f"lrp-peer:{link}"),
                         ("Logical_Router_Static_Route", f"route-peer:{link}")}
    assert {c.project for c in offline.plan.changes} == {PAYMENTS}  # nothing of the peer


def test_the_other_side_then_sees_no_peering_in_the_database(snapshot, tmp_path):
    """shared-services alone, against a database where payments dropped its end."""
    document = json.loads(snapshot.read_text())
    link = f"{PAYMENTS}>{SHARED}"
    for rows in document["tables"].values():
        rows[:] = [row for row in rows if row["external_ids"]["netc:key"] not in
                   (f"lrp-peer:{link}", f"route-peer:{link}")]
    dropped = tmp_path / "dropped.json"
    dropped.write_text(json.dumps(document))
    offline, out = _plan([CONTOSO / "shared-services.yaml"], dropped)
    assert offline is None
    errors = [d for d in out if d.is_error]
    assert errors and {d.code for d in errors} == {Code.CROSS_TENANT_REFERENCE}
    assert all("the database holds no peering of contoso/payments" in d.message for d in errors)


def test_prune_of_the_other_side_removes_the_link(snapshot):
    offline, out = _plan([CONTOSO / "payments.yaml"], snapshot, prune=True)
    assert offline is not None, [d.render() for d in out]
    destroyed = {(c.table, c.key) for c in offline.plan.changes if c.action == "destroy"}
    link = f"{PAYMENTS}>{SHARED}"
    assert ("Logical_Router_Port", f"lrp-peer:{link}") in destroyed
    assert ("Logical_Router", f"router:{SHARED}") in destroyed


def test_a_missing_group_of_a_database_peer_is_not_found(snapshot, tmp_path):
    payments = tmp_path / "payments.yaml"
    payments.write_text((CONTOSO / "payments.yaml").read_text().replace(
        "sg:contoso/shared-services/ntp", "sg:contoso/shared-services/ntpd"))
    offline, out = _plan([payments], snapshot)
    assert offline is None
    (error,) = [d for d in out if d.is_error]
    assert error.code == Code.SECURITY_GROUP_NOT_FOUND
    assert "(in the database); did you mean 'ntp'?" in error.message


def test_links_keep_their_slot_and_new_ones_probe_past_it():
    kept = IPv4Network("169.254.0.12/30")
    pairs = [("a/a", "b/b"), ("c/c", "d/d")]
    fresh = peer_links(pairs, {})
    assert peer_links(pairs, {("a/a", "b/b"): kept})[0] == kept
    # a new pair whose slot the database's link holds takes the next free one
    taken = peer_links(pairs, {("x/x", "y/y"): fresh[1]})
    assert taken[1] != fresh[1] and taken[0] == fresh[0]
