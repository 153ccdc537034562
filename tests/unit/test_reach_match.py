"""The OVN match subset: what it accepts, what it refuses (as OVN does), what it means."""

from ipaddress import IPv4Address

import pytest

from netc.reach.ovn_match import MatchError, parse_match


class Names:
    address_sets = {"web": ["10.1.0.10", "10.2.0.0/24"], "empty": []}
    port_groups = {"pg_web": ["p1", "p2"]}

    def address_set(self, name):
        return self.address_sets.get(name)

    def port_group(self, name):
        return self.port_groups.get(name)


def tcp_packet(src="10.1.0.10", dst="10.1.0.20", dport=22, inport="p1", outport=""):
    return {"inport": inport, "outport": outport, "eth.type": 0x800, "ip.proto": 6,
            "ip.ttl": 64, "ip4.src": int(IPv4Address(src)), "ip4.dst": int(IPv4Address(dst)),
            "tcp.src": 49152, "tcp.dst": dport}


UDP = {**tcp_packet(), "ip.proto": 17, "udp.src": 49152, "udp.dst": 22}
ICMP = {**tcp_packet(), "ip.proto": 1, "icmp4.type": 8, "icmp4.code": 0}
TCP = tcp_packet()

MEANINGS = [
    # match, packet, expected
    ("1", TCP, True),
    ("0", TCP, False),
    ("ip4", TCP, True),
    ("ip", ICMP, True),
    ("tcp", UDP, False),
    ("icmp4", ICMP, True),
    ("icmp", TCP, False),
    ("tcp.dst == 22", TCP, True),
    ("22 == tcp.dst", TCP, True),
    ("tcp.dst == {80, 22}", TCP, True),
    ("tcp.dst == {80 443}", TCP, False),
    ("tcp.dst == {80, 443,}", TCP, False),
    ("tcp.dst != {80, 443}", TCP, True),
    ("tcp.dst != {80, 22}", TCP, False),
    # prerequisites are implied by a field, inside any enclosing "!"
    ("tcp.dst != 80", UDP, False),
    ("!(tcp.dst == 80)", UDP, True),
    ("udp.dst == 22", UDP, True),
    ("udp.dst == 22", TCP, False),
    ("20 <= tcp.dst <= 22", TCP, True),
    ("23 <= tcp.dst <= 30", TCP, False),
    ("tcp.dst > 21 && tcp.dst < 23", TCP, True),
    ("30 > tcp.dst > 22", TCP, False),
    ("ip4.src == 10.1.0.0/16", TCP, True),
    ("ip4.src == 10.1.0.0/255.255.0.0", TCP, True),
    ("ip4.src == 10.2.0.0/16", TCP, False),
    ("ip4.dst == 10.1.0.20", TCP, True),
    ("ip4.src == $web", TCP, True),
    ("ip4.dst == $web", TCP, False),
    ("ip4.dst == {$web, 10.1.0.20}", TCP, True),
    ("ip4.src == $empty", TCP, False),
    ("ip4.src != $empty", TCP, True),
    ("inport == @pg_web", TCP, True),
    ("inport == \"p1\"", TCP, True),
    ("inport == {\"p3\", \"p4\"}", TCP, False),
    ("outport == @pg_web", TCP, False),
    ("inport == @pg_web && ip4 && tcp.dst == 22", TCP, True),
    ("(tcp && tcp.dst == 80) || (udp && udp.dst == 22)", UDP, True),
    ("!(tcp.dst == 22 || tcp.dst == 80)", TCP, False),
]


@pytest.mark.parametrize("text,packet,expected",
                         MEANINGS)
def test_meaning(text, packet, expected):
    assert parse_match(text, Names()).evaluate(packet) is expected


REFUSED = [
    # OVN's own rules: OVN would store these and then never match them
    ("ip4 && tcp || udp", "parenthesized"),
    ("!tcp.dst == 80", "parentheses around a comparison"),
    ("!!ip4.src == 10.1.0.10", "parentheses around a comparison"),
    ("inport != \"p1\"", "only be tested for equality"),
    ("!(inport == \"p1\")", "only be tested for equality"),
    ("!(inport != \"p1\")", None),  # allowed: equality, once the ! is counted
    ("!ip4", "tested positively"),
    ("!(ip4 && tcp.dst == 1)", "tested positively"),
    ("ip4.src == 10.1.0.5/24", "1-bits outside its mask"),
    ("tcp.dst < {80, 90}", "one unmasked constant"),
    ("ip.proto < 6", "only be tested for equality"),
    ("tcp.dst", "explicit comparison"),
    ("tcp.dst == 70000", "does not fit"),
    ("inport == 5", "cannot be compared"),
    ("ip4.src == \"x\"", "cannot be compared"),
    ("tcp.dst == 80 <= 90", "unexpected"),
    ("80 <= tcp.dst >= 90", "same way"),
    ("2", "0 or 1"),
    # outside the modelled subset
    ("ip6.src == ::1", "unsupported"),
    ("ct.est", "unknown or unsupported symbol"),
    ("eth.src[40]", "unsupported syntax"),
    ("is_chassis_resident(\"p\")", "function"),
    ("ip4 // all of it", "comments"),
    ("ip4.src == $nope", "no address set"),
    ("inport == @nope", "no port group"),
    ("(ip4", "expected '\\)'"),
    ("tcp.dst == {80", "unterminated"),
    ("", "unexpected"),
]


@pytest.mark.parametrize("text,reason", REFUSED)
def test_refused(text, reason):
    if reason is None:
        parse_match(text, Names())
        return
    with pytest.raises(MatchError, match=reason):
        parse_match(text, Names())


def test_error_names_the_column():
    with pytest.raises(MatchError, match=r"column 12 in match 'ip4 && tcp \|\| udp'"):
        parse_match("ip4 && tcp || udp")
