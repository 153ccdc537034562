"""Service errors: a gRPC status and a message that starts with an error code.

The codes are the specification's Appendix A, netc's diagnostic codes (the checks
of the compiler the CLI uses find most problems) and a few of the service's own
(``VPC_NOT_FOUND``, ``IN_USE``, ...), listed in docs/service.md.
"""

from __future__ import annotations

import grpc

from netc.diagnostics import Code, Diagnostic

STATUS_OF_CODE: dict[str, grpc.StatusCode] = {
    # malformed input
    "INVALID_ARGUMENT": grpc.StatusCode.INVALID_ARGUMENT,
    Code.SCHEMA_ERROR: grpc.StatusCode.INVALID_ARGUMENT,
    Code.INVALID_CIDR: grpc.StatusCode.INVALID_ARGUMENT,
    Code.INVALID_IP: grpc.StatusCode.INVALID_ARGUMENT,
    Code.INVALID_MAC: grpc.StatusCode.INVALID_ARGUMENT,
    Code.INVALID_PORT_RANGE: grpc.StatusCode.INVALID_ARGUMENT,
    Code.SUBNET_OUTSIDE_VPC: grpc.StatusCode.INVALID_ARGUMENT,
    Code.IP_OUTSIDE_SUBNET: grpc.StatusCode.INVALID_ARGUMENT,
    Code.RESERVED_IP: grpc.StatusCode.INVALID_ARGUMENT,
    Code.SG_REFERENCE_CYCLE: grpc.StatusCode.INVALID_ARGUMENT,
    # something else already holds it
    Code.CIDR_OVERLAP: grpc.StatusCode.ALREADY_EXISTS,
    Code.SUBNET_OVERLAP: grpc.StatusCode.ALREADY_EXISTS,
    Code.IP_ALREADY_ALLOCATED: grpc.StatusCode.ALREADY_EXISTS,
    Code.MAC_CONFLICT: grpc.StatusCode.ALREADY_EXISTS,
    Code.DUPLICATE_NAME: grpc.StatusCode.ALREADY_EXISTS,
    "ALREADY_EXISTS": grpc.StatusCode.ALREADY_EXISTS,
    # not there (or not the caller's: no leak)
    "VPC_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "PORT_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "NAT_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    Code.SUBNET_NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Code.SECURITY_GROUP_NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Code.CROSS_TENANT_REFERENCE: grpc.StatusCode.NOT_FOUND,
    Code.DNAT_TARGET_UNKNOWN: grpc.StatusCode.NOT_FOUND,
    # the state does not allow it
    Code.PORT_ALREADY_ATTACHED: grpc.StatusCode.FAILED_PRECONDITION,
    "IN_USE": grpc.StatusCode.FAILED_PRECONDITION,
    "OWNED_ELSEWHERE": grpc.StatusCode.FAILED_PRECONDITION,
    Code.POOL_EXHAUSTED: grpc.StatusCode.FAILED_PRECONDITION,
    Code.NO_EXTERNAL_NETWORK: grpc.StatusCode.FAILED_PRECONDITION,
    # tenancy
    "UNAUTHENTICATED": grpc.StatusCode.UNAUTHENTICATED,
    "PERMISSION_DENIED": grpc.StatusCode.PERMISSION_DENIED,
    # the service's own dependencies
    Code.OVN_CONNECTION_FAILED: grpc.StatusCode.UNAVAILABLE,
    "STORE_UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
    "CONFLICT": grpc.StatusCode.UNAVAILABLE,
}


class ServiceError(Exception):
    """A request that cannot be served; nothing of it was written anywhere."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = str(code)
        self.message = message

    @property
    def status(self) -> grpc.StatusCode:
        return STATUS_OF_CODE.get(self.code, grpc.StatusCode.INTERNAL)

    @property
    def details(self) -> str:
        return f"{self.code}: {self.message}"

    @classmethod
    def from_diagnostic(cls, diagnostic: Diagnostic) -> "ServiceError":
        return cls(diagnostic.code, diagnostic.message)


def invalid(message: str) -> ServiceError:
    return ServiceError("INVALID_ARGUMENT", message)
