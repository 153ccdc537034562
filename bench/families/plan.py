"""SLOT (issue 4, live OVN backend): ``netc plan`` with no changes vs ``ovsdb-client dump``.

Not measured yet: it needs a live Northbound DB populated with the world, which the
backend engineer owns. What to measure when filling it in, side by side in one run,
against a disposable NB given with ``--nb REMOTE`` into which the world was applied:

1. netc: ``netc plan WORLD --nb REMOTE`` (or its library call); it must report no
   changes; wall time, median of ``context.repeat`` runs.
2. reference: ``ovsdb-client -f json dump REMOTE OVN_Northbound`` of the same tables
   netc reads, output discarded; wall time, median of the same number of runs.
3. Figure("plan", "plan time (no changes)", "s", netc, "ovsdb-client dump", reference,
   goal=2.0).
"""

from __future__ import annotations

from bench.figures import Context, Figure, pending

FAMILY = "plan"


def measure(context: Context) -> list[Figure]:
    why = ("not implemented: slot for the live-NB backend (issue 4)" if context.nb
           else "needs a live NB holding the world (--nb REMOTE); slot for issue 4")
    return [pending(FAMILY, "plan time (no changes)", "s", "ovsdb-client dump", 2.0, why)]
