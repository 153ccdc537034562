"""``NetworkClient``: the NetworkService from Python, as the specification's 4.4 shows.

    >>> from netc.client import NetworkClient, CreateVpcRequest      # doctest: +SKIP
    >>> client = NetworkClient.connect("http://localhost:8081")
    >>> vpc = client.create_vpc(CreateVpcRequest(org_id="org1", project_id="proj1",
    ...                                          name="my-vpc", cidr=None))
    >>> subnet = client.create_subnet(org_id="org1", project_id="proj1", vpc_id=vpc.id,
    ...                               name="web", cidr="10.0.1.0/24", dhcp_enabled=True)

Every RPC of the service is a method named in snake_case (``create_port``,
``list_security_groups``, ...) taking its request message or the request's fields as
keywords. A refused request raises :class:`NetworkError`, whose ``code`` is the error
code the message starts with (``CIDR_OVERLAP``, ``PORT_ALREADY_ATTACHED``, ...) and
``status`` the gRPC status.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import grpc

from netc.service.api import overlay_network_pb2 as pb
from netc.service.api import overlay_network_pb2_grpc as pb_grpc
from netc.service.api.overlay_network_pb2 import *  # noqa: F401,F403 (the messages, as in 4.4)

DEFAULT_TIMEOUT = 30.0


class NetworkError(Exception):
    """A request the service refused, or could not be reached for."""

    def __init__(self, status: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{status.name}: {details}")
        self.status = status
        self.details = details
        code, sep, message = details.partition(": ")
        self.code = code if sep and re.fullmatch(r"[A-Z][A-Z0-9_]+", code) else status.name
        self.message = message if sep else details


class NetworkClient:
    """A connection to one ``netc serve`` (or any NetworkService)."""

    def __init__(self, channel: grpc.Channel, token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.channel = channel
        self.stub = pb_grpc.NetworkServiceStub(channel)
        self.timeout = timeout
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()

    @classmethod
    def connect(cls, address: str, token: str | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> "NetworkClient":
        """``http://HOST:PORT`` or ``HOST:PORT`` (plaintext, as the specification's
        example); waits until the channel is ready, at most ``timeout`` seconds."""
        target = urlparse(address).netloc if "://" in address else address
        channel = grpc.insecure_channel(target)
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError as error:
            channel.close()
            raise NetworkError(grpc.StatusCode.UNAVAILABLE,
                               f"no NetworkService answered at {address}") from error
        return cls(channel, token, timeout)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "NetworkClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(self, method: str, request: Any = None, **fields: Any) -> Any:
        """Call RPC ``method`` (e.g. ``"CreatePort"``) with a request message or fields."""
        descriptor = pb.DESCRIPTOR.services_by_name["NetworkService"].methods_by_name[method]
        if request is None:
            request = getattr(pb, descriptor.input_type.name)(**fields)
        try:
            return getattr(self.stub, method)(request, timeout=self.timeout,
                                              metadata=self.metadata)
        except grpc.RpcError as error:
            raise NetworkError(error.code(), error.details() or "") from None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _method(rpc: str, doc: str):
    def method(self: NetworkClient, request: Any = None, **fields: Any) -> Any:
        return self.call(rpc, request, **fields)
    method.__name__ = _snake(rpc)
    method.__doc__ = doc
    return method


for _rpc in pb.DESCRIPTOR.services_by_name["NetworkService"].methods:
    setattr(NetworkClient, _snake(_rpc.name),
            _method(_rpc.name, f"``{_rpc.name}({_rpc.input_type.name}) -> "
                               f"{_rpc.output_type.name}``"))
