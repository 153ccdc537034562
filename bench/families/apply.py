"""SLOT (issue 4, live OVN backend): full apply vs one raw JSON-RPC ``transact``.

Not measured yet: it needs ``netc apply`` against a live Northbound DB, which the
backend engineer owns. What to measure when filling it in, side by side in one run
on a fresh, empty, disposable NB given with ``--nb REMOTE`` (for example a
``netc sandbox up`` NB; never a production one):

1. netc: apply the whole world (``netc apply WORLD --nb REMOTE --auto-approve``, or
   the library call behind it) into the empty NB; wall time, median of
   ``context.repeat`` runs, emptying the NB between runs.
2. reference: the same rows (``netc compile --format json`` of the world, turned into
   OVSDB ``insert`` operations with named-uuid references) sent as ONE JSON-RPC
   ``transact`` over a plain socket, timed from send to reply, on an emptied NB.
3. Figure("apply", "full apply time", "s", netc, "raw transact", reference, goal=1.5).

Issue 4 also asks for "one rule changed: rows touched and time": change one rule in
a copy of the world, apply, and report the rows the transaction touched.
"""

from __future__ import annotations

from bench.figures import Context, Figure, pending

FAMILY = "apply"


def measure(context: Context) -> list[Figure]:
    why = ("not implemented: slot for the live-NB backend (issue 4)" if context.nb
           else "needs a disposable live NB (--nb REMOTE); slot for issue 4")
    return [pending(FAMILY, "full apply time", "s", "raw JSON-RPC transact", 1.5, why),
            pending(FAMILY, "one rule changed: rows touched", "rows", "rows that must change",
                    1.0, why)]
