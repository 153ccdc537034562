"""Write intent models as canonical DSL: one spelling per intent, read back unchanged.

Canonical means: statements in the model's order (vpc, subnets, groups, ports, snat,
dnat, peers), two-space indents, a blank line between projects (and between a project
and a run of ``expect`` statements), every rule with its
protocol and its remote, and a value bare only when the lexer reads it back as the
same kind of token; otherwise it is a JSON-style quoted string. Which words are
keywords and what a bare name, address or MAC looks like are read from the grammar
itself, so the formatter cannot drift from the parser.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Iterable

from lark.lexer import PatternStr

from netc.grammar.parser import dsl_parser
from netc.intent.expectation import WILDCARD, Expectation, Written
from netc.intent.model import Dnat, Port, Project, Rule, SecurityGroup, Subnet, Vpc

INDENT = "  "
SG_PREFIX = "sg:"


@cache
def _lexicon() -> tuple[frozenset[str], dict[str, re.Pattern[str]]]:
    parser = dsl_parser()
    keywords = frozenset(t.pattern.value for t in parser.terminals
                         if isinstance(t.pattern, PatternStr) and t.pattern.value.isalpha())
    patterns = {name: re.compile(parser.get_terminal(name).pattern.to_regexp())
                for name in ("NAME", "ADDRESS", "MAC", "RANGE")}
    return keywords, patterns


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _bare(kind: str, text: str) -> bool:
    keywords, patterns = _lexicon()
    return patterns[kind].fullmatch(text) is not None and text not in keywords


def name(text: str) -> str:
    return text if _bare("NAME", text) else quote(text)


def address(text: str) -> str:
    return text if _bare("ADDRESS", text) else quote(text)


def _mac(text: str) -> str:
    return text if _bare("MAC", text) else quote(text)


def _names(values: Iterable[str]) -> str:
    return ", ".join(name(v) for v in values)


def _path(text: str, parts: int) -> str:
    """``a/b`` (or ``a/b/c``) bare when every part is a bare name, else one quoted string."""
    pieces = text.split("/")
    if len(pieces) == parts and all(_bare("NAME", p) for p in pieces):
        return text
    return quote(text)


def _port_spec(spec: int | str) -> str:
    if isinstance(spec, int):
        return str(spec)
    return spec if _bare("RANGE", spec) else quote(spec)


def _remote(text: str) -> str:
    if text.startswith(SG_PREFIX):
        body = text[len(SG_PREFIX):]
        local = _bare("NAME", body)
        return f"group {body if local else _path(body, 3)}"
    return address(text)


def _vpc(vpc: Vpc) -> str | None:
    if vpc.name is None and vpc.cidr is None:
        return None
    words = ["vpc"]
    if vpc.name is not None:
        words.append(name(vpc.name))
    if vpc.cidr is not None:
        words.append(vpc.cidr if _bare("ADDRESS", vpc.cidr) else f"cidr {quote(vpc.cidr)}")
    return " ".join(words)


def _subnet(subnet: Subnet) -> str:
    line = f"subnet {name(subnet.name)} {address(subnet.cidr)}"
    if not subnet.dhcp:
        line += " nodhcp"
    if subnet.dns_servers:
        line += " dns " + ", ".join(address(d) for d in subnet.dns_servers)
    return line


def _rule(keyword: str, remote_keyword: str, rule: Rule, remote: str) -> str:
    words = [keyword, rule.protocol]
    if rule.ports is not None:
        words.append(", ".join(_port_spec(p) for p in rule.ports) if rule.ports else "[]")
    words += [remote_keyword, _remote(remote)]
    return " ".join(words)


def _group(group: SecurityGroup) -> list[str]:
    head = f"group {name(group.name)}"
    if group.description is not None:
        head += f" {quote(group.description)}"
    body = []
    if group.include:
        body.append(f"include {_names(group.include)}")
    body += [_rule("ingress", "from", r, r.from_) for r in group.ingress]
    body += [_rule("egress", "to", r, r.to) for r in group.egress]
    if not body:
        return [f"{head} {{}}"]
    return [f"{head} {{", *(INDENT + line for line in body), "}"]


def _port(port: Port) -> str:
    line = f"port {name(port.name)} on {name(port.subnet)}"
    if port.vm is not None:
        line += f" vm {name(port.vm)}"
    if port.mac is not None:
        line += f" mac {_mac(port.mac)}"
    if port.ip is not None:
        line += f" ip {address(port.ip)}"
    if port.security_groups:
        line += f" groups {_names(port.security_groups)}"
    return line


def _dnat(dnat: Dnat) -> str:
    """``dnat EXT:PORT -> INT:PORT PROTOCOL``, or ``dnat EXT -> INT`` for 1:1. A port or
    a protocol the checks refuse on a 1:1 entry is written back as it was written."""
    def side(ip: str, port: int | None) -> str:
        return address(ip) if port is None else f"{address(ip)}:{port}"

    line = (f"dnat {side(dnat.external_ip, dnat.external_port)} -> "
            f"{side(dnat.internal_ip, dnat.internal_port)}")
    forwards = dnat.external_port is not None and dnat.internal_port is not None
    if forwards or dnat.protocol_written or dnat.protocol != "tcp":
        line += f" {dnat.protocol}"
    return line


def project_lines(project: Project) -> list[str]:
    body: list[str] = []
    vpc = _vpc(project.vpc)
    if vpc is not None:
        body.append(vpc)
    body += [_subnet(s) for s in project.subnets]
    for group in project.security_groups:
        body += _group(group)
    body += [_port(p) for p in project.ports]
    body += [f"snat {address(s.external_ip)}" for s in project.nat.snat]
    body += [_dnat(d) for d in project.nat.dnat]
    body += [f"peer {_path(p, 2)}" for p in project.peerings]
    head = f"project {name(project.org)}/{name(project.project)}"
    if not body:
        return [f"{head} {{}}"]
    return [f"{head} {{", *(INDENT + line for line in body), "}"]


def _endpoint(text: str) -> str:
    """``acme/web/*`` bare when every part is a bare name or ``*``, else one quoted string."""
    if all(p == WILDCARD or _bare("NAME", p) for p in text.split("/")):
        return text
    return quote(text)


def expectation_line(entry: Expectation) -> str:
    line = (f"expect {entry.verdict} {_endpoint(entry.from_)} -> {_endpoint(entry.to)} "
            f"{entry.protocol}")
    return line if entry.port is None else f"{line} {entry.port}"


def to_dsl(documents: Iterable[Written]) -> str:
    """The canonical DSL text of ``documents``, projects and expectation documents
    (empty for none)."""
    blocks = ["\n".join(project_lines(d) if isinstance(d, Project)
                        else map(expectation_line, d.expect)) + "\n" for d in documents]
    return "\n".join(blocks)
