"""The same intent translated one ACL per rule, as Neutron ML2/OVN writes it.

The reference of the flow figures: every row of ``netc compile`` that is not security
(routers, switches, ports, DHCP, NAT, peering) is kept as is, and the security rows
(Port_Group, ACL, Address_Set) are replaced by what Neutron's OVN driver writes for
the same security groups:

- a Port_Group per security group (``pg_<id>``) holding its ports, and one
  ``neutron_pg_drop`` holding every port, with a ``drop`` ACL per direction (1001);
- for every rule of a group (includes copied: Neutron has none) and every port range
  of it, one ``allow-related`` ACL at 1002 on the group's port group:
  ``outport == @pg && ip4 && ip4.src == REMOTE && tcp && tcp.dst >= LOW && tcp.dst <=
  HIGH`` for ingress (``inport``/``ip4.dst`` for egress), the remote a CIDR, nothing
  for ``0.0.0.0/0``, or the remote group's address set ``$pg_<id>_ip4`` (OVN fills it
  with the addresses of the port group's ports, as Neutron relies on);
- the DHCP exceptions netc writes (broadcast requests, unicast renewals), copied, so
  the two differ only in how they translate the rules.

:func:`neutron_acl_count` in :mod:`netc.compiler.acl` counts the same ACLs (without
the DHCP ones).
"""

from __future__ import annotations

from netc.compiler import names
from netc.compiler.canonical import stamp
from netc.compiler.rows import KEY_KEY, OWNER_KEY, Ref, Row, RowSet
from netc.ir.model import Rule
from netc.ir.world import World

SECURITY = ("Port_Group", "ACL", "Address_Set")


def neutron_rows(world: World, compiled: RowSet) -> RowSet:
    owner = world.settings.owner
    rows = RowSet()
    for row in compiled:
        if row.table not in SECURITY:
            rows.add(row)
    drop = "neutron_pg_drop"
    dhcp_acls = []
    for acl in compiled.tables.get("ACL", {}).values():
        if acl.key.endswith(":dhcp-renew"):
            dhcp_acls.append(acl)
        elif acl.key.endswith(":dhcp-request"):  # it names netc's drop group: Neutron's
            match = acl.columns["match"]
            copy = Row("ACL", acl.key, {**acl.columns, "match": match.replace(
                match.split()[2], f"@{drop}")})
            stamp(copy)
            dhcp_acls.append(copy)
    for acl in dhcp_acls:
        rows.add(acl)
    for group in compiled.tables.get("Port_Group", {}).values():
        if group.key.endswith(":dhcp"):  # the renewal groups: copied with their ACL
            rows.add(group)

    def add(table: str, key: str, columns: dict) -> Ref:
        row = Row(table, key, {**columns, "external_ids": {OWNER_KEY: owner, KEY_KEY: key}})
        stamp(row)
        rows.add(row)
        return Ref(key)

    def pg_name(group_key: str) -> str:
        return names.ovn_identifier(owner, "neutron:" + group_key, "pg_" + group_key)

    ports = sorted(key for key in compiled.tables.get("Logical_Switch_Port", {})
                   if key.startswith("port:"))
    for group in world.groups():
        members = [Ref(f"port:{port.key}") for port in world.members(group.key)
                   if f"port:{port.key}" in compiled.tables.get("Logical_Switch_Port", {})]
        acls = []
        for index, rule in enumerate(world.effective_rules(group.key)):
            if rule.remote is None:
                continue
            for piece, match in enumerate(rule_matches(rule, pg_name(group.key), pg_name)):
                acls.append(add("ACL", f"neutron:{group.key}:{index}:{piece}", {
                    "priority": 1002, "action": "allow-related", "match": match,
                    "direction": "to-lport" if rule.direction == "ingress" else "from-lport"}))
        add("Port_Group", f"neutron-pg:{group.key}", {
            "name": pg_name(group.key), "ports": sorted(members), "acls": sorted(acls)})
    drops = [add("ACL", f"neutron:drop:{direction}", {
        "priority": 1001, "action": "drop", "direction": direction,
        "match": f"{field} == @{drop} && ip"})
        for direction, field in (("from-lport", "inport"), ("to-lport", "outport"))]
    broadcast = [Ref(acl.key) for acl in dhcp_acls if acl.key.endswith(":dhcp-request")]
    add("Port_Group", "neutron-pg:drop", {"name": drop, "ports": [Ref(p) for p in ports],
                                          "acls": sorted(drops + broadcast)})
    return rows


def rule_matches(rule: Rule, own_pg: str, pg_name) -> list[str]:
    """One match per port range of the rule (one for a rule without ranges)."""
    ingress = rule.direction == "ingress"
    terms = [f"{'outport' if ingress else 'inport'} == @{own_pg}", "ip4"]
    remote = rule.remote
    side = "ip4.src" if ingress else "ip4.dst"
    if remote.group is not None:
        terms.append(f"{side} == ${pg_name(remote.group)}_ip4")
    elif remote.cidr.prefixlen:
        terms.append(f"{side} == {remote.cidr}")
    if rule.protocol == "icmp":
        terms.append("icmp4")
    elif rule.protocol in ("tcp", "udp"):
        terms.append(rule.protocol)
        if rule.ports:
            return [" && ".join(terms + [f"{rule.protocol}.dst == {low}" if low == high else
                                         f"{rule.protocol}.dst >= {low} && "
                                         f"{rule.protocol}.dst <= {high}"])
                    for low, high in rule.ports]
    return [" && ".join(terms)]
