"""`netc compile` and `netc plan --against` through the command line: outputs, exit codes."""

from __future__ import annotations

import json

from netc.cli import main
from tests.conftest import GOLDEN

CASE = GOLDEN / "compile" / "rule-change"
CONFIG = GOLDEN / "compile" / "snat" / "netc.toml"


def test_compile_json_then_plan_against_it(tmp_path, capsys):
    rows = tmp_path / "rows.json"
    assert main(["compile", "--config", str(CONFIG), str(CASE / "intent.yaml"),
                 "-o", str(rows)]) == 0
    assert json.loads(rows.read_text())["format"] == "netc.rows/v1"
    capsys.readouterr()
    assert main(["plan", "--config", str(CONFIG), str(CASE / "intent.yaml"), "--against",
                 str(rows), "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out.startswith("No changes.")
    assert main(["plan", "--config", str(CONFIG), str(CASE / "before.yaml"), "--against",
                 str(rows), "--detailed-exitcode", "--format", "json"]) == 2
    plan = json.loads(capsys.readouterr().out)
    assert plan["format"] == "netc.plan/v1" and plan["summary"]["change"] > 0


def test_plan_text_ends_with_the_summary(tmp_path, capsys):
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert main(["plan", "--config", str(CONFIG), str(CASE / "intent.yaml"),
                 "--against", str(empty)]) == 0
    out = capsys.readouterr().out
    assert "  + create" in out and out.rstrip().splitlines()[-1].startswith("Plan: ")


def test_compile_nbctl_and_errors(tmp_path, capsys):
    assert main(["compile", "--config", str(CONFIG), "--format", "nbctl",
                 str(CASE / "intent.yaml")]) == 0
    assert capsys.readouterr().out.startswith("#!/bin/sh")
    bad = tmp_path / "bad.yaml"
    bad.write_text("org: acme\nproject: x\nsubnets: [{name: s, cidr: 10.0.0.0/33}]\n")
    assert main(["compile", "--config", str(CONFIG), str(bad)]) == 1
    snapshot = tmp_path / "garbage.json"
    snapshot.write_text("not json\n")
    assert main(["plan", "--config", str(CONFIG), str(CASE / "intent.yaml"),
                 "--against", str(snapshot)]) == 1
    assert "FILE_ERROR" in capsys.readouterr().err
