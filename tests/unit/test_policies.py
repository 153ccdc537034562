"""The example policies check clean, as CI promises (`netc check policies/`), and each
DSL twin under examples-dsl/ says exactly what its YAML original says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netc.cli import main
from netc.diagnostics import Diagnostics
from netc.intent.sources import DSL_SUFFIX, YAML_SUFFIXES, load_documents

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
DSL_TWINS = REPO / "examples-dsl"
CONFIG = REPO / "netc.toml"

YAML_POLICIES = sorted(p.relative_to(POLICIES) for p in POLICIES.rglob("*")
                       if p.suffix in YAML_SUFFIXES)


def _projects(path: Path) -> list:
    diagnostics = Diagnostics()
    documents = load_documents([str(path)], diagnostics)
    assert [d.render() for d in diagnostics] == []
    return [document.project for document in documents]


@pytest.mark.parametrize("tree", [POLICIES, DSL_TWINS], ids=["yaml", "dsl"])
def test_policies_check_clean(tree, capsys):
    status = main(["check", "--config", str(CONFIG), "--format", "json", str(tree)])
    diagnostics = json.loads(capsys.readouterr().out)
    assert diagnostics == []  # warnings included: the examples should show none
    assert status == 0


def test_every_policy_has_one_dsl_twin():
    twins = sorted(p.relative_to(DSL_TWINS) for p in DSL_TWINS.rglob(f"*{DSL_SUFFIX}"))
    assert twins == [p.with_suffix(DSL_SUFFIX) for p in YAML_POLICIES]


@pytest.mark.parametrize("relative", YAML_POLICIES, ids=[str(p) for p in YAML_POLICIES])
def test_dsl_twin_equals_yaml(relative):
    original = _projects(POLICIES / relative)
    twin = _projects(DSL_TWINS / relative.with_suffix(DSL_SUFFIX))
    assert original and twin == original
