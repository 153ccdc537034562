"""Fuzz the front end: mutated valid files yield diagnostics, never an exception.

Seeds are the clean golden inputs and the example policies (YAML and DSL twins, their
expectation documents included). A mutation
deletes, duplicates or truncates lines, swaps or inserts characters (unicode and
control characters included), or replaces a value with one of the wrong type, a huge
number or odd text. Whatever comes out, the front end (loader, IR, every check) must
answer with well-formed diagnostics (contract section 3: no input, however
malformed, produces a traceback). The default suite runs a quick sample; the slow
suite runs 10,000 inputs per syntax.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netc.config import ExternalSettings, Settings
from netc.diagnostics import Code, Diagnostic, Diagnostics
from netc.frontend import check_documents
from netc.intent.source import Document
from netc.expect.cases import check_expectations
from netc.intent.sources import (DSL_SUFFIX, INTENT_SUFFIXES, YAML_SUFFIXES, load_text,
                                 read_text)
from tests.conftest import GOLDEN, REPO

SETTINGS = Settings(external=ExternalSettings(cidr="203.0.113.0/24", gateway_ip="203.0.113.1"))
SEED_FOLDERS = (GOLDEN / "check", REPO / "policies", REPO / "examples-dsl")


def _seed_paths(suffixes: tuple[str, ...]) -> list[Path]:
    """Every clean input: golden ``clean*`` cases, policies/ and their DSL twins."""
    found = []
    for folder in SEED_FOLDERS:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            relative = path.relative_to(folder)
            if folder.name == "check" and not relative.parts[0].startswith("clean"):
                continue
            if path.is_file() and path.suffix in suffixes:
                found.append(path)
    return found


def _seeds(suffixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(file name, text) of every seed."""
    return [(str(path.relative_to(REPO)), path.read_text(encoding="utf-8"))
            for path in _seed_paths(suffixes)]


def _world(path: Path) -> Path:
    """What a seed is checked with: its golden case (a file or a folder), or its whole
    example folder (policies/, examples-dsl/)."""
    for folder in SEED_FOLDERS:
        if path.is_relative_to(folder):
            case = folder / path.relative_to(folder).parts[0]
            return case if folder.name == "check" else folder
    raise AssertionError(path)


def _neighbours() -> dict[str, list[Document]]:
    """For each seed, the projects of the other seeds of its world, loaded once.

    A mutated file is checked together with its untouched neighbours, so the checks
    that span projects (peerings, cross-tenant references, overlaps, MACs) see it too.
    """
    loaded = {}
    for path in _seed_paths(INTENT_SUFFIXES):
        diagnostics = Diagnostics()
        loaded[path] = load_text(path.read_text(encoding="utf-8"), str(path), diagnostics)
    return {str(path.relative_to(REPO)): [doc for other, docs in loaded.items()
                                          if _world(other) == _world(path) and other != path
                                          for doc in docs]
            for path in loaded}


YAML_SEEDS = _seeds(YAML_SUFFIXES)
DSL_SEEDS = _seeds((DSL_SUFFIX,))
NEIGHBOURS = _neighbours()

ODD_VALUES = (
    "[1, 2]", "{a: 1}", "[]", "{}", "null", "~", "true", "no", "-1", "0", "1.5", "1e400",
    ".nan", "-.inf", "9" * 40, "0x1F", "0o17", "12:30:45", "2024-01-01", "!!binary aGk=",
    "&a x", "*a", "*nowhere", "'unterminated", '"\\uZZZZ"', "|", ">", "- x", "? k", "%x",
    "\u00e9t\u00e9", "\u2603", "\U0001F600", "\u202e", "\x00", "\x07", "\t", "\ufeff",
    "10.1.0.0/99", "999.1.1.1", "sg:", "sg:a/b", "sg:x/y/z/w", "65536", "0-0", "80-",
    "a" * 300, "{", "}", "[", "]", "->", "/", ":", ",", '"', "#", "project", "group",
    "10.0.0.0/8", "10.1.0.1", "0.0.0.0/0", "255.255.255.255", "default", "sg:default",
    "acme/web", "0a:58:0a:01:00:0a", "01:00:5e:00:00:01",
)
"""Replacement values: wrong types, huge numbers, YAML specials, unicode, control
characters, broken and plausible addresses, and DSL punctuation and keywords."""

characters = st.characters(exclude_categories=("Cs",))


@st.composite
def _delete_line(draw, lines):
    if lines:
        del lines[draw(st.integers(0, len(lines) - 1))]


@st.composite
def _duplicate_line(draw, lines):
    if lines:
        index = draw(st.integers(0, len(lines) - 1))
        lines.insert(draw(st.integers(0, len(lines))), lines[index])


@st.composite
def _swap_characters(draw, lines):
    if lines:
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        if len(line) > 1:
            at = draw(st.integers(0, len(line) - 2))
            lines[index] = line[:at] + line[at + 1] + line[at] + line[at + 2:]


@st.composite
def _insert_characters(draw, lines):
    if lines:
        index = draw(st.integers(0, len(lines) - 1))
        at = draw(st.integers(0, len(lines[index])))
        extra = draw(st.text(characters, min_size=1, max_size=3))
        lines[index] = lines[index][:at] + extra + lines[index][at:]


@st.composite
def _replace_value(draw, lines):
    """Replace what follows a ``key:`` (YAML) or one word (DSL) by an odd value."""
    if not lines:
        return
    index = draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    odd = draw(st.sampled_from(ODD_VALUES) | st.text(characters, max_size=8))
    if ": " in line and draw(st.booleans()):
        lines[index] = line[: line.index(": ") + 2] + odd
    else:
        words = line.split(" ")
        words[draw(st.integers(0, len(words) - 1))] = odd
        lines[index] = " ".join(words)


MUTATIONS = (_delete_line, _duplicate_line, _swap_characters, _insert_characters,
             _replace_value)


@st.composite
def mutated(draw, seeds: list[tuple[str, str]]) -> tuple[str, str]:
    """(file name, text): one seed with 1 to 4 mutations, sometimes truncated."""
    name, text = draw(st.sampled_from(seeds))
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        draw(draw(st.sampled_from(MUTATIONS))(lines))
    text = "\n".join(lines)
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return name, text


def front_end(name: str, text: str, diagnostics: Diagnostics) -> list:
    """The whole front end on one text and its neighbours: loader, IR, every check, and
    the text's expectation documents checked against that world (as ``netc check``)."""
    loaded = read_text(text, name, diagnostics)
    projects = [d for d in loaded if isinstance(d, Document)]
    result = check_documents(projects + NEIGHBOURS[name], SETTINGS, diagnostics)
    check_expectations(result.world, [d for d in loaded if not isinstance(d, Document)],
                       diagnostics)
    return loaded


def assert_only_diagnostics(name: str, text: str) -> None:
    diagnostics = Diagnostics()
    front_end(name, text, diagnostics)
    for diagnostic in diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert isinstance(diagnostic.code, Code)
        assert diagnostic.line >= 0 and diagnostic.column >= 0
        assert diagnostic.message


SYNTAXES = [pytest.param(YAML_SEEDS, id="yaml"),
            pytest.param(DSL_SEEDS, id="dsl", marks=pytest.mark.skipif(
                not DSL_SEEDS, reason="no DSL seed files yet"))]


def test_there_are_seeds():
    assert len(YAML_SEEDS) >= 3


@pytest.mark.parametrize("seeds", SYNTAXES)
def test_seeds_are_clean(seeds):
    """Mutations start from worlds that check clean, so what they find is theirs."""
    for name, text in seeds:
        diagnostics = Diagnostics()
        assert front_end(name, text, diagnostics), name
        assert [d.render() for d in diagnostics] == []


@pytest.mark.parametrize("seeds", SYNTAXES)
def test_mutations_yield_only_diagnostics(seeds):
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutated(seeds))
    def run(case):
        assert_only_diagnostics(*case)
    run()


@pytest.mark.slow
@pytest.mark.parametrize("seeds", SYNTAXES)
def test_ten_thousand_mutations_yield_only_diagnostics(seeds):
    @settings(max_examples=10_000, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutated(seeds))
    def run(case):
        assert_only_diagnostics(*case)
    run()


LAUGHS = "".join(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10) if prev else 'x'}]\n"
                 for prev, name in zip([None, *"abcdefgh"], "abcdefghi"))
PATHOLOGICAL = {
    "deep flow": "org: a\nproject: b\nports: " + "[" * 200_000 + "]" * 200_000 + "\n",
    "deep map": "org: a\nproject: b\nvpc: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n",
    "deep block": "org: a\nproject: b\nports:\n" + "".join(" " * i + "-\n" for i in range(3000)),
    "compact block": "org: a\nproject: b\nports:\n" + "- " * 100_000 + "x\n",
    "unclosed": "org: a\nproject: b\nports: " + "[" * 100_000,
    "recursive alias": "&a [*a]\n",
    "recursive map": "&a {org: *a, project: b}\n",
    "billion laughs": LAUGHS,
    "laughs in a field": LAUGHS.replace("a: &a", "org: x\nproject: y\npeerings: &a"),
    "huge integer": "org: a\nproject: b\nnat:\n  dnat: [{external_port: " + "9" * 5000 + "}]\n",
    "huge range": "org: a\nproject: b\nsecurity_groups: [{name: g, ingress: "
                  "[{protocol: tcp, ports: ['" + "9" * 5000 + "-1']}]}]\n",
}
"""Inputs that once crashed a YAML front end: nesting deep enough to overflow the C
stack of PyYAML's composer (a SIGSEGV, not even a traceback), recursive aliases, alias
bombs, numbers too long for int()."""


def test_pathological_yaml_yields_only_diagnostics(tmp_path):
    """All of them through ``netc check`` in one child process, so that a SIGSEGV fails
    this test rather than the whole run."""
    for index, text in enumerate(PATHOLOGICAL.values()):
        (tmp_path / f"{index:02d}.yaml").write_text(text, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "netc", "check", "--format", "json", "."],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 1, f"exit {run.returncode}: {run.stderr[-2000:]}"
    diagnostics = json.loads(run.stdout)
    assert all(d["code"] in set(Code) and d["line"] >= 1 for d in diagnostics)
    files = {d["file"] for d in diagnostics}
    for index, name in enumerate(PATHOLOGICAL):
        assert f"{index:02d}.yaml" in files, f"{name}: no diagnostic"
