"""A local etcd (one member or a cluster on loopback) for trying the service's etcd
store and for the tests: the real Debian ``etcd`` binary, one process per member.

Everything lives in one directory: a data directory, a log and a pid file per
member, plus ``etcd.json`` (the ports chosen), so that ``netc sandbox down`` in
another process finds the members again. Client and peer ports are chosen free on
127.0.0.1, so several clusters can run at once in different directories.

Readiness is awaited, never slept for: every member answers ``/health`` and one of
them reports itself the leader (``/v3/maintenance/status``).

Members are started with ``--max-txn-ops`` above etcd's default of 128, since a
transaction of the service (deleting a VPC with its subnets, groups and NAT
entries) may hold more operations than that.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from netc.devtools.sandbox import Daemon, SandboxError, free_ports, poll_until

ETCD_BINARY = "etcd"
ETCD_PACKAGE = "etcd-server"
STATE_FILE = "etcd.json"
START_TIMEOUT = 30.0
MAX_TXN_OPS = 4096
HEARTBEAT_MS = 100
ELECTION_MS = 1000


def check_etcd() -> None:
    """SandboxError unless the etcd binary is installed."""
    if shutil.which(ETCD_BINARY) is None:
        raise SandboxError(f"missing {ETCD_BINARY}; install it with: apt-get install {ETCD_PACKAGE}")


@dataclass
class MemberStatus:
    name: str
    pid: int | None
    leader: bool

    @property
    def running(self) -> bool:
        return self.pid is not None


class EtcdCluster:
    """``members`` etcd processes forming one cluster, in ``directory``."""

    def __init__(self, directory: str | Path, members: int = 1) -> None:
        if members < 1:
            raise SandboxError(f"an etcd cluster needs at least 1 member, not {members}")
        self.directory = Path(directory).resolve()
        self.members = members
        self.client_ports: list[int] = []
        self.peer_ports: list[int] = []
        self._processes: dict[int, subprocess.Popen] = {}
        """The members this object started (a just-exec'd process's /proc cmdline can
        still be empty, so exits are judged by the process handle where there is one)."""

    # --- state kept in etcd.json ---

    @classmethod
    def load(cls, directory: str | Path) -> "EtcdCluster | None":
        """The cluster last started in ``directory``; None if there is none."""
        path = Path(directory).resolve() / STATE_FILE
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise SandboxError(f"unreadable {path}: {error}") from None
        cluster = cls(path.parent, state["members"])
        cluster.client_ports = state["client_ports"]
        cluster.peer_ports = state["peer_ports"]
        return cluster

    def _save(self) -> None:
        state = {"members": self.members, "client_ports": self.client_ports,
                 "peer_ports": self.peer_ports}
        (self.directory / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    # --- names and endpoints ---

    def name(self, member: int) -> str:
        return f"etcd{member}"

    def member_url(self, member: int) -> str:
        """The client URL of member ``member`` (1-based)."""
        return f"http://127.0.0.1:{self.client_ports[member - 1]}"

    def _peer_url(self, member: int) -> str:
        return f"http://127.0.0.1:{self.peer_ports[member - 1]}"

    @property
    def endpoint(self) -> str:
        """Every member's client URL, comma-separated: the service's ``etcd_endpoint``."""
        return ",".join(self.member_url(m) for m in range(1, self.members + 1))

    @property
    def exports(self) -> dict[str, str]:
        return {"OVERLAY_NETWORK_CHAINFIRE_ENDPOINT": self.endpoint}

    def daemon(self, member: int) -> Daemon:
        return Daemon(self.name(member), ETCD_BINARY,
                      self.directory / f"{self.name(member)}.pid")

    def daemons(self) -> list[Daemon]:
        return [self.daemon(m) for m in range(1, self.members + 1)]

    # --- start and stop ---

    def start(self, timeout: float = START_TIMEOUT) -> "EtcdCluster":
        """Fresh data directories, every member started; returns once a leader is elected."""
        check_etcd()
        self.directory.mkdir(parents=True, exist_ok=True)
        previous = EtcdCluster.load(self.directory)
        if previous is not None and any(d.pid() for d in previous.daemons()):
            raise SandboxError(f"an etcd is already running in {self.directory}")
        for member in range(1, self.members + 1):
            shutil.rmtree(self.directory / f"{self.name(member)}.data", ignore_errors=True)
            (self.directory / f"{self.name(member)}.log").unlink(missing_ok=True)
        ports = free_ports(2 * self.members)
        self.client_ports, self.peer_ports = ports[:self.members], ports[self.members:]
        self._save()
        try:
            for member in range(1, self.members + 1):
                self.start_member(member, wait=False)
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_member(self, member: int, wait: bool = True,
                     timeout: float = START_TIMEOUT) -> None:
        """Start member ``member`` (or restart it after :meth:`kill_member`: its data
        directory is kept, so it rejoins the cluster it was in)."""
        name = self.name(member)
        cluster = ",".join(f"{self.name(m)}={self._peer_url(m)}"
                           for m in range(1, self.members + 1))
        argv = [ETCD_BINARY, "--name", name,
                "--data-dir", str(self.directory / f"{name}.data"),
                "--listen-client-urls", self.member_url(member),
                "--advertise-client-urls", self.member_url(member),
                "--listen-peer-urls", self._peer_url(member),
                "--initial-advertise-peer-urls", self._peer_url(member),
                "--initial-cluster", cluster, "--initial-cluster-state", "new",
                "--initial-cluster-token", f"netc-{os.getpid()}-{self.peer_ports[0]}",
                "--max-txn-ops", str(MAX_TXN_OPS),
                "--heartbeat-interval", str(HEARTBEAT_MS),
                "--election-timeout", str(ELECTION_MS),
                "--logger", "zap", "--log-level", "warn"]
        with open(self.directory / f"{name}.log", "ab") as log:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       start_new_session=True)
        self.daemon(member).pid_file.write_text(f"{process.pid}\n")
        self._processes[member] = process
        if wait:
            poll_until(lambda: self._healthy(member), timeout,
                       f"etcd member {name} to rejoin its cluster")

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Every running member healthy and a leader elected."""
        def ready() -> bool:
            dead = [self.name(m) for m in range(1, self.members + 1) if self._exited(m)]
            if dead:
                raise SandboxError(f"etcd member(s) {', '.join(dead)} exited; see "
                                   f"{self.directory / (dead[0] + '.log')}:\n"
                                   f"{self._log_tail(dead[0])}")
            return all(self._healthy(m) for m in range(1, self.members + 1)) \
                and self.leader() is not None
        poll_until(ready, timeout, "the etcd cluster to elect a leader")

    def _exited(self, member: int) -> bool:
        process = self._processes.get(member)
        if process is not None:
            return process.poll() is not None
        return self.daemon(member).pid() is None

    def _log_tail(self, name: str) -> str:
        try:
            return (self.directory / f"{name}.log").read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def _post(self, member: int, path: str, body: dict, timeout: float = 1.0) -> dict | None:
        request = urllib.request.Request(f"{self.member_url(member)}{path}",
                                         data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return json.loads(answer.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def _healthy(self, member: int) -> bool:
        try:
            with urllib.request.urlopen(f"{self.member_url(member)}/health", timeout=1) as answer:
                return json.loads(answer.read()).get("health") == "true"
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def leader(self) -> int | None:
        """The running member that reports itself the leader (1-based), if any."""
        for member in range(1, self.members + 1):
            if self._exited(member):
                continue
            status = self._post(member, "/v3/maintenance/status", {})
            if status and status.get("leader") and \
                    status.get("header", {}).get("member_id") == status["leader"]:
                return member
        return None

    def wait_for_leader(self, timeout: float = START_TIMEOUT) -> int:
        return poll_until(self.leader, timeout, "an etcd leader")

    def kill_member(self, member: int) -> None:
        """SIGKILL member ``member``, as a crash would."""
        self._stop_member(member, signal.SIGKILL)

    def _stop_member(self, member: int, sig: int) -> None:
        process = self._processes.pop(member, None)
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.daemon(member).stop(sig)  # started by another process: by its pid file

    def status(self) -> list[MemberStatus]:
        leader = self.leader()
        return [MemberStatus(self.name(m), self.daemon(m).pid(), m == leader)
                for m in range(1, self.members + 1)]

    def stop(self) -> None:
        """Stop every member (by pid file); the data directories stay until the next start."""
        for member in range(1, self.members + 1):
            self._stop_member(member, signal.SIGTERM)
