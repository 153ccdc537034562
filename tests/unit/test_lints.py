"""Lints (contract section 9): warnings that never change the exit status, silenced
on purpose by ``# netc:ignore CODE`` in YAML and in the DSL. The cases with their
exact messages are golden (tests/golden/check/lint_*)."""

from __future__ import annotations

import json

import pytest

from netc.cli import main
from netc.diagnostics import LINTS, Code, WARNING_CODES
from netc.ir.lints import silenced

NOISY = """\
org: acme
project: web
security_groups:
  - name: web
    ingress:
      - {protocol: tcp, ports: [22], from: 0.0.0.0/0}
  - name: unused
ports:
  - {name: web-1, security_groups: [web]}
"""


@pytest.mark.parametrize("command", [["check"], ["compile", "-o", "rows.json"]])
def test_warnings_never_change_the_exit_status(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "web.yaml").write_text(NOISY, encoding="utf-8")
    assert main([*command, "--format", "github", "web.yaml"]) == 0
    out = capsys.readouterr().out
    assert {line.split("::")[2].split("]")[0][1:] for line in out.splitlines()
            if line.startswith("::warning")} == {"NO_EGRESS", "OPEN_TO_WORLD", "SG_UNUSED"}


def test_lints_are_warnings_only():
    assert LINTS <= WARNING_CODES and Code.PEERING_NOT_MUTUAL not in LINTS


@pytest.mark.parametrize(("lines", "line", "expected"), [
    (["x  # netc:ignore SG_UNUSED"], 1, True),
    (["x  # netc:ignore RULE_SHADOWED, SG_UNUSED: a reason"], 1, True),
    (["x  # netc:ignore"], 1, True),
    (["x  # netc:ignore NO_EGRESS"], 1, False),
    (["  # netc:ignore SG_UNUSED", "x"], 2, True),
    (["y  # netc:ignore SG_UNUSED", "x"], 2, False),   # above, but not alone on its line
    (["x  # netc: ignore SG_UNUSED"], 1, True),
    (["x  # netc:ignored"], 1, False),
])
def test_silencing_comment(lines, line, expected):
    assert silenced(Code.SG_UNUSED, line, lines) is expected


def test_errors_cannot_be_silenced():
    assert not silenced(Code.SUBNET_NOT_FOUND, 1, ["x  # netc:ignore SUBNET_NOT_FOUND"])


def test_the_same_comment_silences_in_the_dsl(tmp_path, capsys):
    path = tmp_path / "web.netc"
    path.write_text("project acme/web {\n"
                    "  group web {  # netc:ignore NO_EGRESS\n"
                    "    ingress tcp 22 from 0.0.0.0/0  # netc:ignore OPEN_TO_WORLD\n"
                    "  }\n"
                    "  # netc:ignore SG_UNUSED\n"
                    "  group spare {}\n"
                    "  port web-1 groups web\n"
                    "}\n", encoding="utf-8")
    assert main(["check", "--format", "json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == []
