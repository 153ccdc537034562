"""The layout of a DSL text for ``netc fmt``: its comments (the COMMENT tokens of the
grammar, collected by the lexer) and the anchors of its statements, named by the
same YAML paths the parser gives their values (netc.intent.layout)."""

from __future__ import annotations

from lark import Tree

from netc.diagnostics import Diagnostics
from netc.grammar.parser import parse_documents, parse_with_comments
from netc.intent.expectation import EXPECT_KEY
from netc.intent.layout import Anchor, Layout, make_comments
from netc.intent.source import Path

INDENT = 2
_UNWRITTEN = {(), (EXPECT_KEY,)}
"""Paths an expectation document answers but writes no statement of: a comment about
them goes to its statements."""
_TOP = {"subnet": ("subnets",), "port": ("ports",), "snat": ("nat", "snat"),
        "dnat": ("nat", "dnat"), "peer": ("peerings",)}


def _anchor(doc: int, path: Path, tree: Tree, block: bool = False) -> Anchor:
    meta = tree.meta
    return Anchor(doc, path, meta.line, meta.column, meta.end_line,
                  meta.column + INDENT if block else None, True, block)


def dsl_layout(text: str) -> Layout:
    """The comments and statement anchors of a DSL text that parses."""
    tree, tokens = parse_with_comments(text)
    lines = text.split("\n")
    anchors: list[Anchor] = []
    doc, expectations = -1, 0
    for top in tree.children:
        if top.data == "expect":  # a run of them is one document
            if not expectations:
                doc += 1
            anchors.append(_anchor(doc, (EXPECT_KEY, expectations), top))
            expectations += 1
            continue
        doc, expectations = doc + 1, 0
        anchors.append(_anchor(doc, (), top, block=True))
        counts: dict[Path, int] = {}
        groups = 0
        for statement in top.children[2:]:
            kind = statement.data
            if kind == "vpc":
                anchors.append(_anchor(doc, ("vpc",), statement))
            elif kind == "group":
                group = ("security_groups", groups)
                groups += 1
                anchors.append(_anchor(doc, group, statement, block=True))
                rules = {"ingress": 0, "egress": 0}
                for inner in statement.children[2:]:
                    if inner.data == "include":
                        anchors.append(_anchor(doc, group + ("include",), inner))
                    else:
                        anchors.append(_anchor(doc, group + (inner.data, rules[inner.data]),
                                               inner))
                        rules[inner.data] += 1
            else:
                prefix = _TOP[kind]
                index = counts.get(prefix, 0)
                counts[prefix] = index + 1
                anchors.append(_anchor(doc, prefix + (index,), statement))
    present = {(doc, path) for doc, (_, table) in
               enumerate(parse_documents(text, "<fmt>", Diagnostics()))
               for path in table.positions if path not in _UNWRITTEN}
    present |= {(a.doc, a.path) for a in anchors}
    comments = make_comments(lines, [(t.line, t.column) for t in tokens])
    return Layout("dsl", lines, anchors, comments, present)
