"""Issue 11: ``netc check`` and ``netc compile`` as a user runs them, against a process
that only loads the same files with PyYAML's C loader.

Each is a fresh ``python`` process, so interpreter start and imports are included:
the reference is ``python -c`` of :data:`bench.families.check.YAML_ONLY` (import yaml,
``yaml.load_all(..., Loader=yaml.CSafeLoader)`` of every file, data kept), netc is
``python -m netc check|compile --config netc.toml WORLD`` (compile writing its rows to
``os.devnull``). The three run in turn, round after round (``context.repeat``
rounds), so all three see the same machine load; each figure is the median of its
rounds. Wall time is what a user waits for; CPU time (user + system) is shown beside
it because it moves less when the machine is busy. Peak memory is the maximum RSS of
each process (:func:`bench.figures.peak_rss`).

Goals (issue 11): process time at most 1.5x the reference for check and 2x for
compile; peak RSS under 80 MiB for check and 100 MiB for compile.
"""

from __future__ import annotations

import os
import sys

from bench.families.check import REFERENCE, YAML_ONLY
from bench.figures import MIB, Context, Figure, median, peak_rss, process_times

FAMILY = "process"
TIME_GOALS = {"check": 1.5, "compile": 2.0}
MEMORY_LIMITS_MIB = {"check": 80.0, "compile": 100.0}
REFERENCE_PROCESS = f"{REFERENCE} process"


def commands(context: Context) -> dict[str, list[str]]:
    netc = [sys.executable, "-m", "netc"]
    return {
        "reference": [sys.executable, "-c", YAML_ONLY, str(context.world)],
        "check": netc + ["check", "--config", str(context.config), str(context.world)],
        "compile": netc + ["compile", "--config", str(context.config), str(context.world),
                           "-o", os.devnull],
    }


def measure(context: Context) -> list[Figure]:
    runs = commands(context)
    times = process_times(runs, context.repeat)
    memory: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(context.repeat):
        for name, command in runs.items():
            memory[name].append(peak_rss(command) / MIB)
    wall, cpu = ({name: samples[i] for name, samples in times.items()} for i in (0, 1))
    figures = []
    for name in ("check", "compile"):
        figures.append(Figure(
            FAMILY, f"netc {name} process time", "s", median(wall[name]), REFERENCE_PROCESS,
            median(wall["reference"]), TIME_GOALS[name],
            {"netc": wall[name], "reference": wall["reference"]},
            note="wall time of a fresh process, start and imports included"))
        figures.append(Figure(
            FAMILY, f"netc {name} process CPU time", "s", median(cpu[name]), REFERENCE_PROCESS,
            median(cpu["reference"]), None, {"netc": cpu[name], "reference": cpu["reference"]},
            note="user + system time of the same runs"))
    for name in ("check", "compile"):
        figures.append(Figure(
            FAMILY, f"{name} peak memory", "MiB", median(memory[name]), REFERENCE_PROCESS,
            median(memory["reference"]), None,
            {"netc": memory[name], "reference": memory["reference"]},
            note=f"max RSS of a fresh `python -m netc {name}`", limit=MEMORY_LIMITS_MIB[name]))
    return figures
