"""``netc schema`` is a valid JSON Schema that accepts every example policy and
rejects what the intent model rejects, so editors validating against it agree with
``netc check``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from netc.config import Settings
from netc.diagnostics import Code, Diagnostics
from netc.intent.model import Project
from netc.intent.source import Document, PositionTable
from netc.ir.checks import check_dnat_forms
from netc.ir.world import build_world
from netc.intent.schema import intent_json_schema
from netc.intent.sources import YAML_SUFFIXES

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def _policy_documents() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(p for p in POLICIES.rglob("*") if p.suffix in YAML_SUFFIXES):
        for index, document in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8"))):
            if document is not None:
                found.append((f"{path.relative_to(POLICIES)}#{index}", document))
    return found


POLICY_DOCUMENTS = _policy_documents()

MINIMAL = {"org": "acme", "project": "web"}

INVALID_DOCUMENTS = {
    "missing org": {"project": "web"},
    "upper-case org": {"org": "Acme", "project": "web"},
    "name starting with a dash": {"org": "acme", "project": "-web"},
    "unknown top-level key": {**MINIMAL, "portz": []},
    "unknown protocol": {**MINIMAL, "security_groups": [
        {"name": "web", "ingress": [{"protocol": "sctp"}]}]},
    "ports not a list": {**MINIMAL, "security_groups": [
        {"name": "web", "ingress": [{"protocol": "tcp", "ports": {"low": 80}}]}]},
    "unknown rule key": {**MINIMAL, "security_groups": [
        {"name": "web", "egress": [{"protocol": "tcp", "destination": "0.0.0.0/0"}]}]},
    "subnet without cidr": {**MINIMAL, "subnets": [{"name": "default"}]},
    "dhcp not a boolean": {**MINIMAL, "subnets": [
        {"name": "default", "cidr": "10.1.0.0/24", "dhcp": [True]}]},
    "port without name": {**MINIMAL, "ports": [{"subnet": "default"}]},
    "dnat protocol icmp": {**MINIMAL, "nat": {"dnat": [
        {"external_ip": "203.0.113.10", "external_port": 80, "internal_ip": "10.1.0.10",
         "internal_port": 80, "protocol": "icmp"}]}},
    "peerings not a list": {**MINIMAL, "peerings": "acme/db"},
    "expectation with a bad verdict": {"expect": [{"from": "a/b/c", "to": "a/b/d",
                                                   "verdict": "maybe"}]},
    "expectation with a bad protocol": {"expect": [{"from": "a/b/c", "to": "a/b/d",
                                                    "protocol": "sctp", "verdict": "deny"}]},
    "expectation without to": {"expect": [{"from": "a/b/c", "verdict": "deny"}]},
    "expectations beside a project": {**MINIMAL, "expect": []},
}

CHECKED_SHAPES = {
    "dnat without internal_port": {"external_ip": "203.0.113.10", "external_port": 80,
                                   "internal_ip": "10.1.0.10"},
    "dnat without external_port": {"external_ip": "203.0.113.10", "internal_ip": "10.1.0.10",
                                   "internal_port": 80},
    "1:1 dnat with a protocol": {"external_ip": "203.0.113.10", "internal_ip": "10.1.0.10",
                                 "protocol": "udp"},
}
"""DNAT entries the model takes and netc check refuses (SCHEMA_ERROR at the value)."""


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = intent_json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_schema_is_draft_2020_12(validator):
    assert validator.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_policies_are_found():
    assert len(POLICY_DOCUMENTS) >= 6


@pytest.mark.parametrize(("name", "document"), POLICY_DOCUMENTS, ids=[n for n, _ in POLICY_DOCUMENTS])
def test_schema_accepts_every_policy(validator, name, document):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize("document", INVALID_DOCUMENTS.values(), ids=INVALID_DOCUMENTS.keys())
def test_schema_rejects_what_the_model_rejects(validator, document):
    assert not validator.is_valid(document)
    with pytest.raises(ValidationError):
        Project.model_validate(document)


@pytest.mark.parametrize("entry", CHECKED_SHAPES.values(), ids=CHECKED_SHAPES.keys())
def test_schema_rejects_what_the_checks_reject(validator, entry):
    document = {**MINIMAL, "nat": {"dnat": [entry]}}
    assert not validator.is_valid(document)
    out = Diagnostics()
    check_dnat_forms(build_world([Document(Project.model_validate(document),
                                           PositionTable("t.yaml", {}))], Settings()), out)
    assert [d.code for d in out] == [Code.SCHEMA_ERROR]


def test_schema_accepts_a_one_to_one_dnat(validator):
    assert validator.is_valid({**MINIMAL, "nat": {"dnat": [
        {"external_ip": "203.0.113.10", "internal_ip": "10.1.0.10"}]}})


def test_schema_accepts_the_minimal_document(validator):
    assert validator.is_valid(MINIMAL)


def test_schema_accepts_an_expectation_document(validator):
    assert validator.is_valid({"expect": [
        {"from": "acme/web/web-1", "to": "acme/db/*", "protocol": "tcp", "port": 5432,
         "verdict": "allow"},
        {"from": "acme/*/*", "to": "globex/*/*", "protocol": 47, "verdict": "deny"}]})
