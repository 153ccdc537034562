"""Peerings between VPCs: the /30 of each link, and what a plan of part of the database
needs of the projects it does not hold (contract section 4, Scope).

A plan or apply of one side of a mutual peering keeps the peering the database has:
the other side's intent is not in view, but its rows are. :func:`database_view` reads
from the owned rows (a live Northbound or a snapshot) every project that is not in the
intent, with the peerings its rows hold and its security groups' port groups, and the
/30 of every link; :func:`netc.frontend.recheck_with_database` builds the world with
them, so that

- the checks resolve ``sg:ORG/PROJECT/NAME`` of such a peer against its Port_Group in
  the database (SECURITY_GROUP_NOT_FOUND when it has none), and report
  CROSS_TENANT_REFERENCE when its rows hold no link to the project;
- lowering writes the in-view side of the link (its router port, on the /30 the
  database has, and its route to the peer's VPC) and matches the peer's members by
  its port group's ``$NAME_ip4``, as a compile of both sides would.

A peering is in the database when the out-of-view side's rows hold their end of the
link (``lrp-peer:PEER>PROJECT``); they were written only while both sides listed each
other. Dropping the peer from the in-view side removes that side's end; ``--prune``
removes the other side with all its rows, so a pruning plan sees no such projects.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from netc.compiler import names
from netc.compiler.rows import RowSet
from netc.ir.model import PEER_LINK_NETWORK, OutsideProject

PEER_LINK_PREFIX = 30
LINK_PORT_PREFIX = "lrp-peer:"
GROUP_PORT_GROUP_PREFIX = "pg:"


def database_view(rows: RowSet, in_view: set[str]) -> tuple[dict[str, OutsideProject],
                                                           dict[tuple[str, str], IPv4Network]]:
    """The owned projects of ``rows`` whose keys are not in ``in_view``, and every
    peering link ``rows`` hold, by sorted pair."""
    cidrs: dict[str, IPv4Network | None] = {}
    for row in rows.tables.get("Logical_Router", {}).values():
        if row.project is not None and row.project not in in_view:
            cidrs[row.project] = _network(row.columns.get("external_ids", {}).get("netc:cidr"))
    peers: dict[str, set[str]] = {key: set() for key in cidrs}
    links: dict[tuple[str, str], IPv4Network] = {}
    for row in rows.tables.get("Logical_Router_Port", {}).values():
        if not row.key.startswith(LINK_PORT_PREFIX):
            continue
        this, _, other = row.key[len(LINK_PORT_PREFIX):].partition(">")
        if this in peers:
            peers[this].add(other)
        networks = row.columns.get("networks") or []
        link = _network(networks[0], strict=False) if networks else None
        if link is not None and link.subnet_of(PEER_LINK_NETWORK):
            links.setdefault((min(this, other), max(this, other)), link)
    groups: dict[str, dict[str, str]] = {key: {} for key in cidrs}
    for row in rows.tables.get("Port_Group", {}).values():
        name = row.columns.get("external_ids", {}).get("netc:group")
        own = f"{GROUP_PORT_GROUP_PREFIX}{row.project}/{name}"  # not a shared port group
        if row.project in groups and name and row.key == own:
            groups[row.project][name] = row.columns.get("name", "")
    outside = {key: OutsideProject(key, cidrs[key], frozenset(peers[key]), groups[key])
               for key in sorted(cidrs)}
    return outside, links


def _network(text: str | None, strict: bool = True) -> IPv4Network | None:
    if not text:
        return None
    try:
        return IPv4Network(text, strict=strict)
    except ValueError:
        return None  # edited behind netc's back: the plan repairs the in-view rows


def peer_links(pairs: list[tuple[str, str]],
               existing: dict[tuple[str, str], IPv4Network]) -> list[IPv4Network]:
    """A /30 of 169.254.0.0/16 per peered pair (A < B). A pair the database already
    links keeps its /30; a new pair takes the slot a hash of the pair picks, probing
    past slots in use, so that a pair keeps its link when other pairs come and go."""
    slots = 2 ** (PEER_LINK_PREFIX - PEER_LINK_NETWORK.prefixlen)
    size = 2 ** (32 - PEER_LINK_PREFIX)
    base = int(PEER_LINK_NETWORK.network_address)
    used = {(int(link.network_address) - base) // size for link in existing.values()}
    links = []
    for a, b in pairs:
        kept = existing.get((a, b))
        if kept is not None:
            links.append(kept)
            continue
        slot = int(names.short_hash(a, b), 16) % slots
        while slot in used:
            slot = (slot + 1) % slots
        used.add(slot)
        links.append(IPv4Network((base + slot * size, PEER_LINK_PREFIX)))
    return links
