"""The ``netc`` command line: parse flags, call the library, render, pick the exit code.

Each command is one ``cmd_*`` function registered in :func:`build_parser`. Data goes
to stdout, diagnostics and progress to stderr (as black and Terraform do).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable

from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.terminal import print_diagnostics

REVIEW_FORMATS = ("sarif", "github")
"""``--format`` values of every command that reports diagnostics: the diagnostics for
code review tools (netc.diagnostics_formats); the command's data takes its default."""
_REVIEW_HELP = ("; sarif: the diagnostics as a SARIF 2.1.0 log on stdout (the rest on "
                "stderr); github: as GitHub Actions workflow commands")
_DATA_FORMATS = {"compile": "json"}
"""A command's data format while ``--format`` names a review format (default text)."""

EPILOG = """\
examples:
  netc check policies/                 check every *.yaml, *.yml and *.netc below policies/
  netc check --format json web.yaml    diagnostics as JSON on stdout
  netc schema > netc-intent.schema.json
docs: README.md and docs/ in the netc repository.
"""


def _add_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="intent files or folders (searched recursively)")
    parser.add_argument("--config", metavar="FILE",
                        help="netc.toml to read (default: ./netc.toml when present)")


def _add_remote(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nb", metavar="REMOTE",
                        help="Northbound DB: unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT, or a "
                             "comma-separated list of cluster members (default: $OVN_NB_DB, "
                             "then netc.toml ovn_northbound_endpoint)")
    parser.add_argument("-p", "--private-key", metavar="FILE", help="SSL private key (ssl:)")
    parser.add_argument("-c", "--certificate", metavar="FILE", help="SSL certificate (ssl:)")
    parser.add_argument("-C", "--ca-cert", metavar="FILE", help="SSL CA certificate (ssl:)")


def cmd_check(args: argparse.Namespace) -> int:
    from netc.expect.command import check_with_expectations

    diagnostics = Diagnostics()
    settings = load_settings(args.config, diagnostics)
    result, expectations = check_with_expectations(args.paths, settings, diagnostics)
    print_diagnostics(result.diagnostics, args.format)
    if args.format == "text" and result.ok:
        print(f"ok: {len(result.world.projects)} project(s), "
              f"{sum(len(p.ports) for p in result.world.projects.values())} port(s)"
              + (f", {len(expectations)} expectation(s)" if expectations else ""),
              file=sys.stderr)
    return 0 if result.ok else 1


def cmd_schema(args: argparse.Namespace) -> int:
    from netc.intent.schema import intent_json_schema

    print(json.dumps(intent_json_schema(), indent=2))
    return 0


def cmd_fmt(args: argparse.Namespace) -> int:
    from netc.diagnostics import Code, Location
    from netc.grammar.fmt import format_file, joined
    from netc.intent.sources import find_intent_files

    diagnostics = Diagnostics()
    results = [r for path in find_intent_files(args.paths, diagnostics)
               if (r := format_file(path, args.to, diagnostics)) is not None]
    messages: list[str] = []
    changed = [r for r in results if not r.canonical]
    if args.check:
        messages = [f"would {'reformat' if r.target == r.path else 'convert'} {r.path}"
                    for r in changed]
        messages.append(f"{len(changed)} file(s) would change, "
                        f"{len(results) - len(changed)} already canonical")
    elif args.write:
        for r in changed:
            if r.target != r.path and r.target.exists():
                diagnostics.error(Code.FILE_ERROR, f"not converted: {r.target} already exists",
                                  Location(str(r.path)))
                continue
            r.target.write_text(r.text, encoding="utf-8")
            messages.append(f"reformatted {r.path}" if r.target == r.path
                            else f"wrote {r.target} ({r.path} kept)")
    else:
        sys.stdout.write(joined(results))
    print_diagnostics(diagnostics)
    for message in messages:
        print(message, file=sys.stderr)
    return 1 if diagnostics.has_errors or (args.check and changed) else 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    """``up`` prints only ``export`` lines on stdout, so ``eval "$(netc sandbox up)"`` works."""
    import shlex
    import time

    from netc.devtools.sandbox import DEFAULT_DIRECTORY, NoSandbox, Sandbox, SandboxError

    def exports(sandbox: Sandbox) -> str:
        return "".join(f"export {name}={shlex.quote(value)}\n"
                       for name, value in sandbox.exports.items())

    directory = args.dir or DEFAULT_DIRECTORY
    try:
        if args.action == "up":
            started = time.monotonic()
            etcd = args.etcd_members or (1 if args.etcd else 0)
            sandbox = Sandbox(directory, cluster=args.cluster, dataplane=args.dataplane,
                              ssl=args.ssl, etcd=etcd).start()
            print(f"sandbox up in {sandbox.directory} ({time.monotonic() - started:.2f}s): "
                  f"{', '.join(d.name for d in sandbox.daemons())}", file=sys.stderr)
            print(exports(sandbox), end="")
            return 0
        sandbox = Sandbox.load(directory)
    except NoSandbox as error:
        print(error, file=sys.stderr)
        return 0 if args.action == "down" else 1
    except SandboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.action == "down":
        sandbox.stop()
        print(f"sandbox in {sandbox.directory} stopped", file=sys.stderr)
        return 0
    status = sandbox.status()
    state = "running" if status.running else "stopped" if status.stopped else "partly running"
    print(f"sandbox in {status.directory}: {state}")
    for daemon in status.daemons:
        print(f"  {daemon.name:<12} " + (f"running, pid {daemon.pid}" if daemon.running
                                         else "not running"))
    if status.running:
        for name, remote in status.remotes.items():
            print(f"  {name:<17} {remote}")
        print(exports(sandbox), end="")
    return 0 if status.running else 1


def _write_output(text: str | Iterable[str], path: str | None) -> None:
    """Write ``text`` (or its pieces, so a large output is never held whole) to
    ``path``, or to stdout."""
    pieces = [text] if isinstance(text, str) else text
    if path and path != "-":
        with open(path, "w", encoding="utf-8") as out:
            out.writelines(pieces)
    else:
        sys.stdout.writelines(pieces)


def cmd_compile(args: argparse.Namespace) -> int:
    from netc.app.offline import compile_paths

    diagnostics = Diagnostics()
    settings = load_settings(args.config, diagnostics)
    compilation = None if diagnostics.has_errors else compile_paths(
        args.paths, settings, diagnostics)
    print_diagnostics(diagnostics)
    if compilation is None:
        return 1
    rows = compilation.rows
    if getattr(args, "review_format", None) == "sarif" and not args.output:
        print(f"compiled: {len(rows)} row(s), not printed: stdout holds the SARIF log "
              "(write the rows with -o FILE)", file=sys.stderr)
        return 0
    if args.format == "json":
        _write_output(rows.chunks(), args.output)
    else:
        from netc.backends.dryrun.nbctl import render_nbctl  # only for this format

        _write_output(render_nbctl(rows), args.output)
    print(f"compiled: {len(rows)} row(s), {rows.count('ACL')} ACL(s)", file=sys.stderr)
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from netc.app.offline import plan_against

    if args.against is None:
        return _plan_live(args)
    if args.out:
        print("error: --out saves a plan against a live NB (--nb); a plan --against a "
              "snapshot cannot be applied", file=sys.stderr)
        return 1
    diagnostics = Diagnostics()
    settings = load_settings(args.config, diagnostics)
    offline = None if diagnostics.has_errors else plan_against(
        args.paths, settings, args.against, args.prune, diagnostics)
    print_diagnostics(diagnostics)
    if offline is None:
        return 1
    plan = offline.plan
    sys.stdout.write(_render_plan(plan, _reachability(plan, offline.actual), args.format))
    return 2 if args.detailed_exitcode and not plan.empty else 0


def _reachability(plan, actual):
    """What ``plan`` opens and closes, from ``actual`` (the rows planned against)."""
    from netc.reach.changes import ReachChanges, plan_reachability

    return plan_reachability(actual, plan.changes) if plan.changes else ReachChanges()


def _render_plan(plan, reach, form: str) -> str:
    """The plan as text, netc.plan/v1 JSON, or a DOT picture of its reachability."""
    from netc.backends.dryrun.plan_render import render_json, render_text
    from netc.reach.plan_report import changes_dot

    if form == "dot":
        return changes_dot(reach)
    return render_json(plan, reach) if form == "json" else render_text(plan, reach)


def cmd_explain(args: argparse.Namespace) -> int:
    from netc.reach.commands import explain_command

    return explain_command(args)


def cmd_verify(args: argparse.Namespace) -> int:
    from netc.reach.commands import verify_command

    return verify_command(args)


def cmd_test(args: argparse.Namespace) -> int:
    from netc.expect.command import test_command

    return test_command(args)


# -- the live commands: plan --nb and apply ------------------------------------------

def _ssl_files(args: argparse.Namespace):
    from netc.backends.ovn_nb.ovsdb import SslFiles

    if args.private_key and args.certificate and args.ca_cert:
        return SslFiles(args.private_key, args.certificate, args.ca_cert)
    return None


def _live_prologue(args: argparse.Namespace, diagnostics: Diagnostics):
    """Settings, the checked world and a connected client; None (with the diagnostics
    printed) when the intent has errors or the Northbound cannot be used."""
    from netc.app.northbound import open_northbound
    from netc.frontend import check_paths

    settings = load_settings(args.config, diagnostics)
    world = client = None
    if not diagnostics.has_errors:
        result = check_paths(args.paths, settings, diagnostics)
        world = result.world if result.ok else None
    if world is not None:
        client = open_northbound(args.nb, settings, diagnostics, ssl_files=_ssl_files(args))
    if client is None:
        print_diagnostics(diagnostics)
        return None
    return settings, world, client


def _connection_lost(diagnostics: Diagnostics, client, error: Exception) -> int:
    from netc.diagnostics import Code, Location

    diagnostics.error(Code.OVN_CONNECTION_FAILED, str(error), Location(str(client.remote)))
    print_diagnostics(diagnostics)
    return 1


def _plan_live(args: argparse.Namespace) -> int:
    """``netc plan PATH... --nb REMOTE [--out PLAN]``."""
    from netc.app.northbound import plan_live
    from netc.backends.ovn_nb import planfile
    from netc.backends.ovn_nb.apply import read_state
    from netc.backends.ovn_nb.ovsdb import OvsdbError
    from netc.backends.ovn_nb.schema import load_schema

    diagnostics = Diagnostics()
    prepared = _live_prologue(args, diagnostics)
    if prepared is None:
        return 1
    settings, world, client = prepared
    try:
        with client:
            plan = plan_live(read_state(client, load_schema(), settings.owner), world,
                             prune=args.prune)
    except OvsdbError as error:
        return _connection_lost(diagnostics, client, error)
    diagnostics.extend(plan.diagnostics)
    print_diagnostics(diagnostics)
    if diagnostics.has_errors:
        return 1
    reach = _reachability(plan.diff, plan.state.rows)
    text = _render_plan(plan.diff, reach, "text")
    sys.stdout.write(text if args.format == "text" else _render_plan(plan.diff, reach,
                                                                     args.format))
    if args.out:
        saved = planfile.SavedPlan(owner=settings.owner, remote=str(client.remote),
                                   fingerprint=plan.state.fingerprint(),
                                   changes=plan.changes, text=text, prune=args.prune)
        Path(args.out).write_text(planfile.dumps(saved), encoding="utf-8")
        print(f"Saved the plan to {args.out}; apply exactly it with: netc apply {args.out}",
              file=sys.stderr)
    return 2 if args.detailed_exitcode and plan.changes else 0


def _applied(outcome, started: float) -> int:
    import time

    for event in outcome.events:
        print(f"netc: retried: {event}", file=sys.stderr)
    changes = outcome.changes
    print(f"Apply complete! Resources: {len(changes.creates)} added, "
          f"{len(changes.updates)} changed, {len(changes.destroys)} destroyed "
          f"({time.monotonic() - started:.2f}s).")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    """``netc apply (PATH... | PLAN) --nb REMOTE [--auto-approve] [--wait ...] [--prune]``."""
    import time

    from netc.app.northbound import plan_live
    from netc.backends.ovn_nb import planfile
    from netc.backends.ovn_nb.apply import ApplyError, apply_live, read_state
    from netc.backends.ovn_nb.ovsdb import OvsdbError
    from netc.backends.ovn_nb.schema import load_schema
    from netc.terminal import Reporter, approved

    started = time.monotonic()
    if len(args.paths) == 1 and planfile.looks_like_plan(args.paths[0]):
        return _apply_saved(args, started)
    diagnostics = Diagnostics()
    prepared = _live_prologue(args, diagnostics)
    if prepared is None:
        return 1
    settings, world, client = prepared
    schema = load_schema()
    reporter = Reporter()
    wait = None if args.wait == "none" else args.wait

    def planner(state):
        return plan_live(state, world, prune=args.prune)

    with client:
        try:
            with reporter.running():
                reporter("reading the rows netc owns")
                plan = planner(read_state(client, schema, settings.owner))
        except OvsdbError as error:
            return _connection_lost(diagnostics, client, error)
        diagnostics.extend(plan.diagnostics)
        print_diagnostics(diagnostics)
        if diagnostics.has_errors:
            return 1
        sys.stdout.write(_render_plan(plan.diff, _reachability(plan.diff, plan.state.rows),
                                      "text"))
        if not plan.changes:
            return 0
        sys.stdout.flush()
        answer = approved(args.auto_approve)
        if answer is None:
            print("error: not applying: stdin is not a terminal, so nobody can approve "
                  "the plan; review it and pass --auto-approve, or save it with "
                  "netc plan --out PLAN and run netc apply PLAN", file=sys.stderr)
            return 1
        if not answer:
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
    return _applied(outcome, started)


def _apply_saved(args: argparse.Namespace, started: float) -> int:
    from netc.app.northbound import open_northbound
    from netc.backends.ovn_nb import planfile
    from netc.backends.ovn_nb.apply import ApplyError, apply_saved
    from netc.backends.ovn_nb.ovsdb import OvsdbError
    from netc.backends.ovn_nb.schema import load_schema
    from netc.diagnostics import Code, Location
    from netc.terminal import Reporter

    diagnostics = Diagnostics()
    schema = load_schema()
    path = args.paths[0]
    try:
        saved = planfile.loads(Path(path).read_text(encoding="utf-8"), schema)
    except (OSError, planfile.PlanFileError) as error:
        diagnostics.error(Code.FILE_ERROR, f"cannot read the plan: {error}", Location(path))
        print_diagnostics(diagnostics)
        return 1
    settings = load_settings(args.config, diagnostics)
    client = open_northbound(args.nb or saved.remote, settings, diagnostics,
                             ssl_files=_ssl_files(args))
    if client is None:
        print_diagnostics(diagnostics)
        return 1
    sys.stdout.write(saved.text)
    reporter = Reporter()
    wait = None if args.wait == "none" else args.wait
    try:
        with client, reporter.running():
            outcome = apply_saved(client, schema, saved, wait=wait, progress=reporter)
    except ApplyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OvsdbError as error:
        return _connection_lost(diagnostics, client, error)
    return _applied(outcome, started)


def cmd_serve(args: argparse.Namespace) -> int:
    from netc.service.server import run

    return run(args)


def cmd_export(args: argparse.Namespace) -> int:
    from netc.service.export import export_store

    diagnostics = Diagnostics()
    written = export_store(args.store, args.projects, args.output, diagnostics,
                           config=args.service_config)
    print_diagnostics(diagnostics)
    if written is None:
        return 1
    if args.output:
        print(f"exported {written} project(s) to {args.output}", file=sys.stderr)
    return 0


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command. ``argv`` (default ``sys.argv[1:]``) is the command
    line it is for: the options of ``serve`` (whose module loads the service's own
    settings models) are added only when it may be ``serve``, so other commands do not
    pay for importing it."""
    parser = argparse.ArgumentParser(
        prog="netc", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Compile tenant network intent (YAML or the netc DSL) into OVN "
                    "Northbound rows, and apply it as one transaction.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check", help="parse and check intent; report every problem at once",
        description="Parse every intent file and check the whole world together. "
                    "Exit 0 when clean, 1 when any error is found; warnings never fail.")
    _add_paths(check)
    check.add_argument("--format", choices=("text", "json", *REVIEW_FORMATS), default="text",
                       help="text diagnostics on stderr (default) or a JSON list on stdout"
                            + _REVIEW_HELP)
    check.set_defaults(func=cmd_check)

    schema = commands.add_parser(
        "schema", help="print the JSON Schema of the YAML intent format",
        description="Print the JSON Schema (draft 2020-12) of one YAML intent document, "
                    "for editors and CI validation.")
    schema.set_defaults(func=cmd_schema)

    fmt = commands.add_parser(
        "fmt", help="normalise intent files, or convert them between YAML and the DSL",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print each file in canonical form (the same syntax, or --to the other "
                    "one) on stdout; --write rewrites instead, --check only reports.\n"
                    "Comments are kept beside their elements, also when converting (one "
                    "whose element the target does not write is kept nearby, with a "
                    "COMMENT_MOVED warning). Files with syntax or schema errors are "
                    "reported and left alone.\n"
                    "Exit 0; 1 when a file has errors or, with --check, is not canonical.",
        epilog="examples:\n"
               "  netc fmt --check policies/          list files not in canonical form\n"
               "  netc fmt --write policies/          rewrite them in place\n"
               "  netc fmt --to dsl web.yaml          print web.yaml as DSL\n"
               "  netc fmt --to dsl --write web.yaml  write web.netc beside web.yaml (kept;\n"
               "                                      never overwrites an existing web.netc)")
    fmt.add_argument("paths", nargs="+", metavar="PATH",
                     help="intent files or folders (searched recursively)")
    fmt.add_argument("--to", choices=("yaml", "dsl"),
                     help="target syntax (default: each file's own)")
    action = fmt.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true",
                        help="write nothing; list files that are not canonical, exit 1 if any")
    action.add_argument("--write", action="store_true",
                        help="rewrite files in place; with --to, write a new file with the "
                             "target suffix beside the original, which is kept")
    fmt.add_argument("--format", choices=("text", *REVIEW_FORMATS), default="text",
                     help="diagnostics as text on stderr (default)" + _REVIEW_HELP)
    fmt.set_defaults(func=cmd_fmt)

    sandbox = commands.add_parser(
        "sandbox", help="run a local OVN (NB, SB, northd) to try netc on",
        description="Start, inspect or stop a local OVN in DIR: Northbound and Southbound "
                    "ovsdb-server and ovn-northd, optionally a 3-member RAFT Northbound "
                    "and an OVS userspace datapath with ovn-controller. `up` prints the "
                    "remotes as export lines: eval \"$(netc sandbox up)\". "
                    "Exit 0 on success (status: everything running), 1 otherwise.")
    sandbox.add_argument("action", choices=("up", "down", "status"))
    sandbox.add_argument("--dir",
                         help="sandbox directory (default: ./.netc-sandbox)")
    sandbox.add_argument("--cluster", type=int, choices=(1, 3, 5), default=1,
                         help="Northbound cluster members (default 1: standalone)")
    sandbox.add_argument("--dataplane", action="store_true",
                         help="also run OVS (br-int, netdev) and ovn-controller as chassis-1; "
                              "one per machine (it uses /var/run/openvswitch)")
    sandbox.add_argument("--ssl", action="store_true",
                         help="also serve the Northbound on ssl: with throwaway certificates "
                              "(status shows the remote and the key/cert/CA files)")
    sandbox.add_argument("--etcd", action="store_true",
                         help="also run etcd for `netc serve --storage etcd` (exported as "
                              "OVERLAY_NETWORK_CHAINFIRE_ENDPOINT)")
    sandbox.add_argument("--etcd-members", type=int, choices=(1, 3, 5), metavar="N",
                         help="etcd members on loopback (1, 3 or 5; implies --etcd; default 1)")
    sandbox.set_defaults(func=cmd_sandbox)

    compile_ = commands.add_parser(
        "compile", help="print the Northbound rows the intent needs (offline)",
        description="Check the intent and print every row netc wants in the OVN "
                    "Northbound DB: netc.rows/v1 JSON, or an ovn-nbctl script that "
                    "creates them. Exit 0 on success, 1 on errors.")
    _add_paths(compile_)
    compile_.add_argument("-o", "--output", metavar="FILE",
                          help="write the rows to FILE instead of stdout")
    compile_.add_argument("--format", choices=("json", "nbctl", *REVIEW_FORMATS),
                          default="json",
                          help="netc.rows/v1 JSON (default) or an ovn-nbctl batch script"
                               + _REVIEW_HELP + " (the rows are written only with -o)")
    compile_.set_defaults(func=cmd_compile)

    plan = commands.add_parser(
        "plan", help="show what apply would change, against a live NB or a snapshot",
        description="Diff the intent against the live Northbound DB (--nb REMOTE, or "
                    "OVN_NB_DB), drift included, or offline against a snapshot FILE "
                    "(--against): a `netc compile` output or `ovsdb-client -f json dump "
                    "REMOTE OVN_Northbound`. Only projects "
                    "in the intent are planned; rows of other owned projects are destroyed "
                    "only with --prune. Exit 0, 1 on errors, 2 when there are changes and "
                    "--detailed-exitcode is given.")
    _add_paths(plan)
    plan.add_argument("--against", metavar="FILE",
                      help="the snapshot to diff against (instead of a live NB)")
    _add_remote(plan)
    plan.add_argument("--out", metavar="PLAN",
                      help="save the plan, with the state it was computed against, for "
                           "netc apply PLAN (live NB only)")
    plan.add_argument("--format", choices=("text", "json", "dot", *REVIEW_FORMATS),
                      default="text",
                      help="Terraform-style text (default), netc.plan/v1 JSON, or dot: the "
                           "reachability changes as Graphviz (opened edges green, closed "
                           "red; render with dot -Tsvg)" + _REVIEW_HELP)
    plan.add_argument("--detailed-exitcode", action="store_true",
                      help="exit 2 when the plan has changes, 0 when it has none")
    plan.add_argument("--prune", action="store_true",
                      help="also destroy owned rows of projects absent from the intent")
    plan.set_defaults(func=cmd_plan)

    apply = commands.add_parser(
        "apply", help="apply the intent (or a saved plan) to a live NB in one transaction",
        description="Plan against the live Northbound DB, show the plan, ask, then apply "
                    "it as ONE OVSDB transaction guarded against concurrent writers "
                    "(retried on conflict). Given a PLAN saved by netc plan --out, apply "
                    "exactly it, refusing if the database changed since. Only projects in "
                    "the intent are touched; --prune also destroys owned rows of absent "
                    "projects. Exit 0 applied (or nothing to do), 1 otherwise.")
    apply.add_argument("paths", nargs="+", metavar="PATH",
                       help="intent files or folders, or one saved PLAN file")
    apply.add_argument("--config", metavar="FILE",
                       help="netc.toml to read (default: ./netc.toml when present)")
    _add_remote(apply)
    apply.add_argument("--auto-approve", action="store_true",
                       help="apply without asking (needed when stdin is not a terminal)")
    apply.add_argument("--wait", choices=("none", "sb", "hv"), default="none",
                       help="after committing, wait for ovn-northd (sb) or every chassis "
                            "(hv) to catch up, like ovn-nbctl --wait")
    apply.add_argument("--prune", action="store_true",
                       help="also destroy owned rows of projects absent from the intent")
    apply.add_argument("--format", choices=("text", *REVIEW_FORMATS), default="text",
                       help="diagnostics as text on stderr (default)" + _REVIEW_HELP)
    apply.set_defaults(func=cmd_apply)

    explain = commands.add_parser(
        "explain", help="say whether one port may open a connection to another, and why",
        description="Decide, by the meaning of the intent (contract section 2), whether a "
                    "new connection FROM -> TO with the given protocol and port passes, "
                    "naming every rule that allows it, or, when denied, why and the "
                    "smallest change that would allow it (the missing peering, a port "
                    "added to a rule, or a rule added to a group). One end may be an "
                    "external host, external:IP (contract 2.8): from it, the connection "
                    "must come through a DNAT of the port's project (port forwarding or "
                    "a floating IP) and an ingress rule whose CIDR covers IP; to it, it "
                    "leaves by the port's floating IP or the project's SNAT if an egress "
                    "rule allows it. Warns on stderr if the compiled rows (ACLs, NAT "
                    "rows, load balancers) would decide otherwise. Exit 0 (1 on intent "
                    "errors, an unknown port or an address that is no external host's).")
    _add_paths(explain)
    explain.add_argument("--from", required=True, metavar="ORG/PROJECT/PORT|external:IP",
                         help="the port opening the connection, or an external host")
    explain.add_argument("--to", required=True, metavar="ORG/PROJECT/PORT|external:IP",
                         help="the port it connects to, or an external host")
    explain.add_argument("--protocol", default="tcp", metavar="P",
                         help="tcp (default), udp, icmp, or an IP protocol number")
    explain.add_argument("--port", type=int, metavar="N",
                         help="destination port (tcp and udp only), as the destination "
                              "port sees it: for port forwarding the internal port")
    explain.add_argument("--format", choices=("text", "json", *REVIEW_FORMATS),
                         default="text",
                         help='text (default) or JSON {"verdict", "reasons", "fixes"}'
                              + _REVIEW_HELP)
    explain.set_defaults(func=cmd_explain)

    verify = commands.add_parser(
        "verify", help="who may reach whom, by classes of ports; checked against the rows "
                       "or, with --nb, against OVN itself",
        description="Print the reachability matrix of the intent by classes of ports that "
                    "every rule treats alike: project to project, then class to class, "
                    "with the allowed traffic. Offline, also hold the compiled OVN rows "
                    "(ACLs, port groups, address sets, routers) to it on every class pair "
                    "for all traffic; the external network too: each DNAT into a class "
                    "and each class's way out by SNAT or a floating IP, the NAT rows and "
                    "load balancers held to the intent. With --nb, form the classes from "
                    "what the Northbound "
                    "really holds (foreign rows included) and trace a new connection's "
                    "first packet for every class pair with ovn-trace against the "
                    "Southbound northd computed. Any traffic between projects that do not "
                    "peer each other is an error. Exit 0 when everything agrees, 1 on any "
                    "disagreement or error.")
    _add_paths(verify)
    _add_remote(verify)
    verify.add_argument("--sb", metavar="REMOTE",
                        help="Southbound DB for ovn-trace (with --nb; default: $OVN_SB_DB, "
                             "then netc.toml ovn_southbound_endpoint)")
    verify.add_argument("--sample", type=int, default=0, metavar="N",
                        help="with --nb: trace N more port pairs per class pair")
    verify.add_argument("--seed", type=int, default=0, metavar="S",
                        help="with --nb: seed of the --sample choice (default 0)")
    verify.add_argument("--format", choices=("text", "json", "dot", *REVIEW_FORMATS),
                        default="text",
                        help="text (default), JSON, or Graphviz dot (the matrix only)"
                             + _REVIEW_HELP)
    verify.set_defaults(func=cmd_verify)

    test = commands.add_parser(
        "test", help="run the reachability expectations found among the intent files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Answer every expectation document among PATH (a YAML document with\n"
                    "a top-level `expect` list, or `expect` statements in the DSL) by the\n"
                    "meaning of the intent, as netc verify and netc explain do. A failed\n"
                    "expectation prints the pair, the traffic, the expected and actual\n"
                    "verdict and the rules that decide it; for a wildcard, the first\n"
                    "failing pair and how many fail. --golden also compares the whole\n"
                    "verify matrix with FILE (--update rewrites it).\n"
                    "Exit 0 when all hold, 1 when any fails or on errors.",
        epilog="an expectation document (policies/acme/expect.yaml):\n"
               "  expect:\n"
               "    - {from: acme/web/web-1, to: acme/db/pg-1, protocol: tcp, port: 5432, "
               "verdict: allow}\n"
               "    - {from: \"acme/web/*\", to: \"globex/*/*\", protocol: all, "
               "verdict: deny}   # every pair\n"
               "the same in the DSL (expect.netc):\n"
               "  expect allow acme/web/web-1 -> acme/db/pg-1 tcp 5432\n"
               "  expect deny acme/web/* -> globex/*/* all\n"
               "examples:\n"
               "  netc test policies/                               run the expectations\n"
               "  netc test policies/ --golden matrix.txt --update  snapshot the matrix\n"
               "  netc test policies/ --golden matrix.txt --junit report.xml   in CI")
    _add_paths(test)
    test.add_argument("--golden", metavar="FILE",
                      help="also compare the whole verify matrix (classes, their ports, "
                           "the traffic between them) with FILE, and show the diff")
    test.add_argument("--update", action="store_true",
                      help="with --golden: rewrite FILE with the matrix instead")
    test.add_argument("--junit", metavar="FILE",
                      help="write JUnit XML: a testcase per expectation, the golden "
                           "comparison as one more")
    test.add_argument("--format", choices=("text", "json", *REVIEW_FORMATS), default="text",
                      help="text (default: failures on stdout, the summary on stderr) or "
                           "JSON" + _REVIEW_HELP + " (each failed expectation included, "
                           "as EXPECTATION_FAILED at its entry)")
    test.set_defaults(func=cmd_test)

    serve = commands.add_parser(
        "serve", help="serve the gRPC NetworkService (a VM manager's way in)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the overlay NetworkService over gRPC: every change of a "
                    "project is stored (SQLite or etcd), compiled by the same compiler as "
                    "netc compile, and applied to OVN in one transaction before the RPC "
                    "returns. Also grpc.health.v1, reflection, and HTTP /health, /ready "
                    "and /metrics. Runs until SIGTERM or SIGINT.")
    if "serve" in (sys.argv[1:] if argv is None else argv):
        from netc.service.config import EPILOG as SERVE_EPILOG, add_arguments as serve_arguments
        serve.epilog = SERVE_EPILOG
        serve_arguments(serve)
    serve.set_defaults(func=cmd_serve)

    export = commands.add_parser(
        "export", help="print the projects a netc serve store holds, as intent YAML",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read the projects of a netc serve store and print them as intent "
                    "YAML (one document per project), or with -o DIR write one file per "
                    "project plus a netc.toml with the service's owner, pool and external "
                    "network, so that netc check, plan, explain and verify run in DIR work "
                    "on what the service built. Exit 0, 1 on errors.",
        epilog="examples:\n"
               "  netc export --store sqlite:netc-state.db\n"
               "  netc export --store sqlite:netc-state.db acme/web -o exported/\n"
               "  cd exported && netc plan . --nb \"$OVN_NB_DB\"   # No changes.")
    export.add_argument("--store", required=True, metavar="URL",
                        help="sqlite:PATH or etcd:http://HOST:PORT[,...]")
    export.add_argument("projects", nargs="*", metavar="ORG/PROJECT",
                        help="projects to export (default: all)")
    export.add_argument("-o", "--output", metavar="DIR",
                        help="write ORG/PROJECT.yaml files and netc.toml into DIR")
    export.add_argument("--service-config", metavar="FILE",
                        help="the service's TOML, for the netc.toml written with -o "
                             "(owner, pool, external network); default: the service's "
                             "defaults")
    export.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if getattr(args, "format", None) in REVIEW_FORMATS:
        return _run_for_review(args)
    return _run(args)


def _run_for_review(args: argparse.Namespace) -> int:
    """Run the command with its diagnostics rendered for review tools: ``github``
    commands as they come, or one SARIF log on stdout at the end, the command's own
    stdout sent to stderr meanwhile so that stdout is exactly the log."""
    from contextlib import redirect_stdout

    from netc.terminal import flush_diagnostics, use_diagnostics_format

    args.review_format, args.format = args.format, _DATA_FORMATS.get(args.command, "text")
    stdout = sys.stdout
    use_diagnostics_format(args.review_format)
    try:
        if args.review_format == "sarif":
            with redirect_stdout(sys.stderr):
                return _run(args)
        return _run(args)
    finally:
        flush_diagnostics(stdout)
        use_diagnostics_format(None)


def _run(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
