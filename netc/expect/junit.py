"""The results of ``netc test`` as JUnit XML (``--junit FILE``), the report CI systems
show: one testcase per expectation, named by the expectation and classed by its file,
with the explanation of a failure; the golden comparison as one more testcase."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from netc.expect.golden import GoldenResult
from netc.expect.outcome import Outcome

SUITE = "netc test"


def junit_xml(outcomes: list[Outcome], golden: GoldenResult | None, seconds: float) -> bytes:
    cases = []
    for outcome in outcomes:
        where = outcome.case.location
        case = ET.Element("testcase", classname=where.file,
                          name=f"{outcome.case.title} ({where})")
        if not outcome.holds:
            ET.SubElement(case, "failure", type="ExpectationFailed",
                          message=outcome.summary).text = outcome.explanation()
        cases.append(case)
    if golden is not None:
        case = ET.Element("testcase", classname=golden.path, name=f"golden matrix {golden.path}")
        if golden.error:
            ET.SubElement(case, "error", message=golden.error)
        elif not golden.matches:
            ET.SubElement(case, "failure", type="GoldenMismatch",
                          message=f"the verify matrix differs from {golden.path}").text = golden.diff
        cases.append(case)
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors),
              "time": f"{seconds:.3f}"}
    root = ET.Element("testsuites", name=SUITE, **counts)
    suite = ET.SubElement(root, "testsuite", name=SUITE, **counts)
    suite.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
