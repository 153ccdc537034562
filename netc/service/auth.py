"""Tenancy: which org/projects a caller may touch, from its bearer token.

A request carries ``authorization: Bearer TOKEN`` in its metadata. Each configured
token (``[[auth.tokens]]``, the secret itself or its SHA-256) grants ORG/PROJECT
patterns (``acme/*``, ``globex/web``). No token, or one that is not configured:
UNAUTHENTICATED. A request naming an org/project the token does not grant:
PERMISSION_DENIED. Ids of other tenants' objects are never looked up outside the
caller's own project, so they come back NOT_FOUND (nothing leaks about them).

Without any configured token the service accepts every request; the server then
refuses to listen on anything but loopback (:func:`check_listen_address`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Iterable

from netc.service.config import Token
from netc.service.errors import ServiceError

BEARER = "bearer "


@dataclass(frozen=True)
class Grant:
    patterns: tuple[str, ...]
    """ORG/PROJECT patterns; ``("*/*",)`` when the service has no tokens."""

    def allows(self, org: str, project: str) -> bool:
        return any(fnmatchcase(f"{org}/{project}", pattern) for pattern in self.patterns)

    def require(self, org: str, project: str) -> None:
        if not self.allows(org, project):
            raise ServiceError("PERMISSION_DENIED",
                               f"this token may not touch project {org}/{project}")


OPEN = Grant(("*/*",))


class Authenticator:
    def __init__(self, tokens: Iterable[Token]) -> None:
        self.tokens = list(tokens)

    @property
    def open(self) -> bool:
        return not self.tokens

    def grant(self, metadata: Iterable[tuple[str, str]]) -> Grant:
        if self.open:
            return OPEN
        presented = next((value for key, value in metadata if key == "authorization"), None)
        if presented is None or not presented.lower().startswith(BEARER):
            raise ServiceError("UNAUTHENTICATED", "send 'authorization: Bearer TOKEN'")
        secret = presented[len(BEARER):].strip()
        for token in self.tokens:
            if token.matches(secret):
                return Grant(tuple(token.projects))
        raise ServiceError("UNAUTHENTICATED", "unknown token")


def check_listen_address(address: str, authenticator: Authenticator) -> str | None:
    """Why the server must not listen on ``address`` (HOST:PORT), or None: without
    tokens only loopback addresses are allowed."""
    if not authenticator.open:
        return None
    host = address.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return (f"refusing to listen on {address} without [[auth.tokens]]: anyone who can reach "
            f"it could change every tenant's network; listen on 127.0.0.1 or configure tokens")
