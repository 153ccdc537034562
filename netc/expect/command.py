"""``netc test`` and the expectation part of ``netc check``: what the command line runs
and what it prints.

Results on stdout (a line per failed expectation with its explanation, or JSON),
diagnostics and the summary line on stderr, as ``netc verify`` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from netc.config import Settings, load_settings
from netc.diagnostics import Code, Diagnostics
from netc.expect.cases import Case, check_expectations
from netc.frontend import FrontEndResult, check_paths
from netc.intent.expectation import ExpectationDocument
from netc.terminal import print_diagnostics


def check_with_expectations(paths: list[str], settings: Settings,
                            diagnostics: Diagnostics) -> tuple[FrontEndResult, list[Case]]:
    """``netc check``: the intent checked, and its expectations against it."""
    documents: list[ExpectationDocument] = []
    result = check_paths(paths, settings, diagnostics, expectations=documents)
    return result, check_expectations(result.world, documents, diagnostics)


def test_command(args: argparse.Namespace) -> int:
    from netc.compiler.lower import compile_world
    from netc.expect.golden import compare_golden, golden_text
    from netc.expect.junit import junit_xml
    from netc.expect.outcome import answer
    from netc.reach.classes import ClassModel
    from netc.reach.matrix import Matrix
    from netc.reach.northbound import port_addresses

    if args.update and not args.golden:
        print("netc test: error: --update rewrites the --golden FILE; give one",
              file=sys.stderr)
        return 1
    started = time.perf_counter()
    diagnostics = Diagnostics()
    settings = load_settings(args.config, diagnostics)
    result = cases = None
    if not diagnostics.has_errors:  # the intent and every expectation checked at once
        result, cases = check_with_expectations(args.paths, settings, diagnostics)
    compilation = None if diagnostics.has_errors else compile_world(result.world,
                                                                    diagnostics=diagnostics)
    print_diagnostics(diagnostics)
    if compilation is None or diagnostics.has_errors:
        return 1
    try:
        matrix = Matrix(result.world, compilation.rows)
        model = ClassModel(matrix.world, port_addresses(matrix.northbound.rows))
        outcomes = answer(cases, model, matrix.reference)
    except (LookupError, ValueError) as error:
        print(f"netc test: error: {error}", file=sys.stderr)
        return 1
    golden = None
    if args.golden:
        golden = compare_golden(args.golden, golden_text(model, model.matrix()), args.update)
    seconds = time.perf_counter() - started
    if args.junit:
        try:
            Path(args.junit).write_bytes(junit_xml(outcomes, golden, seconds))
        except OSError as error:
            print(f"netc test: error: cannot write {args.junit}: {error.strerror}",
                  file=sys.stderr)
            return 1
    failed = [o for o in outcomes if not o.holds]
    if getattr(args, "review_format", None):
        print_diagnostics(_as_diagnostics(failed))
    if args.format == "json":
        report: dict = {"passed": len(outcomes) - len(failed), "failed": len(failed),
                        "expectations": [o.to_json() for o in outcomes]}
        if golden is not None:
            report["golden"] = {"file": golden.path, "matches": golden.matches,
                                "updated": golden.updated, "error": golden.error,
                                "diff": golden.diff}
        print(json.dumps(report, indent=2))
    else:
        for outcome in failed:
            print(f"FAIL {outcome.case.location}: expect {outcome.case.title}")
            print("\n".join(f"  {line}" for line in outcome.explanation().splitlines()))
        if golden is not None and not golden.matches and not golden.error:
            print(f"FAIL golden matrix {golden.path}: the verify matrix differs")
            sys.stdout.write(golden.diff)
    if golden is not None and golden.error:
        print(f"netc test: error: {golden.error}", file=sys.stderr)
    if not outcomes and golden is None:
        print("netc test: warning: no expectation documents among the paths: nothing was "
              "tested", file=sys.stderr)
    files = len({outcome.case.location.file for outcome in outcomes})
    summary = (f"test: {len(outcomes)} expectation(s) in {files} file(s): "
               f"{len(outcomes) - len(failed)} held, {len(failed)} failed")
    if golden is not None:
        summary += "; golden matrix " + ("rewritten" if golden.updated else "matches"
                                         if golden.matches else "error" if golden.error
                                         else "differs")
    print(f"{summary} ({seconds:.2f}s)", file=sys.stderr)
    return 0 if not failed and (golden is None or golden.matches) else 1


def _as_diagnostics(failed: list) -> Diagnostics:
    """The failed expectations as EXPECTATION_FAILED errors at their entries, for code
    review tools (``--format sarif|github``: an annotation on the line of the
    expectation in the pull request)."""
    found = Diagnostics()
    for outcome in failed:
        found.error(Code.EXPECTATION_FAILED, f"expect {outcome.case.title}: {outcome.summary}"
                    + "".join(f"; {reason}" for reason in outcome.failure.reasons),
                    outcome.case.location)
    return found
