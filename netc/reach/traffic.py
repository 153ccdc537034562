"""The traffic a reachability question is about: a protocol and a destination port.

Both evaluators (the contract's meaning on the IR, and the emitted ACL rows) and the
CLI speak of traffic this way, so a question asked of one is the same question asked
of the other. IPv4 only (contract 2): ``tcp`` and ``udp`` with a destination port,
``icmp`` (all of ICMPv4; an echo request stands for it), or any other IPv4 protocol
by its number (``47``), which only ``protocol: all`` rules let through.
"""

from __future__ import annotations

from dataclasses import dataclass

PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17}
PORTED = ("tcp", "udp")
SOURCE_PORT = 49152
"""The source port of a new connection: the first ephemeral port (IANA)."""


@dataclass(frozen=True, slots=True)
class Traffic:
    protocol: str
    """``tcp``, ``udp``, ``icmp``, or the decimal number of another IPv4 protocol."""
    port: int | None = None
    """Destination port: required for tcp and udp, absent otherwise."""

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOL_NUMBERS and not (
                self.protocol.isdigit() and 0 <= int(self.protocol) <= 255):
            raise ValueError(f"unknown protocol {self.protocol!r} "
                             "(tcp, udp, icmp or an IP protocol number 0-255)")
        if self.protocol.isdigit() and int(self.protocol) in PROTOCOL_NUMBERS.values():
            raise ValueError(f"write protocol {self.protocol} by its name")
        if self.protocol in PORTED:
            if self.port is None or not 1 <= self.port <= 65535:
                raise ValueError(f"{self.protocol} needs a destination port 1-65535")
        elif self.port is not None:
            raise ValueError(f"{self.protocol} has no ports")

    @property
    def number(self) -> int:
        return PROTOCOL_NUMBERS.get(self.protocol) or int(self.protocol)

    def __str__(self) -> str:
        if self.port is not None:
            return f"{self.protocol}/{self.port}"
        return self.protocol if self.protocol in PROTOCOL_NUMBERS else f"ip proto {self.protocol}"
