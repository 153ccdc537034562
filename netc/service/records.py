"""What the service stores, where (the specification's section 5.2), and how a
project's records become the intent model the files use.

Values are JSON objects with the fields of section 5.1 (``Vpc``, ``Subnet``,
``Port``, ``SecurityGroup``; NAT as the ``SnatConfig``/``DnatConfig`` of section 9),
plus the few a record needs to be turned back into intent (a port's ``name``).
The service adds three indexes the specification leaves to the implementation, each
written in the same transaction as the records it indexes:

- ``/networks/macs/{mac}``: the port holding a MAC (unique across the store);
- ``/networks/external_ips/{ip}``: the project an external IP serves (one only);
- ``/networks/snat|dnat/{org}/{project}/{id}``: the NAT entries of a project.

The VPC record is rewritten (its ``updated_at``) by every change of its project, so
that every transaction of a project compares one key: the store serialises the
changes of a project across any number of service processes.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Iterable

from netc.intent import model as intent
from netc.service.store import Entry

ROOT = "/networks"
POOL_USED_KEY = f"{ROOT}/cidr/pool/used"

Record = dict[str, Any]


def vpc_key(org: str, project: str) -> str:
    return f"{ROOT}/vpcs/{org}/{project}"


def cidr_allocation_key(org: str, project: str) -> str:
    return f"{ROOT}/cidr/allocations/{org}/{project}"


def subnet_key(org: str, project: str, name: str) -> str:
    return f"{ROOT}/subnets/{org}/{project}/{name}"


def port_key(org: str, project: str, port_id: str) -> str:
    return f"{ROOT}/ports/{org}/{project}/{port_id}"


def group_key(org: str, project: str, name: str) -> str:
    return f"{ROOT}/security_groups/{org}/{project}/{name}"


def ipam_key(org: str, project: str, subnet: str) -> str:
    return f"{ROOT}/ipam/{org}/{project}/{subnet}/allocated"


def snat_key(org: str, project: str, snat_id: str) -> str:
    return f"{ROOT}/snat/{org}/{project}/{snat_id}"


def dnat_key(org: str, project: str, dnat_id: str) -> str:
    return f"{ROOT}/dnat/{org}/{project}/{dnat_id}"


def mac_key(mac: str) -> str:
    return f"{ROOT}/macs/{mac}"


def external_ip_key(ip: str) -> str:
    return f"{ROOT}/external_ips/{ip}"


COLLECTIONS = ("subnets", "ports", "security_groups", "ipam", "snat", "dnat")
"""The per-project folders of the layout, read with one prefix each."""


def project_prefixes(org: str, project: str) -> list[str]:
    """Prefixes holding exactly the project's records (the trailing ``/`` keeps
    ``acme/web`` from reading ``acme/web2``)."""
    return [f"{ROOT}/{folder}/{org}/{project}/" for folder in COLLECTIONS]


def project_keys(org: str, project: str) -> list[str]:
    """The project's single keys (read by key, not by prefix)."""
    return [vpc_key(org, project), cidr_allocation_key(org, project)]


def projects_in(entries: Iterable[str]) -> set[tuple[str, str]]:
    """(org, project) of every VPC key among ``entries``."""
    prefix = f"{ROOT}/vpcs/"
    found = set()
    for key in entries:
        if key.startswith(prefix):
            org, _, project = key[len(prefix):].partition("/")
            if org and project and "/" not in project:
                found.add((org, project))
    return found


def decode(entry: Entry | None) -> Any:
    """The value of ``entry``; the same object for the same stored text, so that what is
    built from an unchanged record (its intent model) is built once (see :func:`_reuse`).
    Callers never mutate it: the operations copy what they change."""
    return None if entry is None else _decoded(entry.value)


@lru_cache(maxsize=1 << 16)
def _decoded(text: str) -> Any:
    return json.loads(text)


_BUILT: dict[int, tuple[Any, Any]] = {}
_BUILT_MAX = 1 << 17


def _reuse(record: Record, build):
    """``build(record)``, remembered by the record's identity: a project of 1,000 ports
    is turned into intent on every change of it, and most of its records are the very
    objects :func:`decode` returned last time."""
    hit = _BUILT.get(id(record))
    if hit is not None and hit[0] is record:
        return hit[1]
    if len(_BUILT) >= _BUILT_MAX:
        _BUILT.clear()
    built = build(record)
    _BUILT[id(record)] = (record, built)
    return built


def encode(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# -- records -> intent -----------------------------------------------------------------


def project_intent(org: str, project: str, values: dict[str, Any]) -> intent.Project | None:
    """The intent model of a project from its decoded records (key -> value); None
    when it has no VPC (deleted, or never created)."""
    vpc = values.get(vpc_key(org, project))
    if vpc is None:
        return None
    folders = {folder: f"{ROOT}/{folder}/{org}/{project}/" for folder in COLLECTIONS}

    def records(folder: str) -> list[Record]:
        prefix = folders[folder]
        return [values[key] for key in sorted(values)
                if key.startswith(prefix) and values[key] is not None]

    subnets = [intent.Subnet(name=s["name"], cidr=s["cidr"], dhcp=s["dhcp_enabled"],
                             dns_servers=s["dns_servers"]) for s in records("subnets")]
    groups = [_reuse(g, lambda g: group_intent(org, project, g))
              for g in records("security_groups")]
    ports = sorted((_reuse(p, port_intent) for p in records("ports")), key=lambda p: p.name)
    nat = intent.Nat(
        snat=[intent.Snat(external_ip=s["external_ip"]) for s in records("snat")],
        dnat=[dnat_intent(d) for d in records("dnat")])
    return intent.Project(org=org, project=project,
                          vpc=intent.Vpc(name=vpc["name"], cidr=vpc["cidr"]),
                          subnets=subnets, security_groups=groups, ports=ports, nat=nat)


def port_intent(record: Record) -> intent.Port:
    return intent.Port(name=record["name"], subnet=record["subnet_id"].rpartition("/")[2],
                       vm=record.get("vm_id"), mac=record["mac_address"],
                       ip=record["ip_address"],
                       security_groups=[g.rpartition("/")[2]
                                        for g in record["security_group_ids"]])


def group_intent(org: str, project: str, record: Record) -> intent.SecurityGroup:
    return intent.SecurityGroup(
        name=record["name"], description=record.get("description") or None,
        ingress=[intent.IngressRule(**_rule_fields(org, project, r, "from"))
                 for r in record["ingress_rules"]],
        egress=[intent.EgressRule(**_rule_fields(org, project, r, "to"))
                for r in record["egress_rules"]])


def _rule_fields(org: str, project: str, rule: Record, remote_field: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"protocol": rule["protocol"]}
    port_range = rule.get("port_range")
    if port_range:
        low, high = port_range
        fields["ports"] = [low if low == high else f"{low}-{high}"]
    source = rule["source"]
    if rule["source_type"] == "security_group":
        owner, _, name = source.rpartition("/")
        source = f"sg:{name}" if owner == f"{org}/{project}" else f"sg:{source}"
    fields[remote_field] = source
    return fields


def dnat_intent(record: Record) -> intent.Dnat:
    if not record["external_port"] and not record["internal_port"]:
        return intent.Dnat(external_ip=record["external_ip"], internal_ip=record["internal_ip"])
    return intent.Dnat(external_ip=record["external_ip"], external_port=record["external_port"],
                       internal_ip=record["internal_ip"], internal_port=record["internal_port"],
                       protocol=record["protocol"])
