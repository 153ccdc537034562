"""The contract's YAML example (section 1.1), written in the DSL, is the same intent."""

import re
from pathlib import Path

from netc.diagnostics import Diagnostics
from netc.grammar.formatter import to_dsl
from netc.grammar.parser import load_dsl
from netc.intent.yaml_loader import load_yaml

CONTRACT_YAML = """\
org: acme                      # required; [a-z0-9][a-z0-9-]{0,62}
project: web                   # required; same characters
vpc:                           # optional
  name: main                   # default: the project name
  cidr: 10.1.0.0/16            # default: next free /16 of the pool (netc.toml)
subnets:                       # default: one subnet "default" = the first /24 of the VPC
  - name: default              # unique in the project
    cidr: 10.1.0.0/24          # must lie inside the VPC, must not overlap a sibling
    dhcp: true                 # default true: OVN answers DHCPv4 for its ports
    dns_servers: [8.8.8.8]     # default []
security_groups:               # "default" always exists unless declared here
  - name: web
    description: public web tier
    include: [base]            # optional: inherit the rules of other groups of this project
    ingress:
      - protocol: tcp          # tcp | udp | icmp | all   (default all)
        ports: [80, 443, "8000-8080"]   # tcp/udp only; default every port
        from: 0.0.0.0/0        # CIDR | sg:NAME | sg:ORG/PROJECT/NAME (peered project only)
    egress:
      - protocol: all
        to: 0.0.0.0/0          # same forms as "from"
ports:
  - name: web-1                # unique in the project
    subnet: default
    vm: vm-123                 # optional: absent = detached
    mac: "0a:58:0a:01:00:0a"   # optional: derived deterministically when absent
    ip: 10.1.0.10              # optional: allocated when absent
    security_groups: [web]     # default [default]
nat:
  snat:
    - external_ip: 203.0.113.10      # internal side: the VPC CIDR
  dnat:
    - external_ip: 203.0.113.10      # port forwarding
      external_port: 8080
      internal_ip: 10.1.0.10
      internal_port: 80
      protocol: tcp                  # tcp | udp
    - external_ip: 203.0.113.11      # no ports: 1:1, a floating IP
      internal_ip: 10.1.0.11
peerings: [acme/db]            # takes effect only when both projects list each other
"""

SAME_IN_DSL = """\
# The contract's YAML example, in the DSL.
project acme/web {
  vpc main 10.1.0.0/16
  subnet default 10.1.0.0/24 dns 8.8.8.8
  group web "public web tier" {
    include base
    ingress tcp 80, 443, 8000-8080 from 0.0.0.0/0
    egress all to 0.0.0.0/0
  }
  port web-1 on default vm vm-123 mac 0a:58:0a:01:00:0a ip 10.1.0.10 groups web
  snat 203.0.113.10
  dnat 203.0.113.10:8080 -> 10.1.0.10:80 tcp
  dnat 203.0.113.11 -> 10.1.0.11
  peer acme/db
}
"""

CONTRACT_DSL = """\
project acme/web {
  vpc main 10.1.0.0/16
  subnet default 10.1.0.0/24 dns 8.8.8.8
  group web {
    ingress tcp 80, 443, 8000-8080 from 0.0.0.0/0
    ingress tcp 22 from group admin
    egress all to 0.0.0.0/0
  }
  port web-1 on default vm vm-123 ip 10.1.0.10 groups web
  snat 203.0.113.10
  dnat 203.0.113.10:8080 -> 10.1.0.10:80 tcp
  dnat 203.0.113.11 -> 10.1.0.11
  peer acme/db
}
"""


def _load(loader, text, file):
    diagnostics = Diagnostics()
    documents = loader(text, file, diagnostics)
    assert list(diagnostics) == []
    return [d.project for d in documents]


def test_contract_yaml_example_and_its_dsl_form_are_one_intent():
    from_yaml = _load(load_yaml, CONTRACT_YAML, "web.yaml")
    assert _load(load_dsl, SAME_IN_DSL, "web.netc") == from_yaml
    assert to_dsl(from_yaml) == SAME_IN_DSL.split("\n", 1)[1]  # canonical, less the comment


def test_contract_dsl_example_is_canonical():
    projects = _load(load_dsl, CONTRACT_DSL, "web.netc")
    assert projects[0].security_groups[0].ingress[1].from_ == "sg:admin"
    assert to_dsl(projects) == CONTRACT_DSL


def test_dsl_examples_in_the_docs_load_clean():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "dsl.md").read_text()
    blocks = [b for b in re.findall(r"```\n(.*?)```", docs, re.S)
              if b.lstrip().startswith(("project", "#"))]
    assert blocks
    for block in blocks:
        assert _load(load_dsl, block, "docs.netc")
    group = next(b for b in re.findall(r"```\n(.*?)```", docs, re.S) if b.startswith("group"))
    assert _load(load_dsl, f"project a/b {{\n{group}}}", "docs.netc")
