"""``netc serve`` (also ``overlay-network-server``): the NetworkService, wired.

One process holds: the store, one Northbound connection with its live view, the
engine, the gRPC server (NetworkService, grpc.health.v1, server reflection), an
HTTP server for ``/health``, ``/ready`` and ``/metrics``, and the reconciler. It
stops cleanly on SIGTERM or SIGINT (in-flight requests are given a grace period).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from netc.app.northbound import open_northbound
from netc.backends.ovn_nb.ovsdb import OvsdbError
from netc.diagnostics import Diagnostics
from netc.service import heap
from netc.service.api import overlay_network_pb2 as pb
from netc.service.api import overlay_network_pb2_grpc as pb_grpc
from netc.service.auth import Authenticator, check_listen_address
from netc.service.config import EPILOG, ServiceSettings, add_arguments, settings_from_args
from netc.service.election import leadership
from netc.service.engine import Engine
from netc.service.handlers import NetworkServicer
from netc.service.metrics import ServiceMetrics
from netc.service.northbound import ServiceNorthbound
from netc.service.reconciler import Reconciler
from netc.service.store import Store, StoreUnavailable, open_store

log = logging.getLogger("netc.service")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["NetworkService"].full_name
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""Larger than gRPC's 4 MiB default, so that an oversized field reaches the service and
is refused with a message naming it (INVALID_ARGUMENT), not by the transport."""
GRACE_SECONDS = 5.0


@dataclass
class Service:
    settings: ServiceSettings
    store: Store
    northbound: ServiceNorthbound
    engine: Engine
    metrics: ServiceMetrics
    grpc_server: grpc.Server
    health: health.HealthServicer
    http: ThreadingHTTPServer
    reconciler: Reconciler
    grpc_port: int
    election: object = None
    """Who runs the reconciler (netc.service.election): etcd's lease, or the sole replica."""

    def ready(self) -> tuple[bool, str]:
        """Whether the Northbound and the store both answer, and what is wrong if not."""
        problems = []
        try:
            self.northbound.ping()
        except OvsdbError as error:
            problems.append(f"northbound: {error}")
        try:
            self.store.ping()
        except StoreUnavailable as error:
            problems.append(f"store: {error}")
        return not problems, "; ".join(problems) or "ready"

    def stop(self) -> None:
        self.health.enter_graceful_shutdown()
        self.reconciler.stop()
        self.election.stop()
        self.grpc_server.stop(GRACE_SECONDS).wait()
        self.http.shutdown()
        self.northbound.close()
        self.store.close()


def build(settings: ServiceSettings) -> Service:
    """Everything of one ``netc serve``, started (raises SystemExit with a message when
    the configuration cannot be served)."""
    authenticator = Authenticator(settings.auth.tokens)
    for address in (settings.server.listen_addr, settings.server.http_listen_addr):
        refusal = check_listen_address(address, authenticator)
        if refusal:
            raise SystemExit(f"netc serve: {refusal}")
    try:
        store = open_store(settings.storage.url)
    except (ValueError, StoreUnavailable) as error:
        raise SystemExit(f"netc serve: cannot open the store: {error}") from error
    diagnostics = Diagnostics()
    compiler_settings = settings.compiler_settings()
    client = open_northbound(settings.network.ovn_northbound_endpoint, compiler_settings,
                             diagnostics, connect=False)
    if client is None:
        raise SystemExit(f"netc serve: {next(iter(diagnostics)).message}")
    northbound = ServiceNorthbound(client, settings.owner)
    metrics = ServiceMetrics(store)
    engine = Engine(store, northbound, compiler_settings, observe=metrics.observe_batch)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=settings.server.workers,
                                                    thread_name_prefix="rpc"),
                         options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                                  ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)])
    pb_grpc.add_NetworkServiceServicer_to_server(
        NetworkServicer(store, engine, authenticator, metrics), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(settings.server.listen_addr)
    if port == 0:
        raise SystemExit(f"netc serve: cannot listen on {settings.server.listen_addr}")

    election = leadership(store, metrics.registry, replica_identity(settings))
    reconciler = Reconciler(engine, metrics, settings.server.reconcile_interval,
                            may_run=election.is_leader)
    service = Service(settings, store, northbound, engine, metrics, server, health_servicer,
                      None, reconciler, port, election)
    service.http = _http_server(settings.server.http_listen_addr, service)
    server.start()
    for name in (SERVICE_NAME, ""):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    threading.Thread(target=service.http.serve_forever, name="http", daemon=True).start()
    election.start()
    reconciler.start()
    return service


def replica_identity(settings: ServiceSettings) -> str:
    """How this replica names itself in the reconciler's election and in the log."""
    return f"{socket.gethostname()}:{os.getpid()} ({settings.server.listen_addr})"


def _http_server(address: str, service: Service) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/health":
                self._answer(200, b"ok\n")
            elif path == "/ready":
                ready, why = service.ready()
                self._answer(200 if ready else 503, (why + "\n").encode())
            elif path == "/metrics":
                self._answer(200, generate_latest(service.metrics.registry),
                             CONTENT_TYPE_LATEST)
            else:
                self._answer(404, b"not found: /health, /ready, /metrics\n")

        def _answer(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass  # scrapes every few seconds would drown the request log

    host, _, port = address.rpartition(":")
    try:
        return ThreadingHTTPServer((host.strip("[]"), int(port)), Handler)
    except (OSError, ValueError) as error:
        raise SystemExit(f"netc serve: cannot listen for HTTP on {address}: {error}") from error


# -- the command line --------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    heap.tune()  # this process is the server: its full collections are the reconciler's
    service = build(settings_from_args(args))
    settings = service.settings
    log.info("netc serve: NetworkService on %s, HTTP on %s, store %s, Northbound %s, owner %s",
             settings.server.listen_addr, settings.server.http_listen_addr,
             settings.storage.url, settings.network.ovn_northbound_endpoint, settings.owner)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    log.info("netc serve: stopping")
    service.stop()
    return 0


def build_parser(prog: str = "overlay-network-server") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Serve the overlay NetworkService (gRPC) that a VM manager calls for "
                    "every VM NIC: VPCs, subnets, ports, security groups and NAT, each "
                    "change compiled by netc and applied to OVN in one transaction.")
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))
