"""``netc check`` on the world vs loading the same files with PyYAML's C loader.

The reference is the least any YAML tool must do: read every file and build plain
Python data with ``yaml.load_all(..., Loader=yaml.CSafeLoader)``. netc does that
much (composing nodes instead, to keep positions) plus validation into the intent
model, the IR with its graph, and every check. Goal (issue 2): at most 3x.

Time is measured in-process (``netc.frontend.check_paths``). The whole process, start,
imports and peak memory included, is the ``process`` family's
(:mod:`bench.families.process`).
"""

from __future__ import annotations

import yaml

from bench.figures import Context, Figure, median, side_by_side
from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths

FAMILY = "check"
REFERENCE = "yaml.load_all(CSafeLoader)"
TIME_GOAL = 3.0
YAML_ONLY = (
    "import sys, pathlib, yaml\n"
    "documents = [list(yaml.load_all(p.read_text(encoding='utf-8'), Loader=yaml.CSafeLoader))\n"
    "             for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.yaml'))]\n"
)


def load_reference(context: Context) -> list:
    return [list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
            for path in context.files]


def run_check(context: Context) -> None:
    diagnostics = Diagnostics()
    settings = load_settings(str(context.config), diagnostics)
    result = check_paths([str(context.world)], settings, diagnostics)
    if not result.ok:
        first = next(d for d in result.diagnostics if d.is_error)
        raise RuntimeError(f"the bench world does not check clean: {first.render()}")


def measure(context: Context) -> list[Figure]:
    netc_times, yaml_times = side_by_side(lambda: run_check(context),
                                          lambda: load_reference(context), context.repeat)
    return [
        Figure(FAMILY, "check time", "s", median(netc_times), REFERENCE, median(yaml_times),
               TIME_GOAL, {"netc": netc_times, "reference": yaml_times},
               note="in-process, files read from disk each time"),
    ]
