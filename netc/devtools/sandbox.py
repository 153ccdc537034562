"""A local OVN in one directory, for trying netc and for the real-OVN tests.

The daemons are the real ones (docs/sandbox.md; /work/shared/guides/ovn-lab.md): a
Northbound ovsdb-server (or a 3-member RAFT cluster on loopback), a Southbound one and
ovn-northd, and optionally an OVS userspace datapath with ovn-controller. Everything
lives in the sandbox directory (databases, sockets, pid files, logs) plus
``sandbox.json``, which lets ``netc sandbox status`` and ``down`` find them again from
another process. Client ports are chosen free on 127.0.0.1, so several sandboxes can
run at once in different directories.

The dataplane is the exception: ovs-vswitchd and ovn-controller insist on
``/var/run/openvswitch`` and ``/var/run/ovn``, so only one sandbox on a machine can
have one. A lock file records which sandbox owns it and refuses a second.

Readiness is awaited, never slept for: sockets answer an echo, cluster members report
themselves members with a leader elected, northd is caught up when NB_Global sb_cfg
reaches nb_cfg, a chassis is up when its row exists and hv_cfg has caught up.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from netc.backends.ovn_nb.ovsdb import OvsdbClient, OvsdbError, SslFiles

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
SB_SCHEMA = Path("/usr/share/ovn/ovn-sb.ovsschema")
VSWITCH_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
OVS_RUNDIR = Path("/var/run/openvswitch")
OVN_RUNDIR = Path("/var/run/ovn")
OVS_DB_SOCKET = OVS_RUNDIR / "db.sock"
DATAPLANE_LOCK = Path("/var/run/netc-sandbox-dataplane.lock")
STATE_FILE = "sandbox.json"
DEFAULT_DIRECTORY = ".netc-sandbox"
CHASSIS = "chassis-1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0

PKI_DIRECTORY = "pki"
CONTROL_PLANE_BINARIES = {"ovsdb-server": "openvswitch-common", "ovsdb-tool": "openvswitch-common",
                          "ovs-appctl": "openvswitch-common", "ovn-northd": "ovn-central",
                          "ovn-nbctl": "ovn-common"}
DATAPLANE_BINARIES = {"ovs-vswitchd": "openvswitch-switch", "ovs-vsctl": "openvswitch-switch",
                      "ovn-controller": "ovn-host", "ip": "iproute2"}


class SandboxError(Exception):
    """The sandbox could not be started, found or stopped; the message says why."""


class NoSandbox(SandboxError):
    """There is no sandbox state in the directory (never started there)."""


class DataplaneBusy(SandboxError):
    """Another sandbox (or a real Open vSwitch) already uses this machine's dataplane."""


class MissingBinaries(SandboxError):
    """OVN or OVS programs are not installed; ``packages`` are the Debian ones to install."""

    def __init__(self, binaries: list[str], packages: list[str]) -> None:
        super().__init__(f"missing {', '.join(binaries)}; install them with: "
                         f"apt-get install {' '.join(packages)}")
        self.binaries = binaries
        self.packages = packages


def check_binaries(dataplane: bool = False) -> None:
    """Raise :class:`MissingBinaries` unless every program the sandbox runs is installed."""
    needed = CONTROL_PLANE_BINARIES | (DATAPLANE_BINARIES if dataplane else {})
    missing = [binary for binary in needed if shutil.which(binary) is None]
    if missing:
        raise MissingBinaries(missing, sorted({needed[binary] for binary in missing}))


def free_ports(count: int) -> list[int]:
    """Distinct TCP ports free on 127.0.0.1 right now (all held open while choosing)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def poll_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Call ``condition`` until it returns something true; SandboxError after ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SandboxError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def _exited(pid: int) -> bool:
    """True once ``pid`` is gone or a zombie (detached daemons are reaped by init, if ever)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def _pid_alive(pid: int, binary: str) -> bool:
    """True if ``pid`` is a live process of ``binary``: never signal a stranger."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return False
    return Path(cmdline).name == binary and not _exited(pid)


@dataclass(frozen=True, slots=True)
class Daemon:
    """One daemon of the sandbox, known by its pid file."""

    name: str
    binary: str
    pid_file: Path

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid, self.binary) else None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> None:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, sig)
            try:
                poll_until(lambda: _exited(pid), timeout, f"{self.name} to exit")
            except SandboxError:
                os.kill(pid, signal.SIGKILL)
                poll_until(lambda: _exited(pid), timeout, f"{self.name} to die")
        self.pid_file.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class DaemonStatus:
    name: str
    pid: int | None

    @property
    def running(self) -> bool:
        return self.pid is not None


@dataclass(frozen=True, slots=True)
class SandboxStatus:
    directory: Path
    daemons: tuple[DaemonStatus, ...]
    exports: dict[str, str]
    remotes: dict[str, str]

    @property
    def running(self) -> bool:
        return bool(self.daemons) and all(daemon.running for daemon in self.daemons)

    @property
    def stopped(self) -> bool:
        return not any(daemon.running for daemon in self.daemons)


@dataclass(frozen=True, slots=True)
class VmPort:
    """A fake VM: an OVS internal port moved into its own network namespace."""

    name: str
    logical_port: str
    mac: str
    ip: str | None
    """With its prefix length; None when the VM gets its address by DHCP."""

    @property
    def namespace(self) -> str:
        return self.name

    def run(self, *argv: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Run a command inside the VM's namespace (output captured, never raises)."""
        return subprocess.run(["ip", "netns", "exec", self.namespace, *argv],
                              capture_output=True, text=True, timeout=timeout)


class Sandbox:
    """The daemons of one sandbox directory.

    ``cluster`` is the number of Northbound members (1: a standalone database; 3: a
    RAFT cluster). ``dataplane`` adds OVS, br-int and ovn-controller (chassis-1).
    ``ssl`` adds an ``ssl:`` remote to every Northbound member, with a throwaway CA,
    server and client certificates made by openssl in ``DIR/pki``. ``etcd`` starts
    that many etcd members beside OVN, in ``DIR/etcd`` (:mod:`netc.devtools.etcd`),
    for the service's etcd store.
    """

    def __init__(self, directory: str | Path = DEFAULT_DIRECTORY, *, cluster: int = 1,
                 dataplane: bool = False, ssl: bool = False, etcd: int = 0) -> None:
        if cluster < 1:
            raise SandboxError(f"cluster must be at least 1 member, not {cluster}")
        self.directory = Path(directory).resolve()
        self.cluster = cluster
        self.dataplane = dataplane
        self.ssl = ssl
        self.etcd = etcd
        self.nb_ports: list[int] = []
        self.nb_ssl_ports: list[int] = []
        self.raft_ports: list[int] = []
        self.sb_port = 0
        self.vm_ports: dict[str, VmPort] = {}

    # --- state kept in sandbox.json ---

    @classmethod
    def load(cls, directory: str | Path = DEFAULT_DIRECTORY) -> Sandbox:
        """The sandbox last started in ``directory``; SandboxError if there is none."""
        path = Path(directory).resolve() / STATE_FILE
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            raise NoSandbox(f"no sandbox in {path.parent}") from None
        except (OSError, ValueError) as error:
            raise SandboxError(f"unreadable {path}: {error}") from None
        sandbox = cls(path.parent, cluster=state["cluster"], dataplane=state["dataplane"],
                      ssl=state["ssl"], etcd=state.get("etcd", 0))
        sandbox.nb_ports = state["nb_ports"]
        sandbox.nb_ssl_ports = state["nb_ssl_ports"]
        sandbox.raft_ports = state["raft_ports"]
        sandbox.sb_port = state["sb_port"]
        sandbox.vm_ports = {name: VmPort(**port) for name, port in state["vm_ports"].items()}
        return sandbox

    def _save(self) -> None:
        state = {"cluster": self.cluster, "dataplane": self.dataplane, "ssl": self.ssl,
                 "etcd": self.etcd,
                 "nb_ports": self.nb_ports, "nb_ssl_ports": self.nb_ssl_ports,
                 "raft_ports": self.raft_ports,
                 "sb_port": self.sb_port,
                 "vm_ports": {name: {"name": port.name, "logical_port": port.logical_port,
                                     "mac": port.mac, "ip": port.ip}
                              for name, port in self.vm_ports.items()}}
        (self.directory / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    # --- names and remotes ---

    @property
    def nb_members(self) -> list[str]:
        return ["nb"] if self.cluster == 1 else [f"nb{i}" for i in range(1, self.cluster + 1)]

    def _path(self, name: str, suffix: str) -> Path:
        return self.directory / f"{name}.{suffix}"

    @property
    def nb_remote(self) -> str:
        """What to export as OVN_NB_DB: the unix socket, or every member for a cluster."""
        if self.cluster == 1:
            return f"unix:{self._path('nb', 'sock')}"
        return ",".join(f"tcp:127.0.0.1:{port}" for port in self.nb_ports)

    @property
    def nb_tcp_remote(self) -> str:
        return ",".join(f"tcp:127.0.0.1:{port}" for port in self.nb_ports)

    @property
    def nb_ssl_remote(self) -> str:
        return ",".join(f"ssl:127.0.0.1:{port}" for port in self.nb_ssl_ports)

    @property
    def ssl_files(self) -> SslFiles:
        """The client's key, certificate and CA certificate for :attr:`nb_ssl_remote`."""
        pki = self.directory / PKI_DIRECTORY
        return SslFiles(str(pki / "client-key.pem"), str(pki / "client-cert.pem"),
                        str(pki / "ca-cert.pem"))

    @property
    def sb_remote(self) -> str:
        return f"unix:{self._path('sb', 'sock')}"

    @property
    def sb_tcp_remote(self) -> str:
        return f"tcp:127.0.0.1:{self.sb_port}"

    def member_remote(self, member: int) -> str:
        """The client remote of cluster member ``member`` (1-based)."""
        return f"tcp:127.0.0.1:{self.nb_ports[member - 1]}"

    @property
    def exports(self) -> dict[str, str]:
        exports = {"OVN_NB_DB": self.nb_remote, "OVN_SB_DB": self.sb_remote}
        cluster = self.etcd_cluster()
        if cluster is not None:
            exports.update(cluster.exports)
        return exports

    def etcd_cluster(self):
        """The sandbox's etcd (:class:`netc.devtools.etcd.EtcdCluster`), if it has one."""
        if not self.etcd:
            return None
        from netc.devtools.etcd import EtcdCluster
        return EtcdCluster.load(self.directory / "etcd") or EtcdCluster(self.directory / "etcd",
                                                                        self.etcd)

    def daemons(self) -> list[Daemon]:
        """Every daemon this sandbox runs, in the order they are started."""
        daemons = [Daemon(name, "ovsdb-server", self._path(name, "pid"))
                   for name in [*self.nb_members, "sb"]]
        daemons.append(Daemon("northd", "ovn-northd", self._path("northd", "pid")))
        if self.dataplane:
            daemons += [Daemon("ovs", "ovsdb-server", self._path("ovs", "pid")),
                        Daemon("vswitchd", "ovs-vswitchd", self._path("vswitchd", "pid")),
                        Daemon("controller", "ovn-controller", self._path("controller", "pid"))]
        if self.etcd:
            daemons += self.etcd_cluster().daemons()
        return daemons

    def status(self) -> SandboxStatus:
        remotes = {"OVN_NB_DB (tcp)": self.nb_tcp_remote, "OVN_SB_DB (tcp)": self.sb_tcp_remote}
        if self.ssl:
            files = self.ssl_files
            remotes["OVN_NB_DB (ssl)"] = self.nb_ssl_remote
            remotes["ssl files"] = (f"--private-key={files.private_key} "
                                    f"--certificate={files.certificate} --ca-cert={files.ca_cert}")
        if self.dataplane:
            remotes["Open_vSwitch"] = f"unix:{OVS_DB_SOCKET}"
        if self.etcd:
            remotes["etcd"] = self.etcd_cluster().endpoint
        return SandboxStatus(self.directory,
                             tuple(DaemonStatus(d.name, d.pid()) for d in self.daemons()),
                             self.exports, remotes)

    # --- tools ---

    def run(self, *argv: str, timeout: float = START_TIMEOUT) -> str:
        """Run an OVN/OVS tool; its stdout, or SandboxError carrying its stderr."""
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SandboxError(f"{' '.join(argv)}: no answer within {timeout:g}s") from None
        if done.returncode != 0:
            raise SandboxError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
        return done.stdout

    def nbctl(self, *args: str, timeout: float = START_TIMEOUT) -> str:
        return self.run("ovn-nbctl", f"--db={self.nb_remote}", f"--timeout={int(timeout)}",
                        *args, timeout=timeout + 5)

    def sbctl(self, *args: str, timeout: float = START_TIMEOUT) -> str:
        return self.run("ovn-sbctl", f"--db={self.sb_remote}", f"--timeout={int(timeout)}",
                        *args, timeout=timeout + 5)

    def client(self, **options) -> OvsdbClient:
        """A client of the Northbound database (not connected yet)."""
        return OvsdbClient(self.nb_remote, **options)

    # --- start ---

    def start(self, timeout: float = START_TIMEOUT) -> Sandbox:
        """Create fresh databases and start every daemon; returns once all are ready."""
        check_binaries(self.dataplane)
        if self.etcd:
            from netc.devtools.etcd import check_etcd
            check_etcd()
        self.directory.mkdir(parents=True, exist_ok=True)
        if (self.directory / STATE_FILE).exists():
            previous = Sandbox.load(self.directory)
            if not previous.status().stopped:
                raise SandboxError(f"a sandbox is already running in {self.directory} "
                                   f"(netc sandbox down --dir {self.directory})")
        for pattern in ("*.db", "*.sock", "*.ctl", "*.pid", "*.log", STATE_FILE):
            for path in self.directory.glob(pattern):
                path.unlink()
        ports = free_ports((3 if self.ssl else 2) * self.cluster + 1)
        self.sb_port = ports.pop()
        self.nb_ports, ports = ports[:self.cluster], ports[self.cluster:]
        self.nb_ssl_ports, ports = (ports[:self.cluster], ports[self.cluster:]) if self.ssl \
            else ([], ports)
        self.raft_ports = ports if self.cluster > 1 else []
        self.vm_ports = {}
        self._save()
        try:
            if self.dataplane:
                self._claim_dataplane()
            self._start_control_plane(timeout)
            if self.dataplane:
                self._start_dataplane(timeout)
            if self.etcd:
                from netc.devtools.etcd import EtcdCluster
                EtcdCluster(self.directory / "etcd", self.etcd).start(timeout)
        except OvsdbError as error:
            self.stop()
            raise SandboxError(str(error)) from error
        except BaseException:
            self.stop()
            raise
        return self

    def _start_daemon(self, name: str, binary: str, *argv: str, unixctl: bool = True) -> None:
        log = self._path(name, "log")
        options = ["--detach", "--no-chdir", f"--pidfile={self._path(name, 'pid')}",
                   f"--log-file={log}"]
        if unixctl:
            options.append(f"--unixctl={self._path(name, 'ctl')}")
        done = subprocess.run([binary, *options, *argv], capture_output=True, text=True)
        log_text = log.read_text(errors="replace") if log.exists() else ""
        if done.returncode != 0 or "listen failed" in log_text:
            raise SandboxError(f"{name} ({binary}) did not start: "
                               f"{done.stderr.strip() or log_text.strip()[-500:]}; see {log}")

    def _start_ovsdb(self, name: str, database: Path, *remotes: str) -> None:
        self._start_daemon(name, "ovsdb-server", *(f"--remote={r}" for r in remotes), str(database))

    def _wait_ovsdb(self, remote: str, database: str, timeout: float) -> None:
        client = OvsdbClient(remote, database, failover_timeout=timeout)
        try:
            client.connect()
        except OvsdbError as error:
            raise SandboxError(f"{database} never became ready: {error}") from None
        finally:
            client.close()

    def _start_nb(self, name: str, index: int) -> None:
        options = [f"--remote=punix:{self._path(name, 'sock')}",
                   f"--remote=ptcp:{self.nb_ports[index]}:127.0.0.1"]
        if self.ssl:
            pki = self.directory / PKI_DIRECTORY
            options += [f"--remote=pssl:{self.nb_ssl_ports[index]}:127.0.0.1",
                        f"--private-key={pki / 'server-key.pem'}",
                        f"--certificate={pki / 'server-cert.pem'}",
                        f"--ca-cert={pki / 'ca-cert.pem'}"]
        self._start_daemon(name, "ovsdb-server", *options, str(self._path(name, "db")))

    def _make_pki(self) -> None:
        """A CA and a server and a client certificate it signed (EC keys: fast to make)."""
        pki = self.directory / PKI_DIRECTORY
        pki.mkdir(exist_ok=True)
        key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
        self.run("openssl", "req", "-x509", *key, "-days", "30", "-subj", "/CN=netc-sandbox-ca",
                 "-keyout", str(pki / "ca-key.pem"), "-out", str(pki / "ca-cert.pem"))
        for who in ("server", "client"):
            self.run("openssl", "req", *key, "-subj", f"/CN=netc-sandbox-{who}",
                     "-keyout", str(pki / f"{who}-key.pem"), "-out", str(pki / f"{who}-req.pem"))
            self.run("openssl", "x509", "-req", "-days", "30", "-in", str(pki / f"{who}-req.pem"),
                     "-CA", str(pki / "ca-cert.pem"), "-CAkey", str(pki / "ca-key.pem"),
                     "-CAcreateserial", "-out", str(pki / f"{who}-cert.pem"))

    def _start_control_plane(self, timeout: float) -> None:
        if self.ssl:
            self._make_pki()
        if self.cluster == 1:
            self.run("ovsdb-tool", "create", str(self._path("nb", "db")), str(NB_SCHEMA))
            self._start_nb("nb", 0)
        else:
            for member in range(1, self.cluster + 1):
                self._create_member(member)
                self.start_member(member)
            poll_until(self._cluster_formed, timeout, "the Northbound cluster to elect a leader")
        self._wait_ovsdb(self.nb_remote, "OVN_Northbound", timeout)
        self.run("ovsdb-tool", "create", str(self._path("sb", "db")), str(SB_SCHEMA))
        self._start_ovsdb("sb", self._path("sb", "db"), f"punix:{self._path('sb', 'sock')}",
                          f"ptcp:{self.sb_port}:127.0.0.1")
        self._wait_ovsdb(self.sb_remote, "OVN_Southbound", timeout)
        self._start_daemon("northd", "ovn-northd", f"--ovnnb-db={self.nb_remote}",
                           f"--ovnsb-db={self.sb_remote}")
        self.nbctl("init", timeout=timeout)
        with closing(self.client(failover_timeout=timeout)) as nb:
            nb.bump_nb_cfg_and_wait("sb", timeout)

    # --- the RAFT cluster ---

    def _create_member(self, member: int) -> None:
        database = self._path(f"nb{member}", "db")
        raft = f"tcp:127.0.0.1:{self.raft_ports[member - 1]}"
        if member == 1:
            self.run("ovsdb-tool", "create-cluster", str(database), str(NB_SCHEMA), raft)
        else:
            self.run("ovsdb-tool", "join-cluster", str(database), "OVN_Northbound", raft,
                     f"tcp:127.0.0.1:{self.raft_ports[0]}")

    def start_member(self, member: int) -> None:
        """Start (or restart after :meth:`kill_member`) Northbound member ``member``."""
        self._start_nb(f"nb{member}", member - 1)

    def cluster_status(self, member: int) -> str:
        """``ovs-appctl cluster/status OVN_Northbound`` of member ``member``."""
        return self.run("ovs-appctl", "-t", str(self._path(f"nb{member}", "ctl")),
                        "cluster/status", "OVN_Northbound", timeout=5)

    def _member_fields(self, member: int) -> dict[str, str] | None:
        try:
            text = self.cluster_status(member)
        except SandboxError:
            return None
        return dict(re.findall(r"^(\w[\w ]*): (.*)$", text, re.MULTILINE))

    def _cluster_formed(self) -> bool:
        fields = [self._member_fields(m) for m in range(1, self.cluster + 1)]
        return (all(f and f.get("Status") == "cluster member" for f in fields)
                and any(f.get("Role") == "leader" for f in fields))

    def leader(self) -> int | None:
        """The running member that says it is the leader (1-based), if any."""
        for member in range(1, self.cluster + 1):
            if self._daemon(f"nb{member}").pid() is None:
                continue
            fields = self._member_fields(member)
            if fields and fields.get("Role") == "leader":
                return member
        return None

    def wait_for_leader(self, timeout: float = START_TIMEOUT) -> int:
        return poll_until(self.leader, timeout, "a Northbound leader")

    def kill_member(self, member: int) -> None:
        """SIGKILL a member, as a crash would."""
        self._daemon(f"nb{member}").stop(signal.SIGKILL)

    def check_cluster(self) -> str:
        """``ovsdb-tool check-cluster`` over every member's database; SandboxError if it fails."""
        return self.run("ovsdb-tool", "check-cluster",
                        *(str(self._path(name, "db")) for name in self.nb_members))

    def _daemon(self, name: str) -> Daemon:
        return next(daemon for daemon in self.daemons() if daemon.name == name)

    # --- the dataplane ---

    @contextmanager
    def _dataplane_lock(self):
        with open(DATAPLANE_LOCK, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            lock.seek(0)
            yield lock

    def _claim_dataplane(self) -> None:
        with self._dataplane_lock() as lock:
            owner = lock.read().strip()
            if owner and owner != str(self.directory):
                other = Path(owner)
                if (other / STATE_FILE).exists() and not Sandbox.load(other).status().stopped:
                    raise DataplaneBusy(
                        f"the dataplane (global {OVS_RUNDIR}) is in use by the sandbox in "
                        f"{owner}; only one sandbox per machine can have one "
                        f"(netc sandbox down --dir {owner})")
            if OVS_DB_SOCKET.exists():
                try:
                    with socket.socket(socket.AF_UNIX) as probe:
                        probe.connect(str(OVS_DB_SOCKET))
                    raise DataplaneBusy(f"an Open vSwitch database already listens on "
                                       f"{OVS_DB_SOCKET}; the sandbox will not take it over")
                except ConnectionRefusedError:
                    OVS_DB_SOCKET.unlink()  # left by a daemon that died
            lock.truncate(0)
            lock.write(str(self.directory))

    def _release_dataplane(self) -> None:
        if not DATAPLANE_LOCK.exists():
            return
        with self._dataplane_lock() as lock:
            if lock.read().strip() == str(self.directory):
                lock.truncate(0)

    def _start_dataplane(self, timeout: float) -> None:
        OVS_RUNDIR.mkdir(parents=True, exist_ok=True)
        OVN_RUNDIR.mkdir(parents=True, exist_ok=True)
        self.run("ovsdb-tool", "create", str(self._path("ovs", "db")), str(VSWITCH_SCHEMA))
        self._start_ovsdb("ovs", self._path("ovs", "db"), f"punix:{OVS_DB_SOCKET}")
        self._wait_ovsdb(f"unix:{OVS_DB_SOCKET}", "Open_vSwitch", timeout)
        self.run("ovs-vsctl", "--no-wait", "init")
        self._start_daemon("vswitchd", "ovs-vswitchd")
        self.run("ovs-vsctl", f"--timeout={int(timeout)}", "add-br", "br-int", "--", "set",
                 "bridge", "br-int", "datapath_type=netdev", "fail-mode=secure")
        self.run("ovs-vsctl", "set", "open", ".", f"external-ids:ovn-remote={self.sb_remote}",
                 "external-ids:ovn-encap-type=geneve", "external-ids:ovn-encap-ip=127.0.0.1",
                 f"external-ids:system-id={CHASSIS}")
        # ovn-controller 23.03 has no --unixctl: its control socket is in /var/run/ovn.
        self._start_daemon("controller", "ovn-controller", unixctl=False)
        with closing(OvsdbClient(self.sb_remote, "OVN_Southbound")) as sb:
            try:
                sb.transact([{"op": "wait", "table": "Chassis", "timeout": int(timeout * 1000),
                              "where": [["name", "==", CHASSIS]], "columns": ["name"],
                              "until": "!=", "rows": []}])
            except OvsdbError as error:
                raise SandboxError(f"ovn-controller never registered {CHASSIS}: {error}; "
                                   f"see {self._path('controller', 'log')}") from None
        with closing(self.client(failover_timeout=timeout)) as nb:
            nb.bump_nb_cfg_and_wait("hv", timeout)

    def add_vm_port(self, name: str, logical_port: str, mac: str, ip: str | None,
                    gateway: str | None = None) -> VmPort:
        """Plug a fake VM into br-int: namespace ``name``, bound to ``logical_port``.

        ``ip`` has its prefix length (``10.0.0.5/24``); ``None`` leaves the interface
        without one, for a DHCP client to configure. Wait for the binding with
        :meth:`wait_port_up` once the logical port exists.
        """
        if not self.dataplane:
            raise SandboxError("this sandbox has no dataplane (start it with --dataplane)")
        if len(name) > 15:
            raise SandboxError(f"VM port name {name!r} is longer than 15 characters")
        port = VmPort(name, logical_port, mac, ip)
        self.vm_ports[name] = port
        self._save()
        self.run("ip", "netns", "add", name)
        self.run("ovs-vsctl", "add-port", "br-int", name, "--", "set", "interface", name,
                 "type=internal", f"external_ids:iface-id={logical_port}")
        self.run("ip", "link", "set", name, "netns", name)
        for argv in (("ip", "link", "set", name, "address", mac),
                     *([("ip", "addr", "add", ip, "dev", name)] if ip else []),
                     ("ip", "link", "set", name, "up"),
                     ("ip", "link", "set", "lo", "up")):
            self.run("ip", "netns", "exec", name, *argv)
        if gateway:
            self.run("ip", "netns", "exec", name, "ip", "route", "add", "default", "via", gateway)
        return port

    def wait_port_up(self, logical_port: str, timeout: float = START_TIMEOUT) -> None:
        """Block until ovn-controller has bound ``logical_port`` (its ``up`` is true)."""
        with closing(self.client()) as nb:
            nb.transact([{"op": "wait", "table": "Logical_Switch_Port",
                          "timeout": int(timeout * 1000),
                          "where": [["name", "==", logical_port]], "columns": ["up"],
                          "until": "==", "rows": [{"up": True}]}])

    def remove_vm_ports(self) -> None:
        """Delete every VM port and its namespace (also done by :meth:`stop`)."""
        for name in list(self.vm_ports):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
            if self._daemon("vswitchd").pid() is not None:
                subprocess.run(["ovs-vsctl", "--timeout=5", "--if-exists", "del-port",
                                "br-int", name], capture_output=True)
            del self.vm_ports[name]
        self._save()

    # --- stop ---

    def stop(self) -> None:
        """Stop every daemon (by pid file), remove VM namespaces and release the dataplane."""
        if self.dataplane:
            self.remove_vm_ports()
        for daemon in reversed(self.daemons()):
            daemon.stop()
        if self.dataplane:
            self._release_dataplane()
