"""Where the machine's CPU goes while a load runs: each named process's CPU time (from
``/proc/PID/stat``) and the machine's busy, idle and stolen time (from ``/proc/stat``).

A latency under a closed loop of N clients is N over the throughput, and on a busy
machine the throughput is the cores over the CPU time one request costs all the
processes it goes through; so a figure that misses on a saturated machine says which
process to make cheaper, and how much cheaper it would have to be."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

TICKS = os.sysconf("SC_CLK_TCK")
MACHINE_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def machine_jiffies(stat: str | None = None) -> dict[str, int] | None:
    """The machine's CPU time so far by kind (``MACHINE_FIELDS``), in jiffies, from the
    first line of ``/proc/stat`` (or ``stat``); None where there is no such file."""
    try:
        text = stat if stat is not None else Path("/proc/stat").read_text()
        values = [int(value) for value in text.splitlines()[0].split()[1:9]]
    except (OSError, ValueError, IndexError):
        return None
    return dict(zip(MACHINE_FIELDS, values + [0] * (len(MACHINE_FIELDS) - len(values))))


def process_seconds(pid: int) -> float | None:
    """User and system CPU time of every thread of ``pid`` so far; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after the command, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class CpuUse:
    """CPU time per named process and of the machine, summed over measured loads."""

    seconds: dict[str, float] = field(default_factory=dict)
    machine: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    @contextmanager
    def measuring(self, processes: dict[str, int], requests: int) -> Iterator[None]:
        """Add what ``processes`` (name -> pid) and the machine spend in the block, which
        serves ``requests`` requests."""
        before = {name: process_seconds(pid) for name, pid in processes.items()}
        machine = machine_jiffies()
        yield
        for name, pid in processes.items():
            after = process_seconds(pid)
            if after is not None and before[name] is not None:
                self.seconds[name] = self.seconds.get(name, 0.0) + after - before[name]
        now = machine_jiffies()
        if machine is not None and now is not None:
            for kind in MACHINE_FIELDS:
                self.machine[kind] = self.machine.get(kind, 0) + now[kind] - machine[kind]
        self.requests += requests

    def per_request_ms(self) -> dict[str, float]:
        return {name: 1000 * seconds / self.requests
                for name, seconds in self.seconds.items()} if self.requests else {}

    def total_ms(self) -> float:
        return sum(self.per_request_ms().values())

    def cores(self, cpus: int) -> dict[str, float]:
        """The machine's busy, idle and stolen time, in cores (of ``cpus``)."""
        total = sum(self.machine.values())
        if not total:
            return {}
        idle = self.machine["idle"] + self.machine["iowait"]
        stolen = self.machine["steal"]
        return {"busy": cpus * (total - idle - stolen) / total, "idle": cpus * idle / total,
                "stolen": cpus * stolen / total}

    def describe(self, cpus: int) -> str:
        parts = ", ".join(f"{name} {ms:.2f}" for name, ms in
                          sorted(self.per_request_ms().items(), key=lambda item: -item[1]))
        cores = self.cores(cpus)
        machine = (f"; the machine's {cpus} cores: busy {cores['busy']:.2f}, idle "
                   f"{cores['idle']:.2f}, stolen {cores['stolen']:.2f}") if cores else ""
        return f"ms per request: {parts}{machine}"

    def as_dict(self) -> dict:
        return {"requests": self.requests, "seconds": self.seconds, "machine": self.machine}
