"""A real ``netc serve`` on a real OVN for the service tests.

Every test module here sets ``pytestmark = SERVICE`` (marks ``service`` and ``ovn``:
deselected by the quick run, run by ``scripts/test-all``). Fixtures:

- ``service``: one sandbox (NB + SB + northd) and one ``netc serve`` on it with a
  SQLite store, per test module; tests use their own org names.
- ``service_factory(**options)``: more servers (tokens, another store, ...) on a
  fresh sandbox each, stopped at teardown.
- ``client``: a NetworkClient of ``service``.
- ``fingerprint(service)``: what the Northbound and the store hold, to compare before
  and after a refused request.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

import pytest

from netc.backends.ovn_nb.ovsdb import OvsdbClient
from netc.client import NetworkClient
from netc.devtools.sandbox import Sandbox
from netc.devtools.service import ServiceProcess
from tests.ovn.conftest import start_sandbox

SERVICE = [pytest.mark.service, pytest.mark.ovn]

EXTERNAL = {"cidr": "203.0.113.0/24", "gateway_ip": "203.0.113.1",
            "provider_network": "physnet1", "gateway_chassis": ["chassis-1"]}

NB_TABLES = ("Logical_Router", "Logical_Router_Port", "Logical_Switch", "Logical_Switch_Port",
             "ACL", "Port_Group", "Address_Set", "NAT", "Load_Balancer", "DHCP_Options",
             "Logical_Router_Static_Route", "Gateway_Chassis")


@pytest.fixture(scope="module")
def service_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ServiceProcess]]:
    started: list[tuple[Sandbox, ServiceProcess]] = []

    def start(sandbox: Sandbox | None = None, **options) -> ServiceProcess:
        if sandbox is None:
            sandbox = start_sandbox(Sandbox(tmp_path_factory.mktemp("sandbox")))
        options.setdefault("external", EXTERNAL)
        server = ServiceProcess(tmp_path_factory.mktemp("serve"), sandbox.nb_remote, **options)
        server.sandbox = sandbox
        started.append((sandbox, server))
        return server.start()

    try:
        yield start
    finally:
        for sandbox, server in reversed(started):
            server.stop()
            sandbox.stop()


@pytest.fixture(scope="module")
def service(service_factory) -> ServiceProcess:
    return service_factory()


@pytest.fixture(scope="module")
def client(service: ServiceProcess) -> Iterator[NetworkClient]:
    with NetworkClient.connect(service.address) as connected:
        yield connected


def northbound_rows(remote: str) -> dict:
    """Every row of the tables the service writes, without the row versions."""
    with OvsdbClient(remote) as nb:
        tables = nb.dump_tables(NB_TABLES)
    return {table: sorted((sorted((k, repr(v)) for k, v in row.items() if k != "_version")
                           for row in rows)) for table, rows in tables.items()}


def store_rows(server: ServiceProcess) -> list:
    with sqlite3.connect(server.storage["sqlite_path"]) as connection:
        return connection.execute("SELECT key, value, mod_revision FROM kv ORDER BY key").fetchall()


@pytest.fixture
def fingerprint() -> Callable[[ServiceProcess], tuple]:
    def take(server: ServiceProcess) -> tuple:
        server.sandbox.nbctl("--wait=sb", "sync")  # northd's own writes to the NB settle
        return northbound_rows(server.sandbox.nb_remote), store_rows(server)
    return take
