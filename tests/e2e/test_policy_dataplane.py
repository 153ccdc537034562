"""Compiled policy enforced on real packets: what `netc explain` says is what happens.

The intent in ``intent/`` (acme/alpha with two subnets, acme/beta peered with it,
acme/gamma listing alpha without being listed back) is applied with the real CLI to a
sandbox with a dataplane (OVS userspace datapath, ovn-controller). Every port becomes
a network namespace plugged into br-int under its Logical_Switch_Port name, with the
MAC and IP netc compiled; dyn-1 has no IP in the intent and gets the one netc's IPAM
allocated from OVN's DHCP, with dhclient.

Each question (source, destination, traffic) is put to `netc explain --format json`,
then asked of the network: a TCP connect to a listener that is always there (so a
deny can only be a drop on the way), or one ping. The verdict and the packet must
agree. Deny cases wait out the timeout, so there are few of them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest

from netc.devtools.sandbox import Sandbox, VmPort
from tests.ovn.conftest import start_sandbox

pytestmark = [pytest.mark.ovn, pytest.mark.dataplane]

REPO = Path(__file__).resolve().parents[2]
INTENT = Path(__file__).parent / "intent"
PROBE = Path(__file__).parent / "probe.py"
TIMEOUT = 1.5
"""Seconds a connection or a ping gets: denied ones always wait this long."""
DHCP_PORT = "acme/alpha/dyn-1"


@dataclass(frozen=True)
class Question:
    kind: str
    """What it exercises: same subnet, across subnets, peered, unpeered, icmp."""
    src: str
    dst: str
    protocol: str
    port: int | None = None

    def __str__(self) -> str:
        traffic = self.protocol + (f"/{self.port}" if self.port else "")
        return f"{self.src}->{self.dst}:{traffic}"


def q(kind: str, src: str, dst: str, traffic: str) -> Question:
    protocol, _, port = traffic.partition("/")
    return Question(kind, f"acme/{src}", f"acme/{dst}", protocol, int(port) if port else None)


QUESTIONS = [
    q("same subnet", "alpha/admin-1", "alpha/web-1", "tcp/80"),
    q("same subnet", "alpha/admin-1", "alpha/web-1", "tcp/81"),  # a port nobody opened
    q("same subnet", "alpha/web-1", "alpha/admin-1", "tcp/22"),
    q("same subnet", "alpha/dyn-1", "alpha/db-1", "tcp/5432"),
    q("across subnets", "alpha/web-1", "alpha/db-1", "tcp/5432"),
    q("across subnets", "alpha/dyn-1", "alpha/web-1", "tcp/80"),  # by CIDR: the DHCP address
    q("across subnets", "alpha/dyn-1", "alpha/admin-1", "tcp/22"),
    q("across subnets", "alpha/admin-1", "alpha/db-1", "tcp/5432"),
    q("across subnets", "alpha/db-1", "alpha/web-1", "tcp/80"),
    q("peered", "beta/client-1", "alpha/web-1", "tcp/8080"),
    q("peered", "alpha/admin-1", "beta/client-1", "tcp/9000"),
    q("peered", "beta/client-1", "alpha/web-1", "tcp/80"),
    q("peered", "alpha/web-1", "beta/client-1", "tcp/9000"),
    q("peered", "alpha/dyn-1", "beta/client-1", "tcp/9000"),
    q("unpeered", "alpha/admin-1", "gamma/open-1", "tcp/22"),  # groups allow it both ways
    q("unpeered", "gamma/open-1", "alpha/admin-1", "tcp/22"),
    q("icmp", "alpha/admin-1", "alpha/web-1", "icmp"),
    q("icmp", "beta/client-1", "alpha/admin-1", "icmp"),
    q("icmp", "alpha/db-1", "alpha/web-1", "icmp"),
    q("icmp", "beta/client-1", "alpha/web-1", "icmp"),
    q("icmp", "alpha/admin-1", "gamma/open-1", "icmp"),
]


def netc(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "netc", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, f"netc {' '.join(argv)}: {done.stderr}"
    return done


@dataclass(frozen=True)
class Vm:
    """A netc port as compiled: what its namespace is configured with."""

    key: str
    lsp: str
    mac: str
    ip: IPv4Interface
    gateway: IPv4Address

    @property
    def name(self) -> str:
        return self.key.rpartition("/")[2]


def compiled_vms(tables: dict[str, list[dict]]) -> dict[str, Vm]:
    """Every netc port of the compiled rows, with the prefix length and gateway of its
    subnet, both read from the router port on its switch."""
    rows = {row["external_ids"]["netc:key"]: row for table in tables.values() for row in table}
    lrps = {row["name"]: row for row in tables["Logical_Router_Port"]}
    vms = {}
    for switch in tables["Logical_Switch"]:
        router_lsp = next(rows[key] for key in switch["ports"] if rows[key].get("type") == "router")
        gateway = IPv4Interface(lrps[router_lsp["options"]["router-port"]]["networks"][0])
        for key in switch["ports"]:
            lsp = rows[key]
            if lsp.get("type") == "router":
                continue
            mac, ip = lsp["addresses"][0].split()
            vms[key.removeprefix("port:")] = Vm(
                key.removeprefix("port:"), lsp["name"], mac,
                IPv4Interface(f"{ip}/{gateway.network.prefixlen}"), gateway.ip)
    return vms


@dataclass
class Lab:
    sandbox: Sandbox
    workdir: Path
    vms: dict[str, Vm]
    ports: dict[str, VmPort] = field(default_factory=dict)
    verdicts: dict[Question, bool] = field(default_factory=dict)

    def verdict(self, question: Question) -> bool:
        if question not in self.verdicts:
            self.verdicts[question] = self._explain(question)
        return self.verdicts[question]

    def _explain(self, question: Question) -> bool:
        argv = ["explain", str(INTENT), "--from", question.src, "--to", question.dst,
                "--protocol", question.protocol, "--format", "json"]
        if question.port is not None:
            argv += ["--port", str(question.port)]
        done = netc(*argv, cwd=self.workdir)
        assert "disagree" not in done.stderr, done.stderr  # the row evaluator agrees too
        return json.loads(done.stdout)["verdict"] == "allow"

    def connect(self, src: str, dst: str, port: int, source_ip: str | None = None) -> str:
        argv = [sys.executable, str(PROBE), "connect", str(self.vms[dst].ip.ip), str(port),
                str(TIMEOUT), *([source_ip] if source_ip else [])]
        return self.ports[src].run(*argv, timeout=TIMEOUT + 10).stdout.strip()

    def ping(self, src: str, dst: str) -> str:
        done = self.ports[src].run("ping", "-c", "1", "-W", str(TIMEOUT),
                                   str(self.vms[dst].ip.ip), timeout=TIMEOUT + 10)
        return "reply" if done.returncode == 0 else "no reply"

    def outcome(self, question: Question) -> str:
        if question.protocol == "icmp":
            return self.ping(question.src, question.dst)
        return self.connect(question.src, question.dst, question.port)


def plug(lab: Lab, vm: Vm, dhcp: bool) -> None:
    lab.ports[vm.key] = lab.sandbox.add_vm_port(
        vm.name, vm.lsp, vm.mac, None if dhcp else str(vm.ip),
        None if dhcp else str(vm.gateway))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The intent applied, a namespace per port, listeners on every probed TCP port."""
    sandbox = start_sandbox(Sandbox(tmp_path_factory.mktemp("e2e-sandbox"), dataplane=True))
    workdir = tmp_path_factory.mktemp("e2e-netc")
    listeners: list[subprocess.Popen] = []
    dhclient_pid = workdir / "dhclient.pid"
    try:
        compiled = json.loads(netc("compile", str(INTENT), "--format", "json",
                                   cwd=workdir).stdout)
        netc("apply", str(INTENT), "--nb", sandbox.nb_remote, "--auto-approve", "--wait", "hv",
             cwd=workdir)
        lab = Lab(sandbox, workdir, compiled_vms(compiled["tables"]))
        for vm in lab.vms.values():
            plug(lab, vm, dhcp=vm.key == DHCP_PORT)
        for vm in lab.vms.values():
            sandbox.wait_port_up(vm.lsp)
        with sandbox.client() as nb:
            nb.bump_nb_cfg_and_wait("hv", timeout=30)
        dhcp = lab.ports[DHCP_PORT].run(
            "dhclient", "-1", "-v", "-pf", str(dhclient_pid), "-lf",
            str(workdir / "dhclient.leases"), lab.ports[DHCP_PORT].name, timeout=60)
        assert dhcp.returncode == 0, f"dhclient got no lease: {dhcp.stderr}"
        ports_of = {}
        for question in QUESTIONS:
            if question.port is not None:
                ports_of.setdefault(question.dst, set()).add(question.port)
        for dst, ports in ports_of.items():
            listener = subprocess.Popen(
                ["ip", "netns", "exec", lab.ports[dst].namespace, sys.executable, str(PROBE),
                 "listen", *map(str, sorted(ports))], stdout=subprocess.PIPE, text=True)
            listeners.append(listener)
            assert listener.stdout.readline().strip() == "listening", f"no listener in {dst}"
        yield lab
    finally:
        for listener in listeners:
            listener.kill()
            listener.wait()
        if dhclient_pid.exists():  # dhclient stays in the background to renew
            with suppress(ProcessLookupError):
                os.kill(int(dhclient_pid.read_text()), signal.SIGTERM)
        sandbox.stop()


def test_dhcp_gives_the_port_the_address_netc_allocated(lab: Lab) -> None:
    vm, port = lab.vms[DHCP_PORT], lab.ports[DHCP_PORT]
    addresses = port.run("ip", "-4", "-o", "addr", "show", "dev", port.name).stdout
    assert [line.split()[3] for line in addresses.splitlines()] == [str(vm.ip)]
    routes = port.run("ip", "-4", "route", "show", "default").stdout
    assert routes.split()[:3] == ["default", "via", str(vm.gateway)]


@pytest.mark.parametrize("question", QUESTIONS, ids=str)
def test_real_packets_do_what_explain_says(lab: Lab, question: Question) -> None:
    allowed = lab.verdict(question)
    outcome = lab.outcome(question)
    assert outcome in ("open", "timeout", "reply", "no reply"), outcome  # nothing refused
    assert (outcome in ("open", "reply")) == allowed, \
        f"netc explain says {'allow' if allowed else 'deny'}, the network: {outcome}"


def test_the_questions_see_both_verdicts_of_every_kind(lab: Lab) -> None:
    seen = {(question.kind, lab.verdict(question)) for question in QUESTIONS}
    kinds = {question.kind for question in QUESTIONS}
    assert {kind for kind, allowed in seen if not allowed} == kinds
    # Unpeered projects can never talk (contract 2.1), whatever their groups say.
    assert {kind for kind, allowed in seen if allowed} == kinds - {"unpeered"}


def test_a_port_cannot_send_from_another_address(lab: Lab) -> None:
    """dyn-1 may reach web-1:80 because web admits 10.10.2.0/24: from another address
    of that range, which the ACLs would admit just the same, port security drops it."""
    src, dst = DHCP_PORT, "acme/alpha/web-1"
    vm, port = lab.vms[src], lab.ports[src]
    spoofed = vm.ip.network.network_address + 77
    assert spoofed != vm.ip.ip and spoofed not in {v.ip.ip for v in lab.vms.values()}
    assert spoofed in IPv4Interface("10.10.2.0/24").network
    assert lab.connect(src, dst, 80) == "open"
    port.run("ip", "addr", "add", f"{spoofed}/{vm.ip.network.prefixlen}", "dev", port.name)
    try:
        assert lab.connect(src, dst, 80, source_ip=str(spoofed)) == "timeout"
        assert lab.connect(src, dst, 80) == "open"  # its own address still works
    finally:
        port.run("ip", "addr", "del", f"{spoofed}/{vm.ip.network.prefixlen}", "dev", port.name)
