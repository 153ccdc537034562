"""The gRPC face: NetworkService messages in, :mod:`operations` and the engine called,
messages (or a status whose message starts with an error code) out.

Each RPC is authenticated and authorised before anything is read, timed, counted,
and logged as one JSON line (request id, method, tenant, status, duration). The
request id is the caller's ``x-request-id`` metadata when sent, returned as
trailing metadata either way.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any, Callable

import grpc

from netc.ir import parse
from netc.service import operations as ops
from netc.service import records
from netc.service.api import overlay_network_pb2 as pb
from netc.service.api import overlay_network_pb2_grpc as pb_grpc
from netc.service.auth import Authenticator
from netc.service.changeset import ChangeSet
from netc.service.engine import Engine
from netc.service.errors import ServiceError, invalid
from netc.service.metrics import ServiceMetrics
from netc.service.store import Store, StoreUnavailable

log = logging.getLogger("netc.service.requests")

PROTOCOLS = {pb.PROTOCOL_UNSPECIFIED: "all", pb.PROTOCOL_TCP: "tcp", pb.PROTOCOL_UDP: "udp",
             pb.PROTOCOL_ICMP: "icmp", pb.PROTOCOL_ALL: "all"}
PROTOCOL_ENUM = {"tcp": pb.PROTOCOL_TCP, "udp": pb.PROTOCOL_UDP, "icmp": pb.PROTOCOL_ICMP,
                 "all": pb.PROTOCOL_ALL}


# -- messages <-> records ----------------------------------------------------------------


def _protocol(value: int) -> str:
    if value not in PROTOCOLS:
        raise invalid(f"unknown protocol {value}")
    return PROTOCOLS[value]


def rule_record(rule: pb.SecurityRule) -> dict:
    """A SecurityRule as stored; the port range and the source checked for shape (the
    project's checks judge the rest)."""
    protocol = _protocol(rule.protocol)
    port_range = None
    low, high = rule.port_range.min, rule.port_range.max
    if low or high:
        high = high or low
        if protocol not in ("tcp", "udp"):
            raise ServiceError("INVALID_PORT_RANGE", f"a port range needs protocol tcp or udp, "
                                                     f"not {protocol}")
        if not 1 <= low <= high <= 65535:
            raise ServiceError("INVALID_PORT_RANGE",
                               f"port range {low}-{high} is not within 1-65535, low to high")
        port_range = [low, high]
    source = rule.source
    kind = {pb.SOURCE_TYPE_CIDR: "cidr", pb.SOURCE_TYPE_SECURITY_GROUP: "security_group"}.get(
        rule.source_type)
    if rule.source_type not in (pb.SOURCE_TYPE_UNSPECIFIED, pb.SOURCE_TYPE_CIDR,
                                pb.SOURCE_TYPE_SECURITY_GROUP):
        raise invalid(f"unknown source_type {rule.source_type}")
    if kind is None:
        kind = "cidr" if not source or "." in source else "security_group"
    if kind == "cidr":
        source = source or "0.0.0.0/0"
        if parse.cidr(ops.check_text(source, "rule source")) is None:
            raise ServiceError("INVALID_CIDR", parse.cidr_problem(source))
    return {"protocol": protocol, "port_range": port_range, "source_type": kind,
            "source": source}


def rule_message(rule: dict) -> pb.SecurityRule:
    message = pb.SecurityRule(protocol=PROTOCOL_ENUM[rule["protocol"]], source=rule["source"],
                              source_type=pb.SOURCE_TYPE_CIDR if rule["source_type"] == "cidr"
                              else pb.SOURCE_TYPE_SECURITY_GROUP)
    if rule.get("port_range"):
        message.port_range.min, message.port_range.max = rule["port_range"]
    return message


def vpc_message(vpc: dict) -> pb.Vpc:
    return pb.Vpc(**vpc)


def subnet_message(subnet: dict) -> pb.Subnet:
    return pb.Subnet(**subnet)


def group_message(group: dict) -> pb.SecurityGroup:
    return pb.SecurityGroup(
        id=group["id"], org_id=group["org_id"], project_id=group["project_id"],
        name=group["name"], description=group.get("description") or "",
        ingress_rules=[rule_message(r) for r in group["ingress_rules"]],
        egress_rules=[rule_message(r) for r in group["egress_rules"]],
        created_at=group["created_at"])


def snat_message(snat: dict) -> pb.SnatConfig:
    return pb.SnatConfig(**snat)


def dnat_message(dnat: dict) -> pb.DnatConfig:
    return pb.DnatConfig(id=dnat["id"], vpc_id=dnat["vpc_id"], external_ip=dnat["external_ip"],
                         external_port=dnat["external_port"], internal_ip=dnat["internal_ip"],
                         internal_port=dnat["internal_port"],
                         protocol=PROTOCOL_ENUM.get(dnat["protocol"], pb.PROTOCOL_ALL))


# -- the servicer ------------------------------------------------------------------------


class NetworkServicer(pb_grpc.NetworkServiceServicer):
    def __init__(self, store: Store, engine: Engine, authenticator: Authenticator,
                 metrics: ServiceMetrics) -> None:
        self.store = store
        self.engine = engine
        self.auth = authenticator
        self.metrics = metrics

    # the frame every RPC runs in

    def _serve(self, context: grpc.ServicerContext, method: str, org: str, project: str,
               work: Callable[..., Any], *, project_optional: bool = False) -> Any:
        """Authenticate, authorise ORG/PROJECT, run ``work`` (given the grant when the
        project is optional: a listing filters by it), answer errors as statuses."""
        metadata = context.invocation_metadata()
        request_id = next((v for k, v in metadata if k == "x-request-id"), None) \
            or uuid.uuid4().hex[:16]
        context.set_trailing_metadata((("x-request-id", request_id[:64]),))
        started = time.monotonic()
        status = "OK"
        try:
            grant = self.auth.grant(metadata)
            ops.check_name(org, "org_id")
            if project or not project_optional:
                ops.check_name(project, "project_id")
                grant.require(org, project)
            return work(grant) if project_optional else work()
        except StoreUnavailable as error:
            failure = ServiceError("STORE_UNAVAILABLE", str(error))
            status = failure.status.name
            context.abort(failure.status, failure.details)
        except ServiceError as error:
            status = error.status.name
            context.abort(error.status, error.details)
        finally:
            seconds = time.monotonic() - started
            self.metrics.request_seconds.labels(method).observe(seconds)
            self.metrics.requests.labels(method, status).inc()
            log.info(json.dumps({"request_id": request_id, "method": method,
                                 "project": f"{org[:64]}/{project[:64]}", "status": status,
                                 "duration_ms": round(seconds * 1000, 3)}))

    def _mutate(self, org: str, project: str, mutation) -> Any:
        request = self.engine.submit(org, project, mutation)
        if request.error is not None:
            raise request.error
        return request.result

    def _read(self, org: str, project: str) -> ChangeSet:
        return self.engine.read(org, project)

    def _port_message(self, port: dict) -> pb.Port:
        message = pb.Port(id=port["id"], org_id=port["org_id"], project_id=port["project_id"],
                          subnet_id=port["subnet_id"], mac_address=port["mac_address"],
                          security_group_ids=port["security_group_ids"],
                          created_at=port["created_at"],
                          ovn_port_uuid=self.engine.northbound.port_uuid(
                              f"{port['org_id']}/{port['project_id']}/{port['name']}"))
        if port.get("vm_id"):
            message.vm_id = port["vm_id"]
        if port.get("ip_address"):
            message.ip_address = port["ip_address"]
        return message

    # VPC

    def CreateVpc(self, request, context):
        return self._serve(context, "CreateVpc", request.org_id, request.project_id,
                           lambda: vpc_message(self._mutate(
                               request.org_id, request.project_id,
                               lambda cs, ctx: ops.create_vpc(cs, ctx, request.name,
                                                              request.cidr))))

    def GetVpc(self, request, context):
        def work():
            vpc = ops.check_vpc_id(self._read(request.org_id, request.project_id), request.id)
            return vpc_message(vpc)
        return self._serve(context, "GetVpc", request.org_id, request.project_id, work)

    def ListVpcs(self, request, context):
        org, project = request.org_id, request.project_id

        def work(grant):
            if project:
                entries = self.store.get([records.vpc_key(org, project)])
            else:
                entries = self.store.range([f"{records.ROOT}/vpcs/{org}/"])
            vpcs = [records.decode(entry) for _, entry in sorted(entries.items())]
            return pb.ListVpcsResponse(vpcs=[vpc_message(v) for v in vpcs
                                             if grant.allows(v["org_id"], v["project_id"])])
        return self._serve(context, "ListVpcs", org, project, work, project_optional=True)

    def DeleteVpc(self, request, context):
        def work():
            self._mutate(request.org_id, request.project_id,
                         lambda cs, ctx: ops.delete_vpc(cs, request.id))
            return pb.Empty()
        return self._serve(context, "DeleteVpc", request.org_id, request.project_id, work)

    # subnets

    def CreateSubnet(self, request, context):
        return self._serve(context, "CreateSubnet", request.org_id, request.project_id,
                           lambda: subnet_message(self._mutate(
                               request.org_id, request.project_id,
                               lambda cs, ctx: ops.create_subnet(
                                   cs, ctx, request.vpc_id, request.name, request.cidr,
                                   request.dhcp_enabled, list(request.dns_servers)))))

    def _subnet(self, request) -> dict:
        cs = self._read(request.org_id, request.project_id)
        name = ops.local_name(cs, request.id, "subnet", "SUBNET_NOT_FOUND")
        subnet = cs.get(records.subnet_key(request.org_id, request.project_id, name))
        if subnet is None:
            raise ServiceError("SUBNET_NOT_FOUND", f"subnet {request.id!r} not found")
        return subnet

    def GetSubnet(self, request, context):
        return self._serve(context, "GetSubnet", request.org_id, request.project_id,
                           lambda: subnet_message(self._subnet(request)))

    def ListSubnets(self, request, context):
        def work():
            cs = self._read(request.org_id, request.project_id)
            prefix = f"{records.ROOT}/subnets/{request.org_id}/{request.project_id}/"
            return pb.ListSubnetsResponse(subnets=[subnet_message(s) for _, s in cs.under(prefix)])
        return self._serve(context, "ListSubnets", request.org_id, request.project_id, work)

    def DeleteSubnet(self, request, context):
        def work():
            self._mutate(request.org_id, request.project_id,
                         lambda cs, ctx: ops.delete_subnet(cs, request.id))
            return pb.Empty()
        return self._serve(context, "DeleteSubnet", request.org_id, request.project_id, work)

    # ports

    def CreatePort(self, request, context):
        return self._serve(context, "CreatePort", request.org_id, request.project_id,
                           lambda: self._port_message(self._mutate(
                               request.org_id, request.project_id,
                               lambda cs, ctx: ops.create_port(
                                   cs, ctx, request.subnet_id, request.vm_id,
                                   request.mac_address, request.ip_address,
                                   list(request.security_group_ids)))))

    def GetPort(self, request, context):
        return self._serve(context, "GetPort", request.org_id, request.project_id,
                           lambda: self._port_message(ops.get_port(
                               self._read(request.org_id, request.project_id), request.id)))

    def ListPorts(self, request, context):
        def work():
            cs = self._read(request.org_id, request.project_id)
            subnet = None
            if request.subnet_id:
                name = ops.local_name(cs, request.subnet_id, "subnet", "SUBNET_NOT_FOUND")
                subnet = f"{request.org_id}/{request.project_id}/{name}"
            prefix = f"{records.ROOT}/ports/{request.org_id}/{request.project_id}/"
            ports = [p for _, p in cs.under(prefix) if subnet is None or p["subnet_id"] == subnet]
            return pb.ListPortsResponse(ports=[self._port_message(p) for p in ports])
        return self._serve(context, "ListPorts", request.org_id, request.project_id, work)

    def DeletePort(self, request, context):
        def work():
            self._mutate(request.org_id, request.project_id,
                         lambda cs, ctx: ops.delete_port(cs, request.id))
            return pb.Empty()
        return self._serve(context, "DeletePort", request.org_id, request.project_id, work)

    def AttachPort(self, request, context):
        return self._serve(context, "AttachPort", request.org_id, request.project_id,
                           lambda: self._port_message(self._mutate(
                               request.org_id, request.project_id,
                               lambda cs, ctx: ops.attach_port(cs, request.id, request.vm_id))))

    def DetachPort(self, request, context):
        def work():
            self._mutate(request.org_id, request.project_id,
                         lambda cs, ctx: ops.detach_port(cs, request.id))
            return pb.Empty()
        return self._serve(context, "DetachPort", request.org_id, request.project_id, work)

    # security groups

    def CreateSecurityGroup(self, request, context):
        def work():
            ingress = [rule_record(r) for r in request.ingress_rules]
            egress = [rule_record(r) for r in request.egress_rules]
            return group_message(self._mutate(
                request.org_id, request.project_id,
                lambda cs, ctx: ops.create_group(cs, ctx, request.name, request.description,
                                                 ingress, egress)))
        return self._serve(context, "CreateSecurityGroup", request.org_id, request.project_id,
                           work)

    def GetSecurityGroup(self, request, context):
        return self._serve(context, "GetSecurityGroup", request.org_id, request.project_id,
                           lambda: group_message(ops.get_group(
                               self._read(request.org_id, request.project_id), request.id)))

    def ListSecurityGroups(self, request, context):
        def work():
            cs = self._read(request.org_id, request.project_id)
            prefix = f"{records.ROOT}/security_groups/{request.org_id}/{request.project_id}/"
            return pb.ListSecurityGroupsResponse(
                security_groups=[group_message(g) for _, g in cs.under(prefix)])
        return self._serve(context, "ListSecurityGroups", request.org_id, request.project_id,
                           work)

    def UpdateSecurityGroup(self, request, context):
        def work():
            ingress = [rule_record(r) for r in request.ingress_rules]
            egress = [rule_record(r) for r in request.egress_rules]
            return group_message(self._mutate(
                request.org_id, request.project_id,
                lambda cs, ctx: ops.update_group(cs, request.id, request.description,
                                                 ingress, egress)))
        return self._serve(context, "UpdateSecurityGroup", request.org_id, request.project_id,
                           work)

    def DeleteSecurityGroup(self, request, context):
        def work():
            self._mutate(request.org_id, request.project_id,
                         lambda cs, ctx: ops.delete_group(cs, request.id))
            return pb.Empty()
        return self._serve(context, "DeleteSecurityGroup", request.org_id, request.project_id,
                           work)

    # NAT

    def CreateSnat(self, request, context):
        return self._serve(context, "CreateSnat", request.org_id, request.project_id,
                           lambda: snat_message(self._mutate(
                               request.org_id, request.project_id,
                               lambda cs, ctx: ops.create_snat(cs, ctx, request.vpc_id,
                                                               request.external_ip))))

    def DeleteSnat(self, request, context):
        def work():
            self._mutate(request.org_id, request.project_id,
                         lambda cs, ctx: ops.delete_nat(cs, "snat", request.id))
            return pb.Empty()
        return self._serve(context, "DeleteSnat", request.org_id, request.project_id, work)

    def CreateDnat(self, request, context):
        def work():
            protocol = _protocol(request.protocol)
            return dnat_message(self._mutate(
                request.org_id, request.project_id,
                lambda cs, ctx: ops.create_dnat(cs, ctx, request.vpc_id, request.external_ip,
                                                request.external_port, request.internal_ip,
                                                request.internal_port, protocol)))
        return self._serve(context, "CreateDnat", request.org_id, request.project_id, work)

    def DeleteDnat(self, request, context):
        def work():
            self._mutate(request.org_id, request.project_id,
                         lambda cs, ctx: ops.delete_nat(cs, "dnat", request.id))
            return pb.Empty()
        return self._serve(context, "DeleteDnat", request.org_id, request.project_id, work)
