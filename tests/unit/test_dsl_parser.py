"""The DSL parser: values into the intent model, positions under YAML paths, defaults,
quoting, and syntax errors in words."""

import pytest

from netc.diagnostics import Code, Diagnostics
from netc.grammar.parser import load_dsl

SOURCE = """\
# positions below are (line, column) in this text
project acme/web {
  vpc main 10.1.0.0/16
  subnet default 10.1.0.0/24 dns 8.8.8.8, 1.1.1.1
  subnet db 10.1.1.0/24 nodhcp
  group web "public web tier" {
    include base
    ingress tcp 80, 8000-8080 from 0.0.0.0/0
    egress udp 53 to group acme/db/dns
  }
  port web-1 on db vm vm-123 mac 0a:58:0a:01:00:0a ip 10.1.1.10 groups web, base
  snat 203.0.113.10
  dnat 203.0.113.10:8080 -> 10.1.1.10:80 udp
  peer acme/db
}
project acme/db {}
"""

POSITIONS = [
    (("org",), (2, 9)),
    (("project",), (2, 14)),
    (("vpc", "name"), (3, 7)),
    (("vpc", "cidr"), (3, 12)),
    (("subnets", 0, "cidr"), (4, 18)),
    (("subnets", 0, "dns_servers", 1), (4, 43)),
    (("subnets", 1), (5, 3)),
    (("subnets", 1, "dhcp"), (5, 25)),
    (("security_groups", 0, "name"), (6, 9)),
    (("security_groups", 0, "description"), (6, 13)),
    (("security_groups", 0, "include", 0), (7, 13)),
    (("security_groups", 0, "ingress", 0), (8, 5)),
    (("security_groups", 0, "ingress", 0, "protocol"), (8, 13)),
    (("security_groups", 0, "ingress", 0, "ports", 1), (8, 21)),
    (("security_groups", 0, "ingress", 0, "from"), (8, 36)),
    (("security_groups", 0, "egress", 0, "to"), (9, 22)),
    (("ports", 0, "name"), (11, 8)),
    (("ports", 0, "subnet"), (11, 17)),
    (("ports", 0, "vm"), (11, 23)),
    (("ports", 0, "mac"), (11, 34)),
    (("ports", 0, "ip"), (11, 55)),
    (("ports", 0, "security_groups", 1), (11, 77)),
    (("nat", "snat", 0, "external_ip"), (12, 8)),
    (("nat", "dnat", 0, "external_port"), (13, 21)),
    (("nat", "dnat", 0, "internal_ip"), (13, 29)),
    (("nat", "dnat", 0, "protocol"), (13, 42)),
    (("peerings", 0), (14, 8)),
    # not written: the nearest written ancestor
    (("ports", 0, "subnet", "nothing"), (11, 17)),
    (("security_groups", 0, "ingress", 0, "ports", 7), (8, 17)),
]


def _load(text: str):
    diagnostics = Diagnostics()
    documents = load_dsl(text, "t.netc", diagnostics)
    return documents, [(d.code, d.line, d.column, d.message) for d in diagnostics]


def test_values_of_every_statement():
    documents, problems = _load(SOURCE)
    assert problems == []
    assert [d.project.key for d in documents] == ["acme/web", "acme/db"]
    web = documents[0].project
    assert (web.vpc.name, web.vpc.cidr) == ("main", "10.1.0.0/16")
    assert web.subnets[0].dns_servers == ["8.8.8.8", "1.1.1.1"]
    assert (web.subnets[0].dhcp, web.subnets[1].dhcp) == (True, False)
    group = web.security_groups[0]
    assert (group.description, group.include) == ("public web tier", ["base"])
    assert group.ingress[0].ports == [80, "8000-8080"]
    assert (group.egress[0].protocol, group.egress[0].to) == ("udp", "sg:acme/db/dns")
    port = web.ports[0]
    assert (port.subnet, port.vm, port.mac, port.ip) == ("db", "vm-123", "0a:58:0a:01:00:0a",
                                                         "10.1.1.10")
    assert port.security_groups == ["web", "base"]
    assert web.nat.dnat[0].model_dump() == {
        "external_ip": "203.0.113.10", "external_port": 8080, "internal_ip": "10.1.1.10",
        "internal_port": 80, "protocol": "udp"}
    assert web.peerings == ["acme/db"]


@pytest.mark.parametrize(("path", "position"), POSITIONS, ids=lambda v: ".".join(map(str, v))
                         if isinstance(v[0], str) else None)
def test_positions_are_keyed_by_yaml_paths(path, position):
    documents, _ = _load(SOURCE)
    where = documents[0].locate(*path)
    assert (where.file, where.line, where.column) == ("t.netc", *position)


@pytest.mark.parametrize(("statement", "field", "expected"), [
    # defaults: protocol all, remote 0.0.0.0/0, subnet "default"
    ("group g { ingress }", lambda p: p.security_groups[0].ingress[0].model_dump(by_alias=True),
     {"protocol": "all", "ports": None, "from": "0.0.0.0/0"}),
    ("group g { egress tcp 22 }", lambda p: p.security_groups[0].egress[0].to, "0.0.0.0/0"),
    ("group g { ingress tcp [] }", lambda p: p.security_groups[0].ingress[0].ports, []),
    ("port p", lambda p: (p.ports[0].subnet, p.ports[0].security_groups), ("default", [])),
    ("vpc 10.9.0.0/16", lambda p: (p.vpc.name, p.vpc.cidr), (None, "10.9.0.0/16")),
    ("vpc main", lambda p: (p.vpc.name, p.vpc.cidr), ("main", None)),
    ('vpc cidr "x"', lambda p: (p.vpc.name, p.vpc.cidr), (None, "x")),
    # keywords, digits and odd text as quoted values
    ('port "group" on "on" vm "VM 7/\\"x\\""', lambda p: (p.ports[0].name, p.ports[0].subnet,
                                                          p.ports[0].vm),
     ("group", "on", 'VM 7/"x"')),
    ("port 80 on 10-20", lambda p: (p.ports[0].name, p.ports[0].subnet), ("80", "10-20")),
    ('group g "caf\\u00e9\\n\\t" {}', lambda p: p.security_groups[0].description, "café\n\t"),
    ('group g { ingress from group "acme"/"db"/"all" }',
     lambda p: p.security_groups[0].ingress[0].from_, "sg:acme/db/all"),
    ('group g { ingress from "sg:web" }', lambda p: p.security_groups[0].ingress[0].from_,
     "sg:web"),
    ("peer acme/db peer a/b", lambda p: p.peerings, ["acme/db", "a/b"]),
    ("group g { include a, b include c }", lambda p: p.security_groups[0].include,
     ["a", "b", "c"]),
    # keywords are keywords only where the grammar takes them; words are read whole
    ("port port-1 on ports", lambda p: (p.ports[0].name, p.ports[0].subnet), ("port-1", "ports")),
])
def test_defaults_and_quoted_values(statement, field, expected):
    documents, problems = _load(f"project acme/web {{ {statement} }}")
    assert problems == []
    assert field(documents[0].project) == expected


@pytest.mark.parametrize(("statement", "expected"), [
    # lexable but wrong values reach the model as written, for the IR checks
    ("subnet s 10.1.0.5/24", lambda p: p.subnets[0].cidr == "10.1.0.5/24"),
    ("vpc main 300.1.0.0/99", lambda p: p.vpc.cidr == "300.1.0.0/99"),
    ("group g { ingress tcp 99999, 90-80, -1 }",
     lambda p: p.security_groups[0].ingress[0].ports == [99999, "90-80", -1]),
    ("group g { ingress tcp " + "9" * 5000 + " }",
     lambda p: p.security_groups[0].ingress[0].ports == ["9" * 5000]),
    ("port p mac 0a:58:zz mac2", None),
    ("port p ip 10.1.0", lambda p: p.ports[0].ip == "10.1.0"),
    ("group g { ingress icmp 80 }", lambda p: p.security_groups[0].ingress[0].ports == [80]),
])
def test_wrong_values_are_kept_for_the_checks(statement, expected):
    documents, problems = _load(f"project acme/web {{ {statement} }}")
    if expected is None:
        assert [p[0] for p in problems] == [Code.SYNTAX_ERROR]
    else:
        assert problems == []
        assert expected(documents[0].project)


SYNTAX_ERRORS = [
    # (text, line, column, words the message must hold)
    ("project acme/web {\n  vpc main\n", 3, 1,
     ["unexpected end of file", "'}' is missing", "line 1, column 18"]),
    ("project acme/web\n  vpc main\n}\n", 2, 3,
     ["unexpected 'vpc'", "expected '{'", "must follow the project name"]),
    ("project a/b {\n group g {\n  ingress tcp 8000..8080\n }\n}\n", 3, 19,
     ["character '.'", "low-high"]),
    ("org: acme\nproject: web\n", 1, 1, ["looks like YAML", "netc fmt --to dsl"]),
    ("project a/b {\n group g {\n  ingress tcp 22 from\n }\n}\n", 4, 2,
     ["unexpected '}'", "need a value"]),
    ("project a/b { group g { egress to web } }", 1, 35, ["'from group web'"]),
    ("project a/b {\n  subnets default 10.0.0.0/24\n}\n", 2, 3,
     ["unexpected 'subnets'", "did you mean 'subnet'?", "'port'"]),
    ("project a/b { portx p }", 1, 15, ["did you mean 'port'?"]),
    ("project a/b { group g { ingress tcp 80 form 10.0.0.0/8 } }", 1, 40,
     ["did you mean 'from'?"]),
    ("projekt a/b {}", 1, 1, ["did you mean 'project'?"]),
    ("project a/b { } }", 1, 17, ["expected one of 'expect', 'project' or the end of the file"]),
    ("project a/b { dnat 203.0.113.11 => 10.1.0.2 }", 1, 33, ["'->' or ':'"]),
    ('project a/b { group g "bad \\q" {} }', 1, 23, ["bad escape"]),
    ('project a/b { group g "\\ud800" {} }', 1, 23, ["lone surrogate"]),
    ("project a/b { \x00 }", 1, 15, ["character '\\x00'"]),
    ("\ufeffproject a/b {}", 1, 1, ["character '\\ufeff'"]),
]


@pytest.mark.parametrize(("text", "line", "column", "words"), SYNTAX_ERRORS)
def test_syntax_errors_in_words(text, line, column, words):
    documents, problems = _load(text)
    assert documents == []
    assert [(code, at_line, at_column) for code, at_line, at_column, _ in problems] == [
        (Code.SYNTAX_ERROR, line, column)]
    for word in words:
        assert word in problems[0][3]


def test_schema_errors_point_at_the_value():
    _, problems = _load("project acme/web {\n  port Web-1 ip 10.1.0.9 ip 10.1.0.8\n"
                        "  dnat 1.2.3.4:80 -> 10.1.0.9:80 icmp\n}\n")
    assert [(code, line, column) for code, line, column, _ in problems] == [
        (Code.SCHEMA_ERROR, 2, 8), (Code.SCHEMA_ERROR, 2, 26), (Code.SCHEMA_ERROR, 3, 34)]
    assert "written twice" in problems[1][3]
    assert "'icmp' is not allowed" in problems[2][3]


def test_one_to_one_dnat_has_no_ports():
    documents, problems = _load("project acme/web {\n  dnat 203.0.113.11 -> 10.1.0.11\n"
                                "  dnat 203.0.113.12 -> \"10.1.0.12\" udp\n}\n")
    assert problems == []
    first, second = documents[0].project.nat.dnat
    assert first.model_dump() == {"external_ip": "203.0.113.11", "external_port": None,
                                  "internal_ip": "10.1.0.11", "internal_port": None,
                                  "protocol": "tcp"}
    assert first.one_to_one and not first.protocol_written
    assert (second.internal_ip, second.protocol, second.protocol_written) == (
        "10.1.0.12", "udp", True)  # kept, for the checks to refuse
    locate = documents[0].locate
    assert [(locate("nat", "dnat", i, field).line, locate("nat", "dnat", i, field).column)
            for i, field in ((0, "external_ip"), (0, "internal_ip"), (1, "protocol"))] == [
        (2, 8), (2, 24), (3, 36)]


def test_one_bad_project_does_not_hide_the_others():
    documents, problems = _load("project acme/A {}\nproject acme/b {}\n")
    assert [d.project.key for d in documents] == ["acme/b"]
    assert [(code, line, column) for code, line, column, _ in problems] == [
        (Code.SCHEMA_ERROR, 1, 14)]
