"""What the dataplane tests do with their fake VMs, once, for every test of tests/e2e.

A fake VM is a network namespace plugged into the sandbox's br-int
(:meth:`netc.devtools.sandbox.Sandbox.add_vm_port`). A test asks the network a
question by running ``probe.py`` inside one namespace (a TCP connect, one UDP
datagram) or ``ping``, answers with listeners started in the others, takes addresses
by DHCP with a real ``dhclient``, and waits for ovn-controller and ovs-vswitchd to
have installed what the Northbound says before it asks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from netc.devtools.sandbox import Sandbox, VmPort

PROBE = Path(__file__).parent / "probe.py"
TIMEOUT = 1.5
"""Seconds a connection or a ping gets: denied ones always wait this long."""
SETTLE_TIMEOUT = 30.0


def in_namespace(namespace: str, *argv: str, timeout: float = TIMEOUT + 10):
    return subprocess.run(["ip", "netns", "exec", namespace, *argv], capture_output=True,
                          text=True, timeout=timeout)


def probe(namespace: str, command: str, host: str, port: int, *source_ip: str) -> str:
    """One ``probe.py connect|seen|udp`` from ``namespace``: what it printed
    (``open``, ``timeout``, ``reply``, the address the listener saw...)."""
    return in_namespace(namespace, sys.executable, str(PROBE), command, host, str(port),
                        str(TIMEOUT), *source_ip).stdout.strip()


def ping(namespace: str, host: str) -> str:
    done = in_namespace(namespace, "ping", "-c", "1", "-W", str(TIMEOUT), host)
    return "reply" if done.returncode == 0 else "no reply"


def listen(namespace: str, ports: set[int]) -> subprocess.Popen:
    """``probe.py listen`` in ``namespace`` on every port (TCP and UDP), once bound."""
    listener = subprocess.Popen(
        ["ip", "netns", "exec", namespace, sys.executable, str(PROBE), "listen",
         *map(str, sorted(ports))], stdout=subprocess.PIPE, text=True)
    assert listener.stdout.readline().strip() == "listening", f"no listener in {namespace}"
    return listener


def take_lease(port: VmPort, directory: Path) -> None:
    """``dhclient -1`` on the VM's interface: returns once it is bound (the client then
    stays in the background, pid in ``DIRECTORY/NAME.dhclient.pid``; see
    :func:`stop_dhclients`)."""
    dhcp = port.run("dhclient", "-1", "-v", "-pf", str(directory / f"{port.name}.dhclient.pid"),
                    "-lf", str(directory / f"{port.name}.leases"), port.name, timeout=60)
    assert dhcp.returncode == 0, f"dhclient got no lease for {port.name}: {dhcp.stderr}"


def addresses(port: VmPort) -> list[str]:
    """The IPv4 addresses (with prefix) of the VM's interface."""
    shown = port.run("ip", "-4", "-o", "addr", "show", "dev", port.name).stdout
    return [line.split()[3] for line in shown.splitlines()]


def default_gateway(port: VmPort) -> str | None:
    route = port.run("ip", "-4", "route", "show", "default").stdout.split()
    return route[2] if route[:2] == ["default", "via"] else None


def stop_dhclient(pid_file: Path) -> None:
    """SIGTERM the dhclient whose pid the file holds, if it still is one; wait for it."""
    with suppress(OSError, ValueError):
        pid = int(pid_file.read_text())
        if b"dhclient" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)


def stop_dhclients(directory: Path) -> None:
    """Every background dhclient :func:`take_lease` left in ``directory``."""
    for pid_file in directory.glob("*.dhclient.pid"):
        stop_dhclient(pid_file)


def stop_listeners(listeners: list[subprocess.Popen]) -> None:
    for listener in listeners:
        listener.kill()
        listener.wait()


def settle(sandbox: Sandbox) -> None:
    """Return once the chassis enforces what the Northbound holds now: northd and
    ovn-controller caught up (``--wait=hv``: the OpenFlow flows are installed), and
    ovs-vswitchd has revalidated its datapath flows against them, so that no packet
    is decided by a cached megaflow of the rules before."""
    with sandbox.client() as nb:
        nb.bump_nb_cfg_and_wait("hv", timeout=SETTLE_TIMEOUT)
    sandbox.run("ovs-appctl", "-t", str(sandbox.directory / "vswitchd.ctl"), "revalidator/wait")


def vswitchd_emergencies(sandbox: Sandbox) -> list[str]:
    """ovs-vswitchd's EMER log lines: it died (OVS 3.1.0's userspace conntrack has
    asserted under these tests: lib/conntrack.c, in conn_update_state). A test that
    sees one says so, rather than every later test failing on what looks like a
    dropped packet."""
    log = sandbox.directory / "vswitchd.log"
    return [line for line in log.read_text(errors="replace").splitlines() if "|EMER|" in line]
