"""Diagnostics: every problem netc finds in its input is data, never an exception.

Each stage appends to a :class:`Diagnostics` collection and carries on, so one run
reports every problem at once (contract section 3). Only the CLI and the gRPC layer
decide how to render them and which exit code or status they mean.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Iterable, Iterator


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    """Every diagnostic code netc emits, with the one-line meaning shown in docs."""

    # Front end
    SYNTAX_ERROR = "SYNTAX_ERROR"
    SCHEMA_ERROR = "SCHEMA_ERROR"
    CONFIG_ERROR = "CONFIG_ERROR"
    FILE_ERROR = "FILE_ERROR"
    # Addresses
    INVALID_CIDR = "INVALID_CIDR"
    INVALID_IP = "INVALID_IP"
    INVALID_MAC = "INVALID_MAC"
    INVALID_PORT_RANGE = "INVALID_PORT_RANGE"
    CIDR_OVERLAP = "CIDR_OVERLAP"
    SUBNET_OUTSIDE_VPC = "SUBNET_OUTSIDE_VPC"
    SUBNET_OVERLAP = "SUBNET_OVERLAP"
    SUBNET_NOT_FOUND = "SUBNET_NOT_FOUND"
    IP_OUTSIDE_SUBNET = "IP_OUTSIDE_SUBNET"
    IP_ALREADY_ALLOCATED = "IP_ALREADY_ALLOCATED"
    RESERVED_IP = "RESERVED_IP"
    MAC_CONFLICT = "MAC_CONFLICT"
    POOL_EXHAUSTED = "POOL_EXHAUSTED"
    # Names and references
    DUPLICATE_NAME = "DUPLICATE_NAME"
    SECURITY_GROUP_NOT_FOUND = "SECURITY_GROUP_NOT_FOUND"
    SG_REFERENCE_CYCLE = "SG_REFERENCE_CYCLE"
    CROSS_TENANT_REFERENCE = "CROSS_TENANT_REFERENCE"
    PEERING_NOT_MUTUAL = "PEERING_NOT_MUTUAL"
    # NAT
    NO_EXTERNAL_NETWORK = "NO_EXTERNAL_NETWORK"
    DNAT_TARGET_UNKNOWN = "DNAT_TARGET_UNKNOWN"
    # Lints (contract section 9): legal, rarely meant; always warnings
    NO_EGRESS = "NO_EGRESS"
    RULE_SHADOWED = "RULE_SHADOWED"
    SG_UNUSED = "SG_UNUSED"
    OPEN_TO_WORLD = "OPEN_TO_WORLD"
    # Expectations (netc test)
    PORT_NOT_FOUND = "PORT_NOT_FOUND"
    EXPECTATION_FAILED = "EXPECTATION_FAILED"
    # netc fmt
    COMMENT_MOVED = "COMMENT_MOVED"
    # Backends and service
    OVN_CONNECTION_FAILED = "OVN_CONNECTION_FAILED"
    PORT_ALREADY_ATTACHED = "PORT_ALREADY_ATTACHED"


LINTS = frozenset({Code.NO_EGRESS, Code.RULE_SHADOWED, Code.SG_UNUSED, Code.OPEN_TO_WORLD})
"""The lints of contract section 9, which a file may silence (docs/diagnostics.md)."""
WARNING_CODES = LINTS | {Code.PEERING_NOT_MUTUAL, Code.COMMENT_MOVED}
"""Codes that are only ever warnings: they never change the exit status."""


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based position in an input file; line/column 0 mean "the whole file"."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: Code
    severity: Severity
    message: str
    file: str
    line: int
    column: int

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.code, self.message)

    def to_json(self) -> dict:
        data = asdict(self)
        data["code"] = str(self.code)
        data["severity"] = str(self.severity)
        return data

    def render(self) -> str:
        """The contract's one-line text form: ``file:line:col: error[CODE]: message``
        (just ``file: ...`` for what has no position, such as a remote or a config file)."""
        where = Location(self.file, self.line, self.column)
        return f"{where}: {self.severity}[{self.code}]: {self.message}"


class Diagnostics:
    """An append-only collection that every check writes into."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def add(self, code: Code, message: str, where: Location,
            severity: Severity = Severity.ERROR) -> None:
        self._items.append(Diagnostic(code, severity, message, where.file, where.line, where.column))

    def error(self, code: Code, message: str, where: Location) -> None:
        self.add(code, message, where, Severity.ERROR)

    def warning(self, code: Code, message: str, where: Location) -> None:
        self.add(code, message, where, Severity.WARNING)

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self._items.extend(other)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self._items)

    def sorted(self) -> list[Diagnostic]:
        """Stable, deduplicated order: by file, then position, then code."""
        return sorted(set(self._items), key=Diagnostic.sort_key)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.sorted())

    def __len__(self) -> int:
        return len(self._items)

    def to_json(self) -> str:
        return json.dumps([d.to_json() for d in self.sorted()], indent=2)
