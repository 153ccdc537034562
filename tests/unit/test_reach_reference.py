"""The reference evaluator: contract section 2, question by question."""

from ipaddress import IPv4Address

import pytest

from netc.config import Settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_documents
from netc.intent.yaml_loader import load_yaml
from netc.reach.reference import MissingAddress, UnknownPort, decide

WORLD = """\
org: acme
project: web
vpc: {cidr: 10.1.0.0/16}
subnets:
  - {name: front, cidr: 10.1.0.0/24}
  - {name: back, cidr: 10.1.1.0/24}
security_groups:
  - name: base
    egress:
      - {protocol: icmp, to: 0.0.0.0/0}
  - name: web
    include: [base]
    ingress:
      - {protocol: tcp, ports: [80, "8000-8080"], from: 0.0.0.0/0}
      - {protocol: tcp, ports: [22], from: "sg:admin"}
    egress:
      - {protocol: tcp, ports: [5432], to: "sg:acme/db/sql"}
  - name: admin
    egress:
      - {protocol: tcp, to: 10.1.0.0/24}
ports:
  - {name: web-1, subnet: front, ip: 10.1.0.10, security_groups: [web]}
  - {name: web-2, subnet: back, ip: 10.1.1.10, security_groups: [web]}
  - {name: bastion, subnet: back, ip: 10.1.1.5, security_groups: [admin]}
  - {name: plain, subnet: front, ip: 10.1.0.20}
  - {name: plain-2, subnet: back}
peerings: [acme/db, acme/lonely]
---
org: acme
project: db
vpc: {cidr: 10.2.0.0/16}
security_groups:
  - name: sql
    ingress:
      - {protocol: tcp, ports: [5432], from: "sg:acme/web/web"}
ports:
  - {name: pg-1, ip: 10.2.0.10, security_groups: [sql]}
  - {name: other, ip: 10.2.0.11}
peerings: [acme/web]
---
org: acme
project: lonely
vpc: {cidr: 10.3.0.0/16}
security_groups:
  - name: open
    ingress: [{protocol: all}]
    egress: [{protocol: all}]
ports:
  - {name: l-1, ip: 10.3.0.10, security_groups: [open]}
---
org: other
project: web
vpc: {cidr: 10.4.0.0/16}
ports:
  - {name: web-1, ip: 10.4.0.10}
  - {name: web-2, ip: 10.4.0.11}
"""


@pytest.fixture(scope="module")
def world():
    out = Diagnostics()
    result = check_documents(load_yaml(WORLD, "world.yaml", out), Settings(), out)
    errors = [d.render() for d in out if d.is_error]
    assert not errors
    return result.world


CASES = [
    # src, dst, protocol, port, allow, reason kinds
    ("acme/web/bastion", "acme/web/web-1", "tcp", 22, True, ["egress", "ingress"]),
    ("acme/web/bastion", "acme/web/web-2", "tcp", 22, False, ["no-egress", "ingress"]),
    ("acme/web/bastion", "acme/web/web-1", "tcp", 23, False, ["egress", "no-ingress"]),
    ("acme/web/plain", "acme/web/web-1", "tcp", 8080, True, ["egress", "ingress"]),
    ("acme/web/plain", "acme/web/web-1", "tcp", 8081, False, ["egress", "no-ingress"]),
    ("acme/web/plain", "acme/web/web-1", "udp", 80, False, ["egress", "no-ingress"]),
    # default group: ingress only from itself, egress anywhere
    ("acme/web/plain", "acme/web/plain-2", "udp", 53, True, ["egress", "ingress"]),
    ("acme/web/web-1", "acme/web/plain", "icmp", None, False, ["egress", "no-ingress"]),
    # include copies rules (icmp egress comes from base), membership does not change
    ("acme/web/web-1", "acme/web/web-2", "icmp", None, False, ["egress", "no-ingress"]),
    ("acme/web/web-1", "acme/web/web-2", "tcp", 80, False, ["no-egress", "ingress"]),
    # peered projects, sg: remotes across them
    ("acme/web/web-1", "acme/db/pg-1", "tcp", 5432, True, ["peered", "egress", "ingress"]),
    ("acme/web/web-2", "acme/db/pg-1", "tcp", 5432, True, ["peered", "egress", "ingress"]),
    ("acme/web/plain", "acme/db/pg-1", "tcp", 5432, False, ["peered", "egress", "no-ingress"]),
    ("acme/web/web-1", "acme/db/other", "tcp", 5432, False,
     ["peered", "no-egress", "no-ingress"]),
    # one-sided peering isolates, whatever the groups say
    ("acme/web/plain", "acme/lonely/l-1", "tcp", 80, False, ["isolated"]),
    ("acme/lonely/l-1", "acme/web/web-1", "tcp", 80, False, ["isolated"]),
    # so does another organization, even with the same names
    ("other/web/web-1", "acme/web/web-1", "tcp", 80, False, ["isolated"]),
    ("other/web/web-1", "other/web/web-2", "47", None, True, ["egress", "ingress"]),
]


@pytest.mark.parametrize("src,dst,protocol,port,allow,kinds", CASES)
def test_verdicts(world, src, dst, protocol, port, allow, kinds):
    verdict = decide(world, src, dst, protocol, port)
    assert verdict.allow is allow
    assert [r.kind for r in verdict.reasons] == kinds


def test_reasons_name_rules_and_positions(world):
    verdict = decide(world, "acme/web/bastion", "acme/web/web-1", "tcp", 22)
    egress, ingress = verdict.reasons
    assert (egress.group, egress.direction, egress.index) == ("acme/web/admin", "egress", 0)
    assert egress.location == "world.yaml:20:9"
    assert (ingress.group, ingress.index) == ("acme/web/web", 1)
    assert ingress.message == "ingress rule 1 of acme/web/web: tcp 22 from sg:acme/web/admin"
    included = decide(world, "acme/web/web-1", "acme/web/plain", "icmp").reasons[0]
    assert included.message.startswith("egress rule 0 of acme/web/base, included by acme/web/web")
    isolated = decide(world, "acme/web/plain", "acme/lonely/l-1", "icmp").reasons[0]
    assert "only acme/web lists acme/lonely" in isolated.message
    assert decide(world, "acme/web/plain", "acme/web/plain-2", "icmp").to_json() == {
        "verdict": "allow", "reasons": [
            {"kind": "egress", "group": "acme/web/default", "direction": "egress", "index": 0,
             "location": "world.yaml:2:10",
             "message": "egress rule 0 of acme/web/default: all to 0.0.0.0/0 "
                        "[implicit default group]"},
            {"kind": "ingress", "group": "acme/web/default", "direction": "ingress", "index": 0,
             "location": "world.yaml:2:10",
             "message": "ingress rule 0 of acme/web/default: all from sg:acme/web/default "
                        "[implicit default group]"}]}


def test_allocated_addresses(world):
    # admin's egress is a CIDR rule: plain-2 has no IP until the IPAM gives it one
    with pytest.raises(MissingAddress, match="acme/web/plain-2"):
        decide(world, "acme/web/bastion", "acme/web/plain-2", "tcp", 22)
    inside = {"acme/web/plain-2": IPv4Address("10.1.0.30")}
    outside = {"acme/web/plain-2": IPv4Address("10.1.1.30")}
    assert decide(world, "acme/web/bastion", "acme/web/plain-2", "tcp", 22, inside) \
        .reasons[0].kind == "egress"
    assert decide(world, "acme/web/bastion", "acme/web/plain-2", "tcp", 22, outside) \
        .reasons[0].kind == "no-egress"


def test_bad_questions(world):
    with pytest.raises(UnknownPort):
        decide(world, "acme/web/nope", "acme/web/web-1", "tcp", 22)
    with pytest.raises(ValueError, match="needs a destination port"):
        decide(world, "acme/web/plain", "acme/web/web-1", "tcp")
    with pytest.raises(ValueError, match="has no ports"):
        decide(world, "acme/web/plain", "acme/web/web-1", "icmp", 5)
    with pytest.raises(ValueError, match="by its name"):
        decide(world, "acme/web/plain", "acme/web/web-1", "6", 5)
