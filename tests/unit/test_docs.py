"""The documentation is self-contained: README.md and docs/ point at nothing outside
the repository (a clone has no ../shared), every relative link resolves, and the
reference's sections are the ones the other documents cite as "contract section N"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netc.diagnostics import Code

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.name for d in DOCUMENTS])
def test_no_pointer_outside_the_repository(document):
    text = document.read_text(encoding="utf-8")
    assert "../shared" not in text and "shared/spec" not in text
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # a URL
        resolved = (document.parent / target).resolve()
        assert resolved.is_relative_to(REPO) and resolved.exists(), f"{document.name}: {target}"


def test_the_reference_has_the_contracts_sections():
    text = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    numbered = re.findall(r"^## (\d+)\. ", text, re.MULTILINE)
    assert numbered == [str(n) for n in range(1, 10)]
    cited = set()
    for document in DOCUMENTS:
        cited |= {int(n) for n in re.findall(r"contract (?:section )?(\d+)",
                                             document.read_text(encoding="utf-8"))}
    assert cited <= set(range(1, 10))


def test_the_reference_names_every_code():
    text = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    assert {str(code) for code in Code} <= set(re.findall(r"\b[A-Z][A-Z_]+[A-Z]\b", text))
