"""Mangled DSL never raises: it loads, or it yields diagnostics with a position.

Whatever the parser does accept, the formatter writes back to text that reads as the
same model, so even odd values (quotes, keywords, unicode) survive ``netc fmt``.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netc.diagnostics import Diagnostics
from netc.grammar.formatter import to_dsl
from netc.grammar.parser import load_dsl
from tests.strategies import projects

JUNK = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["{", "}", "}}", "/", ",", ":", "->", '"', "\\", "#", "\n", "\x00", "..",
                     "9" * 40, "9" * 5000, "-", "[", "]", "project", "group", "from", "sg:",
                     "\ufeff", "\u2028", "é", "10.1.0.0/33", "0a:58"]))


@st.composite
def mangled_dsl(draw):
    text = to_dsl([draw(projects())])
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        text = text[:start] + draw(JUNK) + text[end:]
    return text


def _survives(text: str) -> None:
    diagnostics = Diagnostics()
    documents = load_dsl(text, "m.netc", diagnostics)
    assert all(d.line >= 1 and d.column >= 1 for d in diagnostics)
    if documents:
        again = Diagnostics()
        models = [d.project for d in documents]
        assert [d.project for d in load_dsl(to_dsl(models), "m.netc", again)] == models
        assert list(again) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_dsl())
def test_mangled_dsl_gives_diagnostics_not_tracebacks(text):
    _survives(text)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mangled_dsl())
def test_mangled_dsl_at_length(text):
    _survives(text)
