"""Compiled policy enforced on real packets: what `netc explain` says is what happens.

The intent in ``intent/`` (acme/alpha with two subnets, acme/beta peered with it,
acme/gamma listing alpha without being listed back, acme/edge published through NAT)
is applied with the real CLI to a sandbox with a dataplane (OVS userspace datapath,
ovn-controller). Every port becomes a network namespace plugged into br-int under its
Logical_Switch_Port name, with the MAC and IP netc compiled; dyn-1 has no IP in the
intent and gets the one netc's IPAM allocated from OVN's DHCP, with dhclient.

The external network is a provider network: ``br-ext`` mapped to ``physnet1`` on the
chassis (``ovn-bridge-mappings``), which is also the gateway chassis of every NAT
router, with a namespace ``netc-ext`` on it holding the external gateway address.

Each question (source, destination, traffic) is put to `netc explain --format json`,
then asked of the network: a TCP connect to a listener that is always there (so a
deny can only be a drop on the way), one UDP datagram to an echo, or one ping. The
verdict and the packet must agree. Deny cases wait out the timeout, so there are few
of them. NAT is asked from both sides of it: what the external host sees a VM come
from, and what reaches a VM through the external addresses.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest

from netc.devtools.sandbox import CHASSIS, Sandbox, VmPort
from tests.e2e.lab import (addresses, default_gateway, listen, ping, probe, settle,
                           stop_dhclient, stop_dhclients, stop_listeners, take_lease,
                           vswitchd_emergencies)
from tests.ovn.conftest import start_sandbox

pytestmark = [pytest.mark.ovn, pytest.mark.dataplane]

REPO = Path(__file__).resolve().parents[2]
INTENT = Path(__file__).parent / "intent"
DHCP_PORT = "acme/alpha/dyn-1"
RESTRICTED_DHCP_PORT = "acme/alpha/dyn-2"
"""In a group without egress rules: only the default-drop group's DHCP exception lets
its requests out."""
DHCP_PORTS = (DHCP_PORT, RESTRICTED_DHCP_PORT)
EXTERNAL = {"cidr": "203.0.113.0/24", "gateway_ip": "203.0.113.1",
            "provider_network": "physnet1"}
EXTERNAL_HOST = "203.0.113.1"
"""The external namespace holds the external network's gateway address."""
EXTERNAL_NAMESPACE = "netc-ext"
EXTERNAL_PORT = 9000
SNAT_IP, FLOATING_IP, FORWARDED_PORT = "203.0.113.10", "203.0.113.11", 8080
RENEW_LEASE_SECONDS = 10


@dataclass(frozen=True)
class Question:
    kind: str
    """What it exercises: same subnet, across subnets, peered, unpeered, icmp, udp, and
    NAT from the external host (``nat in``) or to it (``nat out``)."""
    src: str
    dst: str
    protocol: str
    port: int | None = None
    via: str | None = None
    """From the external host: the external ``IP:PORT`` (``IP`` for icmp) it sends to;
    ``port`` is the port as the VM sees it, what ``netc explain`` is asked."""

    def __str__(self) -> str:
        traffic = self.protocol + (f"/{self.port}" if self.port else "")
        return f"{self.src}->{self.dst}:{traffic}"


def q(kind: str, src: str, dst: str, traffic: str, via: str | None = None) -> Question:
    """``external`` at either end stands for the external host (:data:`EXTERNAL_END`)."""
    protocol, _, port = traffic.partition("/")
    ends = [EXTERNAL_END if end == "external" else f"acme/{end}" for end in (src, dst)]
    return Question(kind, *ends, protocol, int(port) if port else None, via)


EXTERNAL_END = f"external:{EXTERNAL_HOST}"


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
    q("udp", "alpha/web-1", "alpha/admin-1", "udp/161"),  # same subnet
    q("udp", "alpha/web-1", "alpha/db-1", "udp/53"),  # across subnets
    q("udp", "alpha/web-1", "alpha/db-1", "udp/161"),  # web may send it, db does not take it
    q("udp", "alpha/admin-1", "alpha/db-1", "udp/53"),  # db takes it from web only
    q("udp", "beta/client-1", "alpha/web-1", "udp/53"),  # peered, no udp rule
    q("nat in", "external", "edge/nat-app", "tcp/80", via=f"{SNAT_IP}:{FORWARDED_PORT}"),
    q("nat in", "external", "edge/nat-fip", "tcp/2222", via=f"{FLOATING_IP}:2222"),
    q("nat in", "external", "edge/nat-fip", "tcp/2223", via=f"{FLOATING_IP}:2223"),  # groups
    q("nat in", "external", "edge/nat-fip", "icmp", via=FLOATING_IP),  # fip admits tcp only
    q("nat out", "edge/nat-app", "external", "tcp/9000"),  # from the SNAT address
    q("nat out", "edge/nat-app", "external", "tcp/9001"),  # app sends 9000 only
    q("nat out", "edge/nat-fip", "external", "tcp/9000"),  # from its floating IP
    q("nat out", "alpha/admin-1", "external", "tcp/9000"),  # alpha has no NAT
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
            if lsp.get("type"):  # router and localnet ports are no VM
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
        return probe(self.ports[src].namespace, "connect", str(self.vms[dst].ip.ip), port,
                     *([source_ip] if source_ip else []))

    def ping(self, src: str, dst: str) -> str:
        return ping(self.ports[src].namespace, str(self.vms[dst].ip.ip))

    def udp(self, src: str, dst: str, port: int) -> str:
        return probe(self.ports[src].namespace, "udp", str(self.vms[dst].ip.ip), port)

    def outcome(self, question: Question) -> str:
        if EXTERNAL_END in (question.src, question.dst):
            return self._through_nat(question)
        if question.protocol == "icmp":
            return self.ping(question.src, question.dst)
        if question.protocol == "udp":
            return self.udp(question.src, question.dst, question.port)
        return self.connect(question.src, question.dst, question.port)

    def _through_nat(self, question: Question) -> str:
        """From the external namespace to the question's external address, or from the
        VM to the external host."""
        if question.src == EXTERNAL_END:
            namespace, (host, _, port) = EXTERNAL_NAMESPACE, question.via.partition(":")
        else:
            namespace, host, port = self.ports[question.src].namespace, EXTERNAL_HOST, \
                str(question.port)
        if question.protocol == "icmp":
            return ping(namespace, host)
        return probe(namespace, "udp" if question.protocol == "udp" else "connect", host,
                     int(port))

    def seen_from_vm(self, src: str, host: str, port: int) -> str:
        """The address the listener at host:port sees a connection from ``src`` come from."""
        return probe(self.ports[src].namespace, "seen", host, port)

    def seen_from_outside(self, host: str, port: int) -> str:
        """Connect from the external host; the address the VM's listener saw."""
        return probe(EXTERNAL_NAMESPACE, "seen", host, port)


def external_network(sandbox: Sandbox) -> None:
    """br-ext on physnet1 and a namespace on it holding the external gateway address.
    ovn-controller patches br-int to br-ext for the localnet port of netc's external
    switch; the chassis is the gateway chassis of every NAT router port."""
    sandbox.run("ovs-vsctl", "add-br", "br-ext", "--", "set", "bridge", "br-ext",
                "datapath_type=netdev")
    sandbox.run("ovs-vsctl", "set", "open", ".",
                f"external-ids:ovn-bridge-mappings={EXTERNAL['provider_network']}:br-ext")
    sandbox.run("ip", "netns", "add", EXTERNAL_NAMESPACE)
    sandbox.run("ovs-vsctl", "add-port", "br-ext", "ext0", "--", "set", "interface", "ext0",
                "type=internal")
    sandbox.run("ip", "link", "set", "ext0", "netns", EXTERNAL_NAMESPACE)
    prefix = EXTERNAL["cidr"].split("/")[1]
    for argv in (("ip", "addr", "add", f"{EXTERNAL_HOST}/{prefix}", "dev", "ext0"),
                 ("ip", "link", "set", "ext0", "up"), ("ip", "link", "set", "lo", "up")):
        sandbox.run("ip", "netns", "exec", EXTERNAL_NAMESPACE, *argv)


def plug(lab: Lab, vm: Vm, dhcp: bool) -> None:
    lab.ports[vm.key] = lab.sandbox.add_vm_port(
        vm.name, vm.lsp, vm.mac, None if dhcp else str(vm.ip),
        None if dhcp else str(vm.gateway))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The intent applied, a namespace per port, listeners on every probed TCP port."""
    sandbox = start_sandbox(Sandbox(tmp_path_factory.mktemp("e2e-sandbox"), dataplane=True))
    workdir = tmp_path_factory.mktemp("e2e-netc")
    (workdir / "netc.toml").write_text(
        "[external]\n" + "".join(f'{key} = "{value}"\n' for key, value in EXTERNAL.items())
        + f'gateway_chassis = ["{CHASSIS}"]\n', encoding="utf-8")
    listeners: list[subprocess.Popen] = []
    try:
        external_network(sandbox)
        compiled = json.loads(netc("compile", str(INTENT), "--format", "json",
                                   cwd=workdir).stdout)
        netc("apply", str(INTENT), "--nb", sandbox.nb_remote, "--auto-approve", "--wait", "hv",
             cwd=workdir)
        lab = Lab(sandbox, workdir, compiled_vms(compiled["tables"]))
        for vm in lab.vms.values():
            plug(lab, vm, dhcp=vm.key in DHCP_PORTS)
        for vm in lab.vms.values():
            sandbox.wait_port_up(vm.lsp)
        settle(sandbox)
        for key in DHCP_PORTS:
            take_lease(lab.ports[key], workdir)
        ports_of = {"acme/edge/nat-app": {80}, "acme/edge/nat-fip": {2222, 2223}}
        ports_of[EXTERNAL_NAMESPACE] = {EXTERNAL_PORT}
        for question in QUESTIONS:
            if question.port is not None:
                where = EXTERNAL_NAMESPACE if question.dst == EXTERNAL_END else question.dst
                ports_of.setdefault(where, set()).add(question.port)
        namespaces = {dst: lab.ports[dst].namespace for dst in ports_of
                      if dst != EXTERNAL_NAMESPACE}
        namespaces[EXTERNAL_NAMESPACE] = EXTERNAL_NAMESPACE
        for dst, ports in ports_of.items():
            listeners.append(listen(namespaces[dst], ports))
        yield lab
    finally:
        stop_listeners(listeners)
        stop_dhclients(workdir)
        subprocess.run(["ip", "netns", "del", EXTERNAL_NAMESPACE], capture_output=True)
        sandbox.stop()


@pytest.fixture(autouse=True)
def datapath_alive(request: pytest.FixtureRequest):
    """Every test ends with ovs-vswitchd still running (:func:`vswitchd_emergencies`)."""
    yield
    dead = vswitchd_emergencies(request.getfixturevalue("lab").sandbox)
    assert not dead, f"ovs-vswitchd died during this test: {dead[0]}"


@pytest.mark.parametrize("key", DHCP_PORTS)
def test_dhcp_gives_the_port_the_address_netc_allocated(lab: Lab, key: str) -> None:
    vm, port = lab.vms[key], lab.ports[key]
    assert addresses(port) == [str(vm.ip)]
    assert default_gateway(port) == str(vm.gateway)


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


# -- NAT, from both sides of it ------------------------------------------------------

def test_snat_the_external_host_sees_the_external_ip(lab: Lab) -> None:
    assert lab.seen_from_vm("acme/edge/nat-app", EXTERNAL_HOST, EXTERNAL_PORT) == SNAT_IP


def test_port_forwarding_reaches_the_internal_port(lab: Lab) -> None:
    """external_ip:8080 is nat-app's port 80 (its listener serves 80 only)."""
    assert lab.seen_from_outside(SNAT_IP, FORWARDED_PORT) == EXTERNAL_HOST


def test_a_floating_ip_both_ways(lab: Lab) -> None:
    assert lab.seen_from_outside(FLOATING_IP, 2222) == EXTERNAL_HOST
    # its own outbound traffic leaves from the floating IP, not from the SNAT address
    assert lab.seen_from_vm("acme/edge/nat-fip", EXTERNAL_HOST, EXTERNAL_PORT) == FLOATING_IP


def test_the_groups_still_decide_behind_nat(lab: Lab) -> None:
    assert lab.seen_from_outside(FLOATING_IP, 2223) == "timeout"  # fip admits 2222 only
    # acme/alpha has no NAT: no way out at all
    assert lab.seen_from_vm("acme/alpha/admin-1", EXTERNAL_HOST, EXTERNAL_PORT) == "timeout"


# -- OVN itself, asked by netc verify --nb ------------------------------------------------

def test_verify_nb_agrees_on_the_running_network(lab: Lab) -> None:
    done = netc("verify", str(INTENT), "--nb", lab.sandbox.nb_remote, "--sb",
                lab.sandbox.sb_remote, "--format", "json", cwd=lab.workdir)
    report = json.loads(done.stdout)
    assert report["agree"] and report["pairs_traced"] >= report["class_pairs"] > 0


# -- DHCP renewals ---------------------------------------------

def test_dhcp_renews_by_unicast_to_the_server(lab: Lab) -> None:
    """A real client renews its lease by unicast to the server (RFC 2131 RENEWING); the
    default-drop group must let that through, not only the broadcast requests. Told
    that its lease lasts 10 s (``supersede``: OVN's own lease is netc's 12 hours),
    dhclient renews after about 5 s; were the unicast request dropped, it would retry
    until 7/8 of the lease and then rebind by broadcast, which shows.

    A real renewal comes hours after the lease, when the conntrack entries of the
    first exchange are long gone: see :func:`forget_connections`."""
    vm, port = lab.vms[RESTRICTED_DHCP_PORT], lab.ports[RESTRICTED_DHCP_PORT]
    pid_file = lab.workdir / f"{port.name}.dhclient.pid"
    stop_dhclient(pid_file)  # the lease's own background client: start from scratch
    port.run("ip", "-4", "addr", "flush", "dev", port.name)
    (lab.workdir / f"{port.name}.leases").unlink(missing_ok=True)
    forget_connections(lab, vm.lsp)  # also those of the first lease, expired or not
    config = lab.workdir / "renew.conf"  # the client takes the lease as 10 s long
    config.write_text(f"supersede dhcp-lease-time {RENEW_LEASE_SECONDS};\n")
    client = subprocess.Popen(
        ["ip", "netns", "exec", port.namespace, "dhclient", "-d", "-v", "-cf", str(config),
         "-pf",
         str(lab.workdir / "renew.pid"), "-lf", str(lab.workdir / f"{port.name}.leases"),
         port.name], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        unicast = f"to {vm.gateway} port 67"
        acked = None
        for line in _lines(client, seconds=6 * RENEW_LEASE_SECONDS):
            lines.append(line)
            if line.startswith("bound to") and sum(x.startswith("bound to") for x in lines) == 1:
                forget_connections(lab, vm.lsp)
            bound = any(x.startswith("bound to") for x in lines[:-1])
            if bound and line.startswith("DHCPREQUEST") and "255.255.255.255" in line:
                break  # rebinding: the renewal went unanswered
            if bound and any(unicast in x for x in lines[:-1]) and \
                    line.startswith(f"DHCPACK of {vm.ip.ip} from {vm.gateway}"):
                acked = line
                break
    finally:
        client.terminate()
        client.wait(timeout=10)
    print("\n".join(lines))
    log = (lab.sandbox.directory / "controller.log").read_text(errors="replace")
    assert acked is not None, ("no unicast renewal was acknowledged:\n" + "\n".join(lines)
                               + "\novn-controller:\n" + "\n".join(log.splitlines()[-15:]))


def forget_connections(lab: Lab, lsp: str) -> None:
    """Flush the conntrack zone of one logical port only. OVS 3.1.0's userspace
    conntrack has asserted (lib/conntrack.c, conn_update_state) when a new exchange
    met the expired, not yet cleaned entries of an earlier one in the zone, and on a
    flush of every zone: so the zone is flushed before the client starts again, and
    once it is bound (a real renewal comes hours after the lease, long after the
    entries of the first exchange are gone; left, they would let it through as a
    reply and hide the drop)."""
    ids = lab.sandbox.run("ovs-vsctl", "--if-exists", "get", "bridge", "br-int",
                          f'external_ids:"ct-zone-{lsp}"').strip().strip('"')
    assert ids.isdigit(), f"no conntrack zone for {lsp}: {ids!r}"
    lab.sandbox.run("ovs-appctl", "-t", str(lab.sandbox.directory / "vswitchd.ctl"),
                    "dpctl/flush-conntrack", f"zone={ids}")


def _lines(process: subprocess.Popen, seconds: float):
    """Lines of the process's stderr, until it ends or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            return
        line = process.stderr.readline()
        if not line:
            return
        yield line.strip()
