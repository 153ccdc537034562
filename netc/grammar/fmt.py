"""``netc fmt``: one intent file in, its canonical text (in either syntax) out.

A file is read with the loader of its suffix (projects and expectation documents)
and written back with the canonical writer of the target syntax, so formatting normalises spelling and order, and
converting changes only the syntax. Comments are kept: each is attached to the
element it is written at and written back there in the canonical text
(netc.intent.layout), in either syntax; one whose element the target does not write
is kept at the nearest one that it does, with a COMMENT_MOVED warning. Files with
syntax or schema errors are not formatted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from netc.diagnostics import Diagnostics
from netc.grammar.formatter import to_dsl
from netc.intent.expectation import EXPECT_KEY, canonical_documents
from netc.intent.sources import DSL_SUFFIX, read_source, read_text
from netc.intent.yaml_writer import to_yaml

Syntax = Literal["yaml", "dsl"]
WRITERS = {"yaml": to_yaml, "dsl": to_dsl}
SUFFIXES = {"yaml": ".yaml", "dsl": DSL_SUFFIX}


def syntax_of(path: Path) -> Syntax:
    return "dsl" if path.suffix == DSL_SUFFIX else "yaml"


@dataclass(frozen=True)
class Formatted:
    """A file, its text as read, and its canonical text in the target syntax."""

    path: Path
    original: str
    text: str
    syntax: Syntax

    @property
    def target(self) -> Path:
        """Where the text belongs: the file itself, or beside it with the other suffix."""
        if syntax_of(self.path) == self.syntax:
            return self.path
        return self.path.with_suffix(SUFFIXES[self.syntax])

    @property
    def canonical(self) -> bool:
        return self.target == self.path and self.text == self.original


def format_file(path: Path, to: Syntax | None, diagnostics: Diagnostics) -> Formatted | None:
    """The canonical text of ``path`` in syntax ``to`` (default: its own), or None on errors."""
    found = Diagnostics()
    original = read_source(path, found)
    documents = read_text(original, str(path), found) if original is not None else []
    diagnostics.extend(found.sorted())
    if original is None or found.has_errors:
        return None
    syntax = to or syntax_of(path)
    written, moves = canonical_documents(documents)
    text = WRITERS[syntax](written)
    if "#" in original:
        text = keep_comments(original, syntax_of(path), text, syntax, str(path), diagnostics,
                             moves)
    return Formatted(path, original, text, syntax)


def layout_of(text: str, syntax: Syntax):
    if syntax == "dsl":
        from netc.grammar.layout import dsl_layout
        return dsl_layout(text)
    from netc.intent.layout import yaml_layout
    return yaml_layout(text)


def keep_comments(original: str, source: Syntax, canonical: str, target: Syntax, file: str,
                  diagnostics: Diagnostics,
                  moves: dict[int, tuple[int | None, int]] | None = None) -> str:
    """``canonical`` (the canonical text of ``original`` in ``target``) with the comments
    of ``original`` written back at their elements; ``moves`` says where each document
    of ``original`` went (netc.intent.expectation.canonical_documents)."""
    from netc.intent.layout import attach, splice

    placed = attach(layout_of(original, source))
    if not placed:
        return canonical
    if moves:
        placed = [_moved(item, moves) for item in placed]
    return splice(placed, layout_of(canonical, target), source == target, file, diagnostics)


def _moved(item, moves: dict[int, tuple[int | None, int]]):
    """A placed comment at the document and entry its element was written into: an
    expectation document merged into the one before it, or dropped (the comment then
    goes to the file's end)."""
    if item.doc is None or item.doc not in moves:
        return item
    doc, offset = moves[item.doc]
    path = item.path
    if offset and path[:1] == (EXPECT_KEY,) and len(path) > 1 and isinstance(path[1], int):
        path = (EXPECT_KEY, path[1] + offset, *path[2:])
    return replace(item, doc=doc, path=path if doc is not None else ())


def joined(results: list[Formatted]) -> str:
    """Several files' texts as one: YAML documents split by ``---``, DSL by a blank line."""
    out = ""
    for result in results:
        if out and result.text:
            out += "---\n" if result.syntax == "yaml" else "\n"
        out += result.text
    return out
