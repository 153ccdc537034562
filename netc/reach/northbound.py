"""A read-only view of emitted Northbound rows, by the names OVN itself uses.

The compiler's :class:`~netc.compiler.rows.RowSet` links rows by ``netc:key``; OVN
links some by reference (a switch's ``ports``, a port group's ``acls``) and some by
name (a router port's ``peer``, a router-type switch port's ``options:router-port``,
``@pg`` and ``$set`` in matches). This view resolves both, the way ovn-northd does,
for the ACL evaluator and the router walk.

Only tables whose rows the evaluator understands are accepted. Tables that cannot
change whether one port reaches another (DHCP, NAT toward the external network,
load balancers on external addresses, gateway chassis...) are left out of port-to-port
delivery; NAT, load balancers and gateway chassis are read for the external network
(:mod:`netc.reach.rownat`). Any other table raises :class:`UnsupportedRows`, so a new
kind of row cannot be silently misread as having no effect.
"""

from __future__ import annotations

import functools

from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from netc.compiler.rows import ORG_KEY, PROJECT_KEY, Row, RowSet
from netc.reach.ovn_match import Match, parse_match

MODELLED = frozenset({"Logical_Switch", "Logical_Switch_Port", "Logical_Router",
                      "Logical_Router_Port", "Logical_Router_Static_Route", "Port_Group",
                      "ACL", "Address_Set"})
WITHOUT_EFFECT = frozenset({"DHCP_Options", "NAT", "Load_Balancer", "Gateway_Chassis",
                            "HA_Chassis", "HA_Chassis_Group", "NB_Global", "Meter",
                            "Meter_Band", "DNS"})
"""Tables that never decide whether a new connection between two netc ports passes:
SNAT/DNAT and load balancers act on external addresses (:mod:`netc.reach.rownat` reads
them for the external network), DHCP and DNS on other traffic."""
PORT_KEY = "netc:port"


class UnsupportedRows(ValueError):
    """Rows the evaluator does not model, or links it cannot follow."""


def optional(row: Row, column: str) -> Any:
    """An OVSDB optional column (a set of at most one value) as the value or None."""
    value = row.columns.get(column)
    if isinstance(value, list):
        return value[0] if value else None
    return value if value not in ("", None) else None


def lsp_ips(lsp: Row) -> list[IPv4Address]:
    """The IPv4 addresses of a VM port's ``addresses`` entries ``"MAC IP..."``; none for
    router and localnet ports, whose addresses are not their own."""
    if lsp.columns.get("type"):
        return []
    return list(_ips(tuple(lsp.columns.get("addresses", [])), lsp.columns["name"]))


@functools.lru_cache(maxsize=1 << 16)
def _ips(addresses: tuple[str, ...], name: str) -> tuple[IPv4Address, ...]:
    ips = []
    for entry in addresses:
        words = entry.split()
        if words[0] in ("router", "unknown", "dynamic"):
            raise UnsupportedRows(f"port {name}: addresses {entry!r} "
                                  "is not modelled (netc writes static addresses)")
        for word in words[1:]:
            try:
                ips.append(IPv4Address(word))
            except ValueError:
                raise UnsupportedRows(f"port {name}: address {word!r} is "
                                      "not IPv4") from None
    return tuple(ips)


def lsp_mac(lsp: Row) -> int | None:
    for entry in lsp.columns.get("addresses", []):
        word = entry.split()[0]
        if ":" in word:
            return int(word.replace(":", ""), 16)
    return None


def port_key(lsp: Row) -> str | None:
    """ORG/PROJECT/PORT of a netc port (contract section 6), None for other ports."""
    ids = lsp.columns.get("external_ids", {})
    if PORT_KEY not in ids or ORG_KEY not in ids or PROJECT_KEY not in ids:
        return None
    return f"{ids[ORG_KEY]}/{ids[PROJECT_KEY]}/{ids[PORT_KEY]}"


def port_addresses(rows: RowSet) -> dict[str, IPv4Address]:
    """The IP of every netc port as compiled: the IPAM's allocation, for the reference."""
    found = {}
    for lsp in rows.tables.get("Logical_Switch_Port", {}).values():
        key, ips = port_key(lsp), lsp_ips(lsp)
        if key is not None and ips:
            found[key] = ips[0]
    return found


class Northbound:
    """Rows indexed by OVN names; also the :class:`~netc.reach.ovn_match.Names` of matches."""

    def __init__(self, rows: RowSet) -> None:
        unknown = sorted(set(rows.tables) - MODELLED - WITHOUT_EFFECT)
        if unknown:
            raise UnsupportedRows(f"rows of {', '.join(unknown)} are not modelled by the "
                                  "reachability evaluator")
        self.rows = rows
        self._refs: dict[tuple[str, str, str], list[Row]] = {}
        self.lsps = self._by_name("Logical_Switch_Port")
        self.lrps = self._by_name("Logical_Router_Port")
        self.port_groups = self._by_name("Port_Group")
        self.address_sets = self._by_name("Address_Set")
        self.switch_of: dict[str, Row] = {}
        for switch in self._table("Logical_Switch"):
            for lsp in self.refs(switch, "ports", "Logical_Switch_Port"):
                if lsp.columns["name"] in self.switch_of:
                    raise UnsupportedRows(f"port {lsp.columns['name']} is on two switches")
                self.switch_of[lsp.columns["name"]] = switch
        self.router_of: dict[str, Row] = {}
        for router in self._table("Logical_Router"):
            if router.columns.get("policies"):
                raise UnsupportedRows(f"router {router.columns['name']}: policies are "
                                      "not modelled")
            for lrp in self.refs(router, "ports", "Logical_Router_Port"):
                self.router_of[lrp.columns["name"]] = router
        self.by_port_key = {key: lsp for lsp in self.lsps.values()
                            if (key := port_key(lsp)) is not None}
        self._matches: dict[str, Match] = {}
        self.constant_cache: dict = {}
        """Parsed constants of address sets and port groups, filled by the match parser."""
        self._acls: dict[str, tuple[Row, ...]] = {}
        self._groups_on: dict[str, list[Row]] | None = None
        self._router_lsps: dict[str, Row] | None = None
        self._owners: dict[str, dict[IPv4Address, list[Row]]] = {}
        self._interfaces: dict[str, list[IPv4Interface]] = {}

    def _table(self, table: str) -> list[Row]:
        return [self.rows.tables[table][key] for key in sorted(self.rows.tables.get(table, {}))]

    def _by_name(self, table: str) -> dict[str, Row]:
        named: dict[str, Row] = {}
        for row in self._table(table):
            name = row.columns.get("name")
            if name in named:
                raise UnsupportedRows(f"two {table} rows named {name!r}")
            named[name] = row
        return named

    def refs(self, row: Row, column: str, table: str) -> list[Row]:
        """The rows a reference column points at (by netc:key); the rows are read as
        they were when first asked (a view is built on rows that no longer change)."""
        key = (row.table, row.key, column)
        found = self._refs.get(key)
        if found is None:
            found = self._refs[key] = self._resolve(row, column, table)
        return found

    def _resolve(self, row: Row, column: str, table: str) -> list[Row]:
        value = row.columns.get(column, [])
        keys = value if isinstance(value, list) else [value]
        found = []
        for key in keys:
            target = self.rows.get(table, key)
            if target is None:
                raise UnsupportedRows(f"{row.table} {row.key}: {column} refers to a missing "
                                      f"{table} {key!r}")
            found.append(target)
        return found

    # -- names in matches
    def address_set(self, name: str) -> list[str] | None:
        if name in self.address_sets:
            return list(self.address_sets[name].columns.get("addresses", []))
        if name.endswith("_ip4") and name[:-4] in self.port_groups:
            group = self.port_groups[name[:-4]]
            return sorted({str(ip) for lsp in self.refs(group, "ports", "Logical_Switch_Port")
                           for ip in lsp_ips(lsp)})
        return None

    def port_group(self, name: str) -> list[str] | None:
        group = self.port_groups.get(name)
        if group is None:
            return None
        return [lsp.columns["name"] for lsp in self.refs(group, "ports", "Logical_Switch_Port")]

    def match(self, text: str) -> Match:
        if text not in self._matches:
            self._matches[text] = parse_match(text, self)
        return self._matches[text]

    # -- the ACLs ovn-northd applies on a switch
    def acls(self, switch_key: str) -> tuple[Row, ...]:
        """The switch's own ACLs and those of every port group with a port on it.

        ovn-northd applies a port group's ACLs on each switch holding one of its
        ports, without narrowing their match: that is the match's own job
        (``inport == @pg``), so an ACL without it applies to every port there.
        """
        if switch_key not in self._acls:
            switch = self.rows.get("Logical_Switch", switch_key)
            found = {acl.key: acl for acl in self.refs(switch, "acls", "ACL")}
            for group in self.groups_on(switch_key):
                found.update((acl.key, acl) for acl in self.refs(group, "acls", "ACL"))
            self._acls[switch_key] = tuple(found[key] for key in sorted(found))
        return self._acls[switch_key]

    def groups_on(self, switch_key: str) -> list[Row]:
        """The port groups with at least one port on the switch, by name."""
        if self._groups_on is None:
            index: dict[str, dict[str, Row]] = {}
            for name, group in self.port_groups.items():
                for lsp in self.refs(group, "ports", "Logical_Switch_Port"):
                    switch = self.switch_of.get(lsp.columns["name"])
                    if switch is not None:
                        index.setdefault(switch.key, {})[name] = group
            self._groups_on = {key: [groups[n] for n in sorted(groups)]
                               for key, groups in index.items()}
        return self._groups_on.get(switch_key, [])

    def stateful(self, switch_key: str) -> bool:
        """A switch with an allow-related ACL (or a load balancer) tracks connections,
        and then lets the replies of every connection it allowed through."""
        switch = self.rows.get("Logical_Switch", switch_key)
        return bool(switch.columns.get("load_balancer")) or any(
            acl.columns["action"] == "allow-related" for acl in self.acls(switch_key))

    # -- routing facts
    def lrp_interfaces(self, lrp: Row) -> list[IPv4Interface]:
        found = self._interfaces.get(lrp.key)
        if found is None:
            found = self._interfaces[lrp.key] = self._parse_interfaces(lrp)
        return found

    def _parse_interfaces(self, lrp: Row) -> list[IPv4Interface]:
        found = []
        for network in lrp.columns.get("networks", []):
            try:
                found.append(IPv4Interface(network))
            except ValueError:
                raise UnsupportedRows(f"router port {lrp.columns['name']}: network "
                                      f"{network!r} is not IPv4") from None
        return found

    def router_lsp_of(self, lrp_name: str) -> Row | None:
        """The switch port of type router that joins ``lrp_name`` to its switch."""
        if self._router_lsps is None:
            self._router_lsps = {}
            for lsp in self.lsps.values():
                if lsp.columns.get("type") == "router":
                    target = lsp.columns.get("options", {}).get("router-port")
                    self._router_lsps.setdefault(target, lsp)
        return self._router_lsps.get(lrp_name)

    def localnet_of(self, switch: Row) -> Row | None:
        """The switch's localnet port (its link to a physical network), if it has one."""
        return next((lsp for lsp in self.refs(switch, "ports", "Logical_Switch_Port")
                     if lsp.columns.get("type") == "localnet"), None)

    def owner_of_ip(self, switch: Row, ip: IPv4Address) -> Row | None:
        """The port on ``switch`` that answers ARP for ``ip``: a VM port by its
        addresses, a router port by its router port's networks."""
        owners = self._owners.get(switch.key)
        if owners is None:
            owners = self._owners[switch.key] = {}
            for lsp in self.refs(switch, "ports", "Logical_Switch_Port"):
                if lsp.columns.get("type") == "router":
                    lrp = self.lrps.get(lsp.columns.get("options", {}).get("router-port"))
                    addresses = [i.ip for i in self.lrp_interfaces(lrp)] if lrp else []
                elif not lsp.columns.get("type"):
                    addresses = lsp_ips(lsp)
                else:
                    addresses = []
                for address in dict.fromkeys(addresses):
                    owners.setdefault(address, []).append(lsp)
        found = owners.get(ip, ())
        if len(found) > 1:
            names = ", ".join(lsp.columns["name"] for lsp in found)
            raise UnsupportedRows(f"{ip} is claimed by several ports of switch "
                                  f"{switch.columns['name']}: {names}")
        return found[0] if found else None
