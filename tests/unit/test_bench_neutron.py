"""The flow figures' reference, one ACL per rule (bench/neutron.py), means the intent:
held to it on every class pair by the same rows check as netc's own rows."""

from __future__ import annotations

import pytest

from bench.neutron import neutron_rows
from bench.world import WorldShape, write_world
from netc.compiler.acl import neutron_acl_count
from netc.compiler.lower import compile_world
from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths
from netc.reach.classes import ClassModel
from netc.reach.northbound import Northbound, port_addresses
from netc.reach.verify import check_rows
from tests.conftest import REPO


def world_and_rows(path, config):
    diagnostics = Diagnostics()
    result = check_paths([str(path)], load_settings(str(config), diagnostics), diagnostics)
    assert result.ok, [d.render() for d in diagnostics]
    return result.world, compile_world(result.world).rows


@pytest.mark.parametrize("where", ["policies", "world"])
def test_the_one_acl_per_rule_translation_means_the_intent(where, tmp_path):
    if where == "policies":
        world, rows = world_and_rows(REPO / "policies", REPO / "netc.toml")
    else:
        folder = write_world(tmp_path / "world", WorldShape(6, 8))
        world, rows = world_and_rows(folder, folder / "netc.toml")
    reference = neutron_rows(world, rows)
    check = check_rows(ClassModel(world, port_addresses(reference)), Northbound(reference))
    assert check.pairs and not check.mismatches
    dhcp = sum(1 for key in reference.tables["ACL"] if "dhcp" in key)
    assert reference.count("ACL") - dhcp == neutron_acl_count(world)
    assert not any(key.startswith(("acl:", "pg:")) and "dhcp" not in key
                   for table in ("ACL", "Port_Group") for key in reference.tables[table])
