"""Lenient parsers for the address-like strings of the intent.

Each returns None for a value it cannot read; the checks in :mod:`netc.ir.checks`
report those values with the matching code and a message saying why.
"""

from __future__ import annotations

import re
from functools import lru_cache
from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
SG_PREFIX = "sg:"


_PARSED = 1 << 16
"""Distinct strings whose parse is remembered: ``ipaddress`` parses in pure Python
(about 5 us an address), and the service compiles a project's same addresses again
on every change of it."""


@lru_cache(maxsize=_PARSED)
def ipv4(text: str) -> IPv4Address | None:
    try:
        return IPv4Address(text)
    except (AddressValueError, ValueError):
        return None


@lru_cache(maxsize=_PARSED)
def cidr(text: str) -> IPv4Network | None:
    """A CIDR with no host bits set, or None. A bare address is not a CIDR."""
    if "/" not in text:
        return None
    try:
        return IPv4Network(text, strict=True)
    except (AddressValueError, NetmaskValueError, ValueError):
        return None


def cidr_problem(text: str) -> str:
    """Why ``text`` is not a CIDR, in words a person can act on."""
    if "/" not in text:
        if ipv4(text) is not None:
            return f"{text!r} is an address, not a CIDR; did you mean {text}/32?"
        return f"{text!r} is not an IPv4 CIDR (expected a.b.c.d/len)"
    try:
        network = IPv4Network(text, strict=False)
    except (AddressValueError, NetmaskValueError, ValueError) as exc:
        return f"{text!r} is not an IPv4 CIDR: {exc}"
    return f"{text!r} has host bits set; did you mean {network}?"


def ipv4_problem(text: str) -> str:
    """Why ``text`` is not an IPv4 address, in words a person can act on."""
    if "/" in text:
        address = text.split("/", 1)[0]
        if ipv4(address) is not None:
            return f"{text!r} is a CIDR, not an address; did you mean {address}?"
    return f"{text!r} is not an IPv4 address (expected a.b.c.d, each part 0-255)"


def mac(text: str) -> str | None:
    """Lower-case unicast MAC, or None."""
    value = text.strip().lower().replace("-", ":")
    if not _MAC.match(value) or int(value[:2], 16) & 1:
        return None
    return value


def mac_problem(text: str) -> str:
    value = text.strip().lower().replace("-", ":")
    if _MAC.match(value):
        return f"{text!r} is a multicast MAC address; a port needs a unicast one (even first octet)"
    return f"{text!r} is not a MAC address (expected six hex pairs, e.g. 0a:58:0a:01:00:0a)"


def port_range(spec: int | str) -> tuple[int, int] | None:
    """``80`` -> (80, 80); ``"8000-8080"`` -> (8000, 8080); None when invalid."""
    if isinstance(spec, bool):
        return None
    if isinstance(spec, int):
        low = high = spec
    else:
        parts = spec.split("-")
        if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) < 8 for p in parts):
            return None
        low, high = int(parts[0]), int(parts[1])
    if not 1 <= low <= high <= 65535:
        return None
    return (low, high)


def port_range_problem(spec: int | str) -> str:
    """Why ``spec`` is not a port or a ``"low-high"`` range of 1..65535."""
    if isinstance(spec, bool) or not isinstance(spec, (int, str)):
        return f"{spec!r} is not a port number or a range (expected 80 or \"8000-8080\")"
    if isinstance(spec, int):
        return f"port {spec} is outside 1-65535"
    parts = spec.split("-")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return f"{spec!r} is not a port number or a range (expected 80 or \"8000-8080\")"
    if not all(len(p) < 6 and 1 <= int(p) <= 65535 for p in parts):
        return f"range {spec} reaches outside 1-65535"
    return f"range {spec} is reversed; did you mean {parts[1]}-{parts[0]}?"


def merge_ranges(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, overlapping and adjacent ranges joined: [(80,80),(81,90)] -> ((80,90),)."""
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple((low, high) for low, high in merged)


def split_group_ref(text: str) -> tuple[str | None, str]:
    """``sg:web`` -> (None, "web"); ``sg:acme/db/sql`` -> ("acme/db", "sql")."""
    body = text[len(SG_PREFIX):]
    if body.count("/") == 2:
        org, project, name = body.split("/")
        return f"{org}/{project}", name
    return None, body
