"""``netc verify --nb``: the intent's verdicts against ovn-trace on a real Northbound.

Every example policy is applied to a fresh sandbox and must verify clean. Then
foreign rows (a port group and an ACL that netc does not own, written with
ovn-nbctl as an operator or Neutron would) must show up: one that drops a connection
the intent allows, and one that allows a connection it denies within a project,
each reported with the pair, the traffic and both verdicts, exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netc.cli import main
from tests.conftest import REPO

pytestmark = pytest.mark.ovn
POLICIES = REPO / "policies"
CONFIG = str(REPO / "netc.toml")
FOLDERS = sorted(p for p in POLICIES.iterdir() if p.is_dir())


def apply(sandbox, path: Path, capsys) -> None:
    assert main(["apply", str(path), "--config", CONFIG, "--nb", sandbox.nb_remote,
                 "--auto-approve", "--wait", "sb"]) == 0
    capsys.readouterr()


def verify(sandbox, path: Path, capsys, *extra: str) -> tuple[int, dict, str]:
    code = main(["verify", str(path), "--config", CONFIG, "--nb", sandbox.nb_remote,
                 "--sb", sandbox.sb_remote, "--format", "json", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_example_policy_verifies_against_ovn(folder, sandbox_factory, capsys):
    sandbox = sandbox_factory()
    apply(sandbox, folder, capsys)
    code, report, err = verify(sandbox, folder, capsys, "--sample", "2")
    assert code == 0, report["disagreements"] or err
    assert report["agree"] and report["pairs_traced"] >= report["class_pairs"] > 0
    assert "OVN agrees with the intent" in err


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    """All of policies/ in one fresh sandbox (module scope: the foreign rows below are
    added and removed by each test)."""
    from netc.devtools.sandbox import Sandbox
    from tests.ovn.conftest import start_sandbox

    sandbox = start_sandbox(Sandbox(tmp_path_factory.mktemp("verify-nb")))
    try:
        assert main(["apply", str(POLICIES), "--config", CONFIG, "--nb", sandbox.nb_remote,
                     "--auto-approve", "--wait", "sb"]) == 0
        yield sandbox
    finally:
        sandbox.stop()


def port_name(sandbox, key: str) -> str:
    org, project, port = key.split("/")
    return sandbox.nbctl("--bare", "--columns=name", "find", "Logical_Switch_Port",
                         f"external_ids:netc\\:org={org}",
                         f"external_ids:netc\\:project={project}",
                         f"external_ids:netc\\:port={port}").strip()


@pytest.fixture
def foreign(applied):
    """A foreign port group holding one port; its ACLs are the test's."""
    sandbox = applied
    sandbox.nbctl("pg-add", "operator_pg", port_name(sandbox, "wayne/research/db-1"))
    try:
        yield sandbox
    finally:
        sandbox.nbctl("pg-del", "operator_pg")


def test_the_policies_verify_clean_together(applied, capsys):
    code, report, _ = verify(applied, POLICIES, capsys)
    assert code == 0 and report["agree"] and not report["disagreements"]
    assert report["isolation_pairs"] > 0  # unrouted project pairs were traced too


def test_a_foreign_acl_that_drops_an_allowed_connection(foreign, capsys):
    foreign.nbctl("acl-add", "operator_pg", "to-lport", "2000",
                  "outport == @operator_pg && tcp.dst == 5432", "drop")
    code, report, _ = verify(foreign, POLICIES, capsys)
    assert code == 1 and not report["agree"]
    found = {(d["from"], d["to"], d["traffic"], d["netc"], d["ovn"])
             for d in report["disagreements"]}
    assert ("wayne/research/web-1", "wayne/research/db-1", "tcp/5432", "allow", "deny") in found
    assert all(d["to"] == "wayne/research/db-1" for d in report["disagreements"])
    main(["verify", str(POLICIES), "--config", CONFIG, "--nb", foreign.nb_remote,
          "--sb", foreign.sb_remote])
    out = capsys.readouterr().out
    assert "wayne/research/web-1 -> wayne/research/db-1 tcp/5432: netc allow, OVN deny\n" in out


def test_a_foreign_acl_that_allows_a_denied_connection(foreign, capsys):
    foreign.nbctl("acl-add", "operator_pg", "to-lport", "2000",
                  "outport == @operator_pg && tcp.dst == 22", "allow-related")
    code, report, _ = verify(foreign, POLICIES, capsys)
    assert code == 1
    found = {(d["from"], d["to"], d["traffic"], d["netc"], d["ovn"])
             for d in report["disagreements"]}
    assert found == {("wayne/research/scratch", "wayne/research/db-1", "tcp/22", "deny",
                      "allow")}


def test_a_foreign_acl_on_one_address_singles_its_port_out(applied, capsys):
    """No foreign port group: a switch ACL naming one port's address must split that
    port from its class (spark-exec-2 is one of four spark workers)."""
    sandbox = applied
    address = sandbox.nbctl("--bare", "--columns=addresses", "list", "Logical_Switch_Port",
                            port_name(sandbox, "contoso/analytics/spark-exec-2")).split()[1]
    switch = "contoso.analytics.default"
    sandbox.nbctl("acl-add", switch, "to-lport", "2000",
                  f"ip4.dst == {address} && tcp.dst == 7077", "drop")
    try:
        code, report, _ = verify(sandbox, POLICIES, capsys)
    finally:
        sandbox.nbctl("acl-del", switch)
    assert code == 1
    found = {(d["from"], d["to"], d["traffic"]) for d in report["disagreements"]}
    assert ("contoso/analytics/jupyter", "contoso/analytics/spark-exec-2", "tcp/7077") in found
    assert {d["to"] for d in report["disagreements"]} == {"contoso/analytics/spark-exec-2"}


def test_two_ovn_trace_daemons_answer_as_one(applied, capsys, monkeypatch):
    """Large cross-checks split their packets between daemons: the same verdicts."""
    import netc.reach.crosscheck as crosscheck
    import netc.reach.ovntrace as ovntrace

    _, alone, _ = verify(applied, POLICIES, capsys)
    monkeypatch.setattr(ovntrace, "PACKETS_PER_WORKER", 10)
    monkeypatch.setattr(crosscheck, "TRACE_WORKERS", 2)
    code, split, err = verify(applied, POLICIES, capsys)
    assert code == 0 and split["traces"] == alone["traces"]
    assert "2 ovn-trace daemon(s)" in err
