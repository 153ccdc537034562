"""The evaluator of emitted rows, on hand-written networks: OVN's semantics, one at a time.

The network: router r1 joins switch s1 (ports a, b; 10.0.0.0/24) and s2 (c, e;
10.0.1.0/24); router r2 has switch s3 (d; 10.9.0.0/24). Port groups: pg_a = {a},
pg_b = {b}, pg_all = every VM port.
"""

import pytest

from netc.compiler.rows import Ref, Row, RowSet
from netc.reach.acl_eval import AmbiguousAcls, deliver
from netc.reach.northbound import Northbound, UnsupportedRows, port_addresses
from netc.reach.ovn_match import MatchError
from netc.reach.traffic import Traffic

VMS = {"a": ("s1", "10.0.0.10"), "b": ("s1", "10.0.0.11"), "c": ("s2", "10.0.1.10"),
       "e": ("s2", "10.0.1.11"), "d": ("s3", "10.9.0.10")}
SUBNETS = {"s1": ("r1", "10.0.0.1/24"), "s2": ("r1", "10.0.1.1/24"), "s3": ("r2", "10.9.0.1/24")}
GROUPS = {"pg_a": ["a"], "pg_b": ["b"], "pg_all": sorted(VMS)}

DROPS = [("pg_all", "from-lport", 1001, "drop", "inport == @pg_all && ip"),
         ("pg_all", "to-lport", 1001, "drop", "outport == @pg_all && ip")]
SSH_A_TO_B = [("pg_a", "from-lport", 1002, "allow-related", "inport == @pg_a && ip4 && tcp"),
              ("pg_b", "to-lport", 1002, "allow-related",
               "outport == @pg_b && ip4 && ip4.src == $pg_a_ip4 && tcp && tcp.dst == 22")]
PEER_LINK = {"r1": ("169.254.0.1/30", "10.9.0.0/16", "169.254.0.2"),
             "r2": ("169.254.0.2/30", "10.0.0.0/16", "169.254.0.1")}


def mac(n: int) -> str:
    return f"0a:00:00:00:00:{n:02x}"


def network(acls=(), peer_routes=(), security=None, extra_tables=()) -> RowSet:
    """``acls``: (port group or switch name, direction, priority, action, match);
    ``peer_routes``: routers given a static route over an r1-r2 link (linked if any)."""
    rows = RowSet()
    add = lambda table, key, **columns: rows.add(Row(table, key, columns)) or Ref(key)  # noqa
    switch_ports = {s: [] for s in SUBNETS}
    for index, (vm, (switch, ip)) in enumerate(sorted(VMS.items())):
        ps = (security or {}).get(vm, f"{mac(index)} {ip}")
        switch_ports[switch].append(add("Logical_Switch_Port", f"lsp:{vm}", name=vm,
                                        addresses=[f"{mac(index)} {ip}"], port_security=[ps]))
    router_ports = {"r1": [], "r2": []}
    for index, (switch, (router, network_)) in enumerate(sorted(SUBNETS.items())):
        router_ports[router].append(add("Logical_Router_Port", f"lrp:{switch}",
                                        name=f"lrp-{switch}", mac=mac(100 + index),
                                        networks=[network_]))
        switch_ports[switch].append(add("Logical_Switch_Port", f"rp:{switch}",
                                        name=f"rp-{switch}", type="router",
                                        addresses=["router"],
                                        options={"router-port": f"lrp-{switch}"}))
    routes = {"r1": [], "r2": []}
    for index, router in enumerate(sorted(PEER_LINK) if peer_routes else ()):
        link, prefix, nexthop = PEER_LINK[router]
        other = "r2" if router == "r1" else "r1"
        router_ports[router].append(add("Logical_Router_Port", f"lrp:{router}-peer",
                                        name=f"{router}-peer", mac=mac(110 + index),
                                        networks=[link], peer=f"{other}-peer"))
        if router in peer_routes:
            routes[router].append(add("Logical_Router_Static_Route", f"route:{router}",
                                      ip_prefix=prefix, nexthop=nexthop))
    owned: dict[str, list[Ref]] = {}
    for index, (owner, direction, priority, action, match) in enumerate(acls):
        owned.setdefault(owner, []).append(add("ACL", f"acl:{index}", direction=direction,
                                               priority=priority, action=action, match=match))
    for name, members in GROUPS.items():
        add("Port_Group", f"pg:{name}", name=name, ports=[Ref(f"lsp:{m}") for m in members],
            acls=owned.get(name, []))
    for switch in SUBNETS:
        add("Logical_Switch", f"ls:{switch}", name=switch, ports=switch_ports[switch],
            acls=owned.get(switch, []))
    for router in ("r1", "r2"):
        add("Logical_Router", f"lr:{router}", name=router, ports=router_ports[router],
            static_routes=routes[router])
    for table in extra_tables:
        add(table, f"{table}:x", name="x")
    return rows


CASES = [
    # acls, src, dst, traffic, allow, reply
    ((), "a", "b", ("tcp", 22), True, True),
    ((), "a", "c", ("udp", 53), True, True),  # two subnets, one router
    (DROPS, "a", "b", ("tcp", 22), False, False),
    (DROPS, "a", "c", ("icmp", None), False, False),
    (DROPS + SSH_A_TO_B, "a", "b", ("tcp", 22), True, True),
    (DROPS + SSH_A_TO_B, "a", "b", ("tcp", 80), False, False),
    (DROPS + SSH_A_TO_B, "b", "a", ("tcp", 22), False, False),
    (DROPS + SSH_A_TO_B, "c", "b", ("tcp", 22), False, False),
    # the highest priority decides, whatever the order
    ([("pg_all", "from-lport", 1003, "drop", "inport == @pg_all && tcp.dst == 22")]
     + DROPS + SSH_A_TO_B, "a", "b", ("tcp", 22), False, False),
    # "allow" on a switch with no stateful ACL: the reply meets the drops
    ([(g, d, p, "allow" if a == "allow-related" else a, m) for g, d, p, a, m in
      DROPS + SSH_A_TO_B], "a", "b", ("tcp", 22), True, False),
    # ... while one allow-related anywhere on the switch tracks connections
    ([(g, d, p, "allow", m) for g, d, p, a, m in SSH_A_TO_B] + DROPS
     + [("s1", "to-lport", 1, "allow-related", "outport == \"nobody\"")],
     "a", "b", ("tcp", 22), True, True),
    # a port group's ACL applies to every port of the switches it has a port on:
    # without its own inport/outport term it reaches b, and the router port
    ([("pg_a", "to-lport", 1002, "drop", "ip4 && tcp")], "c", "b", ("tcp", 22), False, False),
    ([("pg_a", "to-lport", 1002, "drop", "ip4 && tcp")], "b", "c", ("tcp", 22), False, False),
    ([("pg_a", "to-lport", 1002, "drop", "ip4 && tcp")], "c", "e", ("tcp", 22), True, True),
    # switch ACLs
    ([("s2", "from-lport", 5, "reject", "icmp4")], "c", "a", ("icmp", None), False, False),
    ([("s2", "from-lport", 5, "reject", "icmp4")], "c", "a", ("47", None), True, True),
    # no route between routers: isolation
    ((), "a", "d", ("tcp", 22), False, False),
]


@pytest.mark.parametrize("acls,src,dst,traffic,allow,reply", CASES)
def test_delivery(acls, src, dst, traffic, allow, reply):
    result = deliver(Northbound(network(acls)), src, dst, Traffic(*traffic))
    assert (result.allow, result.reply) == (allow, reply), result.reason


def test_peering_needs_a_route_each_way():
    both = deliver(Northbound(network(peer_routes=("r1", "r2"))), "a", "d", Traffic("icmp"))
    assert (both.allow, both.reply) == (True, True)
    assert [s.switch for s in both.stages if s.pipeline == "from-lport"] == ["s1", "s3"]
    one = deliver(Northbound(network(peer_routes=("r1",))), "a", "d", Traffic("icmp"))
    assert (one.allow, one.reply) == (True, False)
    assert one.reason == "reply: router r2 has no route to 10.0.0.10"
    # the peer link carries routed traffic only: the peer's own ports are not on it
    assert not deliver(Northbound(network(peer_routes=("r1",))), "d", "a", Traffic("icmp")).allow


def test_port_security_is_anti_spoofing():
    spoofed = network(security={"a": f"{mac(0)} 10.0.0.99"})
    result = deliver(Northbound(spoofed), "a", "b", Traffic("tcp", 22))
    assert not result.allow
    assert result.stages[-1].pipeline == "port-security-in"


def test_trace_names_the_deciding_acl():
    result = deliver(Northbound(network(DROPS)), "a", "b", Traffic("tcp", 22))
    assert result.reason.startswith("DROP: switch s1 from-lport a: ACL 1001 drop "
                                    "(inport == @pg_all && ip)")


@pytest.mark.parametrize("acls,error,message", [
    ([("pg_a", "from-lport", 1002, "drop", "ip4"),
      ("pg_a", "from-lport", 1002, "allow", "tcp")], AmbiguousAcls, "disagree"),
    ([("pg_a", "from-lport", 1002, "allow-stateless", "ip4")], UnsupportedRows,
     "allow-stateless"),
    ([("pg_a", "from-lport", 1002, "drop", "inport == @pg_a && ip4 || tcp")], MatchError,
     "parenthesized"),
    # an invalid match on the way is an error even when another ACL decides first
    ([("pg_a", "from-lport", 1002, "drop", "ip4"),
      ("pg_a", "from-lport", 1, "drop", "ip4.src == $missing")], MatchError, "no address set"),
])
def test_refused_rows(acls, error, message):
    with pytest.raises(error, match=message):
        deliver(Northbound(network(acls)), "a", "b", Traffic("tcp", 22))


@pytest.mark.parametrize("table", ["Logical_Router_Policy", "QoS", "Forwarding_Group"])
def test_unmodelled_tables_are_refused(table):
    with pytest.raises(UnsupportedRows, match=table):
        Northbound(network(extra_tables=(table,)))


def test_unmodelled_tables_without_effect_are_ignored():
    nb = Northbound(network(extra_tables=("DHCP_Options", "NAT", "Load_Balancer")))
    assert deliver(nb, "a", "b", Traffic("tcp", 22)).allow


def test_ports_by_netc_key_and_their_addresses():
    rows = network()
    lsp = rows.get("Logical_Switch_Port", "lsp:a")
    lsp.columns["external_ids"] = {"netc:org": "acme", "netc:project": "web",
                                   "netc:port": "a"}
    assert str(port_addresses(rows)["acme/web/a"]) == "10.0.0.10"
    assert deliver(Northbound(rows), "acme/web/a", "b", Traffic("icmp")).allow
    with pytest.raises(LookupError):
        deliver(Northbound(rows), "acme/web/zz", "b", Traffic("icmp"))
