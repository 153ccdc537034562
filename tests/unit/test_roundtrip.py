"""Every valid intent has one DSL form and one YAML form, and both read back unchanged;
expectation documents among the projects too."""

import pytest
from hypothesis import HealthCheck, given, settings

from netc.diagnostics import Diagnostics
from netc.grammar.formatter import to_dsl
from netc.grammar.parser import load_dsl, read_dsl
from netc.intent.expectation import canonical_documents
from netc.intent.model import Project
from netc.intent.source import Document
from netc.intent.yaml_loader import load_yaml, read_yaml
from netc.intent.yaml_writer import to_yaml
from tests.strategies import projects, worlds, worlds_with_expectations

EXAMPLES = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
"""Quick-suite size; test_roundtrip_many below runs the same properties at length."""


def _read(loader, text: str, file: str) -> list[Project]:
    diagnostics = Diagnostics()
    documents = loader(text, file, diagnostics)
    assert [d.render() for d in diagnostics] == [], text
    return [d.project for d in documents]


@EXAMPLES
@given(projects())
def test_yaml_to_model_to_dsl_to_model(project):
    from_yaml = _read(load_yaml, to_yaml([project]), "p.yaml")
    assert from_yaml == [project]
    assert _read(load_dsl, to_dsl(from_yaml), "p.netc") == [project]


@EXAMPLES
@given(worlds())
def test_several_projects_per_file_in_both_syntaxes(world):
    assert _read(load_yaml, to_yaml(world), "w.yaml") == world
    assert _read(load_dsl, to_dsl(world), "w.netc") == world


@EXAMPLES
@given(projects())
def test_formatting_is_idempotent(project):
    dsl = to_dsl([project])
    assert to_dsl(_read(load_dsl, dsl, "p.netc")) == dsl
    text = to_yaml([project])
    assert to_yaml(_read(load_yaml, text, "p.yaml")) == text


def test_no_projects_is_an_empty_file():
    assert to_dsl([]) == "" == to_yaml([])
    assert _read(load_dsl, "", "e.netc") == [] == _read(load_dsl, "# only a comment\n", "e.netc")


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects())
def test_roundtrip_many(project):
    text = to_dsl([project])
    assert _read(load_dsl, text, "p.netc") == [project]
    assert to_dsl(_read(load_yaml, to_yaml([project]), "p.yaml")) == text


def _read_all(reader, text: str, file: str) -> list:
    """The projects and expectation documents of ``text``, as models."""
    diagnostics = Diagnostics()
    documents = reader(text, file, diagnostics)
    assert [d.render() for d in diagnostics] == [], text
    return [d.project if isinstance(d, Document) else d.expectations for d in documents]


@EXAMPLES
@given(worlds_with_expectations())
def test_expectation_documents_among_projects_in_both_syntaxes(documents):
    assert _read_all(read_yaml, to_yaml(documents), "w.yaml") == documents
    dsl = to_dsl(documents)
    assert _read_all(read_dsl, dsl, "w.netc") == documents
    assert to_dsl(_read_all(read_yaml, to_yaml(documents), "w.yaml")) == dsl


def test_adjacent_expectation_documents_are_one_in_canonical_form():
    text = ("expect:\n  - {from: a/b/c, to: a/b/d, verdict: allow}\n---\nexpect: []\n---\n"
            "expect:\n  - {from: a/b/*, to: a/*/*, protocol: 47, verdict: deny}\n")
    written, moves = canonical_documents(read_yaml(text, "e.yaml", Diagnostics()))
    assert to_dsl(written) == ("expect allow a/b/c -> a/b/d all\n"
                               "expect deny a/b/* -> a/*/* 47\n")
    assert moves == {0: (0, 0), 1: (None, 0), 2: (0, 1)}
