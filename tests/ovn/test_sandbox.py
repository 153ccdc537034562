"""``netc sandbox`` and the Sandbox class: real daemons up, reported, down, cleaned up."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from netc.backends.ovn_nb.ovsdb import OvsdbClient
from netc.devtools.sandbox import DataplaneBusy, MissingBinaries, Sandbox, check_binaries
from netc.cli import main

REPO = Path(__file__).resolve().parents[2]


def netc(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netc", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def exported(stdout: str) -> dict[str, str]:
    pairs = [shlex.split(line)[1].split("=", 1)
             for line in stdout.splitlines() if line.startswith("export ")]
    return dict(pairs)


def pid_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.ovn
@pytest.mark.usefixtures("ovn_installed")
def test_cli_up_status_down(tmp_path: Path) -> None:
    up = netc("sandbox", "up", cwd=tmp_path)
    try:
        assert up.returncode == 0, up.stderr
        remotes = exported(up.stdout)
        assert set(remotes) == {"OVN_NB_DB", "OVN_SB_DB"}
        assert remotes["OVN_NB_DB"] == f"unix:{tmp_path / '.netc-sandbox' / 'nb.sock'}"
        with OvsdbClient(remotes["OVN_NB_DB"]) as nb:
            assert nb.select("NB_Global", columns=["sb_cfg"])  # `ovn-nbctl init` ran
        with OvsdbClient(remotes["OVN_SB_DB"], "OVN_Southbound") as sb:
            assert sb.select("SB_Global")  # northd is writing the Southbound DB

        again = netc("sandbox", "up", cwd=tmp_path)
        assert again.returncode == 1 and "already running" in again.stderr

        status = netc("sandbox", "status", cwd=tmp_path)
        assert status.returncode == 0
        assert exported(status.stdout) == remotes
        pids = {line.split()[0]: int(line.rsplit(" ", 1)[1])
                for line in status.stdout.splitlines() if "running, pid" in line}
        assert set(pids) == {"nb", "sb", "northd"}
        assert all(pid_running(pid) for pid in pids.values())
    finally:
        down = netc("sandbox", "down", cwd=tmp_path)
    assert down.returncode == 0 and "stopped" in down.stderr
    assert not any(pid_running(pid) for pid in pids.values())
    stopped = netc("sandbox", "status", cwd=tmp_path)
    assert stopped.returncode == 1 and ": stopped" in stopped.stdout
    assert "export" not in stopped.stdout


def test_cli_without_a_sandbox_says_so(tmp_path: Path, capsys) -> None:
    assert main(["sandbox", "status", "--dir", str(tmp_path)]) == 1
    assert main(["sandbox", "down", "--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().err == f"no sandbox in {tmp_path}\n" * 2


def test_missing_binaries_name_the_packages(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingBinaries) as raised:
        check_binaries(dataplane=True)
    assert {"ovsdb-server", "ovn-northd", "ovn-controller"} <= set(raised.value.binaries)
    assert {"ovn-central", "ovn-host", "openvswitch-switch"} <= set(raised.value.packages)
    assert main(["sandbox", "up", "--dir", str(tmp_path / "s")]) == 1
    assert "install them with: apt-get install" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


@pytest.mark.ovn
def test_sandboxes_side_by_side_are_independent(sandbox_factory) -> None:
    first, second = sandbox_factory(), sandbox_factory()
    assert set(first.nb_ports + [first.sb_port]).isdisjoint(second.nb_ports + [second.sb_port])
    first.nbctl("ls-add", "only-in-first")
    assert "only-in-first" in first.nbctl("ls-list")
    assert "only-in-first" not in second.nbctl("ls-list")
    with OvsdbClient(second.nb_tcp_remote) as nb:
        assert nb.select("Logical_Switch") == []


@pytest.mark.ovn
def test_reloaded_sandbox_stops_what_another_process_started(sandbox_factory) -> None:
    started = sandbox_factory(cluster=3)
    pids = [daemon.pid() for daemon in started.daemons()]
    assert len(pids) == 5 and all(pids)
    reloaded = Sandbox.load(started.directory)
    assert (reloaded.nb_remote, reloaded.sb_remote) == (started.nb_remote, started.sb_remote)
    reloaded.stop()
    assert started.status().stopped and not any(pid_running(pid) for pid in pids)


@pytest.mark.ovn
def test_cluster_elects_a_new_leader_and_stays_consistent(cluster_sandbox) -> None:
    sandbox = cluster_sandbox
    assert len(sandbox.nb_remote.split(",")) == 3
    leader = sandbox.wait_for_leader()
    assert "Role: leader" in sandbox.cluster_status(leader)
    sandbox.nbctl("ls-add", "before-failover")
    sandbox.kill_member(leader)
    assert [d.running for d in sandbox.status().daemons][leader - 1] is False
    new_leader = sandbox.wait_for_leader()
    assert new_leader != leader
    sandbox.nbctl("ls-add", "after-failover")
    sandbox.start_member(leader)
    with OvsdbClient(sandbox.member_remote(leader), leader_only=False) as rejoined:
        rejoined.transact([{"op": "wait", "table": "Logical_Switch", "timeout": 30_000,
                            "where": [["name", "==", "after-failover"]], "columns": ["name"],
                            "until": "!=", "rows": []}])
    sandbox.check_cluster()


@pytest.mark.ovn
@pytest.mark.dataplane
def test_two_ports_on_one_switch_ping_each_other(dataplane_sandbox) -> None:
    sandbox = dataplane_sandbox
    sandbox.nbctl("ls-add", "ls1",
                  "--", "lsp-add", "ls1", "p1",
                  "--", "lsp-set-addresses", "p1", "02:00:00:00:00:01 10.0.0.1",
                  "--", "lsp-add", "ls1", "p2",
                  "--", "lsp-set-addresses", "p2", "02:00:00:00:00:02 10.0.0.2")
    vm1 = sandbox.add_vm_port("vm1", "p1", "02:00:00:00:00:01", "10.0.0.1/24")
    sandbox.add_vm_port("vm2", "p2", "02:00:00:00:00:02", "10.0.0.2/24")
    sandbox.wait_port_up("p1")
    sandbox.wait_port_up("p2")
    with sandbox.client() as nb:
        nb.bump_nb_cfg_and_wait("hv", timeout=30)
    ping = vm1.run("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2")
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert " 0% packet loss" in ping.stdout

    sandbox.nbctl("lsp-set-port-security", "p1", "02:00:00:00:00:99 10.0.0.1")
    with sandbox.client() as nb:
        nb.bump_nb_cfg_and_wait("hv", timeout=30)
    blocked = vm1.run("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.0.0.2")
    assert blocked.returncode != 0  # port security now drops vm1's real MAC


@pytest.mark.ovn
@pytest.mark.dataplane
def test_only_one_dataplane_at_a_time_and_namespaces_are_removed(sandbox_factory,
                                                                  tmp_path: Path) -> None:
    first = sandbox_factory(dataplane=True)
    first.add_vm_port("vmx", "px", "02:00:00:00:00:0a", "10.9.0.1/24")
    second = Sandbox(tmp_path / "second", dataplane=True)
    with pytest.raises(DataplaneBusy, match=f"in use by the sandbox in {first.directory}"):
        second.start()
    assert second.status().stopped and first.status().running
    first.stop()
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "vmx" not in namespaces.split()
    sandbox_factory(dataplane=True)  # the dataplane is free again

