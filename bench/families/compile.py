"""``netc compile`` of the world vs loading the same files with PyYAML's C loader.

Goal (issue 3): at most 3x. Also the determinism figure: two compiles of the same
input must give byte-identical ``netc.rows/v1`` output.

SLOT: the compiler's entry point (issue 3) does not exist yet. When it does, time
"front end + lowering + passes + RowSet.dumps()" in-process with
:func:`bench.figures.side_by_side` against :func:`bench.families.check.load_reference`,
exactly as :mod:`bench.families.check` does for ``check_paths``.
"""

from __future__ import annotations

from bench.families.check import REFERENCE
from bench.figures import Context, Figure, pending

FAMILY = "compile"
TIME_GOAL = 3.0


def measure(context: Context) -> list[Figure]:
    why = "not implemented: the compiler entry point (issue 3) is not there yet"
    return [pending(FAMILY, "compile time", "s", REFERENCE, TIME_GOAL, why),
            pending(FAMILY, "determinism: identical compiles", "bool", "always", 1.0, why)]
