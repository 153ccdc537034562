"""Issue 9: ``netc verify`` on the world vs ``netc compile`` of it, and ``verify --nb``.

- verify time (goal, issue 9: at most 2x ``netc compile``; the issue's bar 5x): the
  whole offline ``netc verify`` in-process (front end, compile, the class model and
  its matrix, the rows held to it on every class pair for all traffic), alternated
  with :func:`bench.families.compile.compile_text`; with the classes and class pairs.
- verify --nb: a fresh sandbox (NB, SB, northd), the world applied (one
  transaction) and northd caught up, then ``netc verify --nb`` timed end to end
  (sync, reading every NB row, planning, one ovn-trace daemon tracing): class pairs,
  port pairs traced, packets, time, disagreements (goal 0). Not repeated: one run.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from contextlib import closing
from pathlib import Path

from bench.families.apply import apply_world, load_world
from bench.families.compile import compile_text
from bench.figures import Context, Figure, median, pending, timed
from netc.cli import main

FAMILY = "verify"
TIME_GOAL = 2.0
SYNC_TIMEOUT = 1800.0


def offline_verify(context: Context) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["verify", str(context.world), "--config", str(context.config),
                     "--format", "json"])
    report = json.loads(out.getvalue())
    if code != 0:
        raise RuntimeError(f"netc verify of the bench world exited {code}: "
                           f"{report['disagreements'][:3]}")
    return report


def live_verify(context: Context) -> tuple[dict, float, float]:
    from netc.backends.ovn_nb.ovsdb import OvsdbClient
    from netc.devtools.sandbox import Sandbox

    with tempfile.TemporaryDirectory(prefix="netc-verify-nb-") as scratch:
        sandbox = Sandbox(Path(scratch) / "sandbox").start()
        try:
            world = load_world(context.world, context.config)
            started = time.perf_counter()
            with closing(OvsdbClient(sandbox.nb_remote)) as nb:
                apply_world(nb, world, world.settings.owner)
                nb.bump_nb_cfg_and_wait("sb", SYNC_TIMEOUT)
            northd = time.perf_counter() - started
            out = io.StringIO()
            started = time.perf_counter()
            with contextlib.redirect_stdout(out):
                main(["verify", str(context.world), "--config", str(context.config),
                      "--nb", sandbox.nb_remote, "--sb", sandbox.sb_remote, "--format",
                      "json"])
            seconds = time.perf_counter() - started
            return json.loads(out.getvalue()), seconds, northd
        finally:
            sandbox.stop()


def measure(context: Context) -> list[Figure]:
    verify_times, compile_times = [], []
    report: dict = {}
    for _ in range(context.repeat):
        compile_times.append(timed(lambda: compile_text(context)))
        verify_times.append(timed(lambda: report.update(offline_verify(context))))
    figures = [
        Figure(FAMILY, "verify time", "s", median(verify_times), "netc compile",
               median(compile_times), TIME_GOAL,
               {"netc": verify_times, "reference": compile_times},
               note=f"in-process, compile included; {report['ports']} ports in "
                    f"{len(report['classes'])} classes, {report['class_pairs']} class pairs "
                    f"checked over all traffic; the issue's bar is 5x"),
        Figure(FAMILY, "verify: classes", "classes", float(len(report["classes"])), "ports",
               float(report["ports"])),
        Figure(FAMILY, "verify: class pairs checked", "pairs", float(report["class_pairs"]),
               "ordered port pairs", float(report["ports"] * (report["ports"] - 1))),
    ]
    from netc.devtools.sandbox import MissingBinaries, check_binaries
    try:
        check_binaries()
    except MissingBinaries as missing:
        return figures + [pending(FAMILY, "verify --nb time", "s", "-", None, str(missing))]
    live, seconds, northd = live_verify(context)
    note = (f"{live['traces']} packets traced by {live['daemons']} ovn-trace daemon(s) side "
            f"by side; {live['isolation_pairs']} of them between unrouted project pairs; "
            f"northd took {northd:.0f} s to compute the SB after the apply (not counted)")
    figures += [
        Figure(FAMILY, "verify --nb: class pairs traced", "pairs", float(live["class_pairs"]),
               "port pairs traced", float(live["pairs_traced"])),
        Figure(FAMILY, "verify --nb time", "s", seconds, "-", None, note=note),
        Figure(FAMILY, "verify --nb disagreements", "disagreements",
               float(len(live["disagreements"])), "expected", 0.0),
    ]
    return figures
