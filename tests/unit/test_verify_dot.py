"""``netc verify --format dot`` read back by Graphviz's own ``dot``: on every example
policy, its nodes are verify's classes, each inside its project's cluster, and the
external regions, outside every cluster; its edges are exactly the JSON matrix's class
pairs with their traffic, and the external edges with theirs (and the NAT that carries
them)."""

from __future__ import annotations

import json

import pytest

from netc.cli import main
from tests.conftest import REPO
from tests.graphviz import graphviz

POLICIES = sorted(p for p in (REPO / "policies").iterdir() if p.is_dir())


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_verify_dot_is_the_json_matrix(policy, capsys):
    config = str(REPO / "netc.toml")
    assert main(["verify", "--config", config, str(policy), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert main(["verify", "--config", config, str(policy), "--format", "dot"]) == 0
    graph = graphviz(capsys.readouterr().out)
    nodes = {o["_gvid"]: o["name"] for o in graph["objects"] if "nodes" not in o}
    cluster_of = {nodes[n]: o["label"] for o in graph["objects"] if "nodes" in o
                  for n in o["nodes"]}
    classes = {c["id"]: c for c in report["classes"]}
    regions = {e["region"]["id"] for e in report["external"]}
    assert set(nodes.values()) == set(classes) | regions
    assert all(cluster_of[name] == classes[name]["project"] for name in classes)
    assert not regions & set(cluster_of)
    drawn = sorted((nodes[e["tail"]], nodes[e["head"]], e["label"])
                   for e in graph.get("edges", []))
    matrix = sorted((m["from"], m["to"], ", ".join(m["traffic"])) for m in report["matrix"])
    external = sorted((e["from"], e["to"], ", ".join(e["traffic"])) for e in report["external"])
    inner = [edge for edge in drawn if edge[0] in classes and edge[1] in classes]
    outer = sorted((tail, head, label.split(" (", 1)[0]) for tail, head, label in drawn
                   if tail in regions or head in regions)
    assert inner == matrix and outer == external
    assert len(drawn) == len(matrix) + len(external)
    assert matrix, "every example policy allows something"
