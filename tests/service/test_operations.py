"""What an operator sees of a running service: grpc.health.v1, server reflection (so
grpcurl works without the .proto), HTTP /health, /ready and /metrics, one JSON log
line per request, and --help."""

from __future__ import annotations

import json
import subprocess
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from netc.client import ListVpcsRequest, NetworkClient
from tests.service.conftest import SERVICE

pytestmark = SERVICE


def test_grpc_health_says_serving(service):
    with grpc.insecure_channel(service.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", "overlaynetwork.v1.NetworkService"):
            answer = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_service_and_serves_its_file(service):
    with grpc.insecure_channel(service.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [reflection_pb2.ServerReflectionRequest(list_services=""),
                    reflection_pb2.ServerReflectionRequest(
                        file_containing_symbol="overlaynetwork.v1.NetworkService")]
        answers = list(stub.ServerReflectionInfo(iter(requests), timeout=5))
    names = {s.name for s in answers[0].list_services_response.service}
    assert {"overlaynetwork.v1.NetworkService", "grpc.health.v1.Health"} <= names
    assert answers[1].file_descriptor_response.file_descriptor_proto


def test_http_health_ready_and_metrics(service, client):
    client.create_vpc(org_id="ops", project_id="metrics")
    client.create_port(org_id="ops", project_id="metrics")
    assert service.get("/health")[0] == 200
    assert service.get("/ready") == (200, "ready\n")
    status, text = service.get("/metrics")
    assert status == 200
    for name in ("overlay_network_vpcs_total", "overlay_network_subnets_total",
                 "overlay_network_ports_total", "overlay_network_ip_allocations_total",
                 "overlay_network_ovn_operations_duration_seconds_bucket",
                 'overlay_network_request_duration_seconds_bucket{le="0.02",method="CreatePort"}',
                 "overlay_network_reconcile_runs_total",
                 "overlay_network_reconcile_repairs_total"):
        assert name in text, name
    ports = next(line for line in text.splitlines()
                 if line.startswith("overlay_network_ports_total "))
    assert float(ports.split()[1]) >= 1
    assert service.get("/nope")[0] == 404


def test_ready_turns_503_when_the_northbound_is_gone(service_factory):
    server = service_factory()
    server.sandbox.stop()
    status, text = server.get("/ready")
    assert status == 503 and "northbound" in text
    assert server.get("/health")[0] == 200
    with NetworkClient.connect(server.address) as client:
        try:
            client.create_vpc(org_id="ops", project_id="down")
        except Exception as error:  # noqa: BLE001 (checked just below)
            assert getattr(error, "status", None) == grpc.StatusCode.UNAVAILABLE
            assert error.code == "OVN_CONNECTION_FAILED"
        else:
            raise AssertionError("a write without a Northbound succeeded")


def test_one_json_log_line_per_request_with_its_request_id(service, client):
    client.call("ListVpcs", org_id="ops")
    metadata = (("x-request-id", "trace-me-42"),)
    client.stub.ListVpcs(ListVpcsRequest(org_id="ops"), metadata=metadata, timeout=5)
    lines = [json.loads(line) for line in service.log().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line["request_id"] == "trace-me-42"]
    assert len(mine) == 1
    assert mine[0]["method"] == "ListVpcs" and mine[0]["status"] == "OK"
    assert mine[0]["duration_ms"] >= 0


def test_help_names_the_flags_and_the_environment():
    for argv in (["-m", "netc", "serve", "--help"],
                 ["-c", "from netc.service.server import main; main(['--help'])"]):
        text = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                              timeout=60).stdout
        for flag in ("--config", "--ovn-nb-endpoint", "--ovn-sb-endpoint",
                     "--chainfire-endpoint", "--listen-addr", "--http-addr",
                     "OVERLAY_NETWORK_CIDR_POOL"):
            assert flag in text, (argv, flag)
