"""``netc explain``'s smallest change: applied to the intent, it lets the connection pass.

On random worlds, for denied connections (across projects too), every fix is applied
to the intent model the way a person would edit the file (list the peer, add the port
to the rule, add the rule to the group, declaring an implicit ``default``), the world
is checked again (it must stay clean) and the reference must then allow the connection.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netc.cli import main
from netc.compiler.lower import compile_world
from netc.intent.model import EgressRule, IngressRule, Project, SecurityGroup
from netc.reach.fixes import smallest_fixes
from netc.reach.matrix import probes
from netc.reach.northbound import port_addresses
from netc.reach.reference import Reference
from netc.reach.traffic import Traffic
from tests.strategies import worlds
from tests.unit.test_reach_classes import world_of

COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])


def apply_fix(projects: list[Project], fix) -> list[Project]:
    by_key = {p.key: p for p in projects}
    project = by_key[fix.project]
    if fix.kind == "peering":
        other = fix.message.split()[1]
        project = project.model_copy(update={"peerings": sorted({*project.peerings, other})})
    else:
        name = fix.group.rpartition("/")[2]
        groups = list(project.security_groups)
        index = next((i for i, g in enumerate(groups) if g.name == name), None)
        if index is None:  # the implicit default: declared with its own two rules
            groups.append(SecurityGroup(name=name, ingress=[IngressRule.model_validate(
                {"protocol": "all", "from": "sg:default"})], egress=[EgressRule.model_validate(
                    {"protocol": "all", "to": "0.0.0.0/0"})]))
            index = len(groups) - 1
        group = groups[index]
        rules = list(getattr(group, fix.direction))
        if fix.kind == "add-port":
            rule = rules[fix.index]
            rules[fix.index] = rule.model_copy(update={"ports": [*rule.ports, int(
                fix.message.split()[2])]})
        else:
            kind = IngressRule if fix.direction == "ingress" else EgressRule
            rules.append(kind.model_validate(fix.rule))
        groups[index] = group.model_copy(update={fix.direction: rules})
        project = project.model_copy(update={"security_groups": groups})
    by_key[fix.project] = project
    return [by_key[p.key] for p in projects]


def just_outside(world):
    """Questions one port past a rule's range, between a member of its remote group and
    a member of its group: where widening that rule is the smallest change."""
    for group in world.groups():
        for rule in group.rules:
            if not (rule.ports and rule.remote and rule.remote.group):
                continue
            members, remotes = world.members(group.key), world.members(rule.remote.group)
            port = rule.ports[-1][1] + 1 if rule.ports[-1][1] < 65535 else rule.ports[0][0] - 1
            if not members or not remotes or not 0 < port < 65536:
                continue
            ends = (remotes[0].key, members[0].key) if rule.direction == "ingress" \
                else (members[0].key, remotes[0].key)
            if ends[0] != ends[1]:
                yield (*ends, Traffic(rule.protocol, port))


@st.composite
def ported_worlds(draw):
    """One or two peered projects whose groups hold tcp/udp rules with port ranges
    from other groups and CIDRs: where widening a rule is often the smallest change."""
    keys = ["acme/one", "acme/two"][:draw(st.integers(1, 2))]
    projects = []
    for index, key in enumerate(keys):
        org, name = key.split("/")
        groups = []
        for group in ("a", "b", "c"):
            rules = {"ingress": [], "egress": []}
            for direction in rules:
                for _ in range(draw(st.integers(0, 2))):
                    low = draw(st.integers(1, 65000))
                    remote = draw(st.sampled_from(["sg:a", "sg:b", "sg:c", "0.0.0.0/0",
                                                   f"10.{index + 1}.0.0/16"]))
                    rules[direction].append({
                        "protocol": draw(st.sampled_from(["tcp", "udp"])),
                        "ports": [f"{low}-{low + draw(st.integers(0, 20))}"],
                        "from" if direction == "ingress" else "to": remote})
            groups.append({"name": group, **rules})
        ports = [{"name": f"p{i}", "security_groups": draw(st.lists(
            st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2, unique=True))}
            for i in range(draw(st.integers(2, 4)))]
        projects.append(Project.model_validate({
            "org": org, "project": name, "vpc": {"cidr": f"10.{index + 1}.0.0/16"},
            "security_groups": groups, "ports": ports,
            "peerings": [k for k in keys if k != key] if draw(st.booleans()) else []}))
    if len(projects) == 2 and bool(projects[0].peerings) != bool(projects[1].peerings):
        projects[1] = projects[1].model_copy(update={"peerings": []})
        projects[0] = projects[0].model_copy(update={"peerings": []})
    return projects


@st.composite
def denied(draw, worlds_strategy=None):
    projects = draw(worlds_strategy if worlds_strategy is not None else
                    worlds().filter(lambda ps: sum(len(p.ports) for p in ps) >= 2))
    world = world_of(projects)
    reference = Reference(world, port_addresses(compile_world(world).rows))
    keys = sorted(port.key for port in world.ports())
    found = []
    kinds = probes(world)
    for _ in range(60):
        src, dst = draw(st.sampled_from(keys)), draw(st.sampled_from(keys))
        traffic = draw(st.sampled_from(kinds))
        if src != dst and not reference.decide(src, dst, traffic).allow:
            found.append((src, dst, traffic))
        if len(found) == 4:
            break
    found += [q for q in just_outside(world) if not reference.decide(*q).allow][:2]
    return projects, world, reference, found


@settings(max_examples=40, **COMMON)
@given(st.one_of(denied(), denied(ported_worlds())))
def test_the_fixes_let_the_connection_through(scenario):
    projects, world, reference, questions = scenario
    for src, dst, traffic in questions:
        fixes = smallest_fixes(world, reference, src, dst, traffic)
        assert fixes, f"{src} -> {dst} {traffic} is denied, yet nothing to change"
        assert len({f.kind for f in fixes if f.kind == "peering"}) <= 1
        assert len([f for f in fixes if f.kind != "peering"]) <= 2  # one per side at most
        fixed = projects
        for fix in fixes:
            fixed = apply_fix(fixed, fix)
        new_world = world_of(fixed)  # still checks clean
        new_reference = Reference(new_world, port_addresses(compile_world(new_world).rows))
        verdict = new_reference.decide(src, dst, traffic)
        assert verdict.allow, (f"{src} -> {dst} {traffic} after {[str(f) for f in fixes]}: "
                               f"{[str(r) for r in verdict.reasons]}")


INTENT = """\
org: acme
project: web
security_groups:
  - name: web
    ingress:
      - {protocol: tcp, ports: [80], from: "sg:admin"}
  - name: admin
    egress:
      - {protocol: tcp, ports: [80, 22], to: 10.0.0.0/8}
ports:
  - {name: web-1, security_groups: [web]}
  - {name: web-2, security_groups: [web]}
  - {name: bastion, security_groups: [admin]}
---
org: acme
project: db
ports:
  - {name: pg-1}
"""


def explain(tmp_path, monkeypatch, capsys, *argv):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "web.yaml").write_text(INTENT)
    assert main(["explain", str(tmp_path / "web.yaml"), *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_explain_widens_the_rule_that_already_fits(tmp_path, monkeypatch, capsys):
    out = explain(tmp_path, monkeypatch, capsys, "--from", "acme/web/bastion", "--to",
                  "acme/web/web-1", "--port", "22")
    assert out["verdict"] == "deny"
    assert [(f["kind"], f["group"], f["direction"], f["index"]) for f in out["fixes"]] == [
        ("add-port", "acme/web/web", "ingress", 0)]
    assert out["fixes"][0]["location"].endswith("web.yaml:6:9")
    assert out["fixes"][0]["opens"] == 2  # both web ports, from the one admin port


def test_explain_names_the_missing_peering_and_the_rules(tmp_path, monkeypatch, capsys):
    out = explain(tmp_path, monkeypatch, capsys, "--from", "acme/web/web-1", "--to",
                  "acme/db/pg-1", "--port", "5432")
    kinds = [(f["kind"], f["project"]) for f in out["fixes"]]
    assert kinds == [("peering", "acme/web"), ("peering", "acme/db"),
                     ("add-rule", "acme/web"), ("add-rule", "acme/db")]
    egress = out["fixes"][2]
    assert egress["rule"] == {"protocol": "tcp", "ports": [5432], "to": "sg:acme/db/default"}
    assert "declare it" in out["fixes"][3]["message"]  # db's default group is implicit


def test_explain_of_an_allowed_connection_names_every_allowing_rule(tmp_path, monkeypatch,
                                                                    capsys):
    out = explain(tmp_path, monkeypatch, capsys, "--from", "acme/web/bastion", "--to",
                  "acme/web/web-2", "--port", "80")
    assert out["verdict"] == "allow" and out["fixes"] == []
    assert [(r["kind"], r["group"]) for r in out["reasons"]] == [
        ("egress", "acme/web/admin"), ("ingress", "acme/web/web")]
    assert out["classes"] == ["acme/web/admin@default", "acme/web/web@default"]
