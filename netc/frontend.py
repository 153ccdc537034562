"""The front end as one call: files -> documents -> IR -> checks.

The CLI, the compiler and the gRPC service all enter here, so every caller sees
the same diagnostics for the same input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Network
from typing import Mapping

from netc.config import Settings
from netc.gc_pause import gc_paused
from netc.diagnostics import Diagnostics
from netc.intent.expectation import ExpectationDocument
from netc.intent.source import Document
from netc.intent.sources import load_documents
from netc.ir.checks import DATABASE_CHECKS, run_checks
from netc.ir.model import OutsideProject
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
                    existing_vpcs: Mapping[str, IPv4Network] | None = None,
                    outside: Mapping[str, OutsideProject] | None = None,
                    peer_links: Mapping[tuple[str, str], IPv4Network] | None = None,
                    ) -> FrontEndResult:
    """Build and check the world of ``documents``; see :func:`build_world` for
    ``existing_vpcs`` (the VPC blocks projects already hold in the database),
    ``outside`` (the database's projects not in ``documents``, for the peerings the
    database has) and ``peer_links`` (its peering links)."""
    world = build_world(documents, settings, existing_vpcs, outside, peer_links)
    run_checks(world, diagnostics)
    return FrontEndResult(world, diagnostics)


@gc_paused()
def check_paths(paths: list[str], settings: Settings,
                diagnostics: Diagnostics | None = None,
                existing_vpcs: Mapping[str, IPv4Network] | None = None,
                expectations: list[ExpectationDocument] | None = None) -> FrontEndResult:
    """Load and check every intent file under ``paths``; its expectation documents go
    to ``expectations`` when given (``netc check`` and ``netc test`` check them
    against the world, netc.expect), and are skipped otherwise."""
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    documents = load_documents(paths, diagnostics, expectations)
    return check_documents(documents, settings, diagnostics, existing_vpcs)


def recheck_with_existing(world: World, existing_vpcs: Mapping[str, IPv4Network],
                          diagnostics: Diagnostics,
                          outside: Mapping[str, OutsideProject] | None = None,
                          peer_links: Mapping[tuple[str, str], IPv4Network] | None = None,
                          ) -> World:
    """``world`` again, seen against a database: projects keep the VPC blocks they hold
    there (``existing_vpcs``), peerings with the database's projects outside the intent
    (``outside``) are the ones the database has, and links keep their /30
    (``peer_links``). Rebuilt only when the pool allocation disagrees; otherwise only
    the checks that depend on the outside projects run again, and only when the
    intent names one of them."""
    agrees = all(
        existing_vpcs.get(p.key, p.vpc_cidr) == p.vpc_cidr
        and not any(p.vpc_cidr == cidr for key, cidr in existing_vpcs.items() if key != p.key)
        for p in world.projects.values() if p.vpc_cidr_from_pool)
    if not agrees:
        return check_documents(world.documents, world.settings, diagnostics, existing_vpcs,
                               outside, peer_links).world
    named = _named_outside(world, outside or {})
    if named == world.outside and dict(peer_links or {}) == world.peer_links:
        return world
    seen = replace(world, outside=named, peer_links=dict(peer_links or {}))
    if named != world.outside:
        with gc_paused():
            for check in DATABASE_CHECKS:
                check(seen, diagnostics)
    return seen


def _named_outside(world: World, outside: Mapping[str, OutsideProject]
                   ) -> dict[str, OutsideProject]:
    """The projects of ``outside`` that the intent lists as peers or names in ``sg:``."""
    if not outside:
        return {}
    named = {peer for project in world.projects.values() for peer in project.peers}
    named |= {rule.remote.group.rpartition("/")[0] for group in world.groups()
              for rule in group.rules if rule.remote is not None and rule.remote.group}
    return {key: project for key, project in outside.items()
            if key in named and key not in world.projects}
