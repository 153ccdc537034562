"""``netc test``: expectation documents answered, failures explained, golden matrices,
JUnit XML.

Golden cases under tests/golden/test/: each folder an intent with its expectation
documents, ``NAME.expected`` what ``netc test NAME`` prints on stdout, its summary
line (timing removed) and its exit status; ``pytest --update-golden`` rewrites them.
A property test holds every verdict to the pair-by-pair reference evaluator on
random worlds.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netc.cli import main
from netc.compiler.lower import compile_world
from netc.diagnostics import Diagnostics
from netc.expect.cases import check_expectations
from netc.expect.outcome import answer
from netc.frontend import check_documents
from netc.intent.expectation import Expectation, ExpectationDocument, Expectations
from netc.intent.source import Document, PositionTable
from netc.reach.classes import ClassModel
from netc.reach.matrix import Matrix
from netc.reach.northbound import port_addresses
from netc.reach.traffic import Traffic
from tests.conftest import GOLDEN, REPO
from tests.golden_files import assert_golden
from tests.strategies import WORLD_SETTINGS, worlds

CASES_DIR = GOLDEN / "test"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())
SARIF_SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
TIMING = re.compile(r" \(\d+\.\d+s\)$", re.MULTILINE)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["test", *argv])
    out = capsys.readouterr()
    return status, out.out, TIMING.sub("", out.err)


@pytest.mark.parametrize("case", CASES)
def test_golden_runs(case, capsys, monkeypatch, update_golden):
    monkeypatch.chdir(CASES_DIR)
    status, out, err = run(capsys, case)
    assert_golden(CASES_DIR / f"{case}.expected", f"{out}---\n{err}exit {status}\n",
                  update_golden)


def test_the_cases_pass_and_fail_as_named(capsys, monkeypatch):
    monkeypatch.chdir(CASES_DIR)
    assert run(capsys, "passing")[0] == 0
    for case in ("failing", "wildcards", "dsl"):
        assert run(capsys, case)[0] == 1


def test_a_failure_names_the_pair_the_traffic_and_the_rules(capsys, monkeypatch):
    monkeypatch.chdir(CASES_DIR)
    _, out, err = run(capsys, "failing")
    block = out.split("FAIL ")[2]  # the deny that web -> db lets through
    assert block.startswith("failing/expect.yaml:7:5: expect deny acme/web/web-2 -> "
                            "acme/web/pg-2 tcp/5432")
    assert "acme/web/web-2 -> acme/web/pg-2 tcp/5432: expected deny, actual allow" in block
    assert "egress rule 0 of acme/web/web: tcp 5432 to sg:acme/web/db (failing/intent.yaml:9:9)" in block
    assert "ingress rule 0 of acme/web/db: tcp 5432 from sg:acme/web/web (failing/intent.yaml:12:9)" in block
    assert "5 expectation(s) in 1 file(s): 1 held, 4 failed" in err


def test_a_wildcard_failure_shows_the_first_pair_and_the_count(capsys, monkeypatch):
    monkeypatch.chdir(CASES_DIR)
    _, out, _ = run(capsys, "--format", "json", "wildcards")
    report = json.loads(out)
    failed = {e["expectation"]: e for e in report["expectations"] if not e["holds"]}
    entry = failed["allow acme/web/* -> acme/web/* tcp/5432"]
    assert (entry["pairs"], entry["failed_pairs"]) == (12, 6)  # 4 ports, 12 ordered pairs
    first = entry["first_failure"]
    assert (first["from"], first["to"], first["expected"], first["actual"]) == (
        "acme/web/pg-1", "acme/web/web-1", "allow", "deny")
    isolation = [e for e in report["expectations"] if e["expectation"].startswith("deny acme/*/*")
                 and "globex" in e["expectation"]]
    assert isolation and isolation[0]["holds"] and isolation[0]["pairs"] == 8


def test_golden_matrix_update_compare_and_edit(tmp_path, capsys):
    policy = tmp_path / "policy"
    policy.mkdir()
    intent = (CASES_DIR / "passing" / "intent.yaml").read_text()
    (policy / "intent.yaml").write_text(intent)
    golden = tmp_path / "matrix.txt"
    status, _, err = run(capsys, str(policy), "--golden", str(golden))
    assert status == 1 and "does not exist" in err  # never passes without a file
    assert run(capsys, str(policy), "--golden", str(golden), "--update")[0] == 0
    text = golden.read_text()
    assert "acme/web/web@default -> acme/web/db@default: tcp/5432" in text
    assert f"  {policy.name}" not in text and "  acme/web/web-1\n" in text
    assert run(capsys, str(policy), "--golden", str(golden))[0] == 0
    # an edit that opens tcp/6379 to the databases shows up as a diff, and fails
    (policy / "intent.yaml").write_text(intent.replace("ports: [5432], to: sg:db}",
                                                       "ports: [5432, 6379], to: sg:db}", 1)
                                        .replace("ports: [5432], from: sg:web}",
                                                 "ports: [5432, 6379], from: sg:web}"))
    status, out, err = run(capsys, str(policy), "--golden", str(golden))
    assert status == 1 and "golden matrix differs" in err
    assert "-  acme/web/web@default -> acme/web/db@default: tcp/5432\n" in out
    assert "+  acme/web/web@default -> acme/web/db@default: tcp/5432, tcp/6379\n" in out
    assert golden.read_text() == text  # compared, not rewritten


def test_junit_parses_back_with_its_counts_and_failures(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(CASES_DIR)
    report = tmp_path / "report.xml"
    golden = tmp_path / "matrix.txt"
    golden.write_text("stale\n")
    status, _, _ = run(capsys, "failing", "--junit", str(report), "--golden", str(golden))
    assert status == 1
    root = ET.parse(report).getroot()
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "5", "0")
    assert len(cases) == 6 and root.get("tests") == "6"
    failures = {case.get("name"): case.find("failure") for case in cases}
    passed = [name for name, failure in failures.items() if failure is None]
    assert passed == ["allow acme/web/web-1 -> acme/web/pg-1 tcp/5432 (failing/expect.yaml:3:5)"]
    deny = failures["deny acme/web/web-2 -> acme/web/pg-2 tcp/5432 (failing/expect.yaml:7:5)"]
    assert deny.get("message") == ("acme/web/web-2 -> acme/web/pg-2 tcp/5432: expected deny, "
                                   "actual allow")
    assert "ingress rule 0 of acme/web/db" in deny.text
    assert all(case.get("classname") == "failing/expect.yaml" for case in cases[:5])
    matrix = failures[f"golden matrix {golden}"]
    assert matrix.get("type") == "GoldenMismatch" and "-stale" in matrix.text


def test_expectation_errors_are_diagnostics_and_run_nothing(capsys, monkeypatch):
    monkeypatch.chdir(GOLDEN / "check")
    status, out, err = run(capsys, "expect_bad")
    assert status == 1 and out == ""
    assert "expect_bad/expect.yaml:3:12: error[PORT_NOT_FOUND]" in err
    assert "test:" not in err


def test_other_commands_skip_expectation_documents(capsys, monkeypatch):
    monkeypatch.chdir(GOLDEN / "check")
    assert main(["compile", "expect_bad", "-o", "/dev/null"]) == 0
    assert main(["check", "expect_bad"]) == 1


# --- the verdicts against the pair-by-pair reference, on random worlds ---------------------

TRAFFIC = st.one_of(st.builds(lambda p, n: (p, n), st.sampled_from(("tcp", "udp")),
                              st.sampled_from((22, 80, 443, 5432, 8080, 65535))),
                    st.just(("icmp", None)), st.just(("47", None)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), data=st.data())
def test_verdicts_equal_the_reference_pair_by_pair(world, data):
    diagnostics = Diagnostics()
    documents = [Document(p, PositionTable(f"{p.key}.yaml", {})) for p in world]
    result = check_documents(documents, WORLD_SETTINGS, diagnostics)
    matrix = Matrix(result.world, compile_world(result.world, diagnostics=diagnostics).rows)
    ports = sorted(p.key for p in result.world.ports())
    if len(ports) < 2:
        return
    projects = sorted({key.rpartition("/")[0] for key in ports})
    endpoints = st.one_of(st.sampled_from(ports), st.sampled_from([f"{p}/*" for p in projects]),
                          st.sampled_from(sorted({f"{p.split('/')[0]}/*/*" for p in projects})))
    entries = []
    for _ in range(data.draw(st.integers(1, 5))):
        protocol, port = data.draw(TRAFFIC)
        entries.append(Expectation(**{"from": data.draw(endpoints), "to": data.draw(endpoints),
                                      "protocol": protocol, "port": port,
                                      "verdict": data.draw(st.sampled_from(("allow", "deny")))}))
    document = ExpectationDocument(Expectations(expect=entries), PositionTable("e.yaml", {}),
                                   tuple(range(len(entries))))
    cases = check_expectations(result.world, [document], Diagnostics())
    model = ClassModel(result.world, port_addresses(matrix.northbound.rows))
    for outcome in answer(cases, model, matrix.reference):
        case = outcome.case
        traffic = Traffic(case.expectation.protocol, case.expectation.port)
        wrong = [(s, d) for s in case.sources for d in case.destinations if s != d
                 and matrix.reference.decide(s, d, traffic).allow != case.allow]
        assert outcome.holds == (not wrong)
        assert outcome.failed == len(wrong)
        if wrong:
            assert (outcome.failure.src, outcome.failure.dst) == min(wrong)


def test_review_formats_annotate_each_failed_expectation(capsys, monkeypatch):
    monkeypatch.chdir(CASES_DIR)
    status, out, _ = run(capsys, "failing", "--format", "github")
    annotations = [line for line in out.splitlines() if line.startswith("::error ")]
    assert status == 1 and len(annotations) == 4
    assert annotations[1].startswith("::error file=failing/expect.yaml,line=7,col=5::"
                                     "[EXPECTATION_FAILED] expect deny acme/web/web-2 -> "
                                     "acme/web/pg-2 tcp/5432: ")
    assert "ingress rule 0 of acme/web/db" in annotations[1]
    status, out, _ = run(capsys, "failing", "--format", "sarif")
    log = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    results = log["runs"][0]["results"]
    assert status == 1 and [r["ruleId"] for r in results] == ["EXPECTATION_FAILED"] * 4
    assert run(capsys, "passing", "--format", "github")[:2] == (0, "")
