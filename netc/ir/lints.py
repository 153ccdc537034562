"""Lints (contract section 9): intent that is legal but rarely meant, as warnings.

NO_EGRESS, RULE_SHADOWED, SG_UNUSED and OPEN_TO_WORLD never fail a command. Each
points at the value it is about, and a comment ``# netc:ignore CODE`` on the line
netc points at, or alone on the line above it, silences it there on purpose (the
same comment in YAML and in the DSL; ``netc fmt`` keeps it). docs/diagnostics.md
says what triggers each and how to fix it.

Every lint is linear in the world, except RULE_SHADOWED, which compares the rules
of one group with each other (groups hold a handful of rules).
"""

from __future__ import annotations

import re
from pathlib import Path

from netc.diagnostics import LINTS, Code, Diagnostics, Location
from netc.ir import parse
from netc.ir.model import Port, Rule
from netc.ir.world import ANY, World

SENSITIVE_PORTS: dict[int, str] = {
    22: "SSH",
    3389: "RDP",
    1433: "Microsoft SQL Server",
    1521: "Oracle Database",
    3306: "MySQL/MariaDB",
    5432: "PostgreSQL",
    5984: "CouchDB",
    6379: "Redis",
    9042: "Cassandra",
    9200: "Elasticsearch",
    11211: "memcached",
    27017: "MongoDB",
}
"""The tcp ports OPEN_TO_WORLD guards: remote shells and databases (docs/diagnostics.md)."""

IGNORE = re.compile(r"#\s*netc:\s*ignore\b\s*([A-Z_,\s]*)")
"""``# netc:ignore CODE[, CODE...]`` anywhere in a comment; no code silences every lint."""


def _rule_text(rule: Rule) -> str:
    ports = "" if rule.ports is None else " " + ", ".join(
        str(low) if low == high else f"{low}-{high}" for low, high in rule.ports)
    field = "from" if rule.direction == "ingress" else "to"
    return f"{rule.protocol}{ports} {field} {rule.remote}"


def _written_ports_valid(rule: Rule) -> bool:
    """Whether every written port of the rule reads as a port or range (else the IR's
    ``ports`` is not what was meant, and INVALID_PORT_RANGE already says so)."""
    written = rule.doc.project.security_groups[rule.path[1]]
    rules = written.ingress if rule.direction == "ingress" else written.egress
    specs = rules[rule.path[3]].ports or []
    return all(parse.port_range(spec) is not None for spec in specs)


def _covers_ports(wide: tuple | None, narrow: tuple | None) -> bool:
    if wide is None:
        return True
    if narrow is None:
        return False
    return all(any(low >= w_low and high <= w_high for w_low, w_high in wide)
               for low, high in narrow)


def _covers(wide: Rule, narrow: Rule) -> bool:
    """Whether every connection ``narrow`` lets through, ``wide`` already does."""
    if wide.protocol != "all":  # all covers every protocol and port
        if wide.protocol != narrow.protocol:
            return False
        if wide.protocol in ("tcp", "udp") and not _covers_ports(wide.ports, narrow.ports):
            return False
    a, b = wide.remote, narrow.remote
    if a.cidr is not None:
        if a.cidr == ANY:
            return True  # every address, members of any group included
        return b.cidr is not None and b.cidr.subnet_of(a.cidr)
    return a.group == b.group


def lint_rule_shadowed(world: World, out: Diagnostics, quiet: "Silencer") -> None:
    """RULE_SHADOWED: a rule of a declared group that another of its rules covers."""
    for group in world.groups():
        if group.implicit:
            continue
        for direction in ("ingress", "egress"):
            rules = [r for r in group.rules if r.direction == direction
                     and r.remote is not None and _written_ports_valid(r)]
            for index, rule in enumerate(rules):
                for other_index, other in enumerate(rules):
                    if other is rule or not _covers(other, rule):
                        continue
                    if _covers(rule, other) and other_index > index:
                        continue  # the same rule twice: the later one is the repeat
                    out.warning(Code.RULE_SHADOWED,
                                f"group {group.name} {direction} rule {_rule_text(rule)} is "
                                f"already covered by its rule {_rule_text(other)} (at "
                                f"{other.loc()}), so it changes nothing; remove it, or "
                                "narrow the other", rule.loc())
                    break


def _egress_of(world: World) -> dict[str, bool]:
    """Group key -> whether it or a group it includes (transitively) has an egress rule."""
    answer: dict[str, bool] = {}
    for group in world.groups():
        if group.key not in answer:
            answer[group.key] = any(r.direction == "egress"
                                    for r in world.effective_rules(group.key))
    return answer


def lint_no_egress(world: World, out: Diagnostics, quiet: "Silencer") -> None:
    """NO_EGRESS: a port none of whose groups has an egress rule: it can open no
    connection (replies to connections it accepts still pass). Silenced for every
    member port at the ``name`` of one of its groups."""
    egress = _egress_of(world)
    for port in world.ports():
        if any(key not in egress for key in port.groups):
            continue  # SECURITY_GROUP_NOT_FOUND says it
        if any(egress[key] for key in port.groups):
            continue
        if any(quiet.at_group(Code.NO_EGRESS, world.group(key)) for key in port.groups):
            continue
        names = ", ".join(key.rpartition("/")[2] for key in port.groups)
        out.warning(Code.NO_EGRESS,
                    f"port {port.name}: its group(s) {names} have no egress rule, so it can "
                    "open no connection (not even DNS); add an egress rule, e.g. egress all "
                    "to 0.0.0.0/0, or a group that has one", _port_loc(port))


def _port_loc(port: Port) -> Location:
    written = port.doc.project.ports[port.path[1]]
    return port.loc("security_groups") if written.security_groups else port.loc("name")


def lint_sg_unused(world: World, out: Diagnostics, quiet: "Silencer") -> None:
    """SG_UNUSED: a declared group with no member ports that no rule names (``sg:``)
    and no group includes: it has no effect at all."""
    used: set[str] = set()
    for group in world.groups():
        used.update(group.includes)
        used.update(r.remote.group for r in group.rules
                    if r.remote is not None and r.remote.group)
    for port in world.ports():
        used.update(port.groups)
    for group in world.groups():
        if group.implicit or group.key in used:
            continue
        out.warning(Code.SG_UNUSED,
                    f"security group {group.name} of {group.project} has no member ports, "
                    "and no rule or include names it, so it has no effect; add it to a "
                    "port's security_groups, or remove it", group.loc("name"))


def _sensitive(rule: Rule) -> list[int]:
    if rule.protocol == "all" or (rule.protocol == "tcp" and rule.ports is None):
        return sorted(SENSITIVE_PORTS)
    if rule.protocol != "tcp":
        return []
    return sorted(port for port in SENSITIVE_PORTS
                  if any(low <= port <= high for low, high in rule.ports))


def lint_open_to_world(world: World, out: Diagnostics, quiet: "Silencer") -> None:
    """OPEN_TO_WORLD: ingress from 0.0.0.0/0 to tcp 22 (SSH), 3389 (RDP) or a database
    port of :data:`SENSITIVE_PORTS` (any protocol ``all`` rule included)."""
    for group in world.groups():
        if group.implicit:
            continue
        for rule in group.rules:
            if rule.direction != "ingress" or rule.remote is None or rule.remote.cidr != ANY:
                continue
            if not _written_ports_valid(rule):
                continue
            ports = _sensitive(rule)
            if not ports:
                continue
            what = ", ".join(f"{p} ({SENSITIVE_PORTS[p]})" for p in ports[:4])
            if len(ports) > 4:
                what += f" and {len(ports) - 4} more"
            out.warning(Code.OPEN_TO_WORLD,
                        f"group {group.name} ingress rule {_rule_text(rule)} lets the whole "
                        f"internet reach tcp {what}; allow only the addresses or groups "
                        "that need it (a bastion, a VPN range)", rule.loc(rule.remote_field))


LINT_CHECKS = (lint_no_egress, lint_rule_shadowed, lint_sg_unused, lint_open_to_world)


class Silencer:
    """Answers whether a ``# netc:ignore`` comment silences a lint at a position; the
    lines of a file are read once, from its document's text or (DSL) from disk."""

    def __init__(self, world: World) -> None:
        self._texts = {doc.source.file: getattr(doc.source, "text", None)
                       for doc in world.documents}
        self._lines: dict[str, list[str]] = {}
        self._groups: dict[tuple[Code, str], bool] = {}

    def lines(self, file: str) -> list[str]:
        """The file's lines, or none when it holds no ``netc:ignore`` at all (most files:
        then nothing is located to be silenced)."""
        if file not in self._lines:
            text = self._texts.get(file)
            if text is None:
                text = _file_text(file)
            self._lines[file] = text.splitlines() if _DIRECTIVE in text else []
        return self._lines[file]

    def __call__(self, code: Code, where: Location | None) -> bool:
        if where is None or not where.line:
            return False
        lines = self.lines(where.file)
        return bool(lines) and silenced(code, where.line, lines)

    def at_group(self, code: Code, group) -> bool:
        """Silenced at the ``name`` of ``group`` (asked once per group, located only in
        a file that holds a ``netc:ignore``)."""
        if group is None or group.implicit or not self.lines(group.doc.source.file):
            return False
        key = (code, group.key)
        if key not in self._groups:
            self._groups[key] = self(code, group.loc("name"))
        return self._groups[key]


def run_lints(world: World, out: Diagnostics) -> None:
    """Every lint, minus those silenced by a ``# netc:ignore`` comment."""
    found = Diagnostics()
    quiet = Silencer(world)
    for lint in LINT_CHECKS:
        lint(world, found, quiet)
    out.extend(d for d in found
               if not quiet(d.code, Location(d.file, d.line, d.column)))


def silenced(code: Code, line: int, lines: list[str]) -> bool:
    """Whether ``# netc:ignore`` (naming ``code``, or no code) stands on ``line`` of
    ``lines``, or alone on the line above it."""
    if code not in LINTS:
        return False
    for number, alone in ((line, False), (line - 1, True)):
        if not 1 <= number <= len(lines):
            continue
        line = lines[number - 1]
        if alone and not line.lstrip().startswith("#"):
            continue
        for match in IGNORE.finditer(line):
            codes = {c for c in re.split(r"[\s,]+", match.group(1)) if c}
            if not codes or str(code) in codes:
                return True
    return False


_DIRECTIVE = "netc:"


def _file_text(file: str) -> str:
    """The text of a file whose document keeps none (the DSL's): read again."""
    try:
        return Path(file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""
