"""The service's fast paths on a real OVN: port changes of a large project compiled
from its last compile and diffed on the rows they touch (netc.service.recompile), and
the live view patched by each monitor update instead of decoded again
(netc.backends.ovn_nb.view). After every batch of a random mix of port changes the
view holds what a view started afresh holds, and a whole plan of the project
against OVN finds nothing to change."""

from __future__ import annotations

import random
import threading

from netc.app.northbound import open_northbound
from netc.backends.diff import diff_rows, normalised
from netc.backends.ovn_nb.view import OwnedView, _elements
from netc.compiler.schema import TABLES
from netc.devtools.sandbox import Sandbox, poll_until
from netc.diagnostics import Diagnostics
from netc.service import operations as ops
from netc.service import recompile
from netc.service.changeset import ChangeSet
from netc.service.config import ServiceSettings
from netc.service.engine import Engine
from netc.service.northbound import ServiceNorthbound
from netc.service.store import open_store
from tests.ovn.conftest import start_sandbox
from tests.service.conftest import SERVICE
from tests.service.deployment import OWNER

pytestmark = SERVICE
ORG, PROJECT = "fast", "web"
OTHER = "db"
"""A second project: its ports share the global rows (the default-drop group)."""


def _view_rows(view: OwnedView) -> dict:
    """Every row the view holds, decoded, and each project's share of the global rows:
    sets as the sorted lists the diff's shortcuts rely on (netc.sorted_sets), so a
    patched set out of order differs from a fresh one."""
    with view.lock:
        rows = [(None, view.row(table, key)) for table, key in view._uuid_by_key]
        rows += [(project, view.share(table, key, f"{ORG}/{project}")) for table, key in
                 view._by_project.get(None, ()) for project in (PROJECT, OTHER)]
    return {(row.table, row.key, share): {name: _held(row, name) for name in TABLES[row.table]}
            for share, row in rows}


def _held(row, name: str):
    value = row.columns.get(name)
    return value if isinstance(value, list) else normalised(row, name)


def _raw_sets(view: OwnedView) -> dict:
    """Every row the view holds as sent, sets (a lone atom is a set of one) and maps
    without order."""
    return {(table, uuid): {column: sorted(map(repr, datum[1] if datum[:1] == ["map"]
                                               else _elements(datum)))
                            if isinstance(datum, list) else repr(datum)
                            for column, datum in row.items() if column != "_version"}
            for table, rows in view._raw.items() for uuid, row in rows.items()}


def test_port_changes_of_a_large_project_leave_ovn_and_the_view_as_a_whole_apply(tmp_path):
    sandbox = start_sandbox(Sandbox(tmp_path / "sandbox"))
    try:
        settings = ServiceSettings().compiler_settings()
        client = open_northbound(sandbox.nb_remote, settings, Diagnostics(), connect=False)
        northbound = ServiceNorthbound(client, OWNER)
        engine = Engine(open_store(f"sqlite:{tmp_path / 'state.db'}"), northbound, settings)
        engine.submit(ORG, PROJECT, lambda cs, ctx: ops.create_vpc(cs, ctx, "", "10.7.0.0/16"))
        engine.submit(ORG, OTHER, lambda cs, ctx: ops.create_vpc(cs, ctx, "", "10.8.0.0/16"))
        engine.submit(ORG, PROJECT, lambda cs, ctx: ops.create_group(cs, ctx, "web", "", [{
            "protocol": "tcp", "port_range": [80, 80], "source_type": "security_group",
            "source": f"{ORG}/{PROJECT}/web"}], []))
        rng = random.Random(11)

        def change(cs, ctx):
            ports = [p for _, p in cs.under(f"/networks/ports/{ORG}/{cs.project}/")]
            choice = rng.random()
            if len(ports) < recompile.INCREMENTAL_FROM + 4 or choice < 0.5:
                return ops.create_port(cs, ctx, "default", "", "", "", rng.choice(
                    [[], ["web"], ["web", "default"]] if cs.project == PROJECT else [[]]))
            port = rng.choice(ports)
            if choice < 0.7:
                return ops.delete_port(cs, port["id"])
            if choice < 0.85 and not port.get("vm_id"):  # attaching an attached port
                return ops.attach_port(cs, port["id"], f"vm-{rng.randrange(3)}")  # is refused
            return ops.detach_port(cs, port["id"])

        for _ in range(recompile.INCREMENTAL_FROM + 40):
            answers = []
            threads = [threading.Thread(target=lambda project: answers.append(
                engine.submit(ORG, project, change).error), args=(project,))
                for project in rng.choices([PROJECT, PROJECT, OTHER], k=rng.randrange(1, 4))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert answers == [None] * len(threads)
            fresh = OwnedView(open_northbound(sandbox.nb_remote, settings, Diagnostics(),
                                              connect=False), northbound.schema, OWNER)

            def agree() -> bool:  # northd may still be writing back; both catch up
                northbound.sync()
                fresh.sync()
                with northbound.view.lock:
                    return _raw_sets(northbound.view) == _raw_sets(fresh)
            poll_until(agree, 10, "the patched view to hold what a fresh one holds")
            assert _view_rows(northbound.view) == _view_rows(fresh)
            fresh.client.close()
        assert engine._compiled[(ORG, PROJECT)].baseline.rest is not None  # incremental
        for project in (PROJECT, OTHER):
            whole = recompile.compile_project(ORG, project, ChangeSet.load(engine.store, ORG, project),
                                              settings, None)
            fresh = OwnedView(open_northbound(sandbox.nb_remote, settings, Diagnostics(),
                                              connect=False), northbound.schema, OWNER)
            fresh.sync()
            plan = diff_rows(whole.rows, fresh.scoped(f"{ORG}/{project}").rows,
                             {f"{ORG}/{project}"}, reasons=False)
            assert plan.empty, plan.changes[:3]
            fresh.client.close()
        northbound.close()
    finally:
        sandbox.stop()
