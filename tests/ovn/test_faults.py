"""netc apply under faults: foreign rows, concurrent writers, SIGKILL, a leader killed.

What must hold every time: the owned rows are exactly one compiled world (never a
mix), no netc:key appears twice, and rows netc does not own are left byte-identical.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bench.world import WorldShape, write_world
from netc.devtools.sandbox import Sandbox
from netc.compiler.lower import vpc_allocations_in
from tests.ovn.test_apply import (CONFIG, POLICIES, REPO, all_rows, applied, netc,
                                  owned_state, world_state_matches)

pytestmark = pytest.mark.ovn


def foreign_rows(sandbox: Sandbox) -> dict[str, dict[str, dict]]:
    rows = all_rows(sandbox)
    return {table: {u: r for u, r in by_uuid.items()
                    if ["netc:owner", "netc"] not in _ids(r)}
            for table, by_uuid in rows.items() if table != "NB_Global"}


def _ids(row: dict) -> list:
    ids = row.get("external_ids")
    return ids[1] if isinstance(ids, list) and ids[0] == "map" else []


def fill_neutron_style(sandbox: Sandbox, names: list[str]) -> None:
    """Rows as Neutron ML2/OVN writes them, plus switches named like netc's."""
    for name in names:
        sandbox.nbctl("ls-add", name, "--", "set", "Logical_Switch", name,
                      'external_ids:"neutron:network_name"=collide')
    for _ in range(3):
        group = f"pg_{uuid.uuid4()}".replace("-", "_")
        sandbox.nbctl("pg-add", group, "--", "set", "Port_Group", group,
                      'external_ids:"neutron:security_group_id"=x')
        sandbox.nbctl("acl-add", group, "to-lport", "1002",
                      f"outport == @{group} && ip4 && tcp.dst == 22", "allow-related")
    sandbox.nbctl("ls-add", "neutron-net", "--", "lsp-add", "neutron-net", "neutron-port",
                  "--", "lsp-set-addresses", "neutron-port", "fa:16:3e:00:00:01 10.9.9.9")
    sandbox.nbctl("--", "--id=@a", "create", "ACL", "priority=1001", "direction=to-lport",
                  "action=drop", 'match="ip4"', "--", "add", "Logical_Switch", "neutron-net",
                  "acls", "@a")


def test_foreign_rows_are_left_byte_identical_by_apply_and_prune(sandbox_factory):
    sandbox = sandbox_factory()
    nb = sandbox.nb_remote
    # the names netc gives the shop's switches, taken first by "Neutron"
    fill_neutron_style(sandbox, ["northwind.shop.frontend", "northwind.shop.data"])
    before = foreign_rows(sandbox)
    applied(str(POLICIES / "northwind-shop"), str(POLICIES / "globex-bastion"), nb=nb)
    ours = [r for r in owned_state(sandbox).rows if r.table == "Logical_Switch"
            and r.columns["name"] == "northwind.shop.frontend"]
    assert len(ours) == 1  # netc created its own row beside the foreign one
    assert foreign_rows(sandbox) == before
    applied(str(POLICIES / "globex-bastion"), nb=nb, extra=("--prune",))
    assert foreign_rows(sandbox) == before
    assert {r.project for r in owned_state(sandbox).rows} == {"globex/platform", None}


def test_a_foreign_row_holding_a_unique_name_is_a_clear_error(sandbox_factory):
    sandbox = sandbox_factory()
    nb = sandbox.nb_remote
    folder = str(POLICIES / "globex-bastion")
    plan = netc("plan", folder, "--format", "json", nb=nb)
    taken = next(c["row"]["name"] for c in json.loads(plan.stdout)["changes"]
                 if c["table"] == "Port_Group")
    sandbox.nbctl("pg-add", taken)
    before = foreign_rows(sandbox)
    result = netc("apply", folder, "--auto-approve", nb=nb)
    assert result.returncode == 1
    assert "names already taken" in result.stderr and taken in result.stderr
    assert "Traceback" not in result.stderr
    assert len(owned_state(sandbox).rows) == 0 and foreign_rows(sandbox) == before


def _start(paths: list[str], nb: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "netc", "apply", *paths, "--auto-approve"],
                            cwd=REPO, env={"PYTHONPATH": str(REPO), "OVN_NB_DB": nb,
                                           "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.parametrize("writers", [2, 5])
def test_concurrent_applies_on_overlapping_projects(sandbox_factory, writers):
    sandbox = sandbox_factory()
    folders = [str(p) for p in sorted(POLICIES.iterdir()) if p.is_dir()]
    rng = random.Random(writers)
    intents = [sorted(rng.sample(folders, 3)) for _ in range(writers)]
    runs = [_start(paths, sandbox.nb_remote) for paths in intents]
    outcomes = [(run.returncode, *run.communicate(timeout=300)) for run in runs]
    outcomes = [(run.returncode, stdout, stderr) for run, (_, stdout, stderr) in zip(runs, outcomes)]
    for code, stdout, stderr in outcomes:
        assert "Traceback" not in stderr
        assert code == 0 or "other writers changed netc's rows" in stderr, stderr
    assert any(code == 0 for code, _, _ in outcomes)
    state = owned_state(sandbox)
    assert state.duplicates == []
    for (code, _, _), paths in zip(outcomes, intents):
        if code == 0:  # no lost update: every applied project is exactly as wanted
            assert world_state_matches(sandbox, paths)


def _vpc_blocks(sandbox: Sandbox) -> dict[str, object]:
    return vpc_allocations_in(owned_state(sandbox).rows)


def test_pool_vpc_stays_put_when_other_project_sets_are_applied(sandbox_factory):
    """A VPC taken from the pool is read back from the NB: applying another set of
    projects neither moves it nor hands the same block to a second project."""
    sandbox = sandbox_factory()
    first = [str(POLICIES / "contoso-shared-services"), str(POLICIES / "umbrella-wayne-isolation")]
    second = [str(POLICIES / "globex-bastion"), str(POLICIES / "umbrella-wayne-isolation")]
    applied(*first, nb=sandbox.nb_remote)
    before = _vpc_blocks(sandbox)
    applied(*second, nb=sandbox.nb_remote)
    after = _vpc_blocks(sandbox)
    assert {k: after[k] for k in before} == before
    assert len(set(after.values())) == len(after)
    assert world_state_matches(sandbox, first)


def _world(tmp_path: Path, name: str, projects: int, ports: int) -> Path:
    return write_world(tmp_path / name, WorldShape(projects, ports))


@pytest.mark.slow
def test_sigkill_during_apply_leaves_the_db_fully_old_or_fully_new(sandbox_factory, tmp_path):
    sandbox = sandbox_factory()
    old = _world(tmp_path, "old", 30, 40)
    new = tmp_path / "new"
    shutil.copytree(old, new)
    for file in sorted(new.rglob("*.yaml"))[::2]:  # new rules in half of the projects
        file.write_text(re.sub(r"\n( +)- 22\n", r"\n\1- 22\n\1- 2222\n", file.read_text()))
    applied(str(old), nb=sandbox.nb_remote, extra=("--config", str(old / "netc.toml")))
    worlds = {"old": old, "new": new}
    rng = random.Random(4)
    current = "old"
    for trial in range(20):
        target = "new" if current == "old" else "old"
        run = subprocess.Popen(
            [sys.executable, "-m", "netc", "apply", str(worlds[target]), "--auto-approve",
             "--config", str(worlds[target] / "netc.toml")],
            cwd=REPO, env={"PYTHONPATH": str(REPO), "OVN_NB_DB": sandbox.nb_remote,
                           "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 4.0))
        run.send_signal(signal.SIGKILL)
        run.wait()
        is_old = world_state_matches(sandbox, [str(old)], old / "netc.toml")
        is_new = world_state_matches(sandbox, [str(new)], new / "netc.toml")
        assert is_old != is_new, f"trial {trial}: the DB is neither fully old nor fully new"
        assert owned_state(sandbox).duplicates == []
        current = "old" if is_old else "new"


@pytest.mark.slow
def test_leader_killed_during_apply(cluster_sandbox, tmp_path):
    sandbox = cluster_sandbox
    world = _world(tmp_path, "world", 20, 40)
    config = ("--config", str(world / "netc.toml"))
    run = subprocess.Popen(
        [sys.executable, "-m", "netc", "apply", str(world), "--auto-approve", *config],
        cwd=REPO, env={"PYTHONPATH": str(REPO), "OVN_NB_DB": sandbox.nb_remote,
                       "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    time.sleep(1.5)
    leader = sandbox.leader()
    assert leader is not None
    sandbox.kill_member(leader)
    _, stderr = run.communicate(timeout=300)  # drains the pipes: the plan is long
    code = run.returncode
    assert "Traceback" not in stderr
    if code != 0:  # failed cleanly: the rerun must succeed
        assert "OVN_CONNECTION_FAILED" in stderr or "error:" in stderr, stderr
        applied(str(world), nb=sandbox.nb_remote, extra=config)
    assert world_state_matches(sandbox, [str(world)], world / "netc.toml")
    assert owned_state(sandbox).duplicates == []
    sandbox.start_member(leader)
    sandbox.wait_for_leader()
    sandbox.check_cluster()
