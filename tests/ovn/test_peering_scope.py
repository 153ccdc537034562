"""One side of a mutual peering on a real Northbound (contract section 4, Scope):
projects applied together, then planned and applied one at a time, keep the peering
the database has; the given side dropping the peer removes its end of the link.

The same rules offline, against snapshots: tests/unit/test_peering_scope.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ovn.test_apply import POLICIES, applied, netc, owned_state

pytestmark = pytest.mark.ovn

CONTOSO = POLICIES / "contoso-shared-services"
PAYMENTS, SHARED = "contoso/payments", "contoso/shared-services"
LINK_ROWS = {("Logical_Router_Port", f"lrp-peer:{PAYMENTS}>{SHARED}"),
             ("Logical_Router_Static_Route", f"route-peer:{PAYMENTS}>{SHARED}"),
             ("Logical_Router_Port", f"lrp-peer:{SHARED}>{PAYMENTS}"),
             ("Logical_Router_Static_Route", f"route-peer:{SHARED}>{PAYMENTS}")}


def _link_rows(sandbox) -> set[tuple[str, str]]:
    return {(row.table, row.key) for row in owned_state(sandbox).rows} & LINK_ROWS


def test_one_side_of_a_peering_keeps_the_peering(sandbox_factory, tmp_path: Path):
    sandbox = sandbox_factory()
    nb = sandbox.nb_remote
    applied(str(CONTOSO), nb=nb, extra=("--wait", "sb"))
    assert _link_rows(sandbox) == LINK_ROWS
    fingerprint = owned_state(sandbox).fingerprint()

    for name in ("payments", "shared-services", "analytics"):
        path = str(CONTOSO / f"{name}.yaml")
        plan = netc("plan", path, "--detailed-exitcode", nb=nb)
        assert plan.returncode == 0, plan.stderr + plan.stdout
        assert "No changes." in plan.stdout, (name, plan.stdout)
        assert "error[" not in plan.stderr, plan.stderr
        assert "No changes." in applied(path, nb=nb).stdout
    assert owned_state(sandbox).fingerprint() == fingerprint  # nothing was written

    # payments drops the peering (and names the shared services by CIDR instead)
    intent = tmp_path / "payments.yaml"
    text = (CONTOSO / "payments.yaml").read_text()
    text = text.replace("peerings: [contoso/shared-services]\n", "")
    for group in ("monitoring", "dns", "ntp"):
        text = text.replace(f"sg:contoso/shared-services/{group}", "10.20.0.0/16")
    intent.write_text(text)
    plan = netc("plan", str(intent), "--format", "json", nb=nb)
    assert plan.returncode == 0, plan.stderr
    applied(str(intent), nb=nb, extra=("--wait", "sb"))
    # its end of the link is gone; the other end is shared-services' to remove
    assert _link_rows(sandbox) == {("Logical_Router_Port", f"lrp-peer:{SHARED}>{PAYMENTS}"),
                                   ("Logical_Router_Static_Route",
                                    f"route-peer:{SHARED}>{PAYMENTS}")}
    # shared-services alone now sees no peering with payments in the database
    refused = netc("plan", str(CONTOSO / "shared-services.yaml"), nb=nb)
    assert refused.returncode == 1
    assert "CROSS_TENANT_REFERENCE" in refused.stderr
    assert "the database holds no peering of contoso/payments" in refused.stderr
    # once it drops payments too, its end goes
    shared = tmp_path / "shared-services.yaml"
    text = (CONTOSO / "shared-services.yaml").read_text()
    assert "peerings: [contoso/payments, contoso/analytics]" in text
    text = text.replace("peerings: [contoso/payments, contoso/analytics]",
                        "peerings: [contoso/analytics]")
    for group in ("api", "worker"):
        text = text.replace(f"sg:contoso/payments/{group}", "10.21.0.0/16")
    shared.write_text(text)
    applied(str(shared), nb=nb)
    assert _link_rows(sandbox) == set()
    # analytics' peering with shared-services was never touched
    analytics = netc("plan", str(CONTOSO / "analytics.yaml"), "--detailed-exitcode", nb=nb)
    assert analytics.returncode == 0 and "No changes." in analytics.stdout, analytics.stdout


def test_prune_of_the_other_side_removes_the_link(sandbox_factory):
    sandbox = sandbox_factory()
    nb = sandbox.nb_remote
    applied(str(CONTOSO), nb=nb)
    applied(str(CONTOSO / "payments.yaml"), nb=nb, extra=("--prune",))
    keys = {(row.table, row.key) for row in owned_state(sandbox).rows}
    assert not keys & LINK_ROWS
    assert {row.project for row in owned_state(sandbox).rows} <= {PAYMENTS, None}
