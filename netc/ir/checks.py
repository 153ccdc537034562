"""The checks of contract section 3: one function per check, all run, all reported.

Each check takes the :class:`~netc.ir.world.World` and a
:class:`~netc.diagnostics.Diagnostics` and appends what it finds. Checks never raise
and never stop the others; a value that failed to parse is reported once, by the
check for its kind, and skipped by every other check.
"""

from __future__ import annotations

from netc.diagnostics import Code, Diagnostics
from netc.ir import parse
from netc.ir.world import World


def check_cidrs(world: World, out: Diagnostics) -> None:
    """INVALID_CIDR for every VPC, subnet and rule remote that is not an IPv4 CIDR."""
    for doc in world.documents:
        written = doc.project
        if written.vpc.cidr is not None and parse.cidr(written.vpc.cidr) is None:
            out.error(Code.INVALID_CIDR, f"VPC CIDR {parse.cidr_problem(written.vpc.cidr)}",
                      doc.locate("vpc", "cidr"))
        for index, subnet in enumerate(written.subnets):
            if parse.cidr(subnet.cidr) is None:
                out.error(Code.INVALID_CIDR,
                          f"subnet {subnet.name}: {parse.cidr_problem(subnet.cidr)}",
                          doc.locate("subnets", index, "cidr"))


CHECKS = (
    check_cidrs,
)
"""Every check, in the order their diagnostics are most useful to read."""


def run_checks(world: World, out: Diagnostics) -> None:
    for check in CHECKS:
        check(world, out)
