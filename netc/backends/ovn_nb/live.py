"""``netc plan --nb`` and ``netc apply``: the live commands, from parsed options to an
exit code, so that ``cli.py`` stays a table of flags.

Output habits (Terraform's): the plan on stdout, progress and questions on stderr,
"No changes." when there are none; ``apply`` asks before writing unless
``--auto-approve``, and refuses to guess when nobody can answer (stdin not a
terminal). Every failure to reach the database is an OVN_CONNECTION_FAILED
diagnostic naming the remote and the cause.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from netc.backends.dryrun.plan_render import render_json, render_text
from netc.backends.ovn_nb import planfile
from netc.backends.ovn_nb.apply import (ApplyError, LivePlan, Outcome, apply_live,
                                        apply_saved, plan_live, read_state)
from netc.backends.ovn_nb.ovsdb import OvsdbClient, OvsdbError, SslFiles
from netc.backends.ovn_nb.remote import RemoteError, resolve_remote
from netc.backends.ovn_nb.schema import load_schema
from netc.config import Settings, load_settings
from netc.diagnostics import Code, Diagnostics, Location
from netc.frontend import check_paths


class _Reporter:
    """Progress on stderr: a spinner on a terminal, plain lines otherwise (CI logs)."""

    def __init__(self) -> None:
        self.interactive = sys.stderr.isatty()
        self._status = None
        self._started = time.monotonic()

    @contextmanager
    def running(self) -> Iterator["_Reporter"]:
        if self.interactive:
            from rich.console import Console
            with Console(stderr=True).status("netc") as status:
                self._status = status
                yield self
                self._status = None
        else:
            yield self

    def __call__(self, message: str) -> None:
        if self._status is not None:
            self._status.update(f"{message} ({time.monotonic() - self._started:.1f}s)")
        elif not self.interactive:
            print(f"netc: {message}", file=sys.stderr)


def _print(diagnostics: Diagnostics) -> None:
    from netc.cli import print_diagnostics
    print_diagnostics(diagnostics)


def _connect(args: argparse.Namespace, settings: Settings,
             diagnostics: Diagnostics) -> OvsdbClient | None:
    try:
        remote = resolve_remote(args.nb, default=settings.network.ovn_northbound_endpoint)
    except RemoteError as error:
        diagnostics.error(Code.OVN_CONNECTION_FAILED, str(error), Location(args.nb or "--nb"))
        return None
    ssl_files = None
    if remote.uses_ssl:
        if not (args.private_key and args.certificate and args.ca_cert):
            diagnostics.error(Code.OVN_CONNECTION_FAILED,
                              f"{remote}: ssl: needs --private-key, --certificate and "
                              f"--ca-cert", Location(str(remote)))
            return None
        ssl_files = SslFiles(args.private_key, args.certificate, args.ca_cert)
    client = OvsdbClient(remote, ssl_files=ssl_files)
    try:
        client.connect()
    except OvsdbError as error:
        diagnostics.error(Code.OVN_CONNECTION_FAILED, str(error), Location(str(remote)))
        return None
    return client


def _connection_lost(diagnostics: Diagnostics, client: OvsdbClient, error: Exception) -> int:
    diagnostics.error(Code.OVN_CONNECTION_FAILED, str(error), Location(str(client.remote)))
    _print(diagnostics)
    return 1


def _front_end(args: argparse.Namespace, diagnostics: Diagnostics):
    settings = load_settings(args.config, diagnostics)
    if diagnostics.has_errors:
        return settings, None
    result = check_paths(args.paths, settings, diagnostics)
    return settings, (result.world if result.ok else None)


def _prepare(args: argparse.Namespace, diagnostics: Diagnostics):
    """Settings, the checked world and an unopened client; None (with the diagnostics
    printed) when the intent has errors or no remote can be used."""
    settings, world = _front_end(args, diagnostics)
    client = _connect(args, settings, diagnostics) if world is not None else None
    if client is None:
        _print(diagnostics)
        return None
    return settings, world, client


def plan_command(args: argparse.Namespace) -> int:
    """``netc plan PATH... --nb REMOTE [--out PLAN]``."""
    diagnostics = Diagnostics()
    prepared = _prepare(args, diagnostics)
    if prepared is None:
        return 1
    settings, world, client = prepared
    schema = load_schema()
    try:
        with client:
            plan = plan_live(read_state(client, schema, settings.owner), world,
                             prune=args.prune)
    except OvsdbError as error:
        return _connection_lost(diagnostics, client, error)
    diagnostics.extend(plan.diagnostics)
    _print(diagnostics)
    if diagnostics.has_errors:
        return 1
    text = render_text(plan.diff)
    sys.stdout.write(render_json(plan.diff) if args.format == "json" else text)
    if args.out:
        saved = planfile.SavedPlan(owner=settings.owner, remote=str(client.remote),
                                   fingerprint=plan.state.fingerprint(),
                                   changes=plan.changes, text=text, prune=args.prune)
        Path(args.out).write_text(planfile.dumps(saved), encoding="utf-8")
        print(f"Saved the plan to {args.out}; apply exactly it with: netc apply {args.out}",
              file=sys.stderr)
    return 2 if args.detailed_exitcode and plan.changes else 0


def _approved(auto_approve: bool) -> bool | None:
    """True to go on, False when the operator said no, None when nobody can be asked."""
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        return None
    print("\nDo you want to perform these actions?\n"
          "  netc will apply them in one transaction. Only 'yes' will be accepted.\n",
          file=sys.stderr)
    try:
        answer = input("  Enter a value: ")
    except EOFError:
        return False
    return answer.strip() == "yes"


def _finish(outcome: Outcome, started: float) -> int:
    for event in outcome.events:
        print(f"netc: retried: {event}", file=sys.stderr)
    changes = outcome.changes
    print(f"Apply complete! Resources: {len(changes.creates)} added, "
          f"{len(changes.updates)} changed, {len(changes.destroys)} destroyed "
          f"({time.monotonic() - started:.2f}s).")
    return 0


def apply_command(args: argparse.Namespace) -> int:
    """``netc apply (PATH... | PLAN) --nb REMOTE [--auto-approve] [--wait ...] [--prune]``."""
    started = time.monotonic()
    if len(args.paths) == 1 and planfile.looks_like_plan(args.paths[0]):
        return _apply_saved(args, started)
    diagnostics = Diagnostics()
    prepared = _prepare(args, diagnostics)
    if prepared is None:
        return 1
    settings, world, client = prepared
    schema = load_schema()
    reporter = _Reporter()
    wait = None if args.wait == "none" else args.wait

    def planner(state) -> LivePlan:
        return plan_live(state, world, prune=args.prune)

    with client:
        try:
            with reporter.running():
                reporter("reading the rows netc owns")
                plan = planner(read_state(client, schema, settings.owner))
        except OvsdbError as error:
            return _connection_lost(diagnostics, client, error)
        diagnostics.extend(plan.diagnostics)
        _print(diagnostics)
        if diagnostics.has_errors:
            return 1
        sys.stdout.write(render_text(plan.diff))
        if not plan.changes:
            return 0
        sys.stdout.flush()
        approved = _approved(args.auto_approve)
        if approved is None:
            print("error: not applying: stdin is not a terminal, so nobody can approve "
                  "the plan; review it and pass --auto-approve, or save it with "
                  "netc plan --out PLAN and run netc apply PLAN", file=sys.stderr)
            return 1
        if not approved:
            print("Apply cancelled.", file=sys.stderr)
            return 1
        try:
            with reporter.running():
                outcome = apply_live(client, schema, settings.owner, planner, plan,
                                     follow_replans=args.auto_approve, wait=wait,
                                     progress=reporter)
        except ApplyError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        except OvsdbError as error:
            return _connection_lost(diagnostics, client, error)
    return _finish(outcome, started)


def _apply_saved(args: argparse.Namespace, started: float) -> int:
    diagnostics = Diagnostics()
    schema = load_schema()
    path = args.paths[0]
    try:
        saved = planfile.loads(Path(path).read_text(encoding="utf-8"), schema)
    except (OSError, planfile.PlanFileError) as error:
        diagnostics.error(Code.FILE_ERROR, f"cannot read the plan: {error}", Location(path))
        _print(diagnostics)
        return 1
    settings = load_settings(args.config, diagnostics)
    args.nb = args.nb or saved.remote
    client = _connect(args, settings, diagnostics)
    if client is None:
        _print(diagnostics)
        return 1
    sys.stdout.write(saved.text)
    reporter = _Reporter()
    wait = None if args.wait == "none" else args.wait
    try:
        with client, reporter.running():
            outcome = apply_saved(client, schema, saved, wait=wait, progress=reporter)
    except ApplyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OvsdbError as error:
        return _connection_lost(diagnostics, client, error)
    return _finish(outcome, started)
