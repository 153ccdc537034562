"""The example policies check clean, as CI promises (`netc check policies/`), their
expectations hold (`netc test`), and each DSL twin under examples-dsl/ says exactly
what its YAML original says, expectations included."""

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


def _documents(path: Path) -> list:
    """The projects of ``path``, then its expectation documents' entries."""
    diagnostics = Diagnostics()
    expectations: list = []
    documents = load_documents([str(path)], diagnostics, expectations)
    assert [d.render() for d in diagnostics] == []
    return [document.project for document in documents] + [
        entry for document in expectations for entry in document.expectations.expect]


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
    original = _documents(POLICIES / relative)
    twin = _documents(DSL_TWINS / relative.with_suffix(DSL_SUFFIX))
    assert original and twin == original


POLICY_FOLDERS = sorted(p for p in POLICIES.iterdir() if p.is_dir())


def test_every_policy_folder_has_expectations():
    assert POLICY_FOLDERS and all(list(folder.glob("expect*.yaml")) for folder in POLICY_FOLDERS)


@pytest.mark.parametrize("tree", [POLICIES, DSL_TWINS], ids=["yaml", "dsl"])
@pytest.mark.parametrize("folder", [p.name for p in POLICY_FOLDERS])
def test_policy_expectations_hold(tree, folder, capsys):
    status = main(["test", "--config", str(CONFIG), "--format", "json", str(tree / folder)])
    report = json.loads(capsys.readouterr().out)
    assert [e["expectation"] for e in report["expectations"] if not e["holds"]] == []
    assert report["passed"] >= 4 and status == 0
    verdicts = {e["expectation"].split()[0] for e in report["expectations"]}
    assert verdicts == {"allow", "deny"}  # each folder says what passes and what does not
