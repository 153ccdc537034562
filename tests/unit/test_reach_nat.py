"""NAT in the reachability model (contract 2.8): ``netc explain`` with an external host
at one end, the external edges of ``netc verify``, and the compiled NAT rows held to
the intent (a compiler bug in NAT shows as a disagreement).

The cases are data: each question, its verdict and the kinds of reason that decide it.
"""

import json

import pytest

import netc.reach.matrix as matrix_module
from netc.cli import main

INTENT = """\
org: acme
project: edge
vpc: {cidr: 10.40.0.0/16}
subnets: [{name: default, cidr: 10.40.0.0/24}]
security_groups:
  - name: app
    ingress:
      - {protocol: tcp, ports: [80], from: 0.0.0.0/0}
    egress:
      - {protocol: tcp, ports: [9000], to: 0.0.0.0/0}
  - name: fip
    ingress:
      - {protocol: tcp, ports: [2222], from: 198.51.100.0/24}
    egress:
      - {protocol: tcp, ports: [9000], to: 0.0.0.0/0}
ports:
  - {name: app-1, ip: 10.40.0.10, security_groups: [app]}
  - {name: fip-1, ip: 10.40.0.11, security_groups: [fip]}
  - {name: worker, ip: 10.40.0.12}
nat:
  snat: [{external_ip: 203.0.113.10}]
  dnat:
    - {external_ip: 203.0.113.10, external_port: 8080, internal_ip: 10.40.0.10,
       internal_port: 80, protocol: tcp}
    - {external_ip: 203.0.113.11, internal_ip: 10.40.0.11}
---
org: acme
project: closed
vpc: {cidr: 10.41.0.0/16}
security_groups:
  - name: open
    ingress: [{protocol: all, from: 0.0.0.0/0}]
    egress: [{protocol: all, to: 0.0.0.0/0}]
ports:
  - {name: open-1, ip: 10.41.0.10, security_groups: [open]}
"""

CONFIG = """\
[external]
cidr = "203.0.113.0/24"
gateway_ip = "203.0.113.1"
gateway_chassis = ["chassis-1"]
"""


@pytest.fixture
def intent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "netc.toml").write_text(CONFIG)
    (tmp_path / "intent.yaml").write_text(INTENT)
    return str(tmp_path / "intent.yaml")


HOST, OTHER_HOST = "external:198.51.100.7", "external:192.0.2.7"
CASES = [
    # (from, to, traffic, verdict, reason kinds, fix kinds)
    (HOST, "acme/edge/app-1", "tcp/80", "allow", ["dnat", "ingress"], []),  # port forwarding
    (HOST, "acme/edge/app-1", "tcp/8080", "deny", ["no-dnat", "no-ingress"],
     ["add-dnat", "add-rule"]),  # the external port is not the internal one
    (HOST, "acme/edge/fip-1", "tcp/2222", "allow", ["dnat", "ingress"], []),  # floating IP
    (OTHER_HOST, "acme/edge/fip-1", "tcp/2222", "deny", ["dnat", "no-ingress"],
     ["add-rule"]),  # the groups decide: 192.0.2.7 is outside the rule's CIDR
    (HOST, "acme/edge/fip-1", "icmp", "deny", ["dnat", "no-ingress"], ["add-rule"]),
    (HOST, "acme/edge/worker", "tcp/80", "deny", ["no-dnat", "no-ingress"],
     ["add-dnat", "add-rule"]),  # no DNAT toward it, and default admits only sg:default
    (HOST, "acme/closed/open-1", "tcp/22", "deny", ["no-dnat", "ingress"], ["add-dnat"]),
    ("acme/edge/worker", HOST, "tcp/443", "allow", ["egress", "snat"], []),  # SNAT
    ("acme/edge/fip-1", HOST, "tcp/9000", "allow", ["egress", "floating-ip"], []),
    ("acme/edge/fip-1", HOST, "tcp/22", "deny", ["no-egress", "floating-ip"], ["add-rule"]),
    ("acme/edge/app-1", HOST, "udp/53", "deny", ["no-egress", "snat"], ["add-rule"]),
    ("acme/closed/open-1", HOST, "tcp/22", "deny", ["egress", "no-nat"], ["add-snat"]),
]


def explain(src: str, dst: str, traffic: str, *extra: str) -> list[str]:
    protocol, _, port = traffic.partition("/")
    return ["explain", "--from", src, "--to", dst, "--protocol", protocol,
            *(["--port", port] if port else []), *extra]


@pytest.mark.parametrize("src,dst,traffic,verdict,kinds,fixes", CASES,
                         ids=[f"{c[0]}->{c[1]}:{c[2]}" for c in CASES])
def test_explain_external_json(intent, capsys, src, dst, traffic, verdict, kinds, fixes):
    argv = explain(src, dst, traffic, "--format", "json")
    assert main([argv[0], intent, *argv[1:]]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert set(out) == {"verdict", "reasons", "classes", "fixes"}
    assert out["verdict"] == verdict
    assert [r["kind"] for r in out["reasons"]] == kinds
    assert [f["kind"] for f in out["fixes"]] == fixes
    nat = [r for r in out["reasons"] if r["kind"] in ("dnat", "snat", "floating-ip")]
    assert all(r["location"].startswith(intent) for r in nat)  # the NAT entry, file:line:col
    port = dst if src.startswith("external:") else src
    assert out["classes"][1 if src.startswith("external:") else 0].startswith(
        port.rpartition("/")[0] + "/")
    assert "disagree" not in captured.err  # the compiled NAT rows and ACLs say the same


def test_explain_external_text(intent, capsys):
    argv = explain(HOST, "acme/edge/app-1", "tcp/80")
    assert main([argv[0], intent, *argv[1:]]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"allow: {HOST} -> acme/edge/app-1 tcp/80"
    assert out[1].startswith("  through port forwarding 203.0.113.10:8080/tcp -> "
                             "10.40.0.10:80 of acme/edge (")


@pytest.mark.parametrize("src,dst,message", [
    ("external:10.40.0.12", "acme/edge/app-1", "inside the VPC 10.40.0.0/16 of acme/edge"),
    ("external:nonsense", "acme/edge/app-1", "expected external:IP"),
    (HOST, OTHER_HOST, "both ends are external hosts"),
    ("external:127.0.0.1", "acme/edge/app-1", "loopback range"),
    ("acme/closed/open-1", "external:203.0.113.11", "is a NAT address of acme/edge"),
])
def test_explain_external_errors(intent, capsys, src, dst, message):
    argv = explain(src, dst, "tcp/80")
    assert main([argv[0], intent, *argv[1:]]) == 1
    assert message in capsys.readouterr().err


def test_verify_shows_the_external_edges(intent, capsys):
    assert main(["verify", intent]) == 0
    out = capsys.readouterr().out
    assert "external -> acme/edge: tcp/80, tcp/2222\n" in out
    assert ("  external:198.51.100.0/24 -> fip@default (fip-1): tcp/2222 via floating IP "
            "203.0.113.11 -> 10.40.0.11 (1:1 DNAT)\n") in out
    assert ("  default@default (worker) -> external: ip from SNAT 203.0.113.10 of "
            "acme/edge\n") in out
    assert "acme/closed -> external" not in out and "external -> acme/closed" not in out


def test_verify_json_and_dot_have_the_external_edges(intent, capsys):
    assert main(["verify", intent, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["agree"] and report["external_questions"] > 0
    edges = {(e["from"], e["to"], e["nat"]["kind"]): e for e in report["external"]}
    forward = edges[("external", "acme/edge/app@default", "port-forwarding")]
    assert forward["traffic"] == ["tcp/80"]
    assert (forward["nat"]["external_ip"], forward["nat"]["external_port"],
            forward["nat"]["internal_port"]) == ("203.0.113.10", 8080, 80)
    assert forward["region"] == {"id": "external", "project": "acme/edge", "sample": "1.0.0.0"}
    assert ("acme/edge/fip@default", "external", "floating-ip") in edges
    assert main(["verify", intent, "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert '"external:198.51.100.0/24" [shape=ellipse];' in dot
    assert '"external" -> "acme/edge/app@default" [label="tcp/80 (port forwarding' in dot


def _broken_compile(monkeypatch, damage):
    compile_world = matrix_module.compile_world

    def broken(world, **kwargs):
        compilation = compile_world(world, **kwargs)
        damage(compilation.rows.tables)
        return compilation
    monkeypatch.setattr(matrix_module, "compile_world", broken)


def _wrong_internal_port(tables):
    balancer = tables["Load_Balancer"]["lb:acme/edge:tcp"]
    balancer.columns["vips"] = {"203.0.113.10:8080": "10.40.0.10:81"}


def _wrong_external_port(tables):
    balancer = tables["Load_Balancer"]["lb:acme/edge:tcp"]
    balancer.columns["vips"] = {"203.0.113.10:8081": "10.40.0.10:80"}


def _snat_for_everyone(tables):
    """A floating IP written as a dnat row only: its port's own traffic leaves from
    the project's SNAT address instead of the floating IP."""
    tables["NAT"]["dnat:acme/edge:203.0.113.11"].columns["type"] = "dnat"


def _no_gateway_chassis(tables):
    """OVN applies no NAT on a router without a distributed gateway port."""
    tables["Logical_Router_Port"]["lrp-gw:acme/edge"].columns["gateway_chassis"] = []


@pytest.mark.parametrize("damage,expected", [
    (_wrong_internal_port, {("external:1.0.0.0", "acme/edge/app-1", "tcp/80", "allow", "deny")}),
    (_wrong_external_port, {("external:1.0.0.0", "acme/edge/app-1", "tcp/80", "allow", "deny"),
                            ("external:1.0.0.0", "acme/edge/app-1", "tcp/80", "deny", "allow")}),
    (_snat_for_everyone, {("acme/edge/fip-1", "external:1.0.0.0", "tcp/9000", "allow", "deny")}),
    (_no_gateway_chassis, {("external:1.0.0.0", "acme/edge/app-1", "tcp/80", "allow", "deny"),
                           ("acme/edge/worker", "external:1.0.0.0", "tcp", "allow", "deny")}),
], ids=["internal port", "external port", "floating IP source", "no gateway chassis"])
def test_verify_finds_a_nat_row_that_does_not_mean_the_intent(intent, capsys, monkeypatch,
                                                              damage, expected):
    _broken_compile(monkeypatch, damage)
    assert main(["verify", intent, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["agree"]
    found = {(d["from"], d["to"], d["traffic"], d["intent"], d["rows"])
             for d in report["disagreements"]}
    assert expected <= found
    assert main(["verify", intent]) == 1
    assert "DISAGREE " in capsys.readouterr().out


def test_a_floating_ip_on_the_router_address_answers_pings_itself(tmp_path, monkeypatch,
                                                                  capsys):
    """A project whose NAT is only a floating IP: the gateway port holds that address,
    and ovn-northd answers an ICMP echo to a router address itself (lr_in_ip_input,
    before DNAT; seen with ovn-trace): the port behind it never gets the ping that the
    intent lets through. The rows model says so, and verify reports it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "netc.toml").write_text(CONFIG)
    (tmp_path / "f.yaml").write_text("""\
org: acme
project: fonly
vpc: {cidr: 10.50.0.0/16}
security_groups:
  - name: open
    ingress: [{protocol: all, from: 0.0.0.0/0}]
    egress: [{protocol: all, to: 0.0.0.0/0}]
ports:
  - {name: f-1, ip: 10.50.0.10, security_groups: [open]}
nat:
  dnat: [{external_ip: 203.0.113.30, internal_ip: 10.50.0.10}]
""")
    argv = explain(HOST, "acme/fonly/f-1", "icmp")
    assert main([argv[0], "f.yaml", *argv[1:]]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("allow:")
    assert "the compiled rows disagree" in captured.err and "does not carry icmp" in captured.err
    argv = explain(HOST, "acme/fonly/f-1", "tcp/22")
    assert main([argv[0], "f.yaml", *argv[1:]]) == 0
    assert "disagree" not in capsys.readouterr().err
    assert main(["verify", "f.yaml", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {(d["traffic"], d["intent"], d["rows"]) for d in report["disagreements"]} == {
        ("icmp", "allow", "deny")}
