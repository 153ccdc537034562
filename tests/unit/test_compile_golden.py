"""Golden cases of the compiler and the dry-run plan: input beside expected output.

Each folder of tests/golden/compile/ holds ``intent.yaml`` (and ``netc.toml`` when it
needs settings), and the expected ``rows.json`` (netc.rows/v1) and ``plan.txt`` (the
plan against an empty snapshot). With a ``before.yaml``, ``plan-before.txt`` is the
plan against the compile of that earlier intent (read back through the snapshot
reader, so addresses it allocated are kept); with a ``prune`` marker file,
``plan-before-prune.txt`` is the same plan with --prune. Each example policy under
policies/ is a case too (tests/golden/compile/policies/NAME/). ``pytest
--update-golden`` rewrites the expectations for review.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netc.backends.diff import diff_rows
from netc.backends.dryrun.plan_render import render_text
from netc.backends.dryrun.snapshot import parse_snapshot
from netc.compiler.lower import Compilation, allocations_in, compile_world
from netc.compiler.rows import RowSet
from netc.config import Settings, load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths
from netc.reach.changes import plan_reachability
from tests.conftest import GOLDEN, REPO
from tests.golden_files import assert_golden

CASES = GOLDEN / "compile"
POLICIES = REPO / "policies"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir() and p.name != "policies")
POLICY_DIRS = sorted(p for p in POLICIES.iterdir() if p.is_dir()) if POLICIES.is_dir() else []


def settings_for(case: Path) -> Settings:
    """The case's own netc.toml; the repository's for the example policies (which CI
    checks with it); the defaults otherwise."""
    config = case / "netc.toml" if case.parent == CASES else REPO / "netc.toml"
    if not config.exists():
        return Settings()
    diagnostics = Diagnostics()
    settings = load_settings(str(config), diagnostics)
    assert not diagnostics.has_errors, list(diagnostics)
    return settings


def compile_path(path: Path, settings: Settings, existing=None) -> Compilation:
    diagnostics = Diagnostics()
    result = check_paths([str(path)], settings, diagnostics)
    assert result.ok, [d.render() for d in diagnostics]
    compilation = compile_world(result.world, existing=existing, diagnostics=diagnostics)
    assert not diagnostics.has_errors, [d.render() for d in diagnostics]
    return compilation


def plan_text(intent: Path, settings: Settings, snapshot: RowSet, prune: bool = False) -> str:
    actual = parse_snapshot(snapshot.dumps(), settings.owner) if len(snapshot) else RowSet()
    compilation = compile_path(intent, settings, allocations_in(actual))
    plan = diff_rows(compilation.rows, actual, set(compilation.projects), prune)
    return render_text(plan, plan_reachability(actual, plan.changes))


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_compile_case(case: Path, update_golden: bool) -> None:
    settings = settings_for(case)
    intent = case / "intent.yaml"
    assert_golden(case / "rows.json", compile_path(intent, settings).rows.dumps(), update_golden)
    assert_golden(case / "plan.txt", plan_text(intent, settings, RowSet()), update_golden)
    if (case / "before.yaml").exists():
        before = compile_path(case / "before.yaml", settings).rows
        assert_golden(case / "plan-before.txt", plan_text(intent, settings, before),
                      update_golden)
        if (case / "prune").exists():
            assert_golden(case / "plan-before-prune.txt",
                          plan_text(intent, settings, before, prune=True), update_golden)


@pytest.mark.parametrize("policy", POLICY_DIRS, ids=lambda p: p.name)
def test_compile_policy(policy: Path, update_golden: bool) -> None:
    settings = settings_for(policy)
    expected = CASES / "policies" / policy.name
    assert_golden(expected / "rows.json", compile_path(policy, settings).rows.dumps(),
                  update_golden)
    assert_golden(expected / "plan.txt", plan_text(policy, settings, RowSet()), update_golden)


def test_golden_case_count() -> None:
    """The issue asks for at least 20 cases beside the example policies."""
    assert len(CASE_DIRS) >= 20


@pytest.mark.parametrize("case", CASE_DIRS + POLICY_DIRS, ids=lambda p: p.name)
def test_compile_is_deterministic(case: Path) -> None:
    """Two compiles of one input are byte-identical, and so is a re-plan: no changes."""
    intent = case / "intent.yaml" if (case / "intent.yaml").exists() else case
    settings = settings_for(case)
    first = compile_path(intent, settings).rows.dumps()
    assert compile_path(intent, settings).rows.dumps() == first
    assert plan_text(intent, settings, parse_snapshot(first, settings.owner)) == \
        render_text(diff_rows(RowSet(), RowSet(), set()))
