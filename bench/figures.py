"""What a measurement produces, what it is given, and the timing helpers they share.

A *figure* is one line of the report: netc's number beside the number of the
reference it is judged against (the same input handled by the obvious tool), their
ratio, and the goal the issue set for that ratio. Every measurement of a figure
family is a function ``measure(context) -> list[Figure]`` in its own module of
:mod:`bench.families`, so a new figure plugs in without touching the runner.
"""

from __future__ import annotations

import gc
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bench.world import WorldShape

MIB = 1024 * 1024


@dataclass(frozen=True)
class Context:
    """What every measurement may use: the generated world and the run's options."""

    shape: WorldShape
    world: Path
    """Folder holding the world's YAML files and its netc.toml."""
    files: tuple[Path, ...]
    repeat: int
    nb: str | None = None
    """OVSDB remote of a live, disposable Northbound DB (apply and plan figures)."""

    @property
    def config(self) -> Path:
        return self.world / "netc.toml"


@dataclass(frozen=True)
class Figure:
    family: str
    name: str
    unit: str
    netc: float | None
    reference_name: str
    reference: float | None
    goal: float | None = None
    """The largest acceptable netc/reference ratio; None when the issue sets none."""
    samples: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""
    """Why a figure was not measured, or what to keep in mind when reading it."""
    limit: float | None = None
    """The largest acceptable netc value itself (e.g. MiB of peak memory), when the
    issue sets one; None when it sets none."""

    @property
    def ratio(self) -> float | None:
        if self.netc is None or not self.reference:
            return None
        return self.netc / self.reference

    @property
    def meets_goal(self) -> bool | None:
        verdicts = []
        if self.goal is not None and self.ratio is not None:
            verdicts.append(self.ratio <= self.goal)
        if self.limit is not None and self.netc is not None:
            verdicts.append(self.netc < self.limit)
        return all(verdicts) if verdicts else None

    def as_dict(self) -> dict:
        return {"family": self.family, "name": self.name, "unit": self.unit,
                "netc": self.netc, "reference_name": self.reference_name,
                "reference": self.reference, "ratio": self.ratio, "goal": self.goal,
                "limit": self.limit, "meets_goal": self.meets_goal, "samples": self.samples,
                "note": self.note}


def pending(family: str, name: str, unit: str, reference_name: str, goal: float | None,
            why: str) -> Figure:
    """A figure that this run could not measure, and says why (never a made-up number)."""
    return Figure(family, name, unit, None, reference_name, None, goal, note=why)


def timed(function: Callable[[], object]) -> float:
    """Wall time of one call, after a full collection so earlier garbage is not billed."""
    gc.collect()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def side_by_side(netc: Callable[[], object], reference: Callable[[], object],
                 repeat: int) -> tuple[list[float], list[float]]:
    """Alternate the two, ``repeat`` times each, so both see the same machine load."""
    netc_times, reference_times = [], []
    for _ in range(repeat):
        reference_times.append(timed(reference))
        netc_times.append(timed(netc))
    return netc_times, reference_times


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def process_times(commands: dict[str, list[str]], repeat: int,
                  cwd: Path | None = None) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU (user + system) seconds of each command as a fresh process, run
    ``repeat`` rounds, each round every command once in turn, so all see the same load.

    This is what a user waits for: interpreter start and imports included. CPU time
    (``getrusage(RUSAGE_CHILDREN)`` before and after) is less sensitive than wall time
    to other work on the machine, though not immune: a busy sibling hyperthread
    slows it too. Output is discarded; a failing command raises."""
    samples: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(command, cwd=cwd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: "
                                   f"{done.stderr[-2000:]}")
            samples[name][0].append(wall)
            samples[name][1].append(after.ru_utime + after.ru_stime
                                    - before.ru_utime - before.ru_stime)
    return samples


RSS_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "status = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(status)\n"
)
"""Runs a command as its only child and prints that child's peak RSS (KiB on Linux)."""


def peak_rss(command: list[str], cwd: Path | None = None) -> float:
    """Peak resident memory of ``command`` in bytes: ``getrusage(RUSAGE_CHILDREN)``.

    Linux carries the high-water mark of the memory image a process had before
    ``exec`` into its ``ru_maxrss``, so a child forked straight from this (large)
    process would be billed for it. The command is therefore started by a small,
    fresh launcher whose only child it is; the launcher's image is smaller than any
    Python process that imports a YAML parser, so it never shows in the figure.
    """
    done = subprocess.run([sys.executable, "-c", RSS_LAUNCHER, *command], cwd=cwd,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    return int(done.stdout.split()[-1]) * 1024
