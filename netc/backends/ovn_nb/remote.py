"""OVSDB remotes: the REMOTE strings of ``--nb`` and ``OVN_NB_DB``, parsed and checked.

A remote is what ovn-nbctl accepts: ``unix:PATH``, ``tcp:HOST:PORT``, ``ssl:HOST:PORT``
(IPv6 hosts in brackets, ``tcp:[::1]:6641``), or a comma-separated list of those for
the members of a clustered database. Parsing happens once, up front, so a typo is
reported with the offending part before any connection is tried.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

NB_ENVIRONMENT_VARIABLE = "OVN_NB_DB"
SCHEMES = ("unix", "tcp", "ssl")


class RemoteError(ValueError):
    """A REMOTE string that is not a valid active OVSDB remote."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One server to connect to: a unix socket path, or a host and port."""

    scheme: str
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix:{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}:{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Remote:
    """Every member of one database, in the order given (the order tried first)."""

    endpoints: tuple[Endpoint, ...]

    def __str__(self) -> str:
        return ",".join(str(endpoint) for endpoint in self.endpoints)

    @property
    def uses_ssl(self) -> bool:
        return any(endpoint.scheme == "ssl" for endpoint in self.endpoints)


def parse_endpoint(text: str) -> Endpoint:
    scheme, colon, rest = text.strip().partition(":")
    if not colon or scheme not in SCHEMES:
        hint = (" (a passive remote; clients connect with unix:, tcp: or ssl:)"
                if scheme in ("punix", "ptcp", "pssl") else "")
        raise RemoteError(f"{text.strip()!r}: expected unix:PATH, tcp:HOST:PORT or "
                          f"ssl:HOST:PORT{hint}")
    if scheme == "unix":
        if not rest:
            raise RemoteError(f"{text!r}: unix remote needs a socket path")
        return Endpoint("unix", path=rest)
    if rest.startswith("["):
        host, bracket, port_text = rest[1:].partition("]")
        if not bracket or not port_text.startswith(":"):
            raise RemoteError(f"{text!r}: expected {scheme}:[IPV6]:PORT")
        port_text = port_text[1:]
    elif ":" not in rest:
        raise RemoteError(f"{text!r}: missing port: expected {scheme}:HOST:PORT")
    else:
        host, _, port_text = rest.rpartition(":")
        if ":" in host:
            raise RemoteError(f"{text!r}: put an IPv6 address in brackets: "
                              f"{scheme}:[{host}]:{port_text}")
    if not host:
        raise RemoteError(f"{text!r}: expected {scheme}:HOST:PORT")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise RemoteError(f"{text!r}: port must be a number from 1 to 65535")
    return Endpoint(scheme, host=host, port=int(port_text))


def parse_remote(text: str) -> Remote:
    """Parse a REMOTE, e.g. ``"tcp:10.0.0.1:6641,tcp:10.0.0.2:6641"``."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise RemoteError("empty remote: expected unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT")
    return Remote(tuple(parse_endpoint(part) for part in parts))


def resolve_remote(explicit: str | None, environ: Mapping[str, str] = os.environ,
                   default: str | None = None) -> Remote:
    """The Northbound remote to use: ``--nb``, else ``OVN_NB_DB`` (as ovn-nbctl), else default."""
    for text in (explicit, environ.get(NB_ENVIRONMENT_VARIABLE), default):
        if text:
            return parse_remote(text)
    raise RemoteError(f"no Northbound remote: pass --nb REMOTE or set {NB_ENVIRONMENT_VARIABLE}")
