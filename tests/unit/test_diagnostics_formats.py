"""``--format sarif`` and ``--format github`` on every command that reports diagnostics.

SARIF is validated against the SARIF 2.1.0 JSON Schema shipped in tests/data (no
download at test time); GitHub output is read back as workflow commands.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from netc.cli import main
from netc.diagnostics import Code, Diagnostic, Severity
from netc.diagnostics_formats import github_command, sarif_log

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json")
                    .read_text(encoding="utf-8"))
BAD = """\
org: acme
project: web
subnets:
  - {name: a, cidr: 10.1.0.0/24}
ports:
  - {name: p, subnet: b}
peerings: [acme/absent]
"""
COMMANDS = {
    "check": ["check"],
    "compile": ["compile"],
    "plan": ["plan", "--against", "rows.json"],
    "apply": ["apply", "--nb", "unix:/nonexistent.sock", "--auto-approve"],
    "explain": ["explain", "--from", "acme/web/p", "--to", "acme/web/p", "--port", "80"],
    "verify": ["verify"],
    "fmt": ["fmt", "--check"],
}
COMMAND = re.compile(r"^::(error|warning)(?: ([^:]*))?::(.*)$")


@pytest.fixture
def bad(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(BAD, encoding="utf-8")
    Path("rows.json").write_text('{"format": "netc.rows/v1", "tables": {}}', encoding="utf-8")
    return Path("bad.yaml")


def _validate(log: dict) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)


@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
def test_sarif_on_every_command_is_one_valid_log(bad, command, capsys):
    args = COMMANDS[command] + ["--format", "sarif", str(bad)]
    if command == "fmt":
        bad.write_text(BAD.replace("subnet: b}", "subnet: b"), encoding="utf-8")  # unparsable
    status = main(args)
    out = capsys.readouterr().out
    log = json.loads(out)  # stdout is exactly the log
    _validate(log)
    assert status == 1
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "netc"
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rule_ids == [str(code) for code in Code]
    assert run["results"], "the bad input's diagnostics are in the log"
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "bad.yaml"
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1


def test_sarif_results_carry_level_message_and_region(bad, capsys):
    assert main(["check", "--format", "sarif", str(bad)]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["SUBNET_NOT_FOUND"]["level"] == "error"
    assert by_rule["SUBNET_NOT_FOUND"]["locations"][0]["physicalLocation"]["region"] == \
        {"startLine": 6, "startColumn": 23}
    assert "does not exist in acme/web" in by_rule["SUBNET_NOT_FOUND"]["message"]["text"]
    assert by_rule["PEERING_NOT_MUTUAL"]["level"] == "warning"


def test_sarif_of_a_clean_run_is_a_valid_empty_log(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("ok.yaml").write_text("org: acme\nproject: web\n", encoding="utf-8")
    assert main(["check", "--format", "sarif", "ok.yaml"]) == 0
    log = json.loads(capsys.readouterr().out)
    _validate(log)
    assert log["runs"][0]["results"] == []


def test_sarif_without_position_remote_and_absolute_path(tmp_path):
    diagnostics = [
        Diagnostic(Code.FILE_ERROR, Severity.ERROR, "no such file or folder", "missing dir", 0, 0),
        Diagnostic(Code.OVN_CONNECTION_FAILED, Severity.ERROR, "refused", "tcp:127.0.0.1:6641",
                   0, 0),
        Diagnostic(Code.SYNTAX_ERROR, Severity.ERROR, "bad", str(tmp_path / "x y.netc"), 2, 5),
        Diagnostic(Code.SYNTAX_ERROR, Severity.ERROR, "bad", "/elsewhere/z.netc", 1, 1),
    ]
    log = sarif_log(diagnostics, root=tmp_path)
    _validate(log)
    missing, remote, inside, outside = log["runs"][0]["results"]
    assert missing["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "missing%20dir", "uriBaseId": "%SRCROOT%"}}
    assert "locations" not in remote and remote["message"]["text"].startswith("tcp:127.0.0.1:6641: ")
    assert inside["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "x%20y.netc"
    assert outside["locations"][0]["physicalLocation"]["artifactLocation"] == \
        {"uri": "file:///elsewhere/z.netc"}


@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
def test_github_workflow_commands_on_every_command(bad, command, capsys):
    args = COMMANDS[command] + ["--format", "github", str(bad)]
    if command == "fmt":
        bad.write_text(BAD.replace("subnet: b}", "subnet: b"), encoding="utf-8")
    assert main(args) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::")]
    assert lines
    for line in lines:
        kind, properties, message = COMMAND.match(line).groups()
        fields = dict(p.split("=", 1) for p in properties.split(","))
        assert fields["file"] == "bad.yaml" and int(fields["line"]) >= 1 and int(fields["col"]) >= 1
        assert re.match(r"\[[A-Z_]+\] ", message)
    if command != "fmt":
        assert any(line.startswith("::warning file=bad.yaml,line=7,col=12::[PEERING_NOT_MUTUAL] ")
                   for line in lines)
        assert any(line.startswith("::error file=bad.yaml,line=6,col=23::[SUBNET_NOT_FOUND] ")
                   for line in lines)


def test_github_escapes_what_would_end_a_command():
    line = github_command(Diagnostic(Code.SCHEMA_ERROR, Severity.ERROR, "50% of\na, b: c",
                                     "dir,x:y.yaml", 3, 4))
    assert line == "::error file=dir%2Cx%3Ay.yaml,line=3,col=4::[SCHEMA_ERROR] 50%25 of%0Aa, b: c"
    remote = github_command(Diagnostic(Code.OVN_CONNECTION_FAILED, Severity.ERROR, "refused",
                                       "tcp:1.2.3.4:6641", 0, 0))
    assert remote == "::error::[OVN_CONNECTION_FAILED] tcp:1.2.3.4:6641: refused"


def test_github_keeps_the_commands_own_output(bad, capsys):
    Path("ok.yaml").write_text("org: acme\nproject: ok\n", encoding="utf-8")
    assert main(["compile", "--format", "github", "ok.yaml"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "netc.rows/v1"
