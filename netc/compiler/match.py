"""Render an ACL spec as an OVN match expression (ovn-sb(5) "Logical_Flow match").

Only forms that OVN 23.03 parses are written (ovn-lab.md, "Match syntax"): sets in
braces, relational ranges ``8000 <= tcp.dst <= 8099`` (never ``a..b``), port groups
``@name`` and address sets ``$name``. A match OVN cannot parse is stored anyway and
then never matches, so the golden cases are also run through ovn-trace (tests/ovn).

Shape, Neutron's order of terms::

    outport == @PG && ip4 && ip4.src == {10.0.0.0/8, $PG2_ip4} && tcp && (tcp.dst == {22, 80} || 8000 <= tcp.dst <= 8099)

and with several protocols (``merge_protocols``)::

    inport == @PG && ip4 && ((tcp && tcp.dst == {53, 443}) || (udp && udp.dst == {53, 123}) || icmp4)
"""

from __future__ import annotations

from netc.ir.model import Direction, PortRange

_PROTOCOL_TERM = {"tcp": "tcp", "udp": "udp", "icmp": "icmp4"}


def port_group_term(direction: Direction, port_group: str) -> str:
    """Ingress rules police traffic leaving the switch towards the port (to-lport)."""
    field = "outport" if direction == "ingress" else "inport"
    return f"{field} == @{port_group}"


def one_or_set(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "{" + ", ".join(items) + "}"


def ports_term(protocol: str, ports: tuple[PortRange, ...]) -> str:
    field = f"{protocol}.dst"
    singles = [str(low) for low, high in ports if low == high]
    terms = [f"{field} == {one_or_set(singles)}"] if singles else []
    terms += [f"{low} <= {field} <= {high}" for low, high in ports if low != high]
    return terms[0] if len(terms) == 1 else "(" + " || ".join(terms) + ")"


def service_term(protocol: str, ports: tuple[PortRange, ...] | None) -> str | None:
    """``tcp && tcp.dst == 80``, ``icmp4``; None for ``all`` (no term)."""
    if protocol not in _PROTOCOL_TERM:
        return None
    if not ports:
        return _PROTOCOL_TERM[protocol]
    return f"{_PROTOCOL_TERM[protocol]} && {ports_term(protocol, ports)}"


def acl_match(direction: Direction, port_group: str, protocol: str,
              ports: tuple[PortRange, ...] | None, remotes: list[str],
              also: tuple = ()) -> str:
    """``remotes``: CIDRs and ``$address_set`` names; empty = any remote address.
    ``also``: more (protocol, ports) alternatives, as ``((tcp && ...) || (udp && ...))``."""
    terms = [port_group_term(direction, port_group), "ip4"]
    if remotes:
        field = "ip4.src" if direction == "ingress" else "ip4.dst"
        terms.append(f"{field} == {one_or_set(remotes)}")
    if also:
        alternatives = [service_term(p, r) for p, r in ((protocol, ports),) + tuple(also)]
        terms.append("(" + " || ".join(f"({t})" if " " in t else t
                                       for t in alternatives) + ")")
    else:
        term = service_term(protocol, ports)
        if term is not None:
            terms.append(term)
    return " && ".join(terms)
