"""``netc explain`` and ``netc verify`` (offline), end to end through the CLI."""

import json

import pytest

import netc.reach.matrix as matrix_module
from netc.compiler.rows import Ref, Row
from netc.cli import main

INTENT = """\
org: acme
project: web
security_groups:
  - name: web
    ingress:
      - {protocol: tcp, ports: [80], from: "sg:admin"}
  - name: admin
    egress:
      - {protocol: tcp, ports: [80, 22], to: 10.0.0.0/8}
ports:
  - {name: web-1, security_groups: [web]}
  - {name: bastion, security_groups: [admin]}
---
org: acme
project: db
ports:
  - {name: pg-1}
"""


@pytest.fixture
def intent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray netc.toml
    (tmp_path / "web.yaml").write_text(INTENT)
    return str(tmp_path / "web.yaml")


def test_explain_json(intent, capsys):
    code = main(["explain", intent, "--from", "acme/web/bastion", "--to", "acme/web/web-1",
                 "--protocol", "tcp", "--port", "80", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["verdict"] == "allow"
    assert [(r["group"], r["direction"], r["index"]) for r in out["reasons"]] == [
        ("acme/web/admin", "egress", 0), ("acme/web/web", "ingress", 0)]
    assert out["reasons"][1]["location"].endswith("web.yaml:6:9")


@pytest.mark.parametrize("args,verdict,needle", [
    (["--port", "22"], "deny", "no ingress rule of acme/web/web-1's groups (acme/web/web)"),
    (["--protocol", "icmp"], "deny", "no egress rule"),
])
def test_explain_text(intent, capsys, args, verdict, needle):
    code = main(["explain", intent, "--from", "acme/web/bastion", "--to", "acme/web/web-1",
                 *args])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.startswith(f"{verdict}: acme/web/bastion -> acme/web/web-1")
    assert needle in captured.out
    assert "disagree" not in captured.err


def test_explain_isolation(intent, capsys):
    assert main(["explain", intent, "--from", "acme/web/web-1", "--to", "acme/db/pg-1",
                 "--port", "5432", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "deny" and out["reasons"][0]["kind"] == "isolated"


@pytest.mark.parametrize("args,code,message", [
    (["--from", "acme/web/nope", "--to", "acme/web/web-1", "--port", "80"], 1, "no port"),
    (["--from", "acme/web/bastion", "--to", "acme/web/web-1"], 2, "needs a destination port"),
    (["--from", "acme/web/bastion", "--to", "acme/web/web-1", "--protocol", "sctp"], 2,
     "unknown protocol"),
])
def test_explain_errors(intent, capsys, args, code, message):
    assert main(["explain", intent, *args]) == code
    assert message in capsys.readouterr().err


def test_verify_agrees(intent, capsys):
    assert main(["verify", intent]) == 0
    captured = capsys.readouterr()
    assert "acme/web -> acme/web: tcp/80\n" in captured.out
    assert "  admin@default (bastion) -> web@default (web-1): tcp/80\n" in captured.out
    lines = captured.out.splitlines()
    assert not any("acme/db" in line and "acme/web" in line for line in lines)  # isolated
    assert "intent and compiled rows agree" in captured.err


def test_verify_json_has_classes_projects_and_the_matrix(intent, capsys):
    assert main(["verify", intent, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["agree"] and not report["errors"] and not report["disagreements"]
    assert {c["id"]: c["ports"] for c in report["classes"]} == {
        "acme/db/default@default": ["acme/db/pg-1"],
        "acme/web/admin@default": ["acme/web/bastion"],
        "acme/web/web@default": ["acme/web/web-1"]}
    assert report["projects"] == [{"from": "acme/web", "to": "acme/web", "traffic": ["tcp/80"]}]
    assert report["matrix"] == [{"from": "acme/web/admin@default", "to": "acme/web/web@default",
                                 "traffic": ["tcp/80"]}]


def test_verify_dot(intent, capsys):
    assert main(["verify", intent, "--format", "dot"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph netc {") and "subgraph cluster_" in out
    assert '"acme/web/admin@default" -> "acme/web/web@default" [label="tcp/80"];' in out


def test_verify_reports_disagreement(intent, capsys, monkeypatch):
    """Rows that drop what they should allow: verify must say so and exit 1."""
    compile_world = matrix_module.compile_world

    def broken(world, **kwargs):
        compilation = compile_world(world, **kwargs)
        for acl in compilation.rows.tables["ACL"].values():
            if acl.columns["action"] == "allow-related":
                acl.columns["action"] = "drop"
        return compilation

    monkeypatch.setattr(matrix_module, "compile_world", broken)
    assert main(["verify", intent, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["agree"]
    wrong = {(d["from"], d["to"], d["traffic"]) for d in report["disagreements"]}
    assert ("acme/web/bastion", "acme/web/web-1", "tcp/80") in wrong
    assert all(d["intent"] == "allow" and d["rows"] == "deny" for d in report["disagreements"])


def test_verify_reports_reachability_between_unpeered_projects(intent, capsys, monkeypatch):
    """Rows that route two projects that do not peer into one switch: an error."""
    compile_world = matrix_module.compile_world

    def merged(world, **kwargs):
        compilation = compile_world(world, **kwargs)
        switches = compilation.rows.tables["Logical_Switch"]
        web, db = switches["switch:acme/web/default"], switches["switch:acme/db/default"]
        pg = compilation.rows.tables["Logical_Switch_Port"]["port:acme/db/pg-1"]
        db.columns["ports"] = [p for p in db.columns["ports"] if p != pg.key]
        web.columns["ports"] = sorted([*web.columns["ports"], pg.key])
        compilation.rows.add(Row("ACL", "foreign", {
            "direction": "to-lport", "priority": 2000, "action": "allow-related",
            "match": f'outport == "{pg.columns["name"]}" && ip4'}))
        web.columns["acls"] = [Ref("foreign")]
        return compilation

    monkeypatch.setattr(matrix_module, "compile_world", merged)
    assert main(["verify", intent, "--format", "json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert ("acme/web/bastion", "acme/db/pg-1") in {(e["from"], e["to"])
                                                    for e in report["errors"]}
    assert all(e["code"] == "UNPEERED_REACHABILITY" and e["intent"] == "deny"
               and e["rows"] == "allow" for e in report["errors"])
    assert "error[UNPEERED_REACHABILITY]: acme/web/bastion -> acme/db/pg-1" in captured.err


def test_verify_live_without_a_northbound_fails_cleanly(intent, capsys):
    assert main(["verify", intent, "--nb", "unix:/nonexistent/nb.sock"]) == 1
    assert "OVN_CONNECTION_FAILED" in capsys.readouterr().err
