"""The bench harness at toy size: the generated world is what it claims to be, and
the runner produces its report. No timing is asserted anywhere."""

from __future__ import annotations

import json
import os
import time

import pytest

from bench import cpu_use, run
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
                       "--only", "process,check,compile,acl",
                       "--world-dir", str(tmp_path), "--json", str(out)])
    assert status == 0
    report = json.loads(out.read_text())
    figures = {f["name"]: f for f in report["figures"]}
    assert figures["check time"]["netc"] > 0 and figures["check time"]["reference"] > 0
    assert figures["check peak memory"]["netc"] > 0
    assert figures["compile peak memory"]["netc"] > 0
    for name in ("check", "compile"):
        process = figures[f"netc {name} process time"]
        assert process["netc"] > 0 and process["reference"] > 0
        assert len(process["samples"]["netc"]) == 1
    assert figures["compile time"]["netc"] > 0
    assert figures["distinct outputs of 3 compiles"]["netc"] == 1  # byte-identical
    assert figures["ACL rows, world 3x5"]["netc"] > 0
    assert figures["ACL rows, world 3x5"]["reference"] > 0
    assert report["world"]["ports"] == 15
    assert set(report["cpu_stolen"]) == {"process", "check", "compile", "acl"}
    assert all(0 <= share <= 1 for share in report["cpu_stolen"].values())  # Linux: known
    printed = capsys.readouterr().out
    assert "| check time |" in printed
    assert "CPU time stolen by the hypervisor while measuring: process " in printed


def test_stolen_share_is_the_eighth_column_of_the_cpu_line():
    before = run.cpu_jiffies("cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 1 2 3\n")
    after = run.cpu_jiffies("cpu  160 0 70 850 10 0 5 105 0 0\n")
    assert before == (35, 1000) and after == (105, 1200)
    assert run.stolen_share(before, after) == pytest.approx(70 / 200)
    assert run.cpu_jiffies("cpu  1 2 3 4\n") == (0, 10)  # a kernel without steal
    assert run.cpu_jiffies("") is None and run.stolen_share(None, after) is None
    assert run.stolen_share(after, after) is None
    assert run.render_stolen({"a": None}) == ""


@pytest.mark.slow
def test_default_world_is_the_issue_world(tmp_path):
    world = write_world(tmp_path / "w", WorldShape())
    size = sum(path.stat().st_size for path in intent_files(world))
    assert 1.5e6 < size < 2.5e6  # "about 2 MB of YAML"
    result = _checked(world)
    assert list(result.diagnostics) == []
    assert sum(len(p.ports) for p in result.world.projects.values()) == 10_000


def test_service_family_without_ovn_says_why(tmp_path, monkeypatch):
    from bench.families import service
    monkeypatch.setattr(service.shutil, "which", lambda binary: None)
    out = tmp_path / "report.json"
    assert run.main(["--projects", "1", "--ports", "1", "--repeat", "1", "--only", "service",
                     "--world-dir", str(tmp_path), "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["figures"]
    assert [f["name"] for f in figures] == [name for name, *_ in service._names()]
    assert all(f["netc"] is None and "needs OVN" in f["note"] for f in figures)


@pytest.mark.service
@pytest.mark.ovn
def test_service_family_at_toy_size(tmp_path, monkeypatch):
    """The whole family on a real sandbox and netc serve, shrunk: every figure is
    measured, and the server's histograms count exactly the requests sent."""
    from bench.families import service
    from netc.devtools.sandbox import MissingBinaries, check_binaries
    try:
        check_binaries()
    except MissingBinaries as missing:
        pytest.skip(f"OVN is not installed here ({missing})")
    for name, value in {"CONCURRENCY": (1, 3), "PAUSED": (3,), "NOOP": (3,),
                        "REQUESTS_PER_RUN": 6, "BIG_PROJECT": 12, "BUILD_CLIENTS": 4,
                        "BLOCK": 2, "BLOCKS_PER_ROUND": 1}.items():
        monkeypatch.setattr(service, name, value)
    out = tmp_path / "report.json"
    assert run.main(["--projects", "1", "--ports", "1", "--repeat", "2", "--only", "service",
                     "--world-dir", str(tmp_path), "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["figures"]
    assert [f["name"] for f in figures] == [name for name, *_ in service._names()]
    cpu = [f for f in figures if f["name"].startswith("CPU per CreatePort")]
    assert len(cpu) == 3
    for figure in cpu:  # the reference's 12 transacts may take less than a clock tick
        assert figure["netc"] > 0 and figure["reference"] >= 0, figure
        assert {side["requests"] for side in figure["samples"].values()} == {6 * 2}
        assert {"netc serve", "ovn-northd", "clients"} <= set(figure["samples"]["netc"]["seconds"])
    assert all(f["netc"] and f["reference"] for f in figures if f not in cpu), figures
    for figure in figures:
        if "server time" in figure["name"] and "project with" not in figure["name"]:
            breakdown = figure["samples"]["breakdown"][0]
            assert breakdown["requests"] == breakdown["batched_requests"] == 6 * 2
    sizes = next(f for f in figures if f["name"] == "CreatePort p50, project with 12 ports")
    assert len(sizes["samples"]["netc"]) == len(sizes["samples"]["reference"]) == 2 * 2


def test_cpu_use_counts_each_process_and_the_machine(monkeypatch):
    stats = iter(["cpu  100 0 50 800 10 0 5 35\n", "cpu  160 0 70 850 10 0 5 105\n"])
    parse = cpu_use.machine_jiffies
    monkeypatch.setattr(cpu_use, "machine_jiffies", lambda: parse(next(stats)))
    seconds = iter([1.0, 3.0, 2.5, 3.0])  # serve before, clients before, serve after, ...
    monkeypatch.setattr(cpu_use, "process_seconds", lambda pid: next(seconds))
    use = cpu_use.CpuUse()
    with use.measuring({"serve": 1, "clients": 2}, requests=10):
        pass
    assert use.per_request_ms() == pytest.approx({"serve": 150.0, "clients": 0.0})
    assert use.total_ms() == pytest.approx(150.0)
    # 200 jiffies: 80 busy (user, system), 50 idle, 70 stolen
    assert use.cores(2) == pytest.approx({"busy": 0.8, "idle": 0.5, "stolen": 0.7})
    assert use.describe(2).startswith("ms per request: serve 150.00, clients 0.00; ")


def test_process_seconds_is_this_process_cpu_time():
    before = cpu_use.process_seconds(os.getpid())
    deadline = time.process_time() + 0.1
    while time.process_time() < deadline:
        pass
    assert cpu_use.process_seconds(os.getpid()) - before >= 0.05
    assert cpu_use.process_seconds(2**22 + 1) is None  # above pid_max: no such process
