"""netc plan --nb and netc apply against a real ovsdb-server + ovn-northd.

Each test gets an empty sandbox of its own (``sandbox_factory``) so it can reason
about the whole database; the CLI runs as a subprocess, as an operator runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netc.app.northbound import plan_live
from netc.backends.ovn_nb.apply import read_state
from netc.devtools.sandbox import Sandbox
from netc.backends.ovn_nb.schema import load_schema
from netc.compiler.canonical import drifted
from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths

pytestmark = pytest.mark.ovn

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
CONFIG = REPO / "netc.toml"
POLICY_FOLDERS = sorted(p.name for p in POLICIES.iterdir() if p.is_dir())


def netc(*argv: str, nb: str, cwd: Path = REPO, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, OVN_NB_DB=nb, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "netc", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, **kwargs)


def applied(*paths: str, nb: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    result = netc("apply", *paths, "--auto-approve", *extra, nb=nb)
    assert result.returncode == 0, result.stderr + result.stdout
    return result


def plan_json(*paths: str, nb: str) -> list[dict]:
    result = netc("plan", *paths, "--format", "json", nb=nb)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["changes"]


def owned_state(sandbox: Sandbox, owner: str = "netc"):
    with sandbox.client() as client:
        return read_state(client, load_schema(), owner)


def drifted_rows(state) -> list[tuple[str, str]]:
    """Owned rows read back whose netc:digest does not match what they hold (every row
    netc wrote must match: the digest is computed from what is read)."""
    return [(row.table, row.key) for row in state.rows if drifted(row) is not False]


def all_rows(sandbox: Sandbox) -> dict[str, dict[str, dict]]:
    """Every row of every table, by UUID, with its _version: a byte-level picture."""
    schema = load_schema()
    with sandbox.client() as client:
        dumped = client.dump_tables(sorted(schema.tables))
    return {table: {row["_uuid"][1]: row for row in rows} for table, rows in dumped.items()}


def northd_errors(sandbox: Sandbox) -> list[str]:
    log = Path(sandbox.directory, "northd.log").read_text()
    return [line for line in log.splitlines() if "|ERR|" in line or "|EMER|" in line]


@pytest.mark.parametrize("folder", POLICY_FOLDERS)
def test_every_example_policy_applies_syncs_and_reapplies_as_a_no_op(sandbox_factory, folder):
    sandbox = sandbox_factory()
    nb = sandbox.nb_remote
    result = applied(str(POLICIES / folder), nb=nb, extra=("--wait", "sb"))
    assert "Apply complete!" in result.stdout
    sandbox.nbctl("--wait=sb", "sync")
    assert northd_errors(sandbox) == []
    state = owned_state(sandbox)
    assert len(state.rows) > 0 and state.duplicates == []
    assert drifted_rows(state) == []
    again = applied(str(POLICIES / folder), nb=nb)
    assert "No changes." in again.stdout
    assert owned_state(sandbox).fingerprint() == state.fingerprint()  # nothing written


def test_all_policies_together_then_plan_is_empty(sandbox_factory):
    sandbox = sandbox_factory()
    applied(str(POLICIES), nb=sandbox.nb_remote, extra=("--wait", "sb"))
    assert drifted_rows(owned_state(sandbox)) == []
    assert plan_json(str(POLICIES), nb=sandbox.nb_remote) == []
    result = netc("plan", str(POLICIES), "--detailed-exitcode", nb=sandbox.nb_remote)
    assert result.returncode == 0 and "No changes." in result.stdout


def test_editing_one_rule_changes_only_the_rows_it_must(sandbox_factory, tmp_path):
    sandbox = sandbox_factory()
    intent = tmp_path / "shop"
    shutil.copytree(POLICIES / "northwind-shop", intent)
    applied(str(intent), nb=sandbox.nb_remote)
    before = all_rows(sandbox)
    shop = intent / "shop.yaml"
    text = shop.read_text()
    assert text.count("ports: [80, 443]") == 1
    shop.write_text(text.replace("ports: [80, 443]", "ports: [80, 443, 8443]"))
    changes = plan_json(str(intent), nb=sandbox.nb_remote)
    assert changes, "the edited rule must change something"
    touched = {(c["table"], c["key"]) for c in changes}
    # the lb group's ingress tcp rule: its ACL row(s) and the Port_Group listing them
    assert all(table in ("ACL", "Port_Group") and "northwind/shop/lb" in key
               for table, key in touched), touched
    applied(str(intent), nb=sandbox.nb_remote)
    after = all_rows(sandbox)
    moved = {(table, uuid) for table in after for uuid, row in after[table].items()
             if before[table].get(uuid, {}).get("_version") != row["_version"]}
    moved |= {(table, uuid) for table in before for uuid in before[table]
              if uuid not in after[table]}
    moved = {(t, u) for t, u in moved if t not in ("NB_Global",)}
    assert len(moved) == len(touched)


def test_drift_is_reported_by_plan_and_repaired_by_apply(sandbox_factory):
    sandbox = sandbox_factory()
    nb = sandbox.nb_remote
    folder = str(POLICIES / "northwind-shop")
    applied(folder, nb=nb)
    state = owned_state(sandbox)
    assert drifted_rows(state) == []
    port_key = "port:northwind/shop/web-1"
    switch = next(row for row in state.rows if row.table == "Logical_Switch"
                  and port_key in row.columns["ports"])
    group_of = {acl: row for row in state.rows if row.table == "Port_Group"
                for acl in row.columns["acls"]}
    acl_key = next(key for key in sorted(group_of) if key.startswith("acl:northwind/shop/db:"))
    deleted_key = next(key for key in sorted(group_of) if key.startswith("acl:northwind/shop/")
                       and group_of[key].key != group_of[acl_key].key)
    deleted = state.rows.get("ACL", deleted_key).columns
    group = group_of[deleted_key]
    sandbox.nbctl("lsp-del", state.uuid("Logical_Switch_Port", port_key))
    sandbox.nbctl("set", "ACL", state.uuid("ACL", acl_key), 'match="ip4"')
    sandbox.nbctl("--type=port-group", "acl-del", group.columns["name"], deleted["direction"],
                  str(deleted["priority"]), deleted["match"])
    changes = plan_json(folder, nb=nb)
    by_key = {(c["table"], c["key"]): (c["action"], c["reason"]) for c in changes}
    assert by_key[("Logical_Switch_Port", port_key)] == (
        "create", f"deleted outside netc (drift; its Logical_Switch {switch.key} was edited)")
    assert by_key[("Logical_Switch", switch.key)] == (
        "update", "changed outside netc (drift): ports")
    assert by_key[("ACL", acl_key)] == ("update", "changed outside netc (drift): match")
    assert by_key[("ACL", deleted_key)] == (
        "create", f"deleted outside netc (drift; its Port_Group {group.key} was edited)")
    assert by_key[("Port_Group", group.key)][0] == "update"
    assert by_key[("Port_Group", group.key)][1].startswith("changed outside netc (drift): ")
    assert all(reason.startswith(("changed outside netc", "deleted outside netc"))
               for _, reason in by_key.values()), by_key
    detailed = netc("plan", folder, "--detailed-exitcode", nb=nb)
    assert detailed.returncode == 2
    applied(folder, nb=nb)
    assert plan_json(folder, nb=nb) == []
    repaired = owned_state(sandbox)
    assert drifted_rows(repaired) == []
    port = repaired.rows.get("Logical_Switch_Port", port_key)
    old = state.rows.get("Logical_Switch_Port", port_key)
    assert port.columns["addresses"] == old.columns["addresses"]  # same MAC and IP again


def reachability_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Reachability: ")]


def test_live_plan_and_apply_show_the_reachability_they_change(sandbox_factory, tmp_path):
    """Drift read from the live rows, and an edit of the intent: the plan's reachability
    lines are those of the offline golden plan of the same edit, and apply shows them."""
    sandbox = sandbox_factory()
    nb = sandbox.nb_remote
    case = REPO / "tests" / "golden" / "plan-reachability" / "port-edit"
    intent = tmp_path / "shop"
    shutil.copytree(case / "before", intent)
    first = applied(str(intent), nb=nb)
    assert ("Reachability: + northwind/shop/{lb-1,lb-2} -> northwind/shop/{web-1,web-2,web-3} "
            "tcp/8080-8089") in reachability_lines(first.stdout)
    state = owned_state(sandbox)
    acl_key = next(key for key in sorted(state.rows.tables["ACL"])
                   if key.startswith("acl:northwind/shop/web:ingress:"))
    group = state.rows.get("Port_Group", "pg:northwind/shop/web")
    sandbox.nbctl("remove", "Port_Group", group.columns["name"], "acls",
                  state.uuid("ACL", acl_key))
    result = netc("plan", str(intent), "--format", "json", nb=nb)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reachability"] == {"opened": [{
        "from": ["northwind/shop/lb-1", "northwind/shop/lb-2"],
        "to": ["northwind/shop/web-1", "northwind/shop/web-2", "northwind/shop/web-3"],
        "traffic": ["tcp/8080-8089"]}], "closed": []}
    applied(str(intent), nb=nb)
    shutil.copy(case / "after" / "shop.yaml", intent / "shop.yaml")
    golden = reachability_lines((case / "plan.txt").read_text())
    planned = netc("plan", str(intent), nb=nb)
    assert planned.returncode == 0, planned.stderr
    assert reachability_lines(planned.stdout) == golden
    assert reachability_lines(applied(str(intent), nb=nb).stdout) == golden
    assert "No changes." in netc("plan", str(intent), nb=nb).stdout


def test_addresses_read_back_are_kept_when_the_intent_grows(sandbox_factory, tmp_path):
    sandbox = sandbox_factory()
    intent = tmp_path / "shop"
    shutil.copytree(POLICIES / "northwind-shop", intent)
    applied(str(intent), nb=sandbox.nb_remote)
    before = {row.key: row.columns["addresses"] for row in owned_state(sandbox).rows
              if row.table == "Logical_Switch_Port"}
    shop = intent / "shop.yaml"
    shop.write_text(shop.read_text().replace(
        "\nports:\n", "\nports:\n  - name: aaa-first\n    subnet: frontend\n", 1))
    applied(str(intent), nb=sandbox.nb_remote)
    after = {row.key: row.columns["addresses"] for row in owned_state(sandbox).rows
             if row.table == "Logical_Switch_Port"}
    assert "port:northwind/shop/aaa-first" in after
    assert {key: after[key] for key in before} == before


def test_saved_plan_applies_exactly_and_refuses_once_the_db_moved(sandbox_factory, tmp_path):
    sandbox = sandbox_factory()
    nb = sandbox.nb_remote
    folder = str(POLICIES / "globex-bastion")
    saved = tmp_path / "release.plan"
    first = netc("plan", folder, "--out", str(saved), nb=nb)
    assert first.returncode == 0, first.stderr
    stale = tmp_path / "stale.plan"
    shutil.copy(saved, stale)
    result = netc("apply", str(saved), nb=nb)
    assert result.returncode == 0, result.stderr
    assert plan_json(folder, nb=nb) == []
    refused = netc("apply", str(stale), nb=nb)
    assert refused.returncode == 1
    assert "database changed since this plan was made" in refused.stderr


def test_apply_refuses_without_approval_when_nobody_can_answer(sandbox_factory):
    sandbox = sandbox_factory()
    result = netc("apply", str(POLICIES / "globex-bastion"), nb=sandbox.nb_remote)
    assert result.returncode == 1 and "--auto-approve" in result.stderr
    assert len(owned_state(sandbox).rows) == 0


def test_unreachable_remote_is_a_connection_diagnostic(tmp_path):
    remote = f"unix:{tmp_path}/nothing.sock"
    result = netc("plan", str(POLICIES / "globex-bastion"), "--format", "text", nb=remote)
    assert result.returncode == 1
    assert "error[OVN_CONNECTION_FAILED]" in result.stderr and remote in result.stderr
    assert "Traceback" not in result.stderr


def test_prune_destroys_only_owned_rows_of_absent_projects(sandbox_factory):
    sandbox = sandbox_factory()
    nb = sandbox.nb_remote
    applied(str(POLICIES / "northwind-shop"), str(POLICIES / "globex-bastion"), nb=nb)
    kept = netc("plan", str(POLICIES / "northwind-shop"), "--format", "json", nb=nb)
    assert json.loads(kept.stdout)["changes"] == []  # without --prune: scope is the intent
    applied(str(POLICIES / "northwind-shop"), nb=nb, extra=("--prune",))
    projects = {row.project for row in owned_state(sandbox).rows}
    assert projects == {"northwind/shop", None}


def world_state_matches(sandbox: Sandbox, paths: list[str], config: Path = CONFIG) -> bool:
    """True when the owned rows are exactly what ``paths`` compile to (plan is empty)."""
    diagnostics = Diagnostics()
    settings = load_settings(str(config), diagnostics)
    result = check_paths(paths, settings, diagnostics)
    assert result.ok
    return not plan_live(owned_state(sandbox, settings.owner), result.world).changes
