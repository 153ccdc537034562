"""The figure families, in report order: name -> ``measure(context) -> list[Figure]``.

One module per family. To add a figure, write its module with a ``measure``
function and list it here; ``python -m bench.run --only NAME`` runs it alone.
"""

from __future__ import annotations

from typing import Callable

from bench.families import (acl_rows, apply, check, compile, flows, plan, process, replicas,
                            service, verify)
from bench.figures import Context, Figure

FAMILIES: dict[str, Callable[[Context], list[Figure]]] = {
    "process": process.measure,
    "check": check.measure,
    "compile": compile.measure,
    "acl": acl_rows.measure,
    "apply": apply.measure,
    "plan": plan.measure,
    "service": service.measure,
    "replicas": replicas.measure,
    "verify": verify.measure,
    "flows": flows.measure,
}
