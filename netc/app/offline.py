"""The dry-run backend's two operations, without a database: compile and plan.

``plan_against`` reads the snapshot first, because the ports' addresses in it are the
existing allocations the compile must keep (an address never moves because a plan
was made elsewhere). Problems are diagnostics; the caller renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Mapping

from typing import TYPE_CHECKING

from netc.compiler.ipam import Existing
from netc.compiler.lower import (Compilation, allocations_in, compile_world,
                                 vpc_allocations_in)
from netc.compiler.peering import database_view
from netc.compiler.rows import RowSet
from netc.config import Settings
from netc.diagnostics import Code, Diagnostics, Location
from netc.frontend import check_paths, recheck_with_existing

if TYPE_CHECKING:
    from netc.backends.diff import Plan


def compile_paths(paths: list[str], settings: Settings, diagnostics: Diagnostics,
                  existing: Existing | None = None,
                  existing_vpcs: Mapping[str, IPv4Network] | None = None) -> Compilation | None:
    """Rows of the intent under ``paths``; None when the front end or IPAM found errors.

    ``existing`` and ``existing_vpcs`` are the port addresses and VPC blocks already
    held (read from a snapshot), which the compile keeps."""
    result = check_paths(paths, settings, diagnostics, existing_vpcs)
    if not result.ok:
        return None
    compilation = compile_world(result.world, existing=existing, diagnostics=diagnostics)
    return None if diagnostics.has_errors else compilation


@dataclass
class OfflinePlan:
    plan: Plan
    compilation: Compilation
    scope: set[str]
    actual: RowSet
    """The snapshot's owned rows, which the plan changes."""


def plan_against(paths: list[str], settings: Settings, snapshot: str, prune: bool,
                 diagnostics: Diagnostics) -> OfflinePlan | None:
    from netc.backends.diff import diff_rows  # not for compile_paths: netc compile
    from netc.backends.dryrun.snapshot import SnapshotError, load_snapshot  # needs neither

    try:
        actual = load_snapshot(snapshot, settings.owner)
    except SnapshotError as error:
        diagnostics.error(Code.FILE_ERROR, str(error), Location(snapshot))
        return None
    existing_vpcs = vpc_allocations_in(actual)
    result = check_paths(paths, settings, diagnostics, existing_vpcs)
    if not result.ok:
        return None
    # the snapshot stands for the database: peerings with its projects outside the
    # intent are the ones it has (contract section 4, Scope), as a live plan sees them
    outside, links = database_view(actual, set(result.world.projects))
    world = recheck_with_existing(result.world, existing_vpcs, diagnostics,
                                  {} if prune else outside, links)
    if diagnostics.has_errors:
        return None
    compilation = compile_world(world, existing=allocations_in(actual), diagnostics=diagnostics)
    if diagnostics.has_errors:
        return None
    scope = set(compilation.projects)
    return OfflinePlan(diff_rows(compilation.rows, actual, scope, prune), compilation, scope,
                       actual)
