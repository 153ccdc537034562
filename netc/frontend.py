"""The front end as one call: files -> documents -> IR -> checks.

The CLI, the compiler and the gRPC service all enter here, so every caller sees
the same diagnostics for the same input.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Mapping

from netc.config import Settings
from netc.gc_pause import gc_paused
from netc.diagnostics import Diagnostics
from netc.intent.source import Document
from netc.intent.sources import load_documents
from netc.ir.checks import run_checks
from netc.ir.world import World, build_world


@dataclass
class FrontEndResult:
    world: World
    diagnostics: Diagnostics

    @property
    def ok(self) -> bool:
        return not self.diagnostics.has_errors


@gc_paused()
def check_documents(documents: list[Document], settings: Settings, diagnostics: Diagnostics,
                    existing_vpcs: Mapping[str, IPv4Network] | None = None) -> FrontEndResult:
    """Build and check the world of ``documents``; see :func:`build_world` for
    ``existing_vpcs`` (the VPC blocks projects already hold in the database)."""
    world = build_world(documents, settings, existing_vpcs)
    run_checks(world, diagnostics)
    return FrontEndResult(world, diagnostics)


@gc_paused()
def check_paths(paths: list[str], settings: Settings,
                diagnostics: Diagnostics | None = None,
                existing_vpcs: Mapping[str, IPv4Network] | None = None) -> FrontEndResult:
    """Load and check every intent file under ``paths``."""
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    documents = load_documents(paths, diagnostics)
    return check_documents(documents, settings, diagnostics, existing_vpcs)


def recheck_with_existing(world: World, existing_vpcs: Mapping[str, IPv4Network],
                          diagnostics: Diagnostics) -> World:
    """``world`` again, built so that projects keep the VPC blocks they hold in the
    database; the same object when the pool allocation already agrees with it."""
    agrees = all(
        existing_vpcs.get(p.key, p.vpc_cidr) == p.vpc_cidr
        and not any(p.vpc_cidr == cidr for key, cidr in existing_vpcs.items() if key != p.key)
        for p in world.projects.values() if p.vpc_cidr_from_pool)
    if agrees:
        return world
    return check_documents(world.documents, world.settings, diagnostics, existing_vpcs).world
