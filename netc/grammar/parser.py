"""Parse the netc DSL into the same intent model and source paths as the YAML loader.

The grammar (``netc.lark``) is parsed with LALR; :class:`_Builder` turns each
``project`` block into the dictionary a YAML document of that project would hold,
remembering where every value was written under its YAML path (``("subnets", 0,
"cidr")``), and pydantic validates it exactly as it validates YAML. Values are kept as
written, so a lexable but wrong value (``10.1.0.5/24``, port ``99999``) reaches the IR
checks and gets their precise code instead of SYNTAX_ERROR. Syntax errors are
explained in words (:mod:`netc.grammar.errors`); a file stops at its first one.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cache

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError
from pydantic import ValidationError

from netc.diagnostics import Code, Diagnostics, Location
from netc.grammar.errors import explain
from netc.intent.expectation import (EXPECT_KEY, Loaded, is_expectation_document,
                                     read_expectations)
from netc.intent.model import Project
from netc.intent.salvage import salvage
from netc.intent.schema_errors import report_validation_error
from netc.intent.source import Document, Path, PositionTable

Position = tuple[int, int]


class _NamesEverywhere:
    """Lex NAME in every parser state, beside the keywords that state accepts.

    Without it the contextual lexer would read ``portx`` as the keyword ``port``
    followed by a name ``x`` wherever only keywords are expected. With it, a word is
    always read whole: a keyword where the grammar accepts that keyword, a NAME
    otherwise (and then reported as an unknown word, with a suggestion).
    """

    always_accept = ("NAME",)

    def process(self, stream):
        return stream


_comment_sink = threading.local()
"""Where the lexer puts the COMMENT tokens it skips, while :func:`parse_with_comments`
asks for them (``netc fmt``); otherwise they are dropped as the grammar says."""


def _comment(token: Token) -> Token:
    sink = getattr(_comment_sink, "tokens", None)
    if sink is not None:
        sink.append(token)
    return token


@cache
def dsl_parser() -> Lark:
    """The LALR parser of ``netc.lark``, built once per process."""
    return Lark.open("netc.lark", rel_to=__file__, parser="lalr", lexer="contextual",
                     postlex=_NamesEverywhere(), propagate_positions=True,
                     maybe_placeholders=True, lexer_callbacks={"COMMENT": _comment})


def parse_with_comments(text: str) -> tuple[Tree, list[Token]]:
    """The parse tree of ``text`` and its COMMENT tokens, in order (raises on syntax
    errors: for texts that :func:`parse_documents` accepted)."""
    _comment_sink.tokens = tokens = []
    try:
        return dsl_parser().parse(text), tokens
    finally:
        _comment_sink.tokens = None


@dataclass(frozen=True)
class Value:
    """One written value and where it starts."""

    value: object
    at: Position


@dataclass
class Node:
    """A statement in its YAML shape, with the positions of its parts relative to it."""

    kind: str
    at: Position
    data: object
    positions: dict[Path, Position] = field(default_factory=dict)

    def place(self, prefix: Path, into: dict[Path, Position]) -> None:
        into[prefix] = self.at
        for path, position in self.positions.items():
            into[prefix + path] = position


def _position(token: Token) -> Position:
    return (token.line, token.column)


def _number(text: str) -> int | str:
    """An integer, or the text itself when it has too many digits to be one."""
    try:
        return int(text)
    except ValueError:
        return text


class _StringError(ValueError):
    def __init__(self, token: Token, message: str) -> None:
        super().__init__(message)
        self.token = token


def _string(token: Token) -> str:
    """The text of a quoted string, JSON escapes decoded."""
    try:
        text = json.loads(token, strict=False)
    except json.JSONDecodeError as exc:
        raise _StringError(token, f"bad escape in string {token}: {exc.msg}") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _StringError(token, f"string {token} holds a lone surrogate, not a character") from None
    return text


def _scalar(token: Token) -> Value:
    if token.type == "STRING":
        return Value(_string(token), _position(token))
    if token.type == "INT":
        return Value(_number(str(token)), _position(token))
    return Value(str(token), _position(token))


def _listed(values: list[Value], key: str, into: dict[Path, Position]) -> list:
    for index, item in enumerate(values):
        into[(key, index)] = item.at
    if values:
        into[(key,)] = values[0].at
    return [item.value for item in values]


@v_args(meta=True)
class _Builder(Transformer):
    """Bottom-up: leaves become :class:`Value`, statements :class:`Node`, projects dicts."""

    def __init__(self, diagnostics: Diagnostics, file: str) -> None:
        super().__init__()
        self.diagnostics = diagnostics
        self.file = file

    def _duplicate(self, what: str, at: Position) -> None:
        self.diagnostics.error(Code.SCHEMA_ERROR, f"{what} written twice; write it once",
                               Location(self.file, *at))

    # leaves
    def name(self, meta, children):
        return _scalar(children[0])

    address = mac = number = port_spec = vpc_cidr = name

    def protocol(self, meta, children):
        return Value(str(children[0]), _position(children[0]))

    def port_list(self, meta, children):
        return [c for c in children if isinstance(c, Value)]

    # clauses: (key, Value | list[Value], position of the clause)
    def subnet_dns(self, meta, children):
        return ("dns_servers", children, (meta.line, meta.column))

    def subnet_nodhcp(self, meta, children):
        return ("dhcp", Value(False, (meta.line, meta.column)), (meta.line, meta.column))

    def port_subnet(self, meta, children):
        return ("subnet", children[0], (meta.line, meta.column))

    def port_vm(self, meta, children):
        return ("vm", children[0], (meta.line, meta.column))

    def port_mac(self, meta, children):
        return ("mac", children[0], (meta.line, meta.column))

    def port_ip(self, meta, children):
        return ("ip", children[0], (meta.line, meta.column))

    def port_groups(self, meta, children):
        return ("security_groups", children, (meta.line, meta.column))

    def _clauses(self, node: Node, clauses: list) -> Node:
        for key, value, at in clauses:
            if key in node.data:
                self._duplicate(f"{key!r}", at)
                continue
            if isinstance(value, list):
                node.data[key] = _listed(value, key, node.positions)
            else:
                node.data[key] = value.value
                node.positions[(key,)] = value.at
        return node

    # statements
    def _fields(self, kind: str, meta, keys: tuple[str, ...], children: list) -> Node:
        """A statement of positional parts; ``None`` marks an optional part not written."""
        node = Node(kind, (meta.line, meta.column), {})
        for key, value in zip(keys, children):
            if isinstance(value, list):
                node.data[key] = _listed(value, key, node.positions)
            elif value is not None:
                node.data[key] = value.value
                node.positions[(key,)] = value.at
        return node

    def vpc(self, meta, children):
        return self._fields("vpc", meta, ("name", "cidr"), children)

    def subnet(self, meta, children):
        name, cidr, *clauses = children
        node = Node("subnet", (meta.line, meta.column), {"name": name.value, "cidr": cidr.value},
                    {("name",): name.at, ("cidr",): cidr.at})
        return self._clauses(node, clauses)

    def port(self, meta, children):
        name, *clauses = children
        node = Node("port", (meta.line, meta.column), {"name": name.value}, {("name",): name.at})
        return self._clauses(node, clauses)

    def include(self, meta, children):
        return Node("include", (meta.line, meta.column), children)

    def ingress(self, meta, children):
        return self._fields("ingress", meta, ("protocol", "ports", "from"), children)

    def egress(self, meta, children):
        return self._fields("egress", meta, ("protocol", "ports", "to"), children)

    def group_remote(self, meta, children):
        body = "/".join(str(part.value) for part in children if part is not None)
        return Value(f"sg:{body}", (meta.line, meta.column))

    def group(self, meta, children):
        name, description, *statements = children
        node = Node("group", (meta.line, meta.column), {"name": name.value}, {("name",): name.at})
        if description is not None:
            node.data["description"] = _string(description)
            node.positions[("description",)] = _position(description)
        for statement in statements:
            if statement.kind == "include":
                start = len(node.data.setdefault("include", []))
                for offset, item in enumerate(statement.data):
                    node.data["include"].append(item.value)
                    node.positions[("include", start + offset)] = item.at
                node.positions.setdefault(("include",), statement.at)
            else:
                rules = node.data.setdefault(statement.kind, [])
                statement.place((statement.kind, len(rules)), node.positions)
                node.positions.setdefault((statement.kind,), statement.at)
                rules.append(statement.data)
        return node

    def snat(self, meta, children):
        (ip,) = children
        return Node("snat", (meta.line, meta.column), {"external_ip": ip.value},
                    {("external_ip",): ip.at})

    def dnat(self, meta, children):
        return self._fields("dnat", meta, ("external_ip", "external_port", "internal_ip",
                                           "internal_port", "protocol"), children)

    def peer(self, meta, children):
        text = "/".join(str(part.value) for part in children if part is not None)
        return Node("peer", children[0].at, text)

    def project(self, meta, children):
        org, name, *statements = children
        data: dict = {"org": org.value, "project": name.value}
        positions: dict[Path, Position] = {(): (meta.line, meta.column), ("org",): org.at,
                                           ("project",): name.at}
        for statement in statements:
            self._place(statement, data, positions)
        return data, PositionTable(self.file, positions)

    def _place(self, statement: Node, data: dict, positions: dict[Path, Position]) -> None:
        kind = statement.kind
        if kind == "vpc":
            if "vpc" in data:
                self._duplicate("'vpc'", statement.at)
                return
            data["vpc"] = statement.data
            statement.place(("vpc",), positions)
        elif kind == "peer":
            peerings = data.setdefault("peerings", [])
            positions.setdefault(("peerings",), statement.at)
            positions[("peerings", len(peerings))] = statement.at
            peerings.append(statement.data)
        elif kind in ("snat", "dnat"):
            entries = data.setdefault("nat", {}).setdefault(kind, [])
            positions.setdefault(("nat",), statement.at)
            positions.setdefault(("nat", kind), statement.at)
            statement.place(("nat", kind, len(entries)), positions)
            entries.append(statement.data)
        else:
            key = {"subnet": "subnets", "group": "security_groups", "port": "ports"}[kind]
            entries = data.setdefault(key, [])
            positions.setdefault((key,), statement.at)
            statement.place((key, len(entries)), positions)
            entries.append(statement.data)

    # expectations (netc.intent.expectation)
    def verdict(self, meta, children):
        return Value(str(children[0]), _position(children[0]))

    wildcard = verdict

    def endpoint(self, meta, children):
        return Value("/".join(str(part.value) for part in children), children[0].at)

    def traffic(self, meta, children):
        return children

    def expect(self, meta, children):
        verdict, source, target, traffic = children
        node = Node("expect", (meta.line, meta.column), {"from": source.value, "to": target.value},
                    {("from",): source.at, ("to",): target.at})
        for key, value in zip(("protocol", "port"), traffic or ()):
            if value is not None:
                node.data[key] = value.value
                node.positions[(key,)] = value.at
        node.data["verdict"] = verdict.value
        node.positions[("verdict",)] = verdict.at
        return node

    def start(self, meta, children):
        """The documents in order: each project, and each run of ``expect`` statements
        as one expectation document."""
        documents: list[tuple[dict, dict | PositionTable]] = []
        run: list[dict] | None = None
        for child in children:
            if not isinstance(child, Node):
                documents.append(child)
                run = None
                continue
            if run is None:
                run = []
                documents.append(({EXPECT_KEY: run}, {(): child.at, (EXPECT_KEY,): child.at}))
            child.place((EXPECT_KEY, len(run)), documents[-1][1])
            run.append(child.data)
        return [(data, where if isinstance(where, PositionTable)
                 else PositionTable(self.file, where)) for data, where in documents]


def parse_documents(text: str, file: str,
                    diagnostics: Diagnostics) -> list[tuple[dict, PositionTable]]:
    """Each document of ``text`` (a project block, a run of expectations) as
    YAML-shaped data with its positions.

    A syntax error is reported once, in words, and the file yields nothing.
    """
    parser = dsl_parser()
    try:
        tree: Tree = parser.parse(text)
    except UnexpectedInput as exc:
        message, (line, column) = explain(exc, text, parser)
        diagnostics.error(Code.SYNTAX_ERROR, message, Location(file, line, column))
        return []
    try:
        return _Builder(diagnostics, file).transform(tree)
    except VisitError as exc:
        error = exc.orig_exc
        if not isinstance(error, _StringError):
            raise
        diagnostics.error(Code.SYNTAX_ERROR, str(error),
                          Location(file, *_position(error.token)))
        return []


def load_dsl(text: str, file: str, diagnostics: Diagnostics) -> list[Document]:
    """Every project of a ``.netc`` file; problems go to ``diagnostics``. A project with
    schema errors comes back salvaged (``Document.withheld`` set), to be checked.
    Expectations are skipped unread."""
    return _load(text, file, diagnostics, expectations=False)  # type: ignore[return-value]


def read_dsl(text: str, file: str, diagnostics: Diagnostics) -> list[Loaded]:
    """Every document of a ``.netc`` file in order: the projects as :func:`load_dsl`
    gives them, and the expectation documents, checked against their schema."""
    return _load(text, file, diagnostics, expectations=True)


def _load(text: str, file: str, diagnostics: Diagnostics, expectations: bool) -> list[Loaded]:
    documents: list[Loaded] = []
    for data, source in parse_documents(text, file, diagnostics):
        if is_expectation_document(data):
            if expectations:
                documents.append(read_expectations(data, source, diagnostics))
            continue
        try:
            project = Project.model_validate(data)
        except ValidationError as exc:
            report_validation_error(exc, source, diagnostics)
            saved = salvage(data, exc, source)  # checked on, never compiled
            if saved is not None:
                documents.append(Document(saved.project, saved.source, saved.withheld))
            continue
        documents.append(Document(project, source))
    return documents
