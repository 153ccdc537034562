"""The bench harness at toy size: the generated world is what it claims to be, and
the runner produces its report. No timing is asserted anywhere."""

from __future__ import annotations

import json

import pytest

from bench import run
from bench.world import WorldShape, generate_world, intent_files, write_world
from netc.config import load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_paths


def _checked(world):
    diagnostics = Diagnostics()
    settings = load_settings(str(world / "netc.toml"), diagnostics)
    return check_paths([str(world)], settings, diagnostics)


def test_world_is_deterministic():
    assert generate_world(WorldShape(12, 6)) == generate_world(WorldShape(12, 6))


def test_world_checks_clean_and_has_every_feature(tmp_path):
    world = write_world(tmp_path / "w", WorldShape(12, 6))
    result = _checked(world)
    assert list(result.diagnostics) == []
    projects = result.world.projects.values()
    assert len(projects) == 12 and sum(len(p.ports) for p in projects) == 72
    assert any(p.vpc_cidr_from_pool for p in projects)
    assert any(p.snat and p.dnat for p in projects)
    assert any(result.world.mutually_peered(p.key, peer) for p in projects for peer in p.peers)
    remotes = {r.remote.group.rsplit("/", 1)[0] != r.group.rsplit("/", 1)[0]
               for g in result.world.groups() for r in g.rules if r.remote and r.remote.group}
    assert remotes == {True, False}  # sg: references inside and across projects
    assert any(p.ip is not None for p in result.world.ports())
    assert any(p.ip is None for p in result.world.ports())
    assert any(g.includes for g in result.world.groups())


def test_write_world_refuses_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        write_world(tmp_path, WorldShape(1, 1))


def test_runner_reports_measured_figures(tmp_path, capsys):
    out = tmp_path / "report.json"
    status = run.main(["--projects", "3", "--ports", "5", "--repeat", "1",
                       "--only", "check,compile,acl",
                       "--world-dir", str(tmp_path), "--json", str(out)])
    assert status == 0
    report = json.loads(out.read_text())
    figures = {f["name"]: f for f in report["figures"]}
    assert figures["check time"]["netc"] > 0 and figures["check time"]["reference"] > 0
    assert figures["check peak memory"]["netc"] > 0
    assert figures["compile time"]["netc"] > 0
    assert figures["distinct outputs of 3 compiles"]["netc"] == 1  # byte-identical
    assert figures["ACL rows, world 3x5"]["netc"] > 0
    assert figures["ACL rows, world 3x5"]["reference"] > 0
    assert report["world"]["ports"] == 15
    assert "| check time |" in capsys.readouterr().out


@pytest.mark.slow
def test_default_world_is_the_issue_world(tmp_path):
    world = write_world(tmp_path / "w", WorldShape())
    size = sum(path.stat().st_size for path in intent_files(world))
    assert 1.5e6 < size < 2.5e6  # "about 2 MB of YAML"
    result = _checked(world)
    assert list(result.diagnostics) == []
    assert sum(len(p.ports) for p in result.world.projects.values()) == 10_000
