"""What a run of netc does not do (issue 11): import modules it does not need, or read
a YAML file twice. The times themselves are the bench harness's (docs/bench.md)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import yaml

from netc.compiler.names import PORT_NAMESPACE, port_id
from netc.diagnostics import Diagnostics
from netc.intent import yaml_loader

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"

_LOADED = """\
import sys
from netc.cli import main
status = main(sys.argv[1:])
print(" ".join(sorted(sys.modules)))
"""


def _modules_after(*argv: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", _LOADED, *argv], cwd=REPO,
                          capture_output=True, text=True, check=True)
    return set(done.stdout.split("\n")[-2].split())


def test_check_and_compile_do_not_import_what_they_do_not_use(tmp_path):
    for argv in (("check", str(POLICIES)),
                 ("compile", str(POLICIES), "-o", str(tmp_path / "rows.json"))):
        loaded = _modules_after(*argv)
        # networkx spells out include cycles only; lark parses .netc files only; the
        # service's modules are serve's
        assert "networkx" not in loaded, argv
        assert "lark" not in loaded, argv
        assert not {name for name in loaded if name.startswith("netc.service")}, argv


def test_a_yaml_file_is_composed_once_and_not_parsed_for_its_depth(monkeypatch):
    text = (POLICIES / "northwind-shop" / "shop.yaml").read_text()
    calls = {"compose": 0, "parse": 0}
    compose, parse = yaml.compose_all, yaml.parse

    def counted_compose(*args, **kwargs):
        calls["compose"] += 1
        return compose(*args, **kwargs)

    def counted_parse(*args, **kwargs):
        calls["parse"] += 1
        return parse(*args, **kwargs)

    monkeypatch.setattr(yaml_loader.yaml, "compose_all", counted_compose)
    monkeypatch.setattr(yaml_loader.yaml, "parse", counted_parse)
    documents = yaml_loader.load_yaml(text, "shop.yaml", Diagnostics())
    assert documents and calls == {"compose": 1, "parse": 0}


def test_port_ids_are_uuid5_of_the_port_key():
    for key in ("acme/web/web-1", "a/b/c", "org-9/p/x" * 5):
        assert port_id(key) == str(uuid.uuid5(PORT_NAMESPACE, key))


def test_the_include_cycle_test_agrees_with_networkx():
    import networkx as nx
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from netc.ir.checks import _has_cycle

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=12))
    def agree(pairs):
        edges: dict[str, list[str]] = {}
        for a, b in pairs:
            edges.setdefault(str(a), []).append(str(b))
        graph = nx.DiGraph([(a, b) for a, targets in edges.items() for b in targets])
        assert _has_cycle(edges) == (not nx.is_directed_acyclic_graph(graph))

    agree()


def test_the_reused_json_encoders_write_what_json_writes():
    import json

    from netc.compiler.rows import json_encoder

    values = [{"b": [1, "x\u00e9\n", None, True, 1.5], "a": {"z": 1, "y": [{}]}}, "str", 3,
              [], {"k": -0.0}]
    for value in values:
        assert json_encoder()(value) == json.dumps(value, sort_keys=True)
        assert json_encoder((",", ":"))(value) == json.dumps(value, sort_keys=True,
                                                             separators=(",", ":"))
