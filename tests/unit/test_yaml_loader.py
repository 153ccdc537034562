"""The YAML loader: positions of values, schema errors, multiple documents."""

from netc.diagnostics import Code, Diagnostics
from netc.intent.yaml_loader import load_yaml

TEXT = """\
org: acme
project: web
subnets:
  - name: default
    cidr: 10.1.0.0/24
ports:
  - {name: web-1, ip: 10.1.0.10}
---
---
org: acme
project: db
"""


def test_documents_and_positions():
    out = Diagnostics()
    docs = load_yaml(TEXT, "f.yaml", out)
    assert [d.project.key for d in docs] == ["acme/web", "acme/db"]
    assert len(out) == 0
    where = docs[0].locate("subnets", 0, "cidr")
    assert (where.line, where.column) == (5, 11)
    where = docs[0].locate("ports", 0, "ip")
    assert (where.line, where.column) == (7, 23)
    # a path that was not written resolves to its nearest written ancestor
    assert docs[0].locate("ports", 0, "mac").line == 7


def test_schema_errors_point_at_values():
    out = Diagnostics()
    docs = load_yaml("org: Acme\nproject: web\nportz: []\n", "f.yaml", out)
    assert docs == []
    found = [(d.code, d.line, d.column) for d in out]
    assert found == [(Code.SCHEMA_ERROR, 1, 6), (Code.SCHEMA_ERROR, 3, 8)]
    assert "did you mean 'ports'" in out.sorted()[1].message


def test_duplicate_keys_and_syntax_errors():
    out = Diagnostics()
    load_yaml("org: a\norg: b\nproject: p\n", "f.yaml", out)
    assert [(d.code, d.line) for d in out] == [(Code.SCHEMA_ERROR, 2)]
    out = Diagnostics()
    load_yaml("org: [a\n", "f.yaml", out)
    assert [d.code for d in out] == [Code.SYNTAX_ERROR]


def test_the_fast_loader_resolves_every_tag_as_pyyaml_does():
    import yaml

    from netc.intent.yaml_loader import _Loader

    text = ("[yes, No, on, ~, null, '', 1, '1', 0x1f, 0o17, 1_000, 1.5, .inf, -.NaN, "
            "2001-12-14, 2001-12-14t21:59:43.10-05:00, 10.1.0.5, 10.1.0.0/16, tcp, "
            "\"tcp\", '80', 8000-8080, <<, =, {a: [b, {c: d}]}, !!str 5, ! 5]\n")

    def tags(node):
        yield node.tag
        children = node.value if isinstance(node.value, list) else []
        for child in children:
            for part in (child if isinstance(child, tuple) else (child,)):
                yield from tags(part)

    for _ in range(2):  # the second time from _Loader's memory
        fast = list(tags(yaml.compose(text, Loader=_Loader)))
        assert fast == list(tags(yaml.compose(text, Loader=yaml.CSafeLoader)))


def test_models_with_the_same_written_fields_share_one_set_safely():
    out = Diagnostics()
    (doc,) = load_yaml("org: acme\nproject: web\nports:\n- {name: a, ip: 10.1.0.5}\n"
                       "- {name: b, ip: 10.1.0.6}\n- {name: c}\n", "f.yaml", out)
    a, b, c = doc.project.ports
    assert a.model_fields_set is b.model_fields_set == {"name", "ip"}
    assert c.model_fields_set == {"name"}
    copied = a.model_copy(update={"vm": "vm-1"})
    assert copied.model_fields_set == {"name", "ip", "vm"}
    assert b.model_fields_set == {"name", "ip"}  # the shared set was not changed
