"""The part of the OVN Northbound schema (23.03, version 7.0.0) that netc writes.

Every backend needs to know, per table, which columns netc owns and of which kind,
so that it can read a snapshot, compare rows and render commands without a running
OVN. The full schema ships with ovn-central (``/usr/share/ovn/ovn-nb.ovsschema``); a
unit test checks this table against it whenever it is installed, so a column netc
writes can never be missing from OVN or have another type.

Kinds:

- ``atom``: a string, integer or boolean that is always present;
- ``optional``: zero or one string (``min 0, max 1``); absent when unset;
- ``set``: a set of strings, a sorted ``list`` in netc rows;
- ``map``: string -> string, a ``dict``;
- ``ref`` / ``refs``: a reference to one (optional) or many rows of another table,
  held as :class:`~netc.compiler.rows.Ref` (the target's netc:key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["atom", "optional", "set", "map", "ref", "refs"]


@dataclass(frozen=True, slots=True)
class Column:
    kind: Kind
    target: str | None = None
    """The referenced table, for ``ref`` and ``refs``."""
    default: Any = None
    """The value of an unset ``atom`` (what OVSDB stores when it is not written)."""


def _refs(table: str) -> Column:
    return Column("refs", table)


NB_SCHEMA_VERSION = "7.0.0"

TABLES: dict[str, dict[str, Column]] = {
    "Logical_Router": {
        "name": Column("atom", default=""),
        "ports": _refs("Logical_Router_Port"),
        "static_routes": _refs("Logical_Router_Static_Route"),
        "nat": _refs("NAT"),
        "load_balancer": _refs("Load_Balancer"),
        "external_ids": Column("map"),
    },
    "Logical_Router_Port": {
        "name": Column("atom", default=""),
        "mac": Column("atom", default=""),
        "networks": Column("set"),
        "peer": Column("optional"),
        "gateway_chassis": _refs("Gateway_Chassis"),
        "external_ids": Column("map"),
    },
    "Gateway_Chassis": {
        "name": Column("atom", default=""),
        "chassis_name": Column("atom", default=""),
        "priority": Column("atom", default=0),
        "external_ids": Column("map"),
    },
    "Logical_Router_Static_Route": {
        "ip_prefix": Column("atom", default=""),
        "nexthop": Column("atom", default=""),
        "output_port": Column("optional"),
        "external_ids": Column("map"),
    },
    "NAT": {
        "type": Column("atom", default="dnat"),
        "external_ip": Column("atom", default=""),
        "logical_ip": Column("atom", default=""),
        "external_ids": Column("map"),
    },
    "Load_Balancer": {
        "name": Column("atom", default=""),
        "vips": Column("map"),
        "protocol": Column("optional"),
        "external_ids": Column("map"),
    },
    "Logical_Switch": {
        "name": Column("atom", default=""),
        "ports": _refs("Logical_Switch_Port"),
        "external_ids": Column("map"),
    },
    "Logical_Switch_Port": {
        "name": Column("atom", default=""),
        "type": Column("atom", default=""),
        "addresses": Column("set"),
        "port_security": Column("set"),
        "options": Column("map"),
        "dhcpv4_options": Column("ref", "DHCP_Options"),
        "external_ids": Column("map"),
    },
    "DHCP_Options": {
        "cidr": Column("atom", default=""),
        "options": Column("map"),
        "external_ids": Column("map"),
    },
    "Port_Group": {
        "name": Column("atom", default=""),
        "ports": _refs("Logical_Switch_Port"),
        "acls": _refs("ACL"),
        "external_ids": Column("map"),
    },
    "ACL": {
        "priority": Column("atom", default=0),
        "direction": Column("atom", default="from-lport"),
        "match": Column("atom", default=""),
        "action": Column("atom", default="allow"),
        "external_ids": Column("map"),
    },
    "Address_Set": {
        "name": Column("atom", default=""),
        "addresses": Column("set"),
        "external_ids": Column("map"),
    },
}
"""Table -> column -> kind, for every column netc writes."""

ROOT_TABLES = frozenset({"Logical_Router", "Logical_Switch", "Port_Group", "Address_Set",
                         "DHCP_Options", "Load_Balancer"})
"""Tables whose rows live on their own; rows of the others exist only while referenced."""


def ref_columns() -> dict[str, set[str]]:
    """Table -> names of its reference columns (for :meth:`RowSet.from_json_obj`)."""
    return {table: {name for name, col in columns.items() if col.kind in ("ref", "refs")}
            for table, columns in TABLES.items()}


def unset_value(column: Column) -> Any:
    """What a column holds when netc does not write it: the value to compare against."""
    if column.kind in ("set", "refs"):
        return []
    if column.kind == "map":
        return {}
    if column.kind == "atom":
        return column.default
    return None
