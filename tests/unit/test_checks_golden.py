"""Golden diagnostics: each bad input under tests/golden/check/ beside what netc says.

A case is one intent file ``NAME.yaml`` / ``NAME.netc``, or a folder ``NAME/`` of
files with an optional ``netc.toml``; ``NAME.expected`` holds the rendered
diagnostics, one per line, with paths relative to tests/golden/check/. The cases run
through :func:`netc.expect.command.check_with_expectations`, the same front end as
``netc check`` (the intent, and its expectation documents against it).
``pytest --update-golden`` rewrites the expectations for review.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netc.config import DEFAULT_CONFIG_NAME, load_settings
from netc.diagnostics import Code, Diagnostics
from netc.expect.command import check_with_expectations
from netc.intent.sources import INTENT_SUFFIXES
from tests.conftest import GOLDEN
from tests.golden_files import assert_golden

CASES_DIR = GOLDEN / "check"
CASES = sorted(p for p in CASES_DIR.iterdir()
               if p.is_dir() or p.suffix in INTENT_SUFFIXES)
NOT_FROM_CHECK = {Code.OVN_CONNECTION_FAILED, Code.PORT_ALREADY_ATTACHED,
                  Code.CONFIG_ERROR, Code.FILE_ERROR, Code.COMMENT_MOVED,
                  Code.EXPECTATION_FAILED}
"""Codes of the backends, the service and the command line (``netc fmt``, ``netc
test``), never of an intent check."""


def _case_name(case: Path) -> str:
    return case.name if case.is_dir() else case.stem


def render_case(case: Path) -> str:
    """What ``netc check CASE`` prints, one diagnostic per line."""
    diagnostics = Diagnostics()
    config = case / DEFAULT_CONFIG_NAME
    settings = load_settings(str(config.relative_to(CASES_DIR)) if config.exists() else None,
                             diagnostics)
    result, _ = check_with_expectations([str(case.relative_to(CASES_DIR))], settings,
                                        diagnostics)
    return "".join(d.render() + "\n" for d in result.diagnostics)


@pytest.mark.parametrize("case", CASES, ids=_case_name)
def test_golden_diagnostics(case: Path, update_golden: bool, monkeypatch) -> None:
    monkeypatch.chdir(CASES_DIR)
    assert_golden(CASES_DIR / f"{_case_name(case)}.expected", render_case(case), update_golden)


def test_every_case_has_an_expectation() -> None:
    names = {_case_name(case) for case in CASES}
    orphans = {p.stem for p in CASES_DIR.glob("*.expected")} - names
    assert not orphans, f"expected files without an input: {sorted(orphans)}"


def test_every_check_code_is_exercised() -> None:
    seen = set()
    for expected in CASES_DIR.glob("*.expected"):
        seen.update(re.findall(r"^\S+: (?:error|warning)\[([A-Z_]+)\]", expected.read_text(),
                               re.MULTILINE))
    missing = {str(code) for code in Code if code not in NOT_FROM_CHECK} - seen
    assert not missing, f"no golden case produces {sorted(missing)}"


def test_clean_cases_are_clean() -> None:
    clean = [CASES_DIR / f"{_case_name(c)}.expected" for c in CASES
             if _case_name(c).startswith("clean")]
    assert clean, "a golden case must show that a clean input yields no diagnostics"
    assert all(path.read_text() == "" for path in clean)
