"""A ``netc serve`` process for tests, benchmarks and the demo: started on free ports,
waited for until ``/ready`` answers, killed or stopped on request.

It runs the real command (``python -m netc serve``) with a TOML file written here,
so what is exercised is exactly what an operator starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from netc.devtools.sandbox import SandboxError, free_ports, poll_until

READY_TIMEOUT = 30.0


@dataclass
class ServiceProcess:
    directory: Path
    northbound: str
    """The OVSDB remote of the Northbound (several comma-separated for a cluster)."""
    owner: str = "netc-service"
    storage: dict = field(default_factory=dict)
    """The ``[storage]`` table; default: SQLite in ``directory``."""
    external: dict | None = None
    tokens: list[dict] = field(default_factory=list)
    reconcile_interval: float = 30.0
    name: str = "serve"
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.grpc_port, self.http_port = free_ports(2)
        if not self.storage:
            self.storage = {"backend": "sqlite",
                            "sqlite_path": str(self.directory / "state.db")}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.name}.log"

    @property
    def config_path(self) -> Path:
        return self.directory / f"{self.name}.toml"

    @property
    def store_url(self) -> str:
        if self.storage["backend"] == "sqlite":
            return f"sqlite:{self.storage['sqlite_path']}"
        return f"etcd:{self.storage['etcd_endpoint']}"

    def config_text(self) -> str:
        lines = [f"owner = {json.dumps(self.owner)}", "", "[network]",
                 f"ovn_northbound_endpoint = {json.dumps(self.northbound)}", "", "[storage]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in self.storage.items()]
        lines += ["", "[server]", f"listen_addr = {json.dumps(self.address)}",
                  f"http_listen_addr = {json.dumps(f'127.0.0.1:{self.http_port}')}",
                  f"reconcile_interval = {self.reconcile_interval}"]
        if self.external:
            lines += ["", "[external]"] + [f"{k} = {json.dumps(v)}"
                                           for k, v in self.external.items()]
        for token in self.tokens:
            lines += ["", "[[auth.tokens]]"] + [f"{k} = {json.dumps(v)}"
                                                for k, v in token.items()]
        return "\n".join(lines) + "\n"

    def start(self) -> "ServiceProcess":
        self.config_path.write_text(self.config_text(), encoding="utf-8")
        log = open(self.log_path, "ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "netc", "serve", "--config", str(self.config_path)],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
        log.close()
        try:
            poll_until(self._ready, READY_TIMEOUT, f"netc serve on {self.address} to be ready")
        except SandboxError:
            self.kill()
            raise SandboxError(f"netc serve did not become ready; its log:\n{self.log()}")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise SandboxError(f"netc serve exited with {self.process.returncode}:\n{self.log()}")
        try:
            with urllib.request.urlopen(f"{self.http}/ready", timeout=1) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def get(self, path: str) -> tuple[int, str]:
        """GET ``path`` on the HTTP port: (status, body)."""
        try:
            with urllib.request.urlopen(f"{self.http}{path}", timeout=5) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is flushed or closed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL after 15 s); the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
