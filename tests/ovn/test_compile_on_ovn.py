"""Every golden case, loaded into a real NB through its ovn-nbctl script, must be
understood by OVN: no logical flow that ovn-trace reports as ``parsing expression
failed`` (OVN stores an unparsable match and then silently never matches it), and a
dump of the NB read back by the snapshot reader plans "no changes", every row's
netc:digest matching what it holds.

Each case gets a fresh sandbox (NB, SB, northd): the scripts are for an empty NB.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from netc.backends.diff import diff_rows
from netc.backends.dryrun.nbctl import render_nbctl
from netc.backends.dryrun.snapshot import parse_snapshot
from netc.compiler.canonical import drifted
from netc.compiler.rows import Row, RowSet
from tests.unit.test_compile_golden import CASE_DIRS, POLICY_DIRS, compile_path, settings_for

pytestmark = pytest.mark.ovn
PARSE_FAILURE = "parsing expression failed"


def load(sandbox, rows: RowSet, tmp_path: Path) -> None:
    script = tmp_path / "rows.sh"
    script.write_text(render_nbctl(rows), encoding="utf-8")
    env = dict(os.environ, OVN_NBCTL=f"ovn-nbctl --db={sandbox.nb_remote}")
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    sandbox.nbctl("--wait=sb", "sync")


def trace_errors(sandbox) -> str:
    """ovn-trace parses every logical flow of the SB when it starts; what it rejects."""
    switch = sandbox.nbctl("--bare", "--columns=name", "list", "Logical_Switch").split()[0]
    done = subprocess.run(["ovn-trace", f"--db={sandbox.sb_remote}", "--minimal", switch,
                           'inport == "none"'], capture_output=True, text=True, timeout=60)
    return "\n".join(line for line in (done.stdout + done.stderr).splitlines()
                     if PARSE_FAILURE in line)


@pytest.mark.parametrize("case", CASE_DIRS + POLICY_DIRS, ids=lambda p: p.name)
def test_golden_case_is_valid_ovn(case: Path, sandbox_factory, tmp_path: Path) -> None:
    intent = case / "intent.yaml" if (case / "intent.yaml").exists() else case
    settings = settings_for(case)
    rows = compile_path(intent, settings).rows
    sandbox = sandbox_factory()
    load(sandbox, rows, tmp_path)
    assert trace_errors(sandbox) == ""
    dump = sandbox.run("ovsdb-client", "-f", "json", "dump", sandbox.nb_remote,
                       "OVN_Northbound")
    snapshot = parse_snapshot(dump, settings.owner)
    plan = diff_rows(rows, snapshot, set(), prune=True)
    assert plan.empty, [(c.action, c.key, c.reason) for c in plan.changes]
    assert [(r.table, r.key) for r in snapshot if drifted(r) is not False] == []


def test_an_unparsable_match_is_caught(sandbox_factory, tmp_path: Path) -> None:
    """The check above can fail: the same load with a ``a..b`` range is reported."""
    rows = compile_path(next(c for c in CASE_DIRS if c.name == "merge-ports") / "intent.yaml",
                        settings_for(CASE_DIRS[0])).rows
    acl = next(r for r in rows.tables["ACL"].values() if "8000 <=" in r.columns["match"])
    bad = dict(acl.columns, match=acl.columns["match"].split(" && tcp")[0] +
               " && tcp && tcp.dst == 8000..8199")
    rows.tables["ACL"][acl.key] = Row("ACL", acl.key, bad)
    sandbox = sandbox_factory()
    load(sandbox, rows, tmp_path)
    assert PARSE_FAILURE in trace_errors(sandbox)


DNAT_CASES = [c for c in CASE_DIRS if c.name == "floating-ip"] + \
    [p for p in POLICY_DIRS if p.name == "initech-edge"]
"""Cases with 1:1 DNAT; in floating-ip a floating IP is also the gateway port's address."""


@pytest.mark.parametrize("case", DNAT_CASES, ids=lambda p: p.name)
def test_floating_ips_reach_their_ports(case: Path, sandbox_factory, tmp_path: Path) -> None:
    """Every NAT row that DNATs takes a new connection from the external network, on
    any port, to its internal address: ovn-trace shows the rewrite. (ovn-northd drops
    what is sent to a router port's own address unless it is an SNAT address, which a
    lone dnat_and_snat there is not: the compiler writes that one as dnat + snat.)"""
    intent = case / "intent.yaml" if (case / "intent.yaml").exists() else case
    rows = compile_path(intent, settings_for(case)).rows
    sandbox = sandbox_factory()
    load(sandbox, rows, tmp_path)
    localnet = rows.get("Logical_Switch_Port", "lsp-localnet:external").columns["name"]
    switch = rows.get("Logical_Switch", "switch:external").columns["name"]
    dnats = [r for r in rows.tables["NAT"].values() if r.columns["type"] != "snat"]
    assert dnats
    for nat in dnats:
        gateway = rows.get("Logical_Router_Port", f"lrp-gw:{nat.project}").columns["mac"]
        flow = (f'inport == "{localnet}" && eth.src == 00:00:00:00:00:99 && '
                f'eth.dst == {gateway} && ip4.src == 198.51.100.5 && '
                f'ip4.dst == {nat.columns["external_ip"]} && ip.ttl == 64 && tcp && '
                f'tcp.dst == 5555')
        done = subprocess.run(["ovn-trace", f"--db={sandbox.sb_remote}", "--minimal",
                               "--ct", "new", switch, flow],
                              capture_output=True, text=True, timeout=60)
        assert f"ip4.dst={nat.columns['logical_ip']})" in done.stdout, (nat.key, done.stdout)
