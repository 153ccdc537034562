"""Load YAML intent files, keeping the position of every key and value.

PyYAML's C parser composes a node tree whose nodes carry marks; we build plain
Python data from it ourselves (a hot loop: the common scalar tags are resolved
inline, the rare ones fall back to PyYAML's SafeConstructor) and keep the root node,
so a position is looked up only when a diagnostic needs one. A round-trip loader
that wraps every value would cost several times more on a 10,000-port world.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import Iterator

import yaml
from pydantic import BaseModel, ValidationError

from netc.diagnostics import Code, Diagnostics, Location
from netc.intent.expectation import Loaded, is_expectation_document, read_expectations
from netc.intent.model import Project
from netc.intent.salvage import salvage
from netc.intent.schema_errors import report_validation_error
from netc.intent.source import Document, Path

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
_constructor = yaml.constructor.SafeConstructor()
MAX_NESTING = 32
"""Deepest collection nesting accepted; intent needs 7 (security_groups.0.ingress.0.ports.0)."""
_SAFE_TO_COMPOSE = 2_000
"""Nesting PyYAML's C composer survives for sure: it recurses on the C stack and crashes
the interpreter (SIGSEGV) beyond about 20,000 levels on an 8 MiB stack, fewer on the
smaller stacks of threads."""


class _Loader(yaml.CSafeLoader):
    """PyYAML's C loader, with the tag of a plain scalar looked up once per distinct
    value: the C composer calls back into Python's ``resolve`` (a few regular
    expressions) for every node, and intent repeats its keys and small values
    (``name``, ``protocol``, ``tcp``, ``0.0.0.0/0``) thousands of times. The tags are
    exactly ``resolve``'s; mappings and sequences take the default tags, as
    SafeLoader has no path resolvers."""

    _tags: dict[tuple[str, tuple[bool, bool]], str] = {}

    def resolve(self, kind, value, implicit):  # noqa: D102 - PyYAML's hook
        if kind is yaml.ScalarNode:
            tag = self._tags.get((value, implicit))
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._tags) < _RESOLVED_KEPT:
                    self._tags[(value, implicit)] = tag
            return tag
        if kind is yaml.MappingNode:
            return self.DEFAULT_MAPPING_TAG
        return self.DEFAULT_SEQUENCE_TAG

    def descend_resolver(self, current_node, current_index):  # no path resolvers
        return None

    def ascend_resolver(self):
        return None


_INTERNED_LENGTH = 64
_RESOLVED_KEPT = 4096
"""Distinct scalars whose tag :class:`_Loader` keeps (the first ones met: keys and
enumerations; the addresses and names that occur once are not worth keeping)."""
assert not yaml.CSafeLoader.yaml_path_resolvers  # what _Loader relies on


@dataclass(eq=False)
class YamlSourceMap:
    """A source map that walks the composed YAML node tree on demand.

    The tree of an accepted document is not kept: every node carries two marks, and
    holding them for the rare diagnostic cost more memory than all the rest of a
    checked world (59 of 100 MiB on the 200 x 50 bench world) and made every garbage
    collection walk them. The file's text is kept instead (one string shared by its
    documents) and the document composed again on the first ``locate``.
    """

    file: str
    text: str
    index: int
    """Position of the document in the file's stream of documents."""
    root: yaml.Node | None = None

    def locate(self, path: Path) -> Location:
        if self.root is None:
            self.root = _compose_document(self.text, self.index)
        node = self.root
        for step in path:
            child = _child(node, step)
            if child is None:
                break
            node = child
        mark = node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)


class _Cursor:
    """Where the last composition of a file stopped: locating documents in file order
    (as the checks and lints of a world do, one diagnostic per element of a thousand
    documents) goes on from there instead of composing every document before each
    one again, which made that quadratic in the documents of a file."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.text: str | None = None
        self.documents: Iterator[yaml.Node] | None = None
        self.next = 0


_cursor = _Cursor()


def _compose_document(text: str, index: int) -> yaml.Node:
    """The node tree of document ``index`` of ``text``, composed as load_yaml did."""
    with _cursor.lock:
        if _cursor.text is not text or _cursor.next > index:
            _cursor.text, _cursor.next = text, 0
            _cursor.documents = yaml.compose_all(text, Loader=_Loader)
        for root in _cursor.documents:
            _cursor.next += 1
            if _cursor.next - 1 == index:
                return root
        _cursor.text = _cursor.documents = None
    raise LookupError(f"document {index} is gone")  # pragma: no cover - text is immutable


def _child(node: yaml.Node, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == step:
                return value
    elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
        if 0 <= step < len(node.value):
            return node.value[step]
    return None


class _Builder:
    """Turns nodes into Python data, reporting duplicate and non-string keys."""

    def __init__(self, file: str, diagnostics: Diagnostics) -> None:
        self.file = file
        self.diagnostics = diagnostics
        self._built: dict[int, tuple[yaml.Node, object]] = {}
        """Collections already built, by node id: an alias is built once, not once per
        use, so a "billion laughs" of nested aliases costs its size in nodes."""

    def forget(self) -> None:
        self._built.clear()

    def build(self, node: yaml.Node, depth: int = 0) -> object:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        done = self._built.get(id(node))
        if done is not None:
            return done[1]
        if depth >= MAX_NESTING:  # also where a recursive alias (&a [*a]) ends
            self._error(node, f"nested more than {MAX_NESTING} levels deep; intent never is")
            return None
        if isinstance(node, yaml.SequenceNode):
            value: object = [self.build(item, depth + 1) for item in node.value]
        elif isinstance(node, yaml.MappingNode):
            value = self._mapping(node, depth)
        else:
            return None  # pragma: no cover - PyYAML has no other node kinds
        self._built[id(node)] = (node, value)
        return value

    def _scalar(self, node: yaml.ScalarNode) -> object:
        tag, value = node.tag, node.value
        if tag == _STR:
            # one string object per distinct value, across files: the parser makes one
            # per occurrence and the intent model keeps them all (``tcp``, CIDRs, group
            # and subnet names come back thousands of times)
            return sys.intern(value) if len(value) < _INTERNED_LENGTH else value
        if tag == _INT and value.isdigit() and len(value) < 20:
            return int(value)
        if tag == _BOOL:
            return value in _TRUE
        if tag == _NULL:
            return None
        try:
            return _constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:  # e.g. int of 5,000 digits
            shown = value if len(value) <= 40 else f"{value[:37]}..."
            self._error(node, f"cannot read value {shown!r}: {exc}")
            return value

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            key = self.build(key_node, depth + 1)
            if not isinstance(key, str):
                self._error(key_node, f"keys must be strings, not {type(key).__name__} {key!r}")
                continue
            if key in result:
                self._error(key_node, f"duplicate key {key!r}")
                continue
            result[key] = self.build(value_node, depth + 1)
        return result

    def _error(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.diagnostics.error(Code.SCHEMA_ERROR, message,
                               Location(self.file, mark.line + 1, mark.column + 1))


def load_yaml(text: str, file: str, diagnostics: Diagnostics) -> list[Document]:
    """Every project document of ``text``; problems go to ``diagnostics``. A document
    with schema errors comes back salvaged (``Document.withheld`` set), to be checked.
    Expectation documents are skipped unread (netc.intent.expectation)."""
    return _load(text, file, diagnostics, expectations=False)  # type: ignore[return-value]


def read_yaml(text: str, file: str, diagnostics: Diagnostics) -> list[Loaded]:
    """Every document of ``text`` in file order: the projects as :func:`load_yaml`
    gives them, and the expectation documents, checked against their schema."""
    return _load(text, file, diagnostics, expectations=True)


def _load(text: str, file: str, diagnostics: Diagnostics, expectations: bool) -> list[Loaded]:
    documents: list[Loaded] = []
    builder = _Builder(file, diagnostics)
    try:
        if _too_deep(text, file, diagnostics):
            return documents
        for index, root in enumerate(yaml.compose_all(text, Loader=_Loader)):
            builder.forget()  # aliases never cross documents; let the last tree go
            data = builder.build(root) if root is not None else None
            if data is None:
                continue  # an empty document, e.g. a trailing '---'
            source = YamlSourceMap(file, text, index, root)
            if is_expectation_document(data):
                if expectations:
                    documents.append(read_expectations(data, source, diagnostics))
                continue
            if not isinstance(data, dict):
                diagnostics.error(Code.SCHEMA_ERROR,
                                  "a document must be a mapping with 'org' and 'project'",
                                  source.locate(()))
                continue
            try:
                project = Project.model_validate(data)
            except ValidationError as exc:
                report_validation_error(exc, source, diagnostics)
                saved = salvage(data, exc, source)
                if saved is not None:
                    documents.append(Document(saved.project, saved.source, saved.withheld))
                continue
            _share_fields_sets(project)
            documents.append(Document(project, YamlSourceMap(file, text, index)))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        diagnostics.error(Code.SYNTAX_ERROR, f"YAML: {problem}", where)
    except yaml.YAMLError as exc:  # e.g. a ReaderError for a control character
        diagnostics.error(Code.SYNTAX_ERROR, f"YAML: {exc}", _reader_location(exc, file))
    return documents


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}
"""One set per distinct combination of written fields (a few dozen in any intent)."""


def _share_fields_sets(project: Project) -> None:
    """Let every model of ``project`` with the same written fields share one set of them.

    pydantic keeps a set of the fields a model was given (``model_fields_set``) in each
    instance: 5.5 MiB of sets for the 17,000 models of the 200 x 50 bench world, where
    21 distinct sets say it all. The models are frozen, so nothing adds to the set in
    place (``model_copy`` copies it first)."""
    models: list[BaseModel] = [project, project.vpc, project.nat, *project.subnets,
                               *project.ports, *project.nat.snat, *project.nat.dnat]
    for group in project.security_groups:  # the models a project holds (a model added
        models.append(group)              # to the intent later is simply not shared)
        models.extend(group.ingress)
        models.extend(group.egress)
    shared_sets = _FIELDS_SETS
    for model in models:
        written = model.__pydantic_fields_set__
        shared = shared_sets.setdefault(frozenset(written), written)
        if shared is not written:
            object.__setattr__(model, "__pydantic_fields_set__", shared)


def _too_deep(text: str, file: str, diagnostics: Diagnostics) -> bool:
    """Report nesting too deep for the C composer before it crashes the interpreter.

    Nesting is bounded by the number of flow brackets plus the longest line (block
    nesting needs indentation or a compact indicator per level). That bound is small for
    the files people write, one project each; only above it (a file of thousands of
    ports in one document, say) are the parser's events counted first, iteratively, at
    about a third of the cost of composing.
    """
    longest = max(map(len, text.split("\n")))
    if text.count("[") + text.count("{") + longest < _SAFE_TO_COMPOSE:
        return False
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_NESTING:
                mark = event.start_mark
                diagnostics.error(Code.SCHEMA_ERROR,
                                  f"nested more than {MAX_NESTING} levels deep; intent never is",
                                  Location(file, mark.line + 1, mark.column + 1))
                return True
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
    return False


def _reader_location(exc: yaml.YAMLError, file: str) -> Location:
    position = getattr(exc, "position", None)
    text = getattr(exc, "buffer", None) or getattr(exc, "name", None)
    if isinstance(position, int) and isinstance(text, str):
        before = text[:position]
        return Location(file, before.count("\n") + 1, position - before.rfind("\n"))
    return Location(file, 1, 1)
