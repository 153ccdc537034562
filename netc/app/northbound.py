"""Live use cases: open the Northbound, plan an intent against what netc owns there,
and apply the plan as one transaction.

Every failure to reach the database is an OVN_CONNECTION_FAILED diagnostic naming
the remote and the cause, so both faces report it the same way.
"""

from __future__ import annotations

from netc.backends.diff import Plan, diff_rows
from netc.backends.ovn_nb.apply import LivePlan, changes_of
from netc.backends.ovn_nb.ovsdb import OvsdbClient, OvsdbError, SslFiles
from netc.backends.ovn_nb.remote import RemoteError, resolve_remote
from netc.backends.ovn_nb.state import OwnedState
from netc.compiler.lower import allocations_in, compile_world, vpc_allocations_in
from netc.compiler.peering import database_view
from netc.config import Settings
from netc.diagnostics import Code, Diagnostics, Location
from netc.frontend import recheck_with_existing
from netc.gc_pause import gc_paused
from netc.ir.world import World


def open_northbound(remote: str | None, settings: Settings, diagnostics: Diagnostics, *,
                    ssl_files: SslFiles | None = None, connect: bool = True,
                    **client_options) -> OvsdbClient | None:
    """A client of the Northbound at ``remote`` (else ``$OVN_NB_DB``, else the
    settings' endpoint), connected unless ``connect`` is False; None, with an
    OVN_CONNECTION_FAILED diagnostic, when it cannot be used."""
    try:
        resolved = resolve_remote(remote, default=settings.network.ovn_northbound_endpoint)
    except RemoteError as error:
        diagnostics.error(Code.OVN_CONNECTION_FAILED, str(error), Location(remote or "--nb"))
        return None
    if resolved.uses_ssl and ssl_files is None:
        diagnostics.error(Code.OVN_CONNECTION_FAILED,
                          f"{resolved}: ssl: needs --private-key, --certificate and --ca-cert",
                          Location(str(resolved)))
        return None
    client = OvsdbClient(resolved, ssl_files=ssl_files, **client_options)
    if connect:
        try:
            client.connect()
        except OvsdbError as error:
            diagnostics.error(Code.OVN_CONNECTION_FAILED, str(error), Location(str(resolved)))
            return None
    return client


def plan_live(state: OwnedState, world: World, *, prune: bool = False) -> LivePlan:
    """Compile ``world`` keeping the addresses, VPC blocks and peering links ``state``
    holds, and diff it against ``state`` for the projects of the intent (all owned ones
    with ``prune``). A peering with an owned project outside the intent is the one the
    database has (contract section 4, Scope), unless ``prune`` destroys that project."""
    diagnostics = Diagnostics()
    with gc_paused():
        outside, links = database_view(state.rows, set(world.projects))
        world = recheck_with_existing(world, vpc_allocations_in(state.rows), diagnostics,
                                      {} if prune else outside, links)
        if diagnostics.has_errors:  # e.g. a held block now overlaps a declared one
            return LivePlan(state, Plan(), changes_of(Plan()), diagnostics)
        compilation = compile_world(world, existing=allocations_in(state.rows),
                                    diagnostics=diagnostics)
        diff = diff_rows(compilation.rows, state.rows, set(compilation.projects), prune)
    return LivePlan(state, diff, changes_of(diff), diagnostics)

