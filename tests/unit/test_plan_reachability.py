"""What a plan says it opens and closes: golden plans, and agreement with ``verify``.

- Golden cases (tests/golden/plan-reachability/CASE/): ``before/`` is compiled into
  the snapshot the plan is computed against, ``drift.json`` (if any) edits that
  snapshot as someone behind netc's back would (rows deleted, columns set, references
  removed), and ``after/`` (else ``before/``) is
  the intent planned, with the case's ``netc.toml`` if it has one. ``plan.txt`` and ``plan.json`` are what ``netc plan --against``
  prints (``pytest --update-golden`` rewrites them for review).
- The reachability the plan reports is exactly the difference of what ``netc
  verify`` states for the intent before and after, between ports and between ports
  and the external regions the plan names (through NAT): on every golden case without
  drift, and on random worlds with a random edit (hypothesis).
- ``--format dot`` read back by Graphviz's own ``dot``: its edges are the JSON plan's.
"""

from __future__ import annotations

import json
from collections import defaultdict
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from netc.app.offline import plan_against
from netc.backends.diff import diff_rows
from netc.backends.dryrun.snapshot import parse_snapshot
from netc.cli import main
from netc.compiler.lower import allocations_in, compile_world
from netc.config import Settings, load_settings
from netc.diagnostics import Diagnostics
from netc.frontend import check_documents, check_paths
from netc.intent.source import Document, PositionTable
from netc.reach.changes import ReachChanges, plan_reachability
from netc.reach.classes import ClassModel
from netc.reach.northbound import port_addresses
from netc.reach.traffic import Traffic
from netc.reach.trafficset import TrafficSet
from tests.conftest import GOLDEN
from tests.graphviz import graphviz
from tests.golden_files import assert_golden
from tests.strategies import WORLD_SETTINGS, worlds
from tests.unit.test_reach_nat_properties import router_answers_itself

ICMP = TrafficSet(icmp=True)

CASES = GOLDEN / "plan-reachability"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())
PairTraffic = dict[tuple[str, str], TrafficSet]


def config(case: Path) -> list[str]:
    """``--config`` with the case's netc.toml (an external network for NAT), if any."""
    return ["--config", str(case / "netc.toml")] if (case / "netc.toml").exists() else []


def case_settings(case: Path) -> Settings:
    if not (case / "netc.toml").exists():
        return Settings()
    diagnostics = Diagnostics()
    found = load_settings(str(case / "netc.toml"), diagnostics)
    assert not diagnostics.has_errors, [d.render() for d in diagnostics]
    return found


def snapshot(case: Path, out: Path) -> Path:
    """The compile of ``before/``, with ``drift.json``'s edits made to it."""
    path = out / "snapshot.json"
    assert main(["compile", *config(case), str(case / "before"), "--format", "json",
                 "-o", str(path)]) == 0
    drift = case / "drift.json"
    if drift.exists():
        document = json.loads(path.read_text())
        for edit in json.loads(drift.read_text())["edits"]:
            _edit(document["tables"], edit)
        path.write_text(json.dumps(document))
    return path


def _edit(tables: dict[str, list[dict]], edit: dict) -> None:
    rows = tables[edit["table"]]
    row = next(r for r in rows if r["external_ids"]["netc:key"] == edit["key"])
    if edit.get("delete"):
        rows.remove(row)
        for table in tables.values():  # and every reference to it (by netc:key)
            for other in table:
                for column, value in other.items():
                    if isinstance(value, list) and edit["key"] in value:
                        other[column] = [v for v in value if v != edit["key"]]
    row.update(edit.get("set", {}))
    for column, values in edit.get("remove", {}).items():
        row[column] = [v for v in row[column] if v not in values]


def planned(case: Path) -> Path:
    return case / "after" if (case / "after").is_dir() else case / "before"


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_golden_plan_with_reachability(case, tmp_path, capsys, update_golden):
    against = snapshot(case, tmp_path)
    capsys.readouterr()
    for form, name in (("text", "plan.txt"), ("json", "plan.json")):
        assert main(["plan", *config(case), str(planned(case)), "--against", str(against),
                     "--format", form]) == 0
        assert_golden(case / name, capsys.readouterr().out, update_golden)
    text = (case / "plan.txt").read_text()
    assert "Reachability: " in text and text.rstrip().splitlines()[-1].startswith("Plan: ")


# -- agreement with verify --------------------------------------------------------

def intent_matrix(world, rows, regions: dict[str, str]) -> PairTraffic:
    """What ``verify`` states, port pair by port pair, and between each port and each
    of ``regions`` (name -> sample host) through NAT."""
    model = ClassModel(world, port_addresses(rows))
    found: PairTraffic = {}
    for pair in model.matrix():
        for src in pair.src.ports:
            for dst in pair.dst.ports:
                if src != dst:
                    found[(src, dst)] = pair.traffic
    for cls in model.classes:
        for name, host in regions.items():
            region = model.region_of(cls.project, IPv4Address(host))
            inbound = TrafficSet.nothing()
            for _, traffic in model.inbound(region, cls):
                inbound = inbound | traffic
            if router_answers_itself(world, cls.ports[0], Traffic("icmp")):
                inbound = inbound - ICMP  # the router answers pings to its own address
            outbound = model.outbound(cls, region)[1]
            for port in cls.ports:
                found.update({pair: traffic for pair, traffic in
                              (((name, port), inbound), ((port, name), outbound)) if traffic})
    return found


def by_pair(edges) -> PairTraffic:
    found: PairTraffic = defaultdict(TrafficSet.nothing)
    for edge in edges:
        for src in edge.sources:
            for dst in edge.targets:
                if src != dst:
                    found[(src, dst)] = found[(src, dst)] | edge.traffic
    return dict(found)


def assert_agrees(reach: ReachChanges, before: PairTraffic, after: PairTraffic) -> None:
    nothing = TrafficSet.nothing()
    pairs = set(before) | set(after)
    expected_open = {p: t for p in pairs if (t := after.get(p, nothing) - before.get(p, nothing))}
    expected_close = {p: t for p in pairs if (t := before.get(p, nothing) - after.get(p, nothing))}
    assert not reach.unsupported
    assert by_pair(reach.opened) == expected_open
    assert by_pair(reach.closed) == expected_close


@pytest.mark.parametrize("case", [c for c in CASE_DIRS if not (c / "drift.json").exists()],
                         ids=lambda p: p.name)
def test_plan_reachability_is_the_difference_of_verify(case, tmp_path):
    settings_ = case_settings(case)
    diagnostics = Diagnostics()
    before = check_paths([str(case / "before")], settings_, diagnostics)
    before_rows = compile_world(before.world).rows
    offline = plan_against([str(planned(case))], settings_, str(snapshot(case, tmp_path)),
                           False, diagnostics)
    assert offline is not None, [d.render() for d in diagnostics]
    reach = plan_reachability(offline.actual, offline.plan.changes)
    assert reach, "every golden case changes reachability"
    after_world = check_paths([str(planned(case))], settings_, Diagnostics()).world
    assert_agrees(reach, intent_matrix(before.world, before_rows, reach.regions),
                  intent_matrix(after_world, offline.compilation.rows, reach.regions))


def checked(projects):
    documents = [Document(p, PositionTable(f"{p.org}.{p.project}.yaml", {})) for p in projects]
    return check_documents(documents, WORLD_SETTINGS, Diagnostics())


@st.composite
def edited_worlds(draw):
    """A random world, and the same world with one rule, one port or one NAT entry taken
    away, or a rule's ports changed."""
    projects = draw(worlds())
    index = draw(st.integers(0, len(projects) - 1))
    project = projects[index]
    kind = draw(st.sampled_from(["drop rule", "drop port", "rule ports", "drop nat"]))
    if kind == "drop nat":
        entries = [(side, i) for side in ("snat", "dnat")
                   for i in range(len(getattr(project.nat, side)))]
        assume(entries)
        side, victim = draw(st.sampled_from(entries))
        kept = [e for i, e in enumerate(getattr(project.nat, side)) if i != victim]
        edited = project.model_copy(update={"nat": project.nat.model_copy(update={side: kept})})
    elif kind == "drop port":
        assume(project.ports)
        victim = draw(st.integers(0, len(project.ports) - 1))
        edited = project.model_copy(update={"ports": [p for i, p in enumerate(project.ports)
                                                      if i != victim]})
    else:
        rules = [(g, side, i) for g, group in enumerate(project.security_groups)
                 for side in ("ingress", "egress")
                 for i in range(len(getattr(group, side)))]
        assume(rules)
        g, side, i = draw(st.sampled_from(rules))
        group = project.security_groups[g]
        listed = list(getattr(group, side))
        if kind == "drop rule":
            del listed[i]
        else:
            low = draw(st.integers(1, 65000))
            listed[i] = listed[i].model_copy(update={"ports": [low, f"{low + 1}-{low + 9}"]})
        groups = list(project.security_groups)
        groups[g] = group.model_copy(update={side: listed})
        edited = project.model_copy(update={"security_groups": groups})
    return projects, [edited if i == index else p for i, p in enumerate(projects)]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.filter_too_much])
@given(edited_worlds())
def test_random_edits_report_what_verify_sees_change(pair):
    before_projects, after_projects = pair
    before, after = checked(before_projects), checked(after_projects)
    assume(before.ok and after.ok)
    before_rows = compile_world(before.world).rows
    actual = parse_snapshot(before_rows.dumps(), WORLD_SETTINGS.owner)
    compilation = compile_world(after.world, existing=allocations_in(actual))
    plan = diff_rows(compilation.rows, actual, set(compilation.projects))
    reach = plan_reachability(actual, plan.changes)
    event("reachability changed" if reach else "reachability unchanged")
    if reach.regions:
        event("external regions asked")
    assert_agrees(reach, intent_matrix(before.world, before_rows, reach.regions),
                  intent_matrix(after.world, compilation.rows, reach.regions))


# -- the picture -------------------------------------------------------------------

def drawn_edges(graph: dict) -> set[tuple]:
    """(tail's ports, head's ports, colour, label) of every edge."""
    nodes = {o["_gvid"]: o for o in graph["objects"] if "nodes" not in o}
    clusters = {n: o["label"] for o in graph["objects"] if "nodes" in o for n in o["nodes"]}
    found = set()
    for edge in graph.get("edges", []):
        tail, head = nodes[edge["tail"]], nodes[edge["head"]]
        for node in (tail, head):  # a node of ports inside its project's cluster
            first = node["tooltip"].split()[0]
            if first.startswith("external"):
                assert node["_gvid"] not in clusters and node["shape"] == "ellipse"
            else:
                assert clusters[node["_gvid"]] == first.rpartition("/")[0]
        found.add((tuple(tail["tooltip"].split()), tuple(head["tooltip"].split()),
                   edge.get("color"), edge["label"]))
    return found


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_plan_dot_draws_the_json_plans_changes(case, tmp_path, capsys):
    against = str(snapshot(case, tmp_path))
    capsys.readouterr()
    assert main(["plan", *config(case), str(planned(case)), "--against", against,
                 "--format", "json"]) == 0
    reach = json.loads(capsys.readouterr().out)["reachability"]
    assert main(["plan", *config(case), str(planned(case)), "--against", against,
                 "--format", "dot"]) == 0
    expected = {(tuple(e["from"]), tuple(e["to"]), colour, f"{sign} {', '.join(e['traffic'])}")
                for kind, colour, sign in (("opened", "green", "+"), ("closed", "red", "-"))
                for e in reach[kind]}
    assert drawn_edges(graphviz(capsys.readouterr().out)) == expected != set()
