"""``netc verify`` and ``netc explain``: what the command line runs, and what it prints.

Data on stdout, diagnostics and the summary on stderr, as the other commands do.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import typing

from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.terminal import print_diagnostics


def verify_command(args: argparse.Namespace) -> int:
    if args.nb:
        from netc.reach.crosscheck import verify_live_command
        return verify_live_command(args)
    from netc.reach.classes import ClassModel
    from netc.reach.matrix import Question, compiled_matrix
    from netc.reach.northbound import port_addresses
    from netc.reach.report import (breach_text, external_mismatch_entries,
                                   external_mismatch_text, external_text, matrix_dot,
                                   matrix_json, matrix_text, mismatch_entries, mismatch_text)
    from netc.reach.verify import check_rows

    started = time.perf_counter()
    diagnostics = Diagnostics()
    settings = load_settings(args.config, diagnostics)
    oracle = None if diagnostics.has_errors else compiled_matrix(args.paths, settings,
                                                                 diagnostics)
    print_diagnostics(diagnostics)
    if oracle is None:
        return 1

    def explain(src: str, dst: str, traffic) -> str:
        return oracle.answer(Question(src, dst, traffic.sample())).explain()

    try:
        model = ClassModel(oracle.world, port_addresses(oracle.northbound.rows))
        matrix = model.matrix()
        external = model.external_edges()
        check = check_rows(model, oracle.northbound, explain)
    except (LookupError, ValueError) as error:
        print(f"netc verify: error: {error}", file=sys.stderr)
        return 1
    breaches = check.breaches
    disagreements = len(check.mismatches) + len(check.external)
    if args.format == "json":
        report = {"agree": not disagreements, **matrix_json(model, matrix, external),
                  "class_pairs": check.pairs, "external_questions": check.external_questions,
                  "errors": [{"code": "UNPEERED_REACHABILITY", **entry}
                             for m in breaches for entry in mismatch_entries(m)],
                  "disagreements": [entry for m in check.mismatches
                                    for entry in mismatch_entries(m)]
                  + [entry for m in check.external for entry in external_mismatch_entries(m)]}
        print(json.dumps(report, indent=2))
    elif args.format == "dot":
        sys.stdout.write(matrix_dot(model, matrix, external))
    else:
        sys.stdout.write(matrix_text(matrix))
        sys.stdout.write(external_text(external))
        for mismatch in check.mismatches:
            print(mismatch_text(mismatch))
        for mismatch in check.external:
            print(external_mismatch_text(mismatch))
    for mismatch in breaches:
        print(breach_text(mismatch), file=sys.stderr)
    verdict = (f"{disagreements} disagreement(s)" if disagreements
               else "intent and compiled rows agree")
    print(f"verify: {len(model.class_of)} port(s) in {len(model.classes)} class(es), "
          f"{check.pairs} class pair(s) and {check.external_questions} external "
          f"question(s) checked over all traffic "
          f"({time.perf_counter() - started:.2f}s): {verdict}", file=sys.stderr)
    return 1 if disagreements else 0


def explain_command(args: argparse.Namespace) -> int:
    from netc.reach.classes import ClassModel
    from netc.reach.fixes import smallest_fixes
    from netc.reach.matrix import Question, compiled_matrix
    from netc.reach.nat import parse_external
    from netc.reach.northbound import port_addresses
    from netc.reach.traffic import Traffic

    try:
        traffic = Traffic(args.protocol, args.port)
    except ValueError as error:
        print(f"netc explain: error: {error}", file=sys.stderr)
        return 2
    diagnostics = Diagnostics()
    settings = load_settings(args.config, diagnostics)
    matrix = None if diagnostics.has_errors else compiled_matrix(args.paths, settings,
                                                                 diagnostics)
    print_diagnostics(diagnostics)
    if matrix is None:
        return 1
    question = Question(getattr(args, "from"), args.to, traffic)
    try:
        hosts = parse_external(question.src), parse_external(question.dst)
    except ValueError as error:
        print(f"netc explain: error: {error}", file=sys.stderr)
        return 1
    if any(host is not None for host in hosts):
        return _explain_external(args, matrix, question, *hosts)
    try:
        answer = matrix.answer(question)
        model = ClassModel(matrix.world, port_addresses(matrix.northbound.rows))
        src, dst = model.of(question.src), model.of(question.dst)
        allowed = traffic in model.traffic(src, dst)
        fixes = [] if allowed else smallest_fixes(matrix.world, matrix.reference,
                                                  question.src, question.dst, traffic)
    except (LookupError, ValueError) as error:
        print(f"netc explain: error: {error}", file=sys.stderr)
        return 1
    if allowed != answer.reference.allow:  # the property tests hold them equal
        print(f"netc explain: internal error: the class model says "
              f"{'allow' if allowed else 'deny'}, the reference does not", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps({**answer.reference.to_json(), "classes": [src.id, dst.id],
                          "fixes": [fix.to_json() for fix in fixes]}, indent=2))
    else:
        print(f"{'allow' if allowed else 'deny'}: {question}")
        for reason in answer.reference.reasons:
            print(f"  {reason}")
        if fixes:
            print("to allow it, the smallest change:")
            for fix in fixes:
                print(f"  {fix}")
    if not answer.agree:
        print(f"warning: the compiled rows disagree with the intent:\n{answer.explain()}",
              file=sys.stderr)
    return 0


def _explain_external(args: argparse.Namespace, matrix, question, src_host, dst_host) -> int:
    """``explain`` with an external host at one end (contract 2.8): through a DNAT of
    the port's project into it, or out of it by its floating IP or the project's SNAT."""
    from netc.reach.classes import ClassModel
    from netc.reach.fixes import external_fixes
    from netc.reach.nat import not_external
    from netc.reach.northbound import port_addresses

    if src_host is not None and dst_host is not None:
        print("netc explain: error: both ends are external hosts; one must be a port "
              "(ORG/PROJECT/PORT)", file=sys.stderr)
        return 1
    host = src_host if src_host is not None else dst_host
    inbound = src_host is not None
    port_key = question.dst if inbound else question.src
    traffic = question.traffic
    try:
        problem = not_external(matrix.world, host)
        if problem:
            raise ValueError(problem)
        reference = matrix.reference
        verdict = (reference.decide_inbound(host, port_key, traffic) if inbound
                   else reference.decide_outbound(port_key, host, traffic))
        model = ClassModel(matrix.world, port_addresses(matrix.northbound.rows))
        cls = model.of(port_key)
        region = model.region_of(cls.project, host)
        if inbound:
            allowed = any(traffic in passed for _, passed in model.inbound(region, cls))
        else:
            allowed = traffic in model.outbound(cls, region)[1]
        fixes = [] if allowed else external_fixes(matrix.world, reference, port_key, host,
                                                  inbound, traffic)
        rows = external_rows_answer(matrix, port_key, host, inbound, traffic)
    except (LookupError, ValueError) as error:
        print(f"netc explain: error: {error}", file=sys.stderr)
        return 1
    if allowed != verdict.allow:  # the property tests hold them equal
        print(f"netc explain: internal error: the class model says "
              f"{'allow' if allowed else 'deny'}, the reference does not", file=sys.stderr)
        return 1
    classes = [region.id, cls.id] if inbound else [cls.id, region.id]
    if args.format == "json":
        print(json.dumps({**verdict.to_json(), "classes": classes,
                          "fixes": [fix.to_json() for fix in fixes]}, indent=2))
    else:
        print(f"{'allow' if allowed else 'deny'}: {question}")
        for reason in verdict.reasons:
            print(f"  {reason}")
        if fixes:
            print("to allow it, the smallest change:")
            for fix in fixes:
                print(f"  {fix}")
    if rows is not None and rows.allow != allowed:
        print(f"warning: the compiled rows disagree with the intent: they "
              f"{'allow' if rows.allow else 'deny'} it: {rows.reason}", file=sys.stderr)
    return 0


class _RowsAnswer(typing.NamedTuple):
    allow: bool
    reason: str


def external_rows_answer(matrix, port_key: str, host, inbound: bool, traffic) -> _RowsAnswer:
    """What the compiled rows (NAT rows, load balancers, ACLs) do with the question,
    new connection and replies."""
    from netc.reach.rowmodel import RowModel

    rows = RowModel(matrix.northbound, strict=False)
    lsp = matrix.northbound.by_port_key.get(port_key)
    if lsp is None:
        return _RowsAnswer(False, f"port {port_key} has no emitted switch port")
    if inbound:
        results = rows.deliver_inbound(host, lsp)
        passing = [str(way) for way, verdict in results if traffic in verdict.allowed]
        if passing:
            return _RowsAnswer(True, "through " + ", ".join(passing))
        return _RowsAnswer(False, "; ".join(
            f"{way}: " + (verdict.reason or "dropped" if traffic in way.inside
                          else f"does not carry {traffic}") for way, verdict in results)
                           or "no NAT row or VIP of its router leads to it")
    out, verdict = rows.deliver_outbound(lsp, host)
    if traffic in verdict.allowed:
        return _RowsAnswer(True, f"it leaves by {out}")
    return _RowsAnswer(False, verdict.reason or "dropped, or its replies are")
