"""``netc compile`` of the world vs loading the same files with PyYAML's C loader,
and the determinism of its output.

Time (goal, issue 3: at most 3x) is the whole offline compile in-process: the front
end, IPAM, the ACL passes, lowering, and the canonical ``netc.rows/v1`` text
(``netc.app.offline.compile_paths`` + ``RowSet.dumps``), alternated with
:func:`bench.families.check.load_reference`.

Determinism (issue 3: two compiles of the same input are byte-identical) counts the
distinct outputs among the in-process compiles of the time figure plus two
``netc compile`` subprocesses run with different ``PYTHONHASHSEED`` values (so set
and dict ordering that leaks into the output would show); the goal is exactly one.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from bench.families.check import REFERENCE, load_reference
from bench.figures import Context, Figure, median, timed
from netc.app.offline import compile_paths
from netc.config import load_settings
from netc.diagnostics import Diagnostics

FAMILY = "compile"
TIME_GOAL = 3.0
HASH_SEEDS = ("1", "2")


def compile_text(context: Context) -> str:
    diagnostics = Diagnostics()
    settings = load_settings(str(context.config), diagnostics)
    compilation = compile_paths([str(context.world)], settings, diagnostics)
    if compilation is None:
        first = next(d for d in diagnostics if d.is_error)
        raise RuntimeError(f"the bench world does not compile: {first.render()}")
    return compilation.rows.dumps()


def _compile_in_subprocess(context: Context, seed: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "netc", "compile", "--config", str(context.config),
         "--format", "json", str(context.world)],
        capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed})
    if done.returncode != 0:
        raise RuntimeError(f"netc compile exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def measure(context: Context) -> list[Figure]:
    outputs: list[str] = []
    netc_times, yaml_times = [], []
    for _ in range(context.repeat):
        yaml_times.append(timed(lambda: load_reference(context)))
        netc_times.append(timed(lambda: outputs.append(compile_text(context))))
    digests = {_digest(text) for text in outputs}
    digests |= {_digest(_compile_in_subprocess(context, seed)) for seed in HASH_SEEDS}
    compiles = len(outputs) + len(HASH_SEEDS)
    return [
        Figure(FAMILY, "compile time", "s", median(netc_times), REFERENCE, median(yaml_times),
               TIME_GOAL, {"netc": netc_times, "reference": yaml_times},
               note="in-process: front end, IPAM, passes, rows, canonical JSON"),
        Figure(FAMILY, f"distinct outputs of {compiles} compiles", "outputs",
               float(len(digests)), "deterministic", 1.0, 1.0,
               note=f"{len(HASH_SEEDS)} of them in subprocesses with PYTHONHASHSEED "
                    f"{', '.join(HASH_SEEDS)}; {len(outputs[0]) / 1e6:.1f} MB of rows/v1 JSON"),
    ]
