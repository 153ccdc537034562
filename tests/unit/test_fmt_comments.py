"""``netc fmt`` keeps comments: in YAML and in the DSL, for printing, ``--check`` and
``--write``, and across a conversion, where every comment finds a place or is named
in a COMMENT_MOVED warning. Round trips on every example policy and on
hypothesis-made files with comments; formatting is idempotent."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netc.cli import main
from netc.diagnostics import Code, Diagnostics
from netc.grammar.fmt import format_file
from netc.grammar.formatter import to_dsl
from netc.intent.source import Document
from netc.intent.sources import DSL_SUFFIX, YAML_SUFFIXES, read_text
from netc.intent.yaml_writer import to_yaml
from tests.strategies import worlds_with_expectations

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for tree in ("policies", "examples-dsl") for p in (REPO / tree).rglob("*")
                  if p.suffix in (*YAML_SUFFIXES, DSL_SUFFIX))
COMMENT = re.compile(r"(?:^|\s)(#.*)$")


def comments_of(text: str) -> Counter:
    """The comment texts of a formatted text (written by fmt: no '#' inside values of
    the files these tests format)."""
    return Counter(match.group(1).rstrip() for line in text.splitlines()
                   if (match := COMMENT.search(line)))


def _format(path: Path, to: str | None = None) -> tuple[str, Diagnostics]:
    diagnostics = Diagnostics()
    result = format_file(path, to, diagnostics)
    assert result is not None, [d.render() for d in diagnostics]
    return result.text, diagnostics


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(REPO)) for p in EXAMPLES])
def test_example_policies_are_canonical_with_their_comments(path):
    text, diagnostics = _format(path)
    assert list(diagnostics) == []
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(REPO)) for p in EXAMPLES])
def test_example_policies_convert_with_every_comment(path, tmp_path):
    other = "yaml" if path.suffix == DSL_SUFFIX else "dsl"
    converted, diagnostics = _format(path, other)
    assert [d.render() for d in diagnostics] == []
    original = path.read_text(encoding="utf-8")
    assert comments_of(converted) == comments_of(original)
    target = tmp_path / path.with_suffix(".yaml" if other == "yaml" else DSL_SUFFIX).name
    target.write_text(converted, encoding="utf-8")
    again, _ = _format(target)
    assert again == converted  # the converted file is canonical in its own syntax
    back, _ = _format(target, "dsl" if other == "yaml" else "yaml")
    assert comments_of(back) == comments_of(original)
    assert _models(back, path.name) == _models(original, path.name)


def _models(text: str, name: str) -> list:
    """The projects and the expectation entries of a text, in order."""
    diagnostics = Diagnostics()
    documents = read_text(text, name, diagnostics)
    assert not diagnostics.has_errors
    models: list = []
    for document in documents:
        models += [document.project] if isinstance(document, Document) \
            else document.expectations.expect
    return models


def test_check_passes_on_the_examples(capsys):
    assert main(["fmt", "--check", str(REPO / "policies"), str(REPO / "examples-dsl")]) == 0
    assert "0 file(s) would change" in capsys.readouterr().err


YAML_WITH_COMMENTS = """\
# header

org: acme   # the org
project: web
subnets:
  # the only subnet
  - {name: default, cidr: 10.1.0.0/24, dhcp: true}  # dhcp is the default
security_groups:
  - name: web
    ingress:
      - {protocol: tcp, ports: [443], from: 0.0.0.0/0}
    # egress to come
  - name: empty
    # nothing in it yet
ports:
  - {name: web-1, security_groups: [web, empty]}
nat: {}   # no NAT here
# the end
"""


def test_yaml_comments_in_every_position(tmp_path):
    path = tmp_path / "web.yaml"
    path.write_text(YAML_WITH_COMMENTS, encoding="utf-8")
    text, diagnostics = _format(path)
    assert text == """\
# header

org: acme   # the org
project: web
subnets:
  # the only subnet
  - name: default  # dhcp is the default
    cidr: 10.1.0.0/24
security_groups:
  - name: web
    ingress:
      - protocol: tcp
        ports: [443]
        from: 0.0.0.0/0
    # egress to come
  - name: empty
    # nothing in it yet
ports:
  - name: web-1
    security_groups: [web, empty]
# no NAT here
# the end
"""
    # the one comment whose element (an empty nat) is not written; dhcp's comment is
    # on the line of its subnet item, and goes with the item
    assert [(d.code, d.line, d.column) for d in diagnostics] == [(Code.COMMENT_MOVED, 17, 11)]
    path.write_text(text, encoding="utf-8")
    assert _format(path)[0] == text
    dsl, _ = _format(path, "dsl")
    assert dsl == """\
# header

project acme/web {  # the org
  # the only subnet
  subnet default 10.1.0.0/24  # dhcp is the default
  group web {
    ingress tcp 443 from 0.0.0.0/0
    # egress to come
  }
  group empty {
    # nothing in it yet
  }
  port web-1 on default groups web, empty
  # no NAT here
  # the end
}
"""


def test_dsl_comments_in_every_position(tmp_path):
    path = tmp_path / "web.netc"
    path.write_text("""\
# header
project acme/web { # the project
  vpc main 10.1.0.0/16   # aligned
  group web {
    # why 443
    ingress tcp 443 from 0.0.0.0/0
    egress all
      to 0.0.0.0/0   # on the second line of its statement
  }   # end of web
  port web-1
    groups web
  # before the brace
}

# after everything
""", encoding="utf-8")
    text, diagnostics = _format(path)
    assert list(diagnostics) == []
    assert text == """\
# header
project acme/web {  # the project
  vpc main 10.1.0.0/16   # aligned
  group web {
    # why 443
    ingress tcp 443 from 0.0.0.0/0
    egress all to 0.0.0.0/0  # on the second line of its statement
  }   # end of web
  port web-1 on default groups web
  # before the brace
}

# after everything
"""
    path.write_text(text, encoding="utf-8")
    assert _format(path)[0] == text
    assert main(["fmt", "--check", str(path)]) == 0


def test_write_keeps_comments(tmp_path):
    path = tmp_path / "web.netc"
    path.write_text("project acme/web {\n  port a # the port\n}\n", encoding="utf-8")
    assert main(["fmt", "--write", str(path)]) == 0
    assert path.read_text() == "project acme/web {\n  port a on default  # the port\n}\n"


# --- hypothesis: canonical files of random worlds (and expectations) with random comments-----------------

comment_texts = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs"),
                                      exclude_characters="\r\n\x85\u2028\u2029"),
                        max_size=12).map(lambda t: ("# " + t).rstrip())


@st.composite
def commented(draw, syntax: str):
    documents = draw(worlds_with_expectations())
    text = (to_yaml if syntax == "yaml" else to_dsl)(documents)
    lines = text.rstrip("\n").split("\n")  # not splitlines(): a quoted U+2028 is no line end
    out = []
    for line in lines:
        if draw(st.integers(0, 5)) == 0:
            out.append(" " * draw(st.integers(0, 8)) + draw(comment_texts))
        if draw(st.integers(0, 5)) == 0:
            line += " " * draw(st.integers(1, 3)) + draw(comment_texts)
        out.append(line)
    if draw(st.booleans()):
        out.append(draw(comment_texts))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("syntax", ["yaml", "dsl"])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_random_files_keep_their_comments(tmp_path, syntax, data):
    text = data.draw(commented(syntax))
    path = tmp_path / ("x.yaml" if syntax == "yaml" else "x.netc")
    path.write_text(text, encoding="utf-8")
    formatted, _ = _format(path)
    assert comments_of(formatted) == comments_of(text)
    path.write_text(formatted, encoding="utf-8")
    again, diagnostics = _format(path)
    assert again == formatted  # idempotent
    assert list(diagnostics) == []
    other = "dsl" if syntax == "yaml" else "yaml"
    converted, _ = _format(path, other)
    assert comments_of(converted) == comments_of(text)
    assert _models(converted, f"x.{'netc' if other == 'dsl' else 'yaml'}") == \
        _models(text, path.name)
    target = tmp_path / f"y.{'netc' if other == 'dsl' else 'yaml'}"
    target.write_text(converted, encoding="utf-8")
    assert _format(target)[0] == converted  # the conversion is canonical


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(example=st.sampled_from(EXAMPLES), data=st.data())
def test_comments_anywhere_never_break_fmt(tmp_path, example, data):
    """'#' pieces dropped anywhere into an example (inside values too, across lines):
    fmt reports or formats, never raises; what it formats loads back as the same
    intent and is canonical."""
    text = example.read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        piece = data.draw(st.sampled_from([" # x", "\n# y\n", "  #z", "#", "\n   # w\n",
                                           " # a: b, c\n", "\n---\n# d\n", "\r\n"]))
        text = text[:at] + piece + text[at:]
    path = tmp_path / f"f{example.suffix}"
    path.write_text(text, encoding="utf-8")
    to = data.draw(st.sampled_from([None, "yaml", "dsl"]))
    result = format_file(path, to, Diagnostics())
    if result is None:
        return  # the pieces made it unreadable: reported, not formatted
    target = tmp_path / f"g{'.netc' if result.syntax == 'dsl' else '.yaml'}"
    target.write_text(result.text, encoding="utf-8")
    assert _format(target)[0] == result.text
    assert _models(result.text, target.name) == _models(text, path.name)


ADJACENT_EXPECTATIONS = """\
# the shop's tests
expect:
  - {from: a/b/c, to: a/b/d, verdict: allow}  # one
---
expect: []  # nothing here
---
expect:
  # after the empty one
  - {from: a/b/*, to: a/*/*, protocol: 47, verdict: deny}  # two
"""


@pytest.mark.parametrize(("to", "expected"), [
    (None, "# the shop's tests\nexpect:\n"
           "  - {from: a/b/c, to: a/b/d, protocol: all, verdict: allow}  # one\n"
           "  # after the empty one\n"
           "  - {from: a/b/*, to: a/*/*, protocol: 47, verdict: deny}  # two\n"
           "# nothing here\n"),
    ("dsl", "# the shop's tests\nexpect allow a/b/c -> a/b/d all  # one\n"
            "# after the empty one\nexpect deny a/b/* -> a/*/* 47  # two\n# nothing here\n")])
def test_comments_follow_expectations_into_the_document_they_join(tmp_path, to, expected):
    """Adjacent expectation documents become one and an empty one goes (the DSL cannot
    write either); each comment follows its entry, the empty one's to the end."""
    path = tmp_path / "expect.yaml"
    path.write_text(ADJACENT_EXPECTATIONS, encoding="utf-8")
    assert _format(path, to)[0] == expected
