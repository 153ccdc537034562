"""Write intent models as canonical YAML: what ``netc fmt --to yaml`` prints.

Canonical means: one document per project (or expectation document) separated by
``---``, keys in the order of
the contract, defaults left out (``dhcp: true``, a port's ``subnet: default``, a DNAT
``protocol: tcp``, empty lists, absent values) except that every rule keeps its
``protocol`` and its ``from``/``to`` so that it reads as a rule; lists of plain values
in flow style (``[80, 443]``) and everything else in block style. Whether a string
needs quotes is left to PyYAML's own emitter, which quotes exactly the strings that
would read back as something else (``"on"``, ``"80"``); MAC addresses are always
double-quoted, because YAML 1.1 reads some of them (``10:20:30:40:50:60``) as numbers,
and so are port ranges (``"8000-8080"``), as the contract writes them.
"""

from __future__ import annotations

import re
from typing import Iterable

import yaml

from netc.intent.expectation import EXPECT_KEY, Expectation, Expectations, Written
from netc.intent.model import Dnat, Port, Project, Rule, SecurityGroup, Subnet

WIDTH = 1 << 16
"""Wide enough that PyYAML never folds a long description over two lines."""


_NEEDS_ESCAPES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
"""Control and line-break characters: written as escapes in double quotes, since the
other YAML styles fold or drop some of them (a NEL in single quotes reads back as a space)."""


class _DoubleQuoted(str):
    """A string always written in double quotes."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Indent a block list under its key, as the contract's examples do."""
        return super().increase_indent(flow, False)

    def represent_str(self, data: str) -> yaml.ScalarNode:
        style = '"' if _NEEDS_ESCAPES.search(data) else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    def represent_list(self, data: list) -> yaml.SequenceNode:
        flow = all(not isinstance(item, (dict, list)) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


class _Flow(dict):
    """A mapping always written in flow style (``{from: a, to: b}``)."""


_Dumper.add_representer(str, _Dumper.represent_str)
_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data,
                                                         flow_style=True))
_Dumper.add_representer(list, _Dumper.represent_list)
_Dumper.add_representer(
    _DoubleQuoted, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str",
                                                                str(data), style='"'))


def _subnet(subnet: Subnet) -> dict:
    data: dict = {"name": subnet.name, "cidr": subnet.cidr}
    if not subnet.dhcp:
        data["dhcp"] = False
    if subnet.dns_servers:
        data["dns_servers"] = list(subnet.dns_servers)
    return data


def _rule(rule: Rule, remote_key: str, remote: str) -> dict:
    data: dict = {"protocol": rule.protocol}
    if rule.ports is not None:  # ranges quoted, as the contract writes them ("8000-8080")
        data["ports"] = [_DoubleQuoted(p) if isinstance(p, str) else p for p in rule.ports]
    data[remote_key] = remote
    return data


def _group(group: SecurityGroup) -> dict:
    data: dict = {"name": group.name}
    if group.description is not None:
        data["description"] = group.description
    if group.include:
        data["include"] = list(group.include)
    if group.ingress:
        data["ingress"] = [_rule(r, "from", r.from_) for r in group.ingress]
    if group.egress:
        data["egress"] = [_rule(r, "to", r.to) for r in group.egress]
    return data


def _port(port: Port) -> dict:
    data: dict = {"name": port.name}
    if port.subnet != "default":
        data["subnet"] = port.subnet
    if port.vm is not None:
        data["vm"] = port.vm
    if port.mac is not None:
        data["mac"] = _DoubleQuoted(port.mac)
    if port.ip is not None:
        data["ip"] = port.ip
    if port.security_groups:
        data["security_groups"] = list(port.security_groups)
    return data


def _dnat(dnat: Dnat) -> dict:
    """Ports only when written (none for 1:1); the protocol when not tcp, or when written
    on an entry without both ports, where the checks refuse it."""
    data = dnat.model_dump(exclude={"protocol"}, exclude_none=True)
    forwards = dnat.external_port is not None and dnat.internal_port is not None
    if dnat.protocol != "tcp" or (dnat.protocol_written and not forwards):
        data["protocol"] = dnat.protocol
    return data


def project_document(project: Project) -> dict:
    """The project as the YAML document data, in the contract's key order."""
    data: dict = {"org": project.org, "project": project.project}
    vpc = project.vpc.model_dump(exclude_none=True)
    if vpc:
        data["vpc"] = vpc
    if project.subnets:
        data["subnets"] = [_subnet(s) for s in project.subnets]
    if project.security_groups:
        data["security_groups"] = [_group(g) for g in project.security_groups]
    if project.ports:
        data["ports"] = [_port(p) for p in project.ports]
    nat: dict = {}
    if project.nat.snat:
        nat["snat"] = [{"external_ip": s.external_ip} for s in project.nat.snat]
    if project.nat.dnat:
        nat["dnat"] = [_dnat(d) for d in project.nat.dnat]
    if nat:
        data["nat"] = nat
    if project.peerings:
        data["peerings"] = list(project.peerings)
    return data


def _expectation(entry: Expectation) -> _Flow:
    data = _Flow({"from": entry.from_, "to": entry.to,
                  "protocol": int(entry.protocol) if entry.protocol.isdigit() else entry.protocol})
    if entry.port is not None:
        data["port"] = entry.port
    data["verdict"] = entry.verdict
    return data


def expectation_document(document: Expectations) -> dict:
    """An expectation document's data: one flow mapping per entry, as the contract
    writes them."""
    return {EXPECT_KEY: [_expectation(e) for e in document.expect]}


def to_yaml(documents: Iterable[Written]) -> str:
    """The canonical YAML text of ``documents``, projects and expectation documents
    (empty for none)."""
    documents = [project_document(d) if isinstance(d, Project) else expectation_document(d)
                 for d in documents]
    if not documents:
        return ""
    return yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=WIDTH)
