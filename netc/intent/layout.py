"""Where comments sit in an intent file, and how ``netc fmt`` puts them back.

The intent model has no place for comments, so ``netc fmt`` keeps them beside it: the
*layout* of a file is its comments and its *anchors*, the places of the elements they
are written at, each named by document and by its path in the contract's YAML shape
(``("security_groups", 0, "ingress", 1)``), the paths the loaders and the checks use.
YAML and the DSL answer the same paths, which is what lets a comment follow its
element from one syntax to the other.

1. :func:`attach` gives each comment of the input an anchor and a kind: *leading* (on
   its own line before the element), *trailing* (after code on the element's first
   line) or *closing* (after the element's last child, before what follows), or the
   file's *footer*.
2. The canonical writer prints the intent as before, without comments.
3. :func:`splice` reads the layout of that canonical text (the same extraction) and
   writes each comment at its anchor there. A comment whose element the target syntax
   writes inside another (a YAML ``cidr:`` inside a DSL ``subnet`` line) goes to that
   one; one whose element is not written at all (a default left out, an empty list)
   goes to the nearest element that is, with a COMMENT_MOVED warning naming its line.

YAML is composed once by PyYAML's C composer: its nodes are the anchors, and its
scalars tell which ``#`` start comments (those outside every value). The DSL is read
by its own parser (netc.grammar.layout). Only ``netc fmt`` pays for this.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Iterable, Literal

import yaml

from netc.diagnostics import Code, Diagnostics, Location
from netc.intent.expectation import EXPECT_KEY
from netc.intent.source import Path

Kind = Literal["leading", "trailing", "closing", "brace"]


@dataclass(frozen=True)
class Comment:
    text: str
    """From ``#`` to the end of its line, trailing blanks removed."""
    line: int
    column: int
    inline: bool
    """Code stands before it on its line."""
    blank_before: bool = False
    blank_after: bool = False
    code: str = ""
    """The code before it on its line (a trailing comment keeps its column while the
    formatted line is this same code)."""


@dataclass
class Anchor:
    doc: int
    """Index of the project (YAML document or DSL ``project`` block) in its file."""
    path: Path
    line: int
    column: int
    """Where the element starts: a YAML key, the ``-`` of an item, a DSL statement."""
    end_line: int
    """Its last line (a DSL block's closing brace)."""
    child_column: int | None = None
    """Where its children start: the column of its closing comments."""
    placeable: bool = True
    """False inside a YAML flow collection, where no comment can stand."""
    block: bool = False
    """A DSL block (project, group): closing comments go before its brace."""

    @property
    def depth(self) -> int:
        return len(self.path)


@dataclass
class Layout:
    syntax: Literal["yaml", "dsl"]
    lines: list[str]
    anchors: list[Anchor]
    comments: list[Comment]
    present: set[tuple[int, Path]] = field(default_factory=set)
    """Every (doc, path) written, anchors or not (a DSL statement's fields)."""
    doc_starts: list[int] = field(default_factory=list)
    """First line of each document's region (its ``---``), for YAML."""

    def placeable(self) -> dict[tuple[int, Path], Anchor]:
        return {(a.doc, a.path): a for a in self.anchors if a.placeable}


@dataclass(frozen=True)
class Placed:
    comment: Comment
    kind: Kind
    doc: int | None
    """None: the file's footer."""
    path: Path = ()


# --- comments of the input --------------------------------------------------------------------

def _blank(lines: list[str], number: int) -> bool:
    return 1 <= number <= len(lines) and not lines[number - 1].strip()


def make_comments(lines: list[str], found: Iterable[tuple[int, int]]) -> list[Comment]:
    """Comments at the (line, column) of their ``#``, with what stands around them."""
    comments = []
    for line, column in found:
        text = lines[line - 1][column - 1:].rstrip()
        inline = bool(lines[line - 1][:column - 1].strip())
        comments.append(Comment(text, line, column, inline,
                                blank_before=not inline and _blank(lines, line - 1),
                                blank_after=not inline and _blank(lines, line + 1),
                                code=lines[line - 1][:column - 1].rstrip()))
    return comments


def _outermost(anchors: list[Anchor]) -> Anchor:
    return min(anchors, key=lambda a: (a.depth, a.column))


def attach(layout: Layout) -> list[Placed]:
    """Each comment of ``layout`` with its anchor and kind."""
    by_line: dict[int, list[Anchor]] = {}
    for anchor in layout.anchors:
        by_line.setdefault(anchor.line, []).append(anchor)
    starts = sorted(by_line)
    placed = []
    for comment in layout.comments:
        if comment.inline:
            placed.append(_attach_trailing(layout, comment, by_line))
        elif layout.syntax == "dsl":
            placed.append(_attach_dsl_line(layout, comment, by_line, starts))
        else:
            placed.append(_attach_yaml_line(layout, comment, by_line, starts))
    return placed


def _attach_trailing(layout: Layout, comment: Comment, by_line) -> Placed:
    here = by_line.get(comment.line, [])
    inner = [a for a in here if a.path]
    if inner or here:
        anchor = _outermost(inner or here)
        return Placed(comment, "trailing", anchor.doc, anchor.path)
    holding = [a for a in layout.anchors if a.line <= comment.line <= a.end_line]
    if holding:
        anchor = max(holding, key=lambda a: (a.depth, a.line))
        kind = "brace" if anchor.block and anchor.end_line == comment.line else "trailing"
        return Placed(comment, kind, anchor.doc, anchor.path)
    return _attach_yaml_line(layout, comment, by_line, sorted(by_line)) \
        if layout.syntax == "yaml" else Placed(comment, "closing", None)


def _next_start(comment: Comment, by_line, starts: list[int], doc: int | None = None,
                before: int | None = None) -> Anchor | None:
    for line in starts[bisect_right(starts, comment.line):]:
        if before is not None and line >= before:
            return None
        here = [a for a in by_line[line] if doc is None or a.doc == doc]
        if here:
            return _outermost(here)
        if doc is not None and any(a.doc > doc for a in by_line[line]):
            return None
    return None


def _attach_dsl_line(layout: Layout, comment: Comment, by_line, starts) -> Placed:
    line = comment.line
    inside = [a for a in layout.anchors if not a.block and a.line < line <= a.end_line]
    if inside:  # between the clauses of a statement written over several lines
        anchor = max(inside, key=lambda a: a.depth)
        return Placed(comment, "trailing", anchor.doc, anchor.path)
    blocks = [a for a in layout.anchors if a.block and a.line < line < a.end_line]
    if blocks:
        block = max(blocks, key=lambda a: a.depth)
        following = _next_start(comment, by_line, starts, block.doc, before=block.end_line)
        if following is not None:
            return Placed(comment, "leading", following.doc, following.path)
        return Placed(comment, "closing", block.doc, block.path)
    following = _next_start(comment, by_line, starts)
    closing = _closing_expectations(layout, comment, following)
    if closing is not None:
        return closing
    if following is not None:
        return Placed(comment, "leading", following.doc, following.path)
    return Placed(comment, "closing", None)


def _closing_expectations(layout: Layout, comment: Comment,
                          following: Anchor | None) -> Placed | None:
    """A comment right below the last ``expect`` statement of a run (only comments
    between them) closes that expectation document: a run has no brace to keep its
    closing comments in, so the writers put them there, and there they must be read
    back as such, not as leading the next document."""
    ended = [a for a in layout.anchors if a.end_line < comment.line]
    if not ended:
        return None
    last = max(ended, key=lambda a: a.end_line)
    if last.path[:1] != (EXPECT_KEY,) or (following is not None and following.doc == last.doc):
        return None
    if any(not line.lstrip().startswith("#")
           for line in layout.lines[last.end_line:comment.line - 1]):
        return None
    return Placed(comment, "closing", last.doc, (EXPECT_KEY,))


def _attach_yaml_line(layout: Layout, comment: Comment, by_line, starts) -> Placed:
    if not layout.anchors:
        return Placed(comment, "closing", None)
    doc = max(bisect_right(layout.doc_starts, comment.line) - 1, 0)
    ours = [a for a in layout.anchors if a.doc == doc]
    following = _next_start(comment, by_line, starts, doc)
    if following is not None and comment.column <= following.column:
        return Placed(comment, "leading", doc, following.path)
    ended = [a for a in ours if a.end_line < comment.line]
    if ended:
        last = max(a.end_line for a in ended)
        chain = [a for a in ours if a.end_line == last or (not a.path and a.end_line >= last)]
        fitting = [a for a in chain if a.child_column is not None
                   and a.child_column <= comment.column and a.line <= last]
        if fitting:
            anchor = max(fitting, key=lambda a: a.depth)
            return Placed(comment, "closing", doc, anchor.path)
    if following is not None:
        return Placed(comment, "leading", doc, following.path)
    return Placed(comment, "closing", doc, ())


# --- YAML -------------------------------------------------------------------------------------

_DOCUMENT_START = re.compile(r"^---(?:[ \t]|$)", re.MULTILINE)


def yaml_layout(text: str) -> Layout:
    """The comments and anchors of a YAML text that parses: one pass of PyYAML's C
    composer, whose scalars tell which ``#`` are inside values."""
    lines = text.split("\n")
    anchors: list[Anchor] = []
    doc_starts: list[int] = []
    scalars: dict[int, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    separators = [text.count("\n", 0, m.start()) + 1 for m in _DOCUMENT_START.finditer(text)]
    for root in yaml.compose_all(text, Loader=yaml.CSafeLoader):
        if root is None:
            continue
        first = root.start_mark.line + 1
        index = len(doc_starts)
        before = [line for line in separators if line <= first]
        doc_starts.append(1 if index == 0 else (before[-1] if before else first))
        _yaml_anchors(root, index, (), first, root.start_mark.column + 1, True, anchors,
                      scalars)
    comments = make_comments(lines, _yaml_comment_starts(lines, scalars))
    present = {(a.doc, a.path) for a in anchors}
    return Layout("yaml", lines, anchors, comments, present, doc_starts)


def _yaml_comment_starts(lines: list[str], scalars) -> list[tuple[int, int]]:
    """(line, column) of each ``#`` that starts a comment: outside every scalar, at the
    start of a line or after a blank."""
    found = []
    for number, line in enumerate(lines):
        column = line.find("#")
        while column >= 0:
            if (column == 0 or line[column - 1] in " \t") and not any(
                    start <= (number, column) < end for start, end in scalars.get(number, ())):
                found.append((number + 1, column + 1))
                break
            column = line.find("#", column + 1)
    return found


def _end_line(node: yaml.Node) -> int:
    """The last line holding the node's text (a block collection's end mark lies at
    the next token, past any comments)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        mark = node.end_mark
        return mark.line + (1 if mark.column else 0)
    if isinstance(node, yaml.MappingNode) and node.value:
        return _end_line(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and node.value:
        return _end_line(node.value[-1])
    return node.start_mark.line + 1


def _yaml_anchors(node: yaml.Node, doc: int, path: Path, line: int, column: int,
                  placeable: bool, into: list[Anchor], scalars: dict) -> None:
    flow = getattr(node, "flow_style", False)
    child_column = None
    children: list[tuple[Path, int, int, yaml.Node]] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _scalar_span(key, scalars)
            children.append((path + (key.value,), key.start_mark.line + 1,
                             key.start_mark.column + 1, value))
    elif isinstance(node, yaml.SequenceNode):
        dash = node.start_mark.column + 1
        for index, item in enumerate(node.value):
            children.append((path + (index,), item.start_mark.line + 1,
                             item.start_mark.column + 1 if flow else dash, item))
    if children and not flow and placeable:
        child_column = children[0][2]
    into.append(Anchor(doc, path, line, column, _end_line(node), child_column, placeable))
    if isinstance(node, yaml.ScalarNode):
        _scalar_span(node, scalars)
    for child_path, child_line, child_column_, value in children:
        _yaml_anchors(value, doc, child_path, child_line, child_column_,
                      placeable and not flow, into, scalars)


def _scalar_span(node: yaml.Node, scalars: dict) -> None:
    """Record the scalar's span (0-based line, column) on every line it covers."""
    if not isinstance(node, yaml.ScalarNode):
        return
    start = (node.start_mark.line, node.start_mark.column)
    end = (node.end_mark.line, node.end_mark.column)
    for line in range(start[0], end[0] + 1):
        scalars.setdefault(line, []).append((start, end))


# --- back into canonical text -----------------------------------------------------------------

def _describe(path: Path) -> str:
    return ".".join(str(step) for step in path) or "the project"


def splice(placed: list[Placed], out: Layout, same_syntax: bool, file: str,
           diagnostics: Diagnostics) -> str:
    """The text of ``out`` (a canonical text) with ``placed`` comments written in."""
    anchors = out.placeable()
    before: dict[int, list[tuple[int, Comment]]] = {}
    after: dict[int, list[tuple[int, Comment]]] = {}
    trailing: dict[int, Comment] = {}
    footer: list[Comment] = []
    expand: dict[int, Anchor] = {}  # DSL one-line blocks that get closing comments

    def lead(anchor: Anchor, comment: Comment) -> None:
        before.setdefault(anchor.line, []).append((anchor.column, comment))

    def trail(anchor: Anchor, comment: Comment) -> None:
        if anchor.line in trailing:
            lead(anchor, comment)
        else:
            trailing[anchor.line] = comment

    def close(anchor: Anchor, comment: Comment) -> None:
        if anchor.block:
            if anchor.line == anchor.end_line:
                expand[anchor.line] = anchor
            column = anchor.column + 2
            after.setdefault(anchor.end_line - 1 if anchor.line != anchor.end_line
                             else anchor.line, []).append((column, comment))
        else:
            column = anchor.child_column or anchor.column
            after.setdefault(anchor.end_line, []).append((column, comment))

    def brace(anchor: Anchor, comment: Comment) -> None:
        """After a DSL block's closing brace; elsewhere, at the block's end."""
        if anchor.block and anchor.line != anchor.end_line and anchor.end_line not in trailing:
            trailing[anchor.end_line] = comment
        else:
            close(anchor, comment)

    def put(kind: Kind, anchor: Anchor, comment: Comment) -> None:
        {"leading": lead, "trailing": trail, "closing": close, "brace": brace}[kind](
            anchor, comment)

    for item in placed:
        comment = item.comment
        if item.doc is None:
            footer.append(comment)
            continue
        key = (item.doc, item.path)
        if key in anchors:
            put(item.kind, anchors[key], comment)
            continue
        inside = [a for (doc, path), a in anchors.items()
                  if doc == item.doc and path[:len(item.path)] == item.path]
        if key in out.present or not inside:
            ancestor = _nearest(anchors, item.doc, item.path)
            if ancestor is None:
                footer.append(comment)
                continue
            if key in out.present:
                put(item.kind, ancestor, comment)
                continue
            diagnostics.warning(
                Code.COMMENT_MOVED,
                f"comment {comment.text!r} is about {_describe(item.path)}, which the "
                f"{out.syntax.upper()} form does not write; kept at the end of "
                f"{_describe(ancestor.path)}", Location(file, comment.line, comment.column))
            close(ancestor, comment)
            continue
        inside.sort(key=lambda a: (a.line, a.depth))
        if item.kind == "closing":
            last = max(inside, key=lambda a: (a.end_line, -a.depth))
            after.setdefault(last.end_line, []).append((last.column, comment))
        else:
            lead(inside[0], comment)
    return _write(out.lines, before, after, trailing, footer, expand, same_syntax)


def _nearest(anchors: dict, doc: int, path: Path) -> Anchor | None:
    for end in range(len(path), -1, -1):
        anchor = anchors.get((doc, path[:end]))
        if anchor is not None:
            return anchor
    return None


def _block(comments: list[tuple[int, Comment]], out: list[str], trailing_blank: bool) -> None:
    comments = sorted(comments, key=lambda c: (c[1].line, c[1].column))
    for index, (column, comment) in enumerate(comments):
        if comment.blank_before and out and out[-1].strip():
            out.append("")
        out.append(" " * (column - 1) + comment.text)
    if trailing_blank and comments and comments[-1][1].blank_after:
        out.append("")


def _write(lines: list[str], before, after, trailing, footer, expand, same_syntax) -> str:
    ending = lines[-1] == "" if lines else False
    body = lines[:-1] if ending else list(lines)
    out: list[str] = []
    for number, line in enumerate(body, start=1):
        _block(before.get(number, []), out, trailing_blank=True)
        comment = trailing.get(number)
        if number in expand:
            head = line.rstrip()
            assert head.endswith("{}"), head
            line = head[:-1]
        if comment is not None:
            code = line.rstrip()
            gap = 2
            if same_syntax and code == comment.code and comment.column > len(code) + 2:
                gap = comment.column - 1 - len(code)
            line = code + " " * gap + comment.text
        out.append(line)
        if number in expand:
            _block(after.pop(number, []), out, trailing_blank=False)
            out.append(" " * (expand[number].column - 1) + "}")
            continue
        _block(after.get(number, []), out, trailing_blank=False)
    if footer:
        _block([(1, c) for c in footer], out, trailing_blank=False)
    text = "\n".join(out)
    return text + "\n" if text else ""
